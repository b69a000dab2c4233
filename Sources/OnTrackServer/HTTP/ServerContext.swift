import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import OnTrackFormats
import OnTrackProtocol

/// The request context of every route: Hummingbird's core storage, the WebSocket upgrade
/// slot, and who is asking (set by `TokenAuthenticator`).
public struct ServerContext: RequestContext, WebSocketRequestContext {
  public var coreContext: CoreRequestContextStorage
  /// The WebSocket upgrade reference, held out of line so that it can be cleared
  /// (`WebSocketSlot`).
  let webSocketSlot = WebSocketSlot()
  public var webSocket: WebSocketHandlerReference<ServerContext> { webSocketSlot.value }
  /// The holder of the request's bearer token; `nil` without one.
  public var identity: Identity?
  /// The SHA-256 of the request's bearer token, so an open stream can be closed when the token
  /// is revoked.
  var tokenHash: String?
  /// The connection the request came on.
  let channel: any Channel

  public init(source: Source) {
    coreContext = .init(source: source)
    channel = source.channel
    identity = nil
    tokenHash = nil
  }

  /// Exercise definitions with a reference BVH of a long recording can be large.
  public var maxUploadSize: Int { ConnectionLimits().maximumBodyBytes }

  /// Request bodies are JSON that must mean one thing to every reader
  /// (`UnambiguousJSONDecoder`).
  public var requestDecoder: UnambiguousJSONDecoder { UnambiguousJSONDecoder() }

  /// The identity, or `AccessError.noToken`.
  func requireIdentity() throws(AccessError) -> Identity {
    guard let identity else { throw .noToken }
    return identity
  }

  /// A therapist (or clinic admin) identity.
  func requireTherapist() throws(AccessError) -> Identity {
    let identity = try requireIdentity()
    guard identity.role == .therapist || identity.role == .admin else {
      throw .wrongRole("only a therapist may do this")
    }
    return identity
  }

  /// The session named in the path, if the caller may read it.
  func readableSession(in hub: SessionHub) async throws -> (SessionRecord, Identity) {
    let identity = try requireIdentity()
    let record = try await hub.record(try parameters.require("id"))
    guard identity.mayAccess(record) else {
      throw AccessError.notYours("this session belongs to another patient")
    }
    return (record, identity)
  }
}

extension SessionView: ResponseEncodable {}
extension TokenListing: ResponseEncodable {}
extension TokenResponse: ResponseEncodable {}
extension ExerciseSummary: ResponseEncodable {}
extension ExerciseDetail: ResponseEncodable {}
extension ExerciseCreated: ResponseEncodable {}
extension HealthStatus: ResponseEncodable {}
extension PairingCode: ResponseEncodable {}

/// Decodes request bodies with `JSONDecoder` (dates ISO 8601, as Hummingbird's default), and
/// refuses with 400 a body in which an object repeats a name (`JSONDuplicateKeys`):
/// `JSONDecoder` would take the first value, the dashboard's `JSON.parse` and PostgreSQL the
/// last, so a programme or exercise could be checked as one thing and shown or kept as
/// another.
public struct UnambiguousJSONDecoder: RequestDecoder {
  public func decode<T: Decodable>(
    _ type: T.Type, from request: Request, context: some RequestContext
  ) async throws -> T {
    let buffer = try await request.body.collect(upTo: context.maxUploadSize)
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    let bytes = Data(buffer.readableBytesView)
    let value = try decoder.decode(T.self, from: bytes)
    let repeated = bytes.withUnsafeBytes { raw in
      JSONDuplicateKeys.first(in: raw.bindMemory(to: UInt8.self))
    }
    if let repeated {
      throw APIError.badRequest("the request body is ambiguous: \(repeated)")
    }
    return value
  }
}
