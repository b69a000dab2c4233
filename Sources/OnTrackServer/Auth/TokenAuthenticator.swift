import Foundation
import Hummingbird
import Synchronization

/// Reads the bearer token (the `Authorization` header, or a `token` query parameter for
/// WebSocket clients that cannot set headers), looks up its hash, and puts the identity in the
/// context. A request without a token goes on without an identity (routes decide); a request
/// with an unknown token is refused with 401 at once.
struct TokenAuthenticator: RouterMiddleware {
  typealias Context = ServerContext
  let store: Store
  /// Known token hashes → identities, so a stream's frames never touch the database.
  let cache = IdentityCache()

  init(store: Store) {
    self.store = store
  }

  final class IdentityCache: Sendable {
    private let identities = Mutex<[String: Identity]>([:])

    func withLock<R>(_ body: (inout [String: Identity]) -> R) -> R {
      identities.withLock { body(&$0) }
    }
  }

  func handle(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    var context = context
    if let token = Self.token(in: request) {
      context.identity = try identity(for: token)
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

  func identity(for token: String) throws(APIError) -> Identity {
    guard token.utf8.count <= 256 else { throw .unauthorized("invalid token") }
    let hash = Tokens.hash(token)
    if let known = cache.withLock({ $0[hash] }) { return known }
    let record: Store.TokenRecord?
    do {
      record = try store.token(hash: hash)
    } catch {
      throw .internal("\(error)")
    }
    guard let record else { throw .unauthorized("invalid token") }
    let identity = Identity(role: record.role, name: record.name, therapist: record.therapist)
    cache.withLock { $0[hash] = identity }
    return identity
  }
}
