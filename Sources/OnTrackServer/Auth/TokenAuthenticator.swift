import Foundation
import Hummingbird

/// Reads the bearer token (the `Authorization` header, or a `token` query parameter for
/// WebSocket clients that cannot set headers), looks up its hash, and puts the identity in the
/// context. A request without a token goes on without an identity (routes decide); a request
/// with an unknown or revoked token is refused with 401 at once.
struct TokenAuthenticator: RouterMiddleware {
  typealias Context = ServerContext
  let identities: IdentityCache

  func handle(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    var context = context
    if let token = Self.token(in: request) {
      let hash = try Self.hash(of: token)
      context.identity = try identity(hash: hash)
      context.tokenHash = hash
    }
    return try await next(request, context)
  }

  static func token(in request: Request) -> String? {
    if let header = request.headers[.authorization] {
      let parts = header.split(separator: " ", maxSplits: 1)
      if parts.count == 2, parts[0].lowercased() == "bearer" {
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
      }
      return nil
    }
    return request.uri.queryParameters.get("token")
  }

  static func hash(of token: String) throws(APIError) -> String {
    guard token.utf8.count <= 256 else { throw .unauthorized("invalid token") }
    return Tokens.hash(token)
  }

  func identity(hash: String) throws(APIError) -> Identity {
    let lookup: IdentityCache.Lookup
    do {
      lookup = try identities.lookup(hash: hash)
    } catch {
      throw .internal("\(error)")
    }
    switch lookup {
    case .valid(let identity): return identity
    case .revoked: throw .unauthorized("this token was revoked")
    case .unknown: throw .unauthorized("invalid token")
    }
  }
}
