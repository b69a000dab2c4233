import Hummingbird
import HummingbirdWebSocket

/// The request context of every route: Hummingbird's core storage, the WebSocket upgrade
/// slot, and who is asking (set by `TokenAuthenticator`).
public struct ServerContext: RequestContext, WebSocketRequestContext {
  public var coreContext: CoreRequestContextStorage
  public let webSocket: WebSocketHandlerReference<ServerContext>
  /// The holder of the request's bearer token; `nil` without one.
  public var identity: Identity?
  /// The SHA-256 of the request's bearer token, so an open stream can be closed when the token
  /// is revoked.
  var tokenHash: String?

  public init(source: Source) {
    coreContext = .init(source: source)
    webSocket = .init()
    identity = nil
    tokenHash = nil
  }

  /// Exercise definitions with a reference BVH of a long recording can be large.
  public var maxUploadSize: Int { 16 * 1024 * 1024 }

  /// The identity, or 401.
  func requireIdentity() throws(APIError) -> Identity {
    guard let identity else {
      throw .unauthorized(
        "this endpoint needs a bearer token (Authorization: Bearer …, or ?token= for WebSockets)")
    }
    return identity
  }

  /// The session named in the path, if the caller may read it (401, 403 or 404 otherwise).
  func readableSession(in hub: SessionHub) throws -> Store.SessionRecord {
    let identity = try requireIdentity()
    let record = try hub.record(try parameters.require("id"))
    guard identity.mayAccess(record) else {
      throw APIError.forbidden("this session belongs to another patient")
    }
    return record
  }

  /// A therapist identity, or 401/403.
  func requireTherapist() throws(APIError) -> Identity {
    let identity = try requireIdentity()
    guard identity.role == .therapist else {
      throw .forbidden("only a therapist may do this")
    }
    return identity
  }
}
