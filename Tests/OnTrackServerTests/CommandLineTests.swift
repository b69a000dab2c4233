import Foundation
import NIOCore
import NIOPosix
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

/// `ontrack token`, `record` and `simulate`, run as the real executable.
@Suite("Server commands", .serialized)
struct CommandLineTests {
  /// Runs `ontrack` with `arguments`; returns its standard output, or throws with its errors.
  static func ontrack(
    _ arguments: [String], program: String = "ontrack", workingDirectory: URL? = nil
  ) async throws -> String {
    let (status, text, problems) = try await runProgram(
      ServerProcess.executable.deletingLastPathComponent().appendingPathComponent(program),
      arguments, workingDirectory: workingDirectory)
    guard status == 0 else {
      throw ServerProcess.ServerClientError(
        message:
          "ontrack \(arguments.prefix(2).joined(separator: " ")) exited \(status): \(problems)"
      )
    }
    return text
  }

  @Test("token create and record (from a file, into the data folder) version the library")
  func tokenAndRecordLocally() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let token = try await Self.ontrack([
      "token", "create", "--role", "therapist", "--name", "lee", "--data", folder.path,
    ])
    .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(token.hasPrefix("otk_"))
    let store = try SQLiteStore(folder: folder)
    #expect(
      try await store.token(hash: Tokens.hash(token))
        == .init(role: .therapist, name: "lee", therapist: nil))
    await #expect(throws: (any Error).self) {
      try await Self.ontrack([
        "token", "create", "--role", "nurse", "--name", "x", "--data", folder.path,
      ])
    }
    let patient = try await Self.ontrack([
      "token", "create", "--role", "patient", "--name", "ann", "--therapist", "lee", "--data",
      folder.path,
    ])
    .trimmingCharacters(in: .whitespacesAndNewlines)
    let table = try await Self.ontrack(["token", "list", "--data", folder.path])
    let patientID = Tokens.id(ofHash: Tokens.hash(patient))
    #expect(table.contains(patientID) && !table.contains(patient))
    #expect(
      try await Self.ontrack(["token", "revoke", patientID, "--data", folder.path]).contains(
        "revoked"))
    #expect(try await store.token(hash: Tokens.hash(patient))?.revoked != nil)
    #expect(try await store.token(hash: Tokens.hash(token))?.revoked == nil)
    let listed = try JSONDecoder().decode(
      [TokenListing].self,
      from: Data(try await Self.ontrack(["token", "list", "--json", "--data", folder.path]).utf8))
    #expect(listed.map(\.name) == ["lee", "ann"])
    #expect(listed.map { $0.revoked != nil } == [false, true])
    await #expect(throws: (any Error).self) {
      try await Self.ontrack(["token", "revoke", "0123456789abcdef", "--data", folder.path])
    }
    await #expect(throws: (any Error).self) {
      try await Self.ontrack(["token", "revoke", "ann", "--data", folder.path])
    }

    // A joint-angle CSV has no skeleton to be recorded on: a clear error, nothing stored.
    let csv = folder.appendingPathComponent("take.csv")
    try Data("time,Hips.Xrotation\n0,1\n".utf8).write(to: csv)
    await #expect(throws: (any Error).self) {
      try await Self.ontrack([
        "record", "--from", csv.path, "--exercise", "from-csv", "--data", folder.path,
      ])
    }
    #expect(try await store.exerciseVersions(id: "from-csv").isEmpty)
    let angles = ServerData.shared.appendingPathComponent(
      "data/uiprmd/sample_plain/kinect_m07_s01_e01_angles.txt")
    let first = try await Self.ontrack([
      "record", "--from", angles.path, "--exercise", "lee-abduction", "--trim", "0:2",
      "--data", folder.path,
    ])
    #expect(first.contains("stored exercise lee-abduction version 1"))
    let second = try await Self.ontrack([
      "record", "--from", angles.path, "--exercise", "lee-abduction", "--data", folder.path,
    ])
    #expect(second.contains("version 2"))
    #expect(try await store.exerciseVersions(id: "lee-abduction") == [1, 2])
    let v1 = try BVHReader().read(
      text: try #require(try await store.exercise(id: "lee-abduction", version: 1)).reference)
    let v2 = try BVHReader().read(
      text: try #require(try await store.exercise(id: "lee-abduction", version: 2)).reference)
    let whole = try UIPRMDReader.readKinect(
      angles: angles, positions: UIPRMDReader.positionsPath(forAngles: angles))
    #expect(abs(v1.duration - 2) < 2 * v1.frameTime)
    #expect(v2.frameCount == whole.frameCount)
    // A wrong trim is refused and stores nothing.
    await #expect(throws: (any Error).self) {
      try await Self.ontrack([
        "record", "--from", angles.path, "--exercise", "lee-abduction", "--trim", "3:1", "--data",
        folder.path,
      ])
    }
    #expect(try await store.exerciseVersions(id: "lee-abduction") == [1, 2])
  }

  @Test("simulate streams patients to a live server, and record cuts a reference from a session")
  func simulateAndRecordOverHTTP() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let token = try await Tokens.create(
      role: .therapist, name: "lee", therapist: nil, in: try SQLiteStore(folder: folder))
    let server = try await ServerProcess(folder: folder)
    defer { server.kill() }
    let url = "http://127.0.0.1:\(server.port)"
    let report = try await Self.ontrack([
      "simulate", "--url", url, "--token", token, "--patients", "2", "--repetitions", "2",
      "--variation", "perfect", "--keep-open", "--json",
    ])
    struct Report: Decodable {
      var framesSent: Int
      var framesScored: Int
      var framesStored: Int?
      var framesUnanswered: Int
      var repetitions: Int
      var meanScore: Double?
      var latencyMs: [String: Double]?
    }
    let decoded = try JSONDecoder().decode(Report.self, from: Data(report.utf8))
    #expect(decoded.framesSent > 600)
    #expect(decoded.framesScored == decoded.framesSent)
    #expect(decoded.framesStored == decoded.framesSent)
    #expect(decoded.framesUnanswered == 0)
    #expect(decoded.repetitions == 4)
    #expect((decoded.meanScore ?? 0) > 95)
    #expect((decoded.latencyMs?["p50"] ?? .infinity) < 100)

    // Cut the second repetition of one of those sessions into a new exercise.
    let sessions =
      try JSONSerialization.jsonObject(
        with: try await server.request("GET", "/v1/sessions", token: token, body: nil))
      as? [[String: Any]]
    let session = try #require(sessions?.first?["id"] as? String)
    let recorded = try await Self.ontrack([
      "record", "--from", "\(url)/v1/sessions/\(session)", "--exercise", "lee-recorded",
      "--trim", "4.5:9", "--token", token,
    ])
    #expect(recorded.contains("stored exercise lee-recorded version 1"))
    let detail =
      try JSONSerialization.jsonObject(
        with: try await server.request("GET", "/v1/exercises/lee-recorded", token: token, body: nil)
      )
      as? [String: Any]
    let duration = try #require(detail?["referenceDuration"] as? Double)
    #expect(abs(duration - 4.5) < 0.1)
  }

  @Test("backup copies a running server's database consistently, and the copy serves again")
  func backupAndRestore() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    let restored = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-restored-\(UUID())")
    defer {
      try? FileManager.default.removeItem(at: folder)
      try? FileManager.default.removeItem(at: restored)
    }
    let token = try await Self.ontrack([
      "token", "create", "--role", "therapist", "--name", "lee", "--data", folder.path,
    ]).trimmingCharacters(in: .whitespacesAndNewlines)
    let server = try await ServerProcess(folder: folder)
    let created = try await server.request(
      "POST", "/v1/sessions", token: token,
      body: Data(#"{"exercise":"uiprmd-m07-shoulder-abduction"}"#.utf8))
    let session = try JSONDecoder().decode(SessionView.self, from: created).id
    let copy = folder.appendingPathComponent("copy.sqlite")
    // While the server runs.
    let said = try await Self.ontrack(["backup", copy.path, "--data", folder.path])
    #expect(said.contains("backed up"))
    server.kill()
    await #expect(throws: (any Error).self) {
      try await Self.ontrack(["backup", copy.path, "--data", folder.path])
    }
    let mode =
      try FileManager.default.attributesOfItem(atPath: copy.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: copy, to: restored.appendingPathComponent(SQLiteStore.fileName))
    let second = try await ServerProcess(folder: restored)
    defer { second.kill() }
    let view = try JSONDecoder().decode(
      SessionView.self,
      from: try await second.request("GET", "/v1/sessions/\(session)", token: token, body: nil))
    #expect(view.open)
    #expect(view.exercise == "uiprmd-m07-shoulder-abduction")
  }

  @Test("serve and score find the bundled exercises from any working directory")
  func bundledExercisesFromAnywhere() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let elsewhere = FileManager.default.temporaryDirectory
    let angles = ServerData.shared.appendingPathComponent(
      "data/uiprmd/sample_plain/kinect_m07_s01_e01_angles.txt")
    let scored = try await Self.ontrack(
      ["score", "--exercise", "uiprmd-m07-shoulder-abduction", angles.path, "--json"],
      workingDirectory: elsewhere)
    #expect(scored.contains("\"repetitions\""))
    let token = try await Self.ontrack([
      "token", "create", "--role", "therapist", "--name", "lee", "--data", folder.path,
    ]).trimmingCharacters(in: .whitespacesAndNewlines)
    let server = try await ServerProcess(folder: folder, workingDirectory: elsewhere)
    defer { server.kill() }
    let list = try JSONDecoder().decode(
      [ExerciseSummary].self,
      from: try await server.request("GET", "/v1/exercises", token: token, body: nil))
    #expect(list.count >= 10)
  }

  @Test("serve on a busy port exits with the reason instead of hanging, its device listeners up")
  func busyPort() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    // Another program holds the HTTP port.
    let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .bind(host: "127.0.0.1", port: 0).get()
    defer { holder.close(promise: nil) }
    let port = try #require(holder.localAddress?.port)
    // The device listeners start first and must stop too (before, the VMC listener waited on
    // its socket through the cancellation and the process never exited): killed after 60 s.
    let (status, _, problems) = try await runProgram(
      URL(fileURLWithPath: "/usr/bin/timeout"),
      [
        "-s", "KILL", "60", ServerProcess.executable.path, "serve", "--data", folder.path,
        "--port", "\(port)", "--axis-port", "0", "--vmc-port", "0",
      ])
    #expect(status == 1, "\(problems.suffix(400))")
    #expect(problems.contains("Address already in use"), "\(problems.suffix(400))")
  }

  @Test("ontrack-server runs the server without the avatar app: no SDL, no OpenGL")
  func serverWithoutGraphics() async throws {
    let program = ServerProcess.executable.deletingLastPathComponent()
      .appendingPathComponent("ontrack-server")
    let libraries = try await HardeningTests.run("/usr/bin/ldd", [program.path])
    #expect(libraries.contains("libsqlite3"))
    #expect(!libraries.contains("SDL"))
    #expect(!libraries.contains("libGL") && !libraries.contains("libEGL"))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-cli-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let token = try await Self.ontrack(
      ["token", "create", "--role", "therapist", "--name", "lee", "--data", folder.path],
      program: "ontrack-server"
    ).trimmingCharacters(in: .whitespacesAndNewlines)
    let server = try await ServerProcess(folder: folder, program: "ontrack-server")
    defer { server.kill() }
    let list = try JSONDecoder().decode(
      [ExerciseSummary].self,
      from: try await server.request("GET", "/v1/exercises", token: token, body: nil))
    #expect(list.count >= 10)
  }
}
