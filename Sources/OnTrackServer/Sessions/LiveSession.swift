import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Synchronization

/// A session in memory: its live scorer and everything needed to take the next frame, whichever
/// protocol brings it. All state sits behind one lock; a frame takes microseconds.
public final class LiveSession: Sendable {
  public let record: Store.SessionRecord
  public let exercise: Exercise
  let skeleton: Skeleton
  let decoder: FrameDecoder
  let encoder: ChannelEncoder
  private let state: Mutex<State>

  struct State {
    var scorer: StreamingScorer
    var pose: Pose
    var scratch: [Float] = []
    var channels: [Float] = []
    var lastSeq = -1
    var lastTime = -Double.infinity
    var durableSeq = -1
    var rejected: [RejectionReason: Int] = [:]
    var watchers: [UUID: AsyncStream<String>.Continuation] = [:]
    var ackListeners: [UUID: AsyncStream<Int>.Continuation] = [:]
    var connections = 0
    var closed = false
    /// When a frame last arrived or a client last attached.
    var lastActivity = ContinuousClock.now
  }

  /// What taking a frame produced.
  enum Outcome {
    /// Scored: the message to send back and to watchers, the frame to store, and any
    /// repetitions it completed.
    case scored(message: String, frame: Store.StoredFrame, repetitions: [EncodedRepetition])
    case rejected(FrameRejection)
  }

  init(record: Store.SessionRecord, exercise: Exercise, skeleton: Skeleton, maximumFrameBytes: Int)
    throws
  {
    self.record = record
    self.exercise = exercise
    self.skeleton = skeleton
    decoder = FrameDecoder(skeleton: skeleton, maximumBytes: maximumFrameBytes)
    encoder = ChannelEncoder(skeleton: skeleton)
    state = Mutex(
      State(
        scorer: try StreamingScorer(exercise: exercise, skeleton: skeleton), pose: skeleton.restPose
      ))
  }

  /// Takes one JSON frame.
  func take(json text: String, received: Double) -> Outcome {
    state.withLock { s in
      do throws(FrameRejection) {
        let (seq, time) = try decoder.decode(text, into: &s.pose, scratch: &s.scratch)
        return accept(&s, seq: seq, time: time, received: received)
      } catch {
        s.rejected[error.reason, default: 0] += 1
        return .rejected(error)
      }
    }
  }

  /// Takes one frame of channel values (Axis Neuron, VMC after assembly, replay).
  func take(channels values: [Float], seq: Int?, time: Double, received: Double) -> Outcome {
    state.withLock { s in
      guard values.count == decoder.channels.channelCount else {
        let rejection = FrameRejection(
          reason: .wrongValueCount,
          message:
            "\(values.count) values; the skeleton has \(decoder.channels.channelCount) channels",
          seq: seq)
        s.rejected[rejection.reason, default: 0] += 1
        return .rejected(rejection)
      }
      guard decoder.channels.decode(values, into: &s.pose) else {
        let rejection = FrameRejection(
          reason: .nonFinite, message: "a value is not finite", seq: seq)
        s.rejected[rejection.reason, default: 0] += 1
        return .rejected(rejection)
      }
      return accept(&s, seq: seq ?? (s.lastSeq + 1), time: time, received: received)
    }
  }

  /// Takes one pose (already decoded).
  func take(pose: Pose, seq: Int?, time: Double, received: Double) -> Outcome {
    state.withLock { s in
      s.pose.copy(from: pose)
      return accept(&s, seq: seq ?? (s.lastSeq + 1), time: time, received: received)
    }
  }

  private func accept(_ s: inout State, seq: Int, time: Double, received: Double) -> Outcome {
    guard !s.closed else {
      let rejection = FrameRejection(
        reason: .noSession, message: "session \(record.id) is finished", seq: seq)
      s.rejected[rejection.reason, default: 0] += 1
      return .rejected(rejection)
    }
    guard seq > s.lastSeq else {
      let rejection = FrameRejection(
        reason: .outOfOrder, message: "seq \(seq) is not after \(s.lastSeq)", seq: seq)
      s.rejected[rejection.reason, default: 0] += 1
      return .rejected(rejection)
    }
    guard time > s.lastTime else {
      let rejection = FrameRejection(
        reason: .outOfOrder, message: "t \(time) is not after \(s.lastTime)", seq: seq)
      s.rejected[rejection.reason, default: 0] += 1
      return .rejected(rejection)
    }
    s.lastSeq = seq
    s.lastTime = time
    s.lastActivity = .now
    let before = s.scorer.repetitions.count
    _ = s.scorer.push(pose: s.pose, at: time)
    let completed = EncodedRepetition.encode(s.scorer.repetitions[before...])
    encoder.encode(s.pose, into: &s.channels)
    let frame = Store.StoredFrame(
      session: record.id, seq: seq, time: time, received: received, channels: s.channels)
    let message = Self.frameMessage(seq: seq, time: time, scorer: s.scorer)
    if !s.watchers.isEmpty {
      // Viewers also get the pose, to move the patient's avatar.
      let withPose = Self.withPose(message, channels: s.channels)
      for watcher in s.watchers.values { watcher.yield(withPose) }
    }
    for repetition in completed {
      for watcher in s.watchers.values { watcher.yield(repetition.message) }
    }
    return .scored(message: message, frame: frame, repetitions: completed)
  }

  /// Scores what the stream left unfinished and closes the session to new frames.
  func finish() -> TakeResult {
    state.withLock { s in
      let before = s.scorer.repetitions.count
      _ = s.scorer.finish()
      for repetition in EncodedRepetition.encode(s.scorer.repetitions[before...]) {
        for watcher in s.watchers.values { watcher.yield(repetition.message) }
      }
      s.closed = true
      return s.scorer.result
    }
  }

  /// Ends every watcher and acknowledgement stream.
  func close() {
    state.withLock { s in
      s.closed = true
      for watcher in s.watchers.values {
        watcher.yield("{\"type\":\"finished\",\"session\":\"\(record.id)\"}")
        watcher.finish()
      }
      s.watchers = [:]
      for listener in s.ackListeners.values { listener.finish() }
    }
  }

  func countRejection(_ reason: RejectionReason) {
    state.withLock { $0.rejected[reason, default: 0] += 1 }
  }

  /// Rejection counts as stored: `{"out_of_order": 2, …}`.
  var rejectedJSON: String {
    let counts = rejectedCounts
    let body = counts.keys.sorted { $0.rawValue < $1.rawValue }.map {
      "\"\($0.rawValue)\":\(counts[$0] ?? 0)"
    }
    return "{" + body.joined(separator: ",") + "}"
  }

  /// Restores stored rejection counts (after a restart).
  func restoreRejected(_ decoded: [String: Int]) {
    state.withLock { s in
      for (key, count) in decoded {
        if let reason = RejectionReason(rawValue: key) { s.rejected[reason, default: 0] += count }
      }
    }
  }

  /// Rebuilds the scorer's state from stored frames (after a restart).
  func replay(_ frames: [Store.StoredFrame]) {
    state.withLock { s in
      for frame in frames where frame.seq > s.lastSeq {
        guard decoder.channels.decode(frame.channels, into: &s.pose), frame.time > s.lastTime else {
          continue
        }
        s.lastSeq = frame.seq
        s.lastTime = frame.time
        _ = s.scorer.push(pose: s.pose, at: frame.time)
      }
      s.durableSeq = s.lastSeq
    }
  }

  // MARK: Messages (JSON written by hand: one per frame, kept small and fast)

  static func frameMessage(seq: Int, time: Double, scorer: StreamingScorer) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(640)
    out.append(contentsOf: #"{"type":"frame","seq":"#.utf8)
    out.append(contentsOf: String(seq).utf8)
    out.append(contentsOf: #","t":"#.utf8)
    NumberFormatting.appendShortest(time, to: &out)
    out.append(contentsOf: #","progress":"#.utf8)
    NumberFormatting.appendFixed(Double(scorer.progress), decimals: 3, to: &out)
    out.append(contentsOf: #","repetitions":"#.utf8)
    out.append(contentsOf: String(scorer.repetitions.count).utf8)
    for (key, values, decimals) in [
      (#","errors":{"#, scorer.currentBoneErrors, 1),
      (#"},"severity":{"#, scorer.currentBoneSeverity, 2),
    ] {
      out.append(contentsOf: key.utf8)
      var first = true
      for (k, bone) in FeatureLayout.bones.enumerated() where scorer.measuredBones[k] {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bone.rawValue.utf8)
        out.append(contentsOf: #"":"#.utf8)
        NumberFormatting.appendFixed(Double(values[k]), decimals: decimals, to: &out)
      }
    }
    out.append(contentsOf: "}}".utf8)
    return String(decoding: out, as: UTF8.self)
  }

  /// A frame message with the pose's channel values added (for viewers).
  static func withPose(_ message: String, channels: [Float]) -> String {
    var out = Array(message.utf8.dropLast())
    out.reserveCapacity(out.count + channels.count * 9 + 16)
    out.append(contentsOf: #","values":["#.utf8)
    for (k, v) in channels.enumerated() {
      if k > 0 { out.append(UInt8(ascii: ",")) }
      NumberFormatting.appendFixed(Double(v), decimals: 3, to: &out)
    }
    out.append(contentsOf: "]}".utf8)
    return String(decoding: out, as: UTF8.self)
  }

  /// A completed repetition, encoded once for the stream, the viewers and the store.
  struct EncodedRepetition: Sendable {
    var index: Int
    /// The result as JSON with sorted keys; `nil` if it does not encode.
    var json: String?
    /// The `repetition` message clients and viewers get.
    var message: String { "{\"type\":\"repetition\",\"result\":\(json ?? "null")}" }

    static func encode(_ repetitions: ArraySlice<RepetitionResult>) -> [EncodedRepetition] {
      guard !repetitions.isEmpty else { return [] }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return repetitions.map { repetition in
        EncodedRepetition(
          index: repetition.index,
          json: (try? encoder.encode(repetition)).map { String(decoding: $0, as: UTF8.self) })
      }
    }
  }

  static func rejectionMessage(_ rejection: FrameRejection) -> String {
    let reason = rejection.message.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "\"", with: "\\\"")
    let seq = rejection.seq.map { ",\"seq\":\($0)" } ?? ""
    return
      "{\"type\":\"rejected\"\(seq),\"reason\":\"\(rejection.reason.rawValue)\",\"message\":\"\(reason)\"}"
  }

  // MARK: Listeners

  /// Frame and repetition messages for a viewer (`/watch`).
  func watch() -> (UUID, AsyncStream<String>) {
    let (stream, continuation) = AsyncStream<String>.makeStream(
      bufferingPolicy: .bufferingNewest(256))
    let id = UUID()
    state.withLock {
      $0.watchers[id] = continuation
      $0.lastActivity = .now
    }
    return (id, stream)
  }

  func unwatch(_ id: UUID) {
    state.withLock {
      $0.watchers[id]?.finish(); $0.watchers[id] = nil
    }
  }

  /// Durable-sequence notifications for a streaming connection.
  func listenForAcknowledgements() -> (UUID, AsyncStream<Int>) {
    let (stream, continuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = UUID()
    state.withLock {
      $0.ackListeners[id] = continuation
      $0.connections += 1
      $0.lastActivity = .now
    }
    return (id, stream)
  }

  func stopListening(_ id: UUID) {
    state.withLock {
      $0.ackListeners[id]?.finish()
      if $0.ackListeners.removeValue(forKey: id) != nil { $0.connections -= 1 }
    }
  }

  /// Called by the frame writer once frames up to `seq` are committed.
  func acknowledged(upTo seq: Int) {
    state.withLock { s in
      guard seq > s.durableSeq else { return }
      s.durableSeq = seq
      for listener in s.ackListeners.values { listener.yield(seq) }
    }
  }

  /// The highest sequence number stored durably.
  var durableSeq: Int { state.withLock { $0.durableSeq } }

  /// The highest sequence number taken.
  var lastSeq: Int { state.withLock { $0.lastSeq } }

  /// The time of the last frame taken (−∞ before the first).
  var lastTime: Double { state.withLock { $0.lastTime } }

  var rejectedCounts: [RejectionReason: Int] { state.withLock { $0.rejected } }

  /// `rejectedCounts` keyed by the reasons' names, as reports and the API show them.
  var rejectedByReason: [String: Int] {
    Dictionary(uniqueKeysWithValues: rejectedCounts.map { ($0.key.rawValue, $0.value) })
  }

  var result: TakeResult { state.withLock { $0.scorer.result } }

  var isConnected: Bool { state.withLock { $0.connections > 0 } }

  /// True if nobody is connected or watching and nothing arrived since `cutoff`.
  func isIdle(since cutoff: ContinuousClock.Instant) -> Bool {
    state.withLock { $0.connections == 0 && $0.watchers.isEmpty && $0.lastActivity < cutoff }
  }

  /// What a client hears first: the session, its skeleton (BVH), and how far the server got,
  /// so a reconnecting client resumes after `lastSeq`.
  func helloMessage() -> String {
    struct Hello: Encodable {
      var type = "session"
      var session: String
      var patient: String
      var exercise: String
      var exerciseVersion: Int
      var skeleton: String
      var channels: Int
      var lastSeq: Int
      var durableSeq: Int
      var repetitions: Int
    }
    let (last, durable, repetitions) = state.withLock {
      ($0.lastSeq, $0.durableSeq, $0.scorer.repetitions.count)
    }
    let hello = Hello(
      session: record.id, patient: record.patient, exercise: record.exercise,
      exerciseVersion: record.exerciseVersion, skeleton: SessionSkeleton.bvh(record.skeleton),
      channels: skeleton.channelCount, lastSeq: last, durableSeq: durable,
      repetitions: repetitions)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(hello)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }
}

extension LiveSession {
  /// The time of the next frame from a device that sends no clock: one frame period after the
  /// last frame taken, or 0 for the first.
  func nextDeviceTime(frameRate: Double) -> Double {
    let last = lastTime
    return last.isFinite ? last + 1 / frameRate : 0
  }
}
