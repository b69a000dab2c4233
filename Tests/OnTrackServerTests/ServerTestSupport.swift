import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization
import Testing

@testable import OnTrackServer

/// Paths and real recordings for the server tests.
enum ServerData {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static let shared: URL = {
    if let path = ProcessInfo.processInfo.environment["ONTRACK_SHARED"] {
      return URL(fileURLWithPath: path)
    }
    return root.deletingLastPathComponent().appendingPathComponent("shared")
  }()

  static let exercises = root.appendingPathComponent("Assets/exercises")

  static func exercise(_ id: String) throws -> Exercise {
    try Exercise.load(contentsOf: exercises.appendingPathComponent(id + ".json"))
  }

  /// Consecutive UI-PRMD Kinect repetitions of one subject as one continuous take.
  static func kinectTake(movement: Int, subject: Int, episodes: ClosedRange<Int>) throws -> Clip {
    try UIPRMDReader.readKinectTake(
      root: shared.appendingPathComponent("data/uiprmd/raw"), movement: movement,
      subject: subject, episodes: episodes)
  }

  /// A skeleton as BVH text (hierarchy and one rest frame), as a session declares it.
  static func bvh(of skeleton: Skeleton) throws -> String {
    let rest = skeleton.restPose
    return BVHWriter().text(
      for: try Clip(
        skeleton: skeleton, frameTime: 1.0 / 30, rotations: rest.rotations,
        translations: rest.translations))
  }

  /// Frame `f` of `clip` as a JSON `values` frame.
  static func valuesFrame(_ clip: Clip, _ f: Int, seq: Int? = nil, encoder: ChannelEncoder)
    -> String
  {
    var values: [Float] = []
    encoder.encode(clip.pose(atFrame: f), into: &values)
    let numbers = values.map { String(format: "%.4f", $0) }.joined(separator: ",")
    return "{\"seq\":\(seq ?? f),\"t\":\(Double(f) * clip.frameTime),\"values\":[\(numbers)]}"
  }
}

/// A server on a temporary data folder with four token holders: therapist Lee with patient
/// Ann, therapist Kim with patient Bob.
struct TestServer {
  let folder: URL
  let server: OnTrackServer
  let lee: String
  let kim: String
  let ann: String
  let bob: String

  /// - Parameters:
  ///   - configure: changes the configuration before the server starts.
  ///   - store: a store to use instead of SQLite in the folder.
  init(
    axis: Bool = false, vmc: Bool = false, folder: URL? = nil,
    tokenRecheckInterval: Duration = IdentityCache.defaultLifetime,
    store: (any ServerStore)? = nil,
    configure: (inout ServerConfiguration) -> Void = { _ in }
  ) async throws {
    let folder =
      folder
      ?? FileManager.default.temporaryDirectory.appendingPathComponent("ontrack-test-\(UUID())")
    self.folder = folder
    var configuration = ServerConfiguration(dataFolder: folder)
    configuration.port = 0
    configuration.seedExercises = ServerData.exercises
    configuration.axisPort = axis ? 0 : nil
    configuration.vmcPort = vmc ? 0 : nil
    configuration.limits.maximumFrameBytes = 16 * 1024
    // Tests stream recordings as fast as they can; the rate cap has a test of its own.
    configuration.limits.maximumFrameRate = 1_000_000
    configuration.tokenRecheckInterval = tokenRecheckInterval
    var logger = Logger(label: "ontrack.test")
    logger.logLevel = .warning
    configuration.logger = logger
    configuration.auditLogger = logger
    configure(&configuration)
    server = try await OnTrackServer(configuration: configuration, store: store)
    let store = server.store
    lee = try await Tokens.create(role: .therapist, name: "lee", therapist: nil, in: store)
    kim = try await Tokens.create(role: .therapist, name: "kim", therapist: nil, in: store)
    ann = try await Tokens.create(role: .patient, name: "ann", therapist: "lee", in: store)
    bob = try await Tokens.create(role: .patient, name: "bob", therapist: "kim", in: store)
  }

  /// The SQLite store (the default).
  var sqlite: SQLiteStore {
    get throws { try #require(server.store as? SQLiteStore) }
  }

  /// Runs `body` against the live server.
  func run<Value: Sendable>(_ body: @Sendable (LiveClient) async throws -> Value) async throws
    -> Value
  {
    try await server.application().test(.live) { client in
      try await body(LiveClient(client: client, port: client.port ?? 0))
    }
  }

  func removeFolder() {
    try? FileManager.default.removeItem(at: folder)
  }
}

/// HTTP and WebSocket helpers over the live test client.
struct LiveClient: Sendable {
  let client: any TestClientProtocol
  let port: Int

  func request(
    _ method: HTTPRequest.Method, _ path: String, token: String?, json: String? = nil
  ) async throws -> TestResponse {
    var headers: HTTPFields = [:]
    if let token { headers[.authorization] = "Bearer \(token)" }
    if json != nil { headers[.contentType] = "application/json" }
    return try await client.execute(
      uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
  }

  func json<T: Decodable>(
    _ method: HTTPRequest.Method, _ path: String, token: String?, body: String? = nil,
    as type: T.Type
  )
    async throws -> T
  {
    let response = try await request(method, path, token: token, json: body)
    #expect(
      response.status.code < 300,
      "\(method) \(path): \(response.status) \(String(buffer: response.body))")
    return try JSONDecoder().decode(type, from: Data(buffer: response.body))
  }

  struct Session: Decodable {
    var id: String
    var patient: String
    var exercise: String
    var exerciseVersion: Int
    var frames: Int?
    var lastSeq: Int?
    var durableSeq: Int?
    var repetitions: Int
    var rejected: [String: Int]
    var open: Bool
  }

  func createSession(
    token: String, exercise: String = "uiprmd-m07-shoulder-abduction", extra: String = ""
  ) async throws -> Session {
    try await json(
      .post, "/v1/sessions", token: token,
      body: "{\"exercise\":\"\(exercise)\"\(extra)}", as: Session.self)
  }

  /// Opens a WebSocket at `path` and runs `body` with what the server sends and a writer.
  func webSocket(
    _ path: String, token: String?,
    _ body: @escaping @Sendable (WebSocketMessages, WebSocketOutboundWriter) async throws -> Void
  ) async throws -> WebSocketCloseFrame? {
    var configuration = WebSocketClientConfiguration()
    configuration.maxFrameSize = 1 << 21
    if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
    var logger = Logger(label: "ontrack.test.ws")
    logger.logLevel = .critical
    return try await WebSocketClient.connect(
      url: "ws://127.0.0.1:\(port)\(path)", configuration: configuration, logger: logger
    ) { inbound, outbound, _ in
      try await body(WebSocketMessages(inbound.messages(maxSize: 1 << 21)), outbound)
    }
  }
}

/// Text messages of a WebSocket, one at a time, with a timeout.
final class WebSocketMessages: @unchecked Sendable {
  // Used by one task at a time (the test body), like an iterator.
  private var iterator: WebSocketInboundMessageStream.AsyncIterator

  init(_ stream: WebSocketInboundMessageStream) {
    iterator = stream.makeAsyncIterator()
  }

  /// The next text message, or nil when the connection closes.
  func next() async throws -> String? {
    while let message = try await iterator.next() {
      if case .text(let text) = message { return text }
    }
    return nil
  }

  /// The next message decoded as a JSON object.
  func nextObject() async throws -> [String: Any]? {
    guard let text = try await next() else { return nil }
    return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
  }

  /// Messages until one of `type` arrives (returned), collecting the others.
  /// Reads until an acknowledgement covers `seq` (or the stream ends); returns the highest
  /// sequence number acknowledged (−1 if none).
  @discardableResult
  func waitForAck(through seq: Int) async throws -> Int {
    var others: [[String: Any]] = []
    var highest = -1
    while let ack = try await until(type: "ack", collecting: &others) {
      highest = max(highest, ack["seq"] as? Int ?? -1)
      if highest >= seq { break }
    }
    return highest
  }

  func until(type: String, collecting others: inout [[String: Any]]) async throws -> [String: Any]?
  {
    while let object = try await nextObject() {
      if object["type"] as? String == type { return object }
      others.append(object)
    }
    return nil
  }
}

struct TimedOut: Error, CustomStringConvertible {
  var limit: Duration
  var description: String { "gave up after \(limit)" }
}

/// Runs `body`, failing with `TimedOut` if it takes longer than `limit`.
func withTimeout<T: Sendable>(
  _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
  try await withThrowingTaskGroup(of: T.self) { group in
    group.addTask { try await body() }
    group.addTask {
      try await Task.sleep(for: limit)
      throw TimedOut(limit: limit)
    }
    guard let first = try await group.next() else { throw TimedOut(limit: limit) }
    group.cancelAll()
    return first
  }
}
