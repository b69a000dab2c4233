import ArgumentParser
import Foundation
import Logging
import OnTrackClient
import OnTrackProtocol
import OnTrackScoring
import OnTrackServerCommands
import OnTrackSimulation

struct SimulateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Stream simulated patients to a server, as a load test or a demo.",
    discussion: """
      Each patient gets a session and streams the exercise's reference as a simulated patient \
      would perform it (--variation) at --rate frames per second of wall time, over the \
      WebSocket (JSON frames, answered frame by frame and acknowledged once stored), Axis \
      Neuron TCP or VMC UDP (results watched over the session's /watch WebSocket). Reports \
      frames sent, scored, rejected and not answered, frame-in → score-out latency as the \
      client sees it (p50, p99, max) and the repetitions scored. Sessions are finished at the \
      end unless --keep-open.
      """)

  @Option(help: "The server, http://HOST:PORT.")
  var url = "http://127.0.0.1:8080"

  @Option(help: "A token (a patient's, or a therapist's: sessions are then the therapist's own).")
  var token: String

  @Option(help: "The exercise id on the server.")
  var exercise = "uiprmd-m07-shoulder-abduction"

  @Option(help: "Simulated patients streaming at once.")
  var patients = 1

  @Option(help: "Frames per second each patient sends.")
  var rate = 60.0

  @Option(help: "demo, slow, shallow, noisy, compensate, drop, perfect.")
  var variation = "demo"

  @Option(name: .customLong("protocol"), help: "ws, axis or vmc.")
  var streamProtocol = "ws"

  @Option(help: "Repetitions each patient performs.")
  var repetitions = 3

  @Option(
    help: ArgumentHelp(
      "ws: frames per WebSocket message (1 … 64; more than 1 sends batches, each when its last frame is due).",
      valueName: "n"))
  var framesPerMessage = 1

  @Option(help: "Axis Neuron TCP port of the server.")
  var axisPort = 7001

  @Option(help: "VMC UDP port of the server.")
  var vmcPort = 39539

  @Option(help: "Stream into this existing session (one patient) instead of creating sessions.")
  var session: String?

  @Option(help: "For axis and vmc: how many patients a /watch viewer times (the rest only send).")
  var watch = 10

  @Flag(help: "Leave the sessions open (to watch or stream more).")
  var keepOpen = false

  @Flag(help: "Print the report as JSON.")
  var json = false

  func validate() throws {
    guard (1...2000).contains(patients) else { throw ValidationError("--patients is 1–2000") }
    if session != nil && patients != 1 { throw ValidationError("--session streams one patient") }
    guard rate > 0, rate <= 1000 else { throw ValidationError("--rate is 1–1000") }
    guard (1...1000).contains(repetitions) else { throw ValidationError("--repetitions is 1–1000") }
    guard watch >= 0 else { throw ValidationError("--watch is 0 or more") }
    guard (1...StreamFrameBatch.maximumFrames).contains(framesPerMessage) else {
      throw ValidationError("--frames-per-message is 1–\(StreamFrameBatch.maximumFrames)")
    }
    guard PatientSimulator.Variation.named(variation) != nil else {
      throw ValidationError("unknown variation '\(variation)'")
    }
    guard StreamProtocol(rawValue: streamProtocol) != nil else {
      throw ValidationError("--protocol is ws, axis or vmc")
    }
  }

  struct Report: Encodable {
    var patients: Int
    var rateHz: Double
    var protocolName: String
    var variation: String
    var seconds: Double
    var framesSent: Int
    var framesScored: Int
    var framesRejected: Int
    var framesUnanswered: Int
    var framesStored: Int?
    var latencyMs: Latency?
    var repetitions: Int
    var meanScore: Double?
    /// WebSocket connections re-established after dropping (a server restarting or dying).
    var reconnections: Int
    var errors: [String]

    struct Latency: Encodable {
      var p50: Double
      var p99: Double
      var max: Double
    }
  }

  func run() async throws {
    guard let base = URL(string: url), let proto = StreamProtocol(rawValue: streamProtocol),
      let named = PatientSimulator.Variation.named(variation)
    else { return }
    let client = ServerClient(base: try ServerClient.base(of: base), token: token)
    let exercise = try await client.exercise(self.exercise)
    guard let reference = exercise.referenceClip else {
      throw ValidationError("exercise \(self.exercise) has no reference clip")
    }
    let variation = named.alternating(exercise.alternates)
    let simulator = PatientSimulator(reference: reference, variation: variation, frameRate: rate)
    let seconds = Double(repetitions) * simulator.cycleSeconds + variation.restSeconds + 0.5
    let frames = Int(seconds * rate)
    var sessions: [String] = session.map { [$0] } ?? []
    for _ in sessions.count..<patients {
      sessions.append(
        try await client.createSession(
          CreateSessionRequest(
            exercise: exercise.id, skeleton: proto.skeleton,
            // Makes a creation retried after a 503 harmless.
            clientKey: UUID().uuidString)
        ).id)
    }
    // Devices stream into a session only once paired with it.
    var codes: [String?] = []
    for session in sessions {
      codes.append(proto == .ws ? nil : try await client.pairingCode(session).code)
    }
    var logger = Logger(label: "ontrack.simulate")
    logger.logLevel = .warning
    let devicePort = proto == .axis ? axisPort : vmcPort
    let streams = sessions.enumerated().map { k, session in
      SimulatedPatientStream(
        client: client, session: session, reference: reference,
        variation: variation, rate: rate, frames: frames, seed: UInt64(k + 1), proto: proto,
        devicePort: devicePort, pairingCode: codes[k],
        phase: Double(k) / (Double(patients) * rate),
        watched: k < watch, framesPerMessage: framesPerMessage, logger: logger)
    }
    // Every frame of every patient is made first; then all start on one clock, a second
    // from now (connections are opened in that second).
    let payloads = streams.map { $0.payloads() }
    let started = ContinuousClock.now + .seconds(1)
    let reports = await withTaskGroup(of: PatientStreamReport.self) { group in
      for (stream, payload) in zip(streams, payloads) {
        group.addTask { await stream.run(payload, start: started) }
      }
      var all: [PatientStreamReport] = []
      for await report in group { all.append(report) }
      return all
    }
    let elapsed = ContinuousClock.now - started
    var scores: [Double] = []
    var stored = 0
    var storedKnown = true
    if proto != .ws {
      // Give the server a moment to take the last datagrams and lines.
      try await Task.sleep(for: .milliseconds(500))
    }
    for session in sessions {
      if !keepOpen {
        scores += try await client.finish(session).repetitions.map(\.score)
      }
      if let frames = try await client.session(session).frames {
        stored += frames
      } else {
        storedKnown = false
      }
    }
    if keepOpen { scores = reports.flatMap(\.repetitionScores) }
    let latencies = reports.flatMap(\.latencies).sorted()
    let sent = reports.map(\.sent).reduce(0, +)
    // Devices get no answer: what the server stored is what it scored.
    let scored = proto == .ws ? reports.map(\.scored).reduce(0, +) : stored
    let rejected = reports.map(\.rejected).reduce(0, +)
    let report = Report(
      patients: patients, rateHz: rate, protocolName: proto.rawValue, variation: self.variation,
      seconds: Double(elapsed.components.seconds), framesSent: sent, framesScored: scored,
      framesRejected: rejected, framesUnanswered: max(0, sent - scored - rejected),
      framesStored: storedKnown ? stored : nil,
      latencyMs: latencies.isEmpty
        ? nil
        : .init(
          p50: latencies[latencies.count / 2],
          p99: latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))],
          max: latencies[latencies.count - 1]),
      repetitions: scores.count,
      meanScore: scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count),
      reconnections: reports.map(\.reconnections).reduce(0, +),
      errors: reports.compactMap(\.error))
    Output.write(json ? try Output.json(report) : Self.table(report))
    if !report.errors.isEmpty { throw ExitCode(1) }
  }

  static func table(_ r: Report) -> String {
    var lines = [
      "\(r.patients) patient(s) × \(Output.fixed(r.rateHz, 0)) Hz over \(r.protocolName) (\(r.variation)), \(Output.fixed(r.seconds, 0)) s",
      "frames: \(r.framesSent) sent, \(r.framesScored) scored, \(r.framesRejected) rejected, \(r.framesUnanswered) unanswered"
        + (r.framesStored.map { ", \($0) stored" } ?? ""),
    ]
    if let l = r.latencyMs {
      lines.append(
        "frame in → score out (client side): p50 \(Output.fixed(l.p50, 2)) ms, p99 \(Output.fixed(l.p99, 2)) ms, max \(Output.fixed(l.max, 2)) ms"
      )
    }
    lines.append(
      "repetitions scored: \(r.repetitions)"
        + (r.meanScore.map { ", mean score \(Output.fixed($0, 0))" } ?? ""))
    for error in r.errors.prefix(5) { lines.append("error: \(error)") }
    return lines.joined(separator: "\n") + "\n"
  }
}
