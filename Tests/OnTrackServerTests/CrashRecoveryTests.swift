import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization
import Testing

@testable import OnTrackServer

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The real `ontrack serve` process, killed with SIGKILL in the middle of a session.
@Suite("Crash recovery", .serialized)
struct CrashRecoveryTests {
  @Test("killed with SIGKILL mid-stream, the server restarts with every acknowledged frame")
  func sigkill() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-kill-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let token = try await Tokens.create(
      role: .patient, name: "ann", therapist: "lee", in: try SQLiteStore(folder: folder))
    let take = try ServerData.kinectTake(movement: 1, subject: 1, episodes: 1...5)
    let exercise = try ServerData.exercise("uiprmd-m01-deep-squat")
    let offline = try TakeScorer(exercise: exercise).score(take)
    let encoder = ChannelEncoder(skeleton: take.skeleton)

    // First life: stream until well into the take, then kill the process with frames in flight.
    let first = try await ServerProcess(folder: folder)
    let session = try await first.createSession(
      token: token, exercise: exercise.id, skeletonBVH: try ServerData.bvh(of: take.skeleton))
    let killAt = take.frameCount * 2 / 3
    let acknowledged = Mutex(-1)
    _ = try? await first.webSocket("/v1/sessions/\(session)/stream", token: token) {
      inbound, outbound in
      var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
      _ = try await messages.next()
      for f in 0..<take.frameCount {
        try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        if f % 20 == 19 {
          // Read what has come back so far, to know what is acknowledged.
          while let message = try await messages.next(), case .text(let text) = message {
            if case .ack(let seq) = try ServerMessage.decode(text) {
              acknowledged.withLock { $0 = max($0, seq) }
            }
            if text.contains("\"seq\":\(f)") { break }
          }
        }
        if f == killAt {
          // Wait for the group commits to acknowledge at least the first third (how fast they
          // follow depends on the machine), then kill with the rest in flight.
          while acknowledged.withLock({ $0 }) <= take.frameCount / 3,
            let message = try await messages.next(), case .text(let text) = message
          {
            if case .ack(let seq) = try ServerMessage.decode(text) {
              acknowledged.withLock { $0 = max($0, seq) }
            }
          }
          first.kill()
          return
        }
      }
    }
    let acked = acknowledged.withLock { $0 }
    #expect(acked > take.frameCount / 3, "acknowledged up to \(acked) before the kill")

    // Everything acknowledged is on disk.
    let stored = try await SQLiteStore(folder: folder).frames(session: session, from: 0)
    let storedSeqs = Set(stored.map(\.seq))
    #expect(
      (0...acked).allSatisfy { storedSeqs.contains($0) }, "stored \(stored.count), acked \(acked)")

    // Second life: the session is restored; the client resumes after lastSeq.
    let server = try await ServerProcess(folder: folder)
    defer { server.kill() }
    let resumed = Mutex(-1)
    _ = try await server.webSocket("/v1/sessions/\(session)/stream", token: token) {
      inbound, outbound in
      var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
      guard let hello = try await messages.next(), case .text(let text) = hello,
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
        let last = object["lastSeq"] as? Int
      else { return }
      resumed.withLock { $0 = last }
      for f in (last + 1)..<take.frameCount {
        try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
      }
      while let message = try await messages.next(), case .text(let text) = message {
        if case .ack(let seq) = try ServerMessage.decode(text), seq == take.frameCount - 1 { break }
      }
      try await outbound.close(.normalClosure, reason: nil)
    }
    let last = resumed.withLock { $0 }
    #expect(last >= acked)
    let result = try await server.finish(session: session, token: token)
    #expect(result.repetitions.count == offline.repetitions.count)
    for (a, b) in zip(result.repetitions, offline.repetitions) {
      #expect(abs(a.score - b.score) < 0.5, "repetition \(a.index)")
      #expect(abs(a.startTime - b.startTime) < 1e-6)
    }
    #expect(try await SQLiteStore(folder: folder).frameCount(session: session) == take.frameCount)
  }

}

/// `ontrack serve` as a child process on a free port.
struct ServerProcess {
  let process: Process
  let port: Int

  /// The `ontrack` executable built beside the test bundle.
  static var executable: URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("ontrack")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    return ServerData.root.appendingPathComponent(".build/debug/ontrack")
  }

  /// Starts `ontrack serve` on `folder`. With `workingDirectory`, it runs there and is not
  /// told where the bundled exercises are (it must find them itself); with `store`, it keeps
  /// its data there (a PostgreSQL URL) under the lease holder name `serverName`. Behind a
  /// balancer every connection comes from its address, so the per-address cap is off there,
  /// as in `deploy/ontrack.json.example`.
  init(
    folder: URL, workingDirectory: URL? = nil, program: String = "ontrack", store: String? = nil,
    serverName: String? = nil, behindBalancer: Bool = false
  ) async throws {
    process = Process()
    process.executableURL = Self.executable.deletingLastPathComponent()
      .appendingPathComponent(program)
    var arguments = [
      "serve", "--data", folder.path, "--port", "0", "--no-axis", "--no-vmc", "--max-frame-rate",
      "10000", "--log-level", "error",
    ]
    if let store { arguments += ["--store", store] }
    if let serverName { arguments += ["--server-name", serverName] }
    if behindBalancer { arguments += ["--max-connections-per-address", "0"] }
    if let workingDirectory {
      process.currentDirectoryURL = workingDirectory
    } else {
      arguments += ["--exercises", ServerData.exercises.path]
    }
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    // The first line says where it listens (read off the concurrency pool: it blocks).
    let handle = output.fileHandleForReading
    let line = await offPool { () -> Data in
      var line = Data()
      while !line.contains(UInt8(ascii: "\n")) {
        let chunk = handle.availableData
        guard !chunk.isEmpty else { break }
        line.append(chunk)
      }
      return line
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let range = text.range(of: "http://127.0.0.1:"),
      let port = Int(text[range.upperBound...].prefix { $0.isNumber })
    else {
      process.terminate()
      throw ServerClientError(message: "ontrack serve did not start: '\(text)'")
    }
    self.port = port
  }

  func kill() {
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  struct ServerClientError: Error {
    var message: String
  }

  func request(_ method: String, _ path: String, token: String, body: Data?) async throws -> Data {
    var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
    request.httpMethod = method
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = body
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse, http.statusCode < 300 else {
      throw ServerClientError(message: String(decoding: data, as: UTF8.self))
    }
    return data
  }

  func createSession(token: String, exercise: String, skeletonBVH: String) async throws -> String {
    let body = try JSONSerialization.data(withJSONObject: [
      "exercise": exercise, "skeletonBVH": skeletonBVH,
    ])
    let data = try await request("POST", "/v1/sessions", token: token, body: body)
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return try #require(object?["id"] as? String)
  }

  func finish(session: String, token: String) async throws -> TakeResult {
    let data = try await request(
      "POST", "/v1/sessions/\(session)/finish", token: token, body: Data("{}".utf8))
    return try JSONDecoder().decode(TakeResult.self, from: data)
  }

  func webSocket(
    _ path: String, token: String,
    _ body:
      @escaping @Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void
  ) async throws -> WebSocketCloseFrame? {
    var configuration = WebSocketClientConfiguration()
    configuration.maxFrameSize = 1 << 20
    configuration.additionalHeaders[.authorization] = "Bearer \(token)"
    var logger = Logger(label: "ontrack.test.kill")
    logger.logLevel = .critical
    return try await WebSocketClient.connect(
      url: "ws://127.0.0.1:\(port)\(path)", configuration: configuration, logger: logger
    ) { inbound, outbound, _ in
      try await body(inbound, outbound)
    }
  }
}
