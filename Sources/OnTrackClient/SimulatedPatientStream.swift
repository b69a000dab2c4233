import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import OnTrackSimulation
import Synchronization

/// How frames reach the server in `ontrack simulate`.
public enum StreamProtocol: String, CaseIterable, Sendable {
  case ws, axis, vmc

  /// The session skeleton the protocol streams on.
  public var skeleton: String {
    switch self {
    case .ws: "reference"
    case .axis: "perception-neuron"
    case .vmc: "unity-humanoid"
    }
  }
}

/// What one simulated patient saw.
public struct PatientStreamReport: Sendable {
  public var sent = 0
  /// Frames the server answered with a score (WebSocket) or showed to a watcher (devices).
  public var scored = 0
  public var rejected = 0
  /// Highest sequence number acknowledged as stored (WebSocket only).
  public var acknowledged = -1
  public var lastSeq = -1
  /// Frame in → score out, milliseconds, per answer (a frame alone, or a batch's last frame
  /// from when the batch was sent).
  public var latencies: [Double] = []
  public var repetitionScores: [Double] = []
  /// Times the WebSocket was re-established after dropping.
  public var reconnections = 0
  public var error: String?
}

/// Something that happens once (a connection's hello), seen from several tasks.
final class Once: Sendable {
  private let state = Mutex(false)
  var happened: Bool { state.withLock { $0 } }
  func mark() { state.withLock { $0 = true } }
}

/// Thread-safe bookkeeping shared by a patient's sending and receiving tasks.
final class StreamLedger: Sendable {
  private let state: Mutex<State>
  private let clock = ContinuousClock()
  private let origin: ContinuousClock.Instant

  struct State {
    var report = PatientStreamReport()
    /// Send instants by sequence number, seconds since `origin` (NaN: not sent).
    var sentAt: [Double]
    var sendingDone = false
  }

  init(frames: Int) {
    origin = clock.now
    state = Mutex(State(sentAt: [Double](repeating: .nan, count: max(frames, 1))))
  }

  private var now: Double { (clock.now - origin).seconds }

  func sent(seq: Int) {
    let t = now
    state.withLock { s in
      if seq < s.sentAt.count { s.sentAt[seq] = t }
      s.report.sent += 1
      s.report.lastSeq = seq
    }
  }

  /// The server answered `count` frames (a batch's answer names its last, `seq`).
  func scored(seq: Int, count: Int = 1) {
    let t = now
    state.withLock { s in
      s.report.scored += max(1, count)
      if seq >= 0, seq < s.sentAt.count, !s.sentAt[seq].isNaN {
        s.report.latencies.append((t - s.sentAt[seq]) * 1000)
      }
    }
  }

  func rejected() { state.withLock { $0.report.rejected += 1 } }

  func repetition(score: Double) { state.withLock { $0.report.repetitionScores.append(score) } }

  func acknowledged(seq: Int) {
    state.withLock { $0.report.acknowledged = max($0.report.acknowledged, seq) }
  }

  func finishSending() { state.withLock { $0.sendingDone = true } }

  /// A dropped connection is being re-established: sending starts again from the hello.
  func reconnected() {
    state.withLock { s in
      s.sendingDone = false
      s.report.reconnections += 1
      // Frames the lost connection never answered are sent again after the hello.
      s.report.sent = s.report.scored + s.report.rejected
    }
  }

  func fail(_ message: String) { state.withLock { $0.report.error = $0.report.error ?? message } }

  /// True once everything sent is acknowledged (or answered, for one-way devices).
  func isComplete(needAcks: Bool) -> Bool {
    state.withLock { s in
      guard s.sendingDone else { return false }
      let answered = s.report.scored + s.report.rejected >= s.report.sent
      return answered && (!needAcks || s.report.acknowledged >= s.report.lastSeq)
    }
  }

  var report: PatientStreamReport { state.withLock { $0.report } }

  var isSendingDone: Bool { state.withLock { $0.sendingDone } }
}

/// One simulated patient streaming an exercise to the server over one protocol.
public struct SimulatedPatientStream: Sendable {
  let client: ServerClient
  let session: String
  let reference: Clip
  let variation: PatientSimulator.Variation
  let rate: Double
  let frames: Int
  let seed: UInt64
  let proto: StreamProtocol
  let devicePort: Int
  /// For devices: the pairing code that binds the device connection to the session.
  let pairingCode: String?
  /// Seconds this patient's frame clock lags the others' (independent devices are not in step).
  let phase: Double
  /// For devices: whether a `/watch` viewer times this patient's frames (a sample is enough,
  /// and a viewer per patient would load the server more than the devices do).
  let watched: Bool
  /// WebSocket frames per message (`StreamFrameBatch`; 1: each frame alone). A batch goes out
  /// when its last frame is due.
  let framesPerMessage: Int
  let logger: Logger

  public init(
    client: ServerClient, session: String, reference: Clip,
    variation: PatientSimulator.Variation, rate: Double, frames: Int, seed: UInt64,
    proto: StreamProtocol, devicePort: Int, pairingCode: String?, phase: Double,
    watched: Bool, framesPerMessage: Int = 1, logger: Logger
  ) {
    self.framesPerMessage = max(1, min(framesPerMessage, StreamFrameBatch.maximumFrames))
    self.client = client
    self.session = session
    self.reference = reference
    self.variation = variation
    self.rate = rate
    self.frames = frames
    self.seed = seed
    self.proto = proto
    self.devicePort = devicePort
    self.pairingCode = pairingCode
    self.phase = phase
    self.watched = watched
    self.logger = logger
  }

  /// What goes on the wire, frame by frame, made before any patient starts: text frames for
  /// the WebSocket, lines or datagrams for devices.
  public enum Payloads: Sendable {
    case text([(Int, String)])
    case bytes([(Int, [UInt8])])
  }

  /// Every frame the simulated patient sends (those it drops left out), ready to send.
  public func payloads() -> Payloads {
    switch proto {
    case .ws:
      let encoder = ChannelEncoder(skeleton: reference.skeleton)
      var values: [Float] = []
      return .text(
        prepare { seq, pose, time in
          encoder.encode(pose, into: &values)
          return StreamFrame.valuesJSON(seq: seq, time: time, values: values)
        })
    case .axis:
      let rig = DeviceRigs.perceptionNeuron(displacement: false)
      let retargeter = RigRetargeter(
        source: reference.skeleton, target: rig, map: DeviceRigs.canonicalToPerceptionNeuron)
      let encoder = ChannelEncoder(skeleton: rig)
      var target = rig.restPose
      var values: [Float] = []
      return .bytes(
        prepare { _, pose, _ in
          retargeter.retarget(pose, into: &target)
          encoder.encode(target, into: &values)
          return AxisNeuronFrameWriter.line(index: 0, name: pairingCode ?? session, values: values)
        })
    case .vmc:
      let rig = DeviceRigs.unityHumanoid()
      let retargeter = RigRetargeter(
        source: reference.skeleton, target: rig, map: DeviceRigs.canonicalToUnityHumanoid)
      let bones = (1..<rig.count).filter { !rig.joints[$0].isEndSite }
      var target = rig.restPose
      return .bytes(
        prepare { seq, pose, time in
          retargeter.retarget(pose, into: &target)
          // The first packets carry the pairing code (a packet may be lost); a paired sender's
          // later codes would be ignored anyway.
          return VMCPacketWriter.bundle(
            pairing: seq < 5 ? pairingCode : nil, rig: rig, pose: target, bones: bones,
            time: time)
        })
    }
  }

  /// Streams `payloads` from `start` (plus this patient's phase) at `rate` frames per second,
  /// then waits until the server has answered (devices) or acknowledged (WebSocket)
  /// everything, or 15 s pass.
  public func run(_ payloads: Payloads, start: ContinuousClock.Instant) async -> PatientStreamReport
  {
    let ledger = StreamLedger(frames: frames)
    do {
      switch (proto, payloads) {
      case (.ws, .text(let texts)): try await streamWebSocket(ledger, texts, start: start)
      case (.axis, .bytes(let lines)): try await streamDevice(ledger, lines, start: start)
      case (.vmc, .bytes(let packets)): try await streamDevice(ledger, packets, start: start)
      default: ledger.fail("payloads do not match the protocol")
      }
    } catch {
      ledger.fail("\(error)")
    }
    return ledger.report
  }

  // MARK: WebSocket

  private var webSocketConfiguration: WebSocketClientConfiguration {
    client.webSocketConfiguration(maxFrameSize: 1 << 20)
  }

  /// Streams over the WebSocket; when the connection drops (a server restarting, or dying
  /// behind a balancer that sends the patient to another), reconnects with a growing pause
  /// for up to `reconnectWindow` and resumes after the sequence number the server's hello
  /// says it has (`lastSeq`), so frames not yet acknowledged are sent again and none is lost.
  private func streamWebSocket(
    _ ledger: StreamLedger, _ payloads: [(Int, String)], start: ContinuousClock.Instant
  ) async throws {
    let configuration = webSocketConfiguration
    let url = client.webSocketURL("/v1/sessions/\(session)/stream")
    let clock = ContinuousClock()
    var lostAt: ContinuousClock.Instant?
    var pause = Duration.milliseconds(200)
    while true {
      let greeted = Once()
      do {
        try await WebSocketClient.connect(
          url: url, configuration: configuration, logger: logger
        ) {
          inbound, outbound, _ in
          // Each task answers whether the stream is complete; the first error ends it all.
          try await withThrowingTaskGroup(of: Bool.self) { group in
            let (hello, helloContinuation) = AsyncStream<Int>.makeStream()
            group.addTask {
              var iterator = hello.makeAsyncIterator()
              guard let last = await iterator.next() else { return false }
              // Frames the server lacks: on their own time, or, for those already due after
              // a reconnection, caught up at 1.5× the rate (within the server's rate cap).
              let messages = Self.messages(
                payloads.filter { $0.0 > last }, framesPerMessage: framesPerMessage)
              try await pace(
                messages, start: start, catchUp: 1.5, framesPerPayload: framesPerMessage
              ) { _, message in
                try await outbound.writeTextMessage(message.text)
                for seq in message.seqs { ledger.sent(seq: seq) }
              }
              ledger.finishSending()
              return false
            }
            group.addTask {
              for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else { continue }
                if !greeted.happened,
                  case .session(let hello)? = try? ServerMessage.decode(text)
                {
                  greeted.mark()
                  ledger.acknowledged(seq: hello.durableSeq)
                  helloContinuation.yield(hello.lastSeq)
                  continue
                }
                Self.read(text, into: ledger)
                if ledger.isComplete(needAcks: true) { return true }
              }
              // The server closed the connection before everything was acknowledged.
              if !ledger.isComplete(needAcks: true) { throw StreamDropped() }
              return true
            }
            // Done when every frame is answered and acknowledged (or the wait gives up).
            group.addTask {
              try await waitUntilComplete(ledger, needAcks: true)
              return true
            }
            while let done = try await group.next() {
              if done { break }
            }
            group.cancelAll()
          }
          try? await outbound.close(.normalClosure, reason: nil)
        }
        if ledger.isComplete(needAcks: true) || (lostAt == nil && greeted.happened) {
          return
        }
      } catch {
        if ledger.isComplete(needAcks: true) { return }
      }
      // A connection that got its hello resets the reconnection window.
      if greeted.happened { lostAt = nil }
      // Dropped, refused (another server still holds the session) or unreachable: try again.
      let now = clock.now
      let since = lostAt ?? now
      lostAt = since
      if now - since > reconnectWindow {
        throw StreamDropped(
          reason: "the server did not take the stream back within \(reconnectWindow)")
      }
      ledger.reconnected()
      try await Task.sleep(for: pause)
      pause = min(pause * 2, .seconds(2))
    }
  }

  /// How long a dropped stream keeps trying to reconnect.
  public static let defaultReconnectWindow = Duration.seconds(60)
  var reconnectWindow: Duration { Self.defaultReconnectWindow }

  struct StreamDropped: Error, CustomStringConvertible {
    var reason = "the connection dropped before every frame was acknowledged"
    var description: String { reason }
  }

  /// The WebSocket messages for `payloads`: each frame alone, or `framesPerMessage` of them in
  /// a batch (`StreamFrameBatch`), keyed by the sequence number of their last frame.
  static func messages(_ payloads: [(Int, String)], framesPerMessage: Int)
    -> [(Int, (seqs: [Int], text: String))]
  {
    guard framesPerMessage > 1 else { return payloads.map { ($0.0, ([$0.0], $0.1)) } }
    return stride(from: 0, to: payloads.count, by: framesPerMessage).map { start in
      let batch = payloads[start..<min(start + framesPerMessage, payloads.count)]
      return (
        batch.last?.0 ?? 0,
        (batch.map(\.0), StreamFrameBatch.json(frames: batch.map(\.1)))
      )
    }
  }

  /// Books one server message.
  static func read(_ text: String, into ledger: StreamLedger) {
    guard let message = try? ServerMessage.decode(text) else { return }
    switch message {
    case .frame(let frame): ledger.scored(seq: frame.seq, count: frame.taken ?? 1)
    case .ack(let seq): ledger.acknowledged(seq: seq)
    case .rejected: ledger.rejected()
    case .repetition(let result): ledger.repetition(score: result.score)
    case .session, .notice, .finished: break
    }
  }

  // MARK: Devices (Axis Neuron over TCP, VMC over UDP), watched over WebSocket

  private func streamDevice(
    _ ledger: StreamLedger, _ payloads: [(Int, [UInt8])], start: ContinuousClock.Instant
  ) async throws {
    let configuration = webSocketConfiguration
    let url = client.webSocketURL("/v1/sessions/\(session)/watch")
    let host = client.base.host ?? "127.0.0.1"
    guard watched else {
      // Unwatched: send, and let the server's stored count say what arrived.
      switch proto {
      case .axis: try await streamAxis(ledger, payloads, host: host, start: start)
      case .vmc: try await streamVMC(ledger, payloads, host: host, start: start)
      case .ws: break
      }
      ledger.finishSending()
      return
    }
    let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
          inbound, _, _ in
          var announced = false
          for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            if !announced {
              // The first message is the session hello: the watch is attached.
              announced = true
              readyContinuation.yield()
              continue
            }
            Self.read(text, into: ledger)
            if ledger.isComplete(needAcks: false) { return }
          }
        }
      }
      group.addTask {
        var iterator = ready.makeAsyncIterator()
        _ = await iterator.next()
        switch proto {
        case .axis: try await streamAxis(ledger, payloads, host: host, start: start)
        case .vmc: try await streamVMC(ledger, payloads, host: host, start: start)
        case .ws: break
        }
        ledger.finishSending()
        try await waitUntilComplete(ledger, needAcks: false)
      }
      _ = try await group.next()
      group.cancelAll()
    }
  }

  private func streamAxis(
    _ ledger: StreamLedger, _ lines: [(Int, [UInt8])], host: String,
    start: ContinuousClock.Instant
  ) async throws {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .connect(host: host, port: devicePort) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    try await channel.executeThenClose { _, outbound in
      var sentSeq = 0
      try await pace(lines, start: start) { _, line in
        ledger.sent(seq: sentSeq)
        sentSeq += 1
        try await outbound.write(ByteBuffer(bytes: line))
      }
    }
  }

  private func streamVMC(
    _ ledger: StreamLedger, _ packets: [(Int, [UInt8])], host: String,
    start: ContinuousClock.Instant
  ) async throws {
    let address = try SocketAddress.makeAddressResolvingHost(host, port: devicePort)
    let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .bind(host: host == "localhost" ? "127.0.0.1" : host, port: 0) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
            wrappingChannelSynchronously: channel)
        }
      }
    try await channel.executeThenClose { _, outbound in
      var sentSeq = 0
      try await pace(packets, start: start) { _, packet in
        ledger.sent(seq: sentSeq)
        sentSeq += 1
        try await outbound.write(
          AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: packet)))
      }
    }
  }

  // MARK: Pacing

  /// Every frame the simulated patient sends (those it drops left out), made into what goes
  /// on the wire before the clock starts, so the load generator spends its time sending.
  private func prepare<Payload>(_ make: (Int, Pose, Double) -> Payload) -> [(Int, Payload)] {
    var simulator = PatientSimulator(
      reference: reference, variation: variation, frameRate: rate, seed: seed)
    var pose = reference.skeleton.restPose
    var payloads: [(Int, Payload)] = []
    payloads.reserveCapacity(frames)
    for k in 0..<frames {
      let (time, dropped) = simulator.nextFrame(into: &pose)
      if dropped { continue }
      payloads.append((k, make(k, pose, time)))
    }
    return payloads
  }

  /// Calls `send` for frame `k` at `k / rate` seconds of wall time after the start (plus this
  /// patient's phase).
  /// With `catchUp`, frames already due are sent at `catchUp` times the rate from now
  /// instead of all at once (each payload carrying `framesPerPayload` frames).
  private func pace<Payload>(
    _ payloads: [(Int, Payload)], start: ContinuousClock.Instant, catchUp: Double? = nil,
    framesPerPayload: Int = 1, _ send: (Int, Payload) async throws -> Void
  ) async throws {
    let clock = ContinuousClock()
    let first = start + .seconds(phase)
    let resumed = clock.now
    for (i, (k, payload)) in payloads.enumerated() {
      var due = first + .seconds(Double(k) / rate)
      if let catchUp {
        due = max(due, resumed + .seconds(Double(i * framesPerPayload) / (rate * catchUp)))
      }
      try await clock.sleep(until: due)
      try await send(k, payload)
    }
  }

  private func waitUntilComplete(_ ledger: StreamLedger, needAcks: Bool) async throws {
    // Wait for sending to end, then give the server up to 15 s to answer everything.
    var waited = 0.0
    while !ledger.isComplete(needAcks: needAcks) {
      try await Task.sleep(for: .milliseconds(20))
      if ledger.isSendingDone { waited += 0.02 }
      if waited > 15 {
        ledger.fail("gave up waiting for the server after 15 s")
        return
      }
    }
  }
}
