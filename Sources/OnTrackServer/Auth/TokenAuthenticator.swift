import Foundation
import Hummingbird

/// Reads the bearer token (the `Authorization` header; on a WebSocket upgrade also a `token`
/// query parameter, for browsers, which cannot set headers there), looks up its hash, and puts
/// the identity in the context. A request without a token goes on without an identity (routes
/// decide); a request with an unknown, revoked or expired token is refused at once, counted in
/// `/metrics` and written to the audit log.
struct TokenAuthenticator: RouterMiddleware {
  typealias Context = ServerContext
  let identities: IdentityCache
  let metrics: ServerMetrics
  let audit: AuditLog

  func handle(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    var context = context
    do {
      if let token = try Self.token(in: request) {
        let hash = try Self.hash(of: token)
        context.identity = try await identity(hash: hash)
        context.tokenHash = hash
      }
    } catch let error as AccessError {
      if let reason = error.metricReason { metrics.authenticationFailed(reason: reason) }
      audit.authenticationFailed(reason: error.description, path: request.uri.path)
      throw error
    }
    return try await next(request, context)
  }

  /// True if the request asks to become a WebSocket.
  static func isWebSocketUpgrade(_ request: Request) -> Bool {
    request.headers[.upgrade]?.lowercased() == "websocket"
  }

  static func token(in request: Request) throws(AccessError) -> String? {
    if let header = request.headers[.authorization] {
      let parts = header.split(separator: " ", maxSplits: 1)
      if parts.count == 2, parts[0].lowercased() == "bearer" {
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
      }
      return nil
    }
    guard let token = request.uri.queryParameters.get("token") else { return nil }
    guard isWebSocketUpgrade(request) else { throw .tokenInQuery }
    return token
  }

  static func hash(of token: String) throws(AccessError) -> String {
    guard token.utf8.count <= 256 else { throw .invalidToken }
    return Tokens.hash(token)
  }

  func identity(hash: String) async throws -> Identity {
    switch try await identities.lookup(hash: hash) {
    case .valid(let identity): return identity
    case .revoked: throw AccessError.revokedToken
    case .expired: throw AccessError.expiredToken
    case .unknown: throw AccessError.invalidToken
    }
  }
}
