import Foundation
import OnTrackClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

@testable import OnTrackServer

/// The deployment of `deploy/`: three real `ontrack serve` processes sharing one PostgreSQL
/// behind HAProxy (its configuration from `deploy/haproxy.cfg`, on free ports), simulated
/// patients streaming through the balancer, two servers killed with SIGKILL mid-stream.
/// Needs the PostgreSQL test cluster (`ONTRACK_TEST_POSTGRES`) and Debian's `haproxy`; CI sets
/// `ONTRACK_REQUIRE_HAPROXY` so that a missing balancer fails instead of skipping.
@Suite("Three servers behind HAProxy", .serialized)
struct BalancedServersTests {
  static let patients = 6
  static let rate = 30.0
  static let repetitions = 5
  static let exerciseID = "uiprmd-m07-shoulder-abduction"

  @Test(
    "two of three servers killed with SIGKILL mid-stream: every frame stored once, scores as offline"
  )
  func killedServers() async throws {
    let environment = ProcessInfo.processInfo.environment
    guard let haproxy = Self.haproxy else {
      #expect(
        environment["ONTRACK_REQUIRE_HAPROXY"] == nil,
        "haproxy is not installed: Scripts/install-dependencies.sh installs it")
      return
    }
    guard let fixture = try await StoreContractTests.Fixture.make(.postgres),
      let url = fixture.url
    else { return }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-balanced-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var servers: [ServerProcess] = []
    var balancer: Process?
    defer {
      for server in servers { server.kill() }
      balancer?.terminate()
      balancer?.waitUntilExit()
      try? FileManager.default.removeItem(at: folder)
    }
    let therapist = try await Tokens.create(
      role: .therapist, name: "lee", therapist: nil, in: fixture.store)
    for k in 0..<3 {
      servers.append(
        try await ServerProcess(
          folder: folder.appendingPathComponent("server-\(k)"), store: url,
          serverName: "s\(k + 1)", behindBalancer: true))
    }
    let port = try Self.freePort()
    let configuration = folder.appendingPathComponent("haproxy.cfg")
    try Self.haproxyConfiguration(listen: port, servers: servers.map(\.port))
      .write(to: configuration, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = haproxy
    process.arguments = ["-f", configuration.path, "-db"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    balancer = process
    let base = "http://127.0.0.1:\(port)"
    #expect(try await Self.waitForHealth(base), "HAProxy did not pass requests on")

    // Patients stream through the balancer while two servers die, 4 s and 16 s in.
    async let simulated = runProgram(
      ServerProcess.executable,
      [
        "simulate", "--url", base, "--token", therapist, "--patients", "\(Self.patients)",
        "--rate", "\(Self.rate)", "--repetitions", "\(Self.repetitions)", "--exercise",
        Self.exerciseID, "--json",
      ])
    try await Task.sleep(for: .seconds(4))
    servers[0].kill()
    try await Task.sleep(for: .seconds(12))
    servers[1].kill()
    let (status, output, errors) = try await simulated
    #expect(status == 0, "simulate: \(errors.suffix(6000))")
    let report = try JSONDecoder().decode(SimulateReport.self, from: Data(output.utf8))
    #expect(report.errors.isEmpty, "\(report.errors)")
    #expect(report.reconnections > 0, "no patient was on a killed server")

    // Every session: frames 0…n−1 stored once each, n what the patient streamed.
    let exercise = try ServerData.exercise(Self.exerciseID)
    let reference = try #require(exercise.referenceClip)
    let simulator = PatientSimulator(
      reference: reference, variation: try #require(.named("demo")), frameRate: Self.rate)
    let expected = Int(
      (Double(Self.repetitions) * simulator.cycleSeconds + simulator.variation.restSeconds + 0.5)
        * Self.rate)
    let sessions = try await fixture.store.sessions(patient: nil, therapist: nil)
    #expect(sessions.count == Self.patients)
    let client = ServerClient(base: try #require(URL(string: base)), token: therapist)
    for listing in sessions {
      let session = listing.record
      let frames = try await fixture.store.frames(session: session.id, from: 0)
      #expect(frames.map(\.seq) == Array(0..<expected), "session \(session.id)")
      // The server's scores (after a move between servers) are those of the recording
      // scored offline.
      let served = try #require(
        try await client.get("/v1/sessions/\(session.id)/report", as: SessionReport.self).result,
        "session \(session.id) has no result")
      let recording = try BVHReader().read(
        bytes: Array(try await client.request("GET", "/v1/sessions/\(session.id)/recording.bvh")))
      let offline = try TakeScorer(exercise: exercise).score(recording)
      #expect(served.repetitions.count == Self.repetitions, "session \(session.id)")
      #expect(served.repetitions.count == offline.repetitions.count, "session \(session.id)")
      for (a, b) in zip(served.repetitions, offline.repetitions) {
        #expect(abs(a.score - b.score) < 1, "session \(session.id) repetition \(a.index)")
      }
    }
    await fixture.tearDown()
  }

  struct SimulateReport: Decodable {
    var errors: [String]
    var reconnections: Int
  }

  static var haproxy: URL? {
    ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"].map {
      URL(fileURLWithPath: $0)
    }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  /// `deploy/haproxy.cfg` with its listening port and server lines replaced.
  static func haproxyConfiguration(listen: Int, servers: [Int]) throws -> String {
    let shipped = try String(
      contentsOf: ServerData.root.appendingPathComponent("deploy/haproxy.cfg"), encoding: .utf8)
    var lines: [String] = []
    for line in shipped.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("server ") { continue }
      if trimmed.hasPrefix("bind 127.0.0.1:") {
        lines.append("  bind 127.0.0.1:\(listen)")
      } else if trimmed.hasPrefix("log ") {
        continue
      } else {
        lines.append(String(line))
      }
    }
    for (k, port) in servers.enumerated() {
      lines.append("  server s\(k + 1) 127.0.0.1:\(port) check")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A port nothing listens on now (the kernel's choice for a socket bound to port 0).
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServerProcess.ServerClientError(message: "no socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
      pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
        bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
      }
    }
    guard bound else { throw ServerProcess.ServerClientError(message: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  static func waitForHealth(_ base: String) async throws -> Bool {
    let client = ServerClient(base: try #require(URL(string: base)), token: "")
    for _ in 0..<100 {
      if (try? await client.request("GET", "/health")) != nil { return true }
      try await Task.sleep(for: .milliseconds(200))
    }
    return false
  }
}
