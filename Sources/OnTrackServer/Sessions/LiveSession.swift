import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization

/// A session in memory: its live scorer and everything needed to take the next frame, whichever
/// protocol brings it. All state sits behind one lock; a frame takes microseconds.
///
/// Every number a client sends is checked before it is used: `seq` and `t` are bounded
/// (`StreamFrame.maximumSeq`), so counting on from the last frame can never overflow, and a
/// device frame after the last representable sequence number is rejected, never trapped on.
public final class LiveSession: Sendable {
  public let record: SessionRecord
  public let exercise: Exercise
  let skeleton: Skeleton
  /// For a session on the `keypoints` skeleton: its layout (frames carry keypoints, which are
  /// solved onto `skeleton`, and the scorer reads the solver's landmarks).
  let keypoints: KeypointSessionLayout?
  let decoder: StreamFrameDecoder
  let encoder: ChannelEncoder
  let limits: ServerLimits
  private let state: Mutex<State>

  /// What a streaming connection's writer takes when its doorbell rings (`owed(to:)`).
  struct Owed: Sendable {
    /// The newest acknowledgement and the notices not yet written.
    var outbox = StreamOutbox()
    /// Another connection took over the stream: this one says so and closes.
    var replaced = false
  }

  struct State {
    var scorer: StreamingScorer
    var pose: Pose
    var scratch: [Float] = []
    var channels: [Float] = []
    /// A keypoint session's solver, the landmarks it placed, and the stored frame (pose
    /// channels and `KeypointFrameBlock`).
    var keypointStream: KeypointStream?
    var landmarks = LandmarkFrame()
    var stored: [Float] = []
    /// World transforms and joint positions for watchers (filled only while someone watches).
    var world: [RigidTransform] = []
    var positions: [Float] = []
    var implausibleSeen = 0
    /// Notices told once a session (`unit_corrected`, `turned_upright`), already told.
    var toldOnce: Set<Notice.Code> = []
    /// The keypoints' readings told so far (`KeypointStream.readingNotes`).
    var readingNotesTold: Set<String> = []
    /// `KeypointStream.readingChanges` when its notes were last read (not every frame: they
    /// are built as words).
    var readingChangesSeen = 0
    /// What the stream was last told the sensor does not show (`StreamingScorer.cannotSee`).
    var toldNotSeen: String?
    /// True once a keypoint frame was solved: frames that cannot be solved after it are scored
    /// as showing nothing.
    var keypointBodySeen = false
    var lastSeq = -1
    var lastTime = -Double.infinity
    /// When the last frame was taken (the server's clock, seconds).
    var lastReceived = -Double.infinity
    /// Added to the connected stream's frame times (`streamTime`): non-zero once a client whose
    /// clock restarted has been moved on to continue the session's.
    var clockOffset = 0.0
    /// True until the connected stream's first new frame has decided `clockOffset`.
    var clockUnsettled = false
    var durableSeq = -1
    var rejected: [RejectionReason: Int] = [:]
    var watchers: [UUID: AsyncStream<String>.Continuation] = [:]
    /// The one connected stream, if any: what it is owed, and the doorbell that wakes its
    /// writer (one ring held, however many came).
    var stream: (id: UUID, outbox: StreamOutbox, doorbell: AsyncStream<Void>.Continuation)?
    /// Connections that stopped holding the stream while their writers may still be running:
    /// taken over by another (the writer says so and closes), or the session closed (the
    /// writer still writes what it was owed). Each is removed when its writer takes it or the
    /// connection detaches.
    var departed: [UUID: Owed] = [:]
    var closed = false
    /// When a frame last arrived or a client last attached.
    var lastActivity = ContinuousClock.now
    /// Frame-rate cap: a token bucket of `limits.maximumFrameRate` frames a second holding at
    /// most one second's worth, refilled by the arrival clock.
    var allowance: Double
    var allowanceTime: Double?
  }

  /// What taking a frame produced.
  enum Outcome {
    /// Scored: the message to send back (nil when the frame is answered with the rest of its
    /// batch), the frame to store, and any repetitions it completed.
    case scored(message: String?, frame: StoredFrame, repetitions: [EncodedRepetition])
    case rejected(Rejection)

    /// The answer the sending connection gets at once: the `frame` message, or `rejected`;
    /// nil for a frame of a batch that was taken (`LiveSession.batchAnswer`).
    var answer: String? {
      switch self {
      case .scored(let message, _, _): message
      case .rejected(let rejection): ServerMessage.rejected(rejection).json
      }
    }

    /// The repetitions the frame completed, whose messages follow the answer.
    var completed: [EncodedRepetition] {
      switch self {
      case .scored(_, _, let repetitions): repetitions
      case .rejected: []
      }
    }
  }

  /// The wire names of the bones, in `FeatureLayout.bones` order.
  static let boneNames = FeatureLayout.bones.map(\.rawValue)

  init(
    record: SessionRecord, exercise: Exercise, skeleton: Skeleton,
    keypoints: KeypointSessionLayout? = nil, limits: ServerLimits
  ) throws {
    self.record = record
    self.exercise = exercise
    self.skeleton = skeleton
    self.keypoints = keypoints
    self.limits = limits
    decoder = StreamFrameDecoder(skeleton: skeleton, maximumBytes: limits.maximumFrameBytes)
    encoder = ChannelEncoder(skeleton: skeleton)
    var initial = State(
      scorer: try StreamingScorer(exercise: exercise, skeleton: skeleton),
      pose: skeleton.restPose, allowance: limits.maximumFrameRate)
    if let keypoints {
      initial.keypointStream = try KeypointStream(
        skeleton: skeleton, layout: keypoints.id, startPosture: exercise.startPosture)
    }
    state = Mutex(initial)
  }

  /// Takes one JSON frame; `answering` false leaves the `frame` message out (a frame of a batch:
  /// the batch is answered once, `batchAnswer`). `connection`: the streaming connection it came
  /// on (`attachStream`); a frame of a connection another has since taken over from is refused
  /// (`not_allowed`), so a frame still in flight on it can neither be stored under the new
  /// connection's acknowledgements nor settle the new connection's clock (`streamTime`).
  func take(
    json text: String, received: Double, storage: StorageStatus, answering: Bool = true,
    connection: UUID? = nil
  ) -> Outcome {
    if keypoints != nil {
      return take(
        keypoints: text, received: received, storage: storage, answering: answering,
        connection: connection)
    }
    return state.withLock { s in
      do throws(Rejection) {
        try holdsStream(s, connection: connection, text: text)
        try admit(&s, received: received, storage: storage, text: text)
        let (seq, sent, channelValues) = try decoder.decode(
          text, into: &s.pose, scratch: &s.scratch)
        let time = try streamTime(&s, seq: seq, time: sent, received: received)
        return accept(
          &s, seq: seq, time: time, received: received, channelsInScratch: channelValues,
          answering: answering)
      } catch {
        s.rejected[error.reason, default: 0] += 1
        return .rejected(error)
      }
    }
  }

  /// Takes one keypoints frame: solved onto the skeleton, scored from the solver's landmarks.
  /// A frame before any body is seen is stored and acknowledged but not scored; points the
  /// solver refuses for an impossible bone length are counted (`implausible_keypoint`).
  private func take(
    keypoints text: String, received: Double, storage: StorageStatus, answering: Bool,
    connection: UUID?
  ) -> Outcome {
    state.withLock { s in
      do throws(Rejection) {
        try holdsStream(s, connection: connection, text: text)
        try admit(&s, received: received, storage: storage, text: text)
        let message = try decoder.decodeKeypoints(text)
        let seq = message.seq
        let time = try streamTime(&s, seq: seq, time: message.t, received: received)
        guard seq > s.lastSeq, time > s.lastTime else {
          return accept(&s, seq: seq, time: time, received: received, answering: answering)
        }
        guard var stream = s.keypointStream else {
          throw Rejection(reason: .noSession, message: "no keypoint solver", seq: seq)
        }
        let solved: Bool
        do throws(KeypointStream.Refusal) {
          solved = try stream.push(
            points: message.keypoints ?? [:], confidence: message.confidence,
            layout: message.layout, time: time, into: &s.pose)
        } catch {
          s.keypointStream = stream
          switch error {
          case .layoutMismatch:
            throw Rejection(reason: .layoutMismatch, message: error.description, seq: seq)
          case .badPoint:
            throw Rejection(reason: .nonFinite, message: error.description, seq: seq)
          case .unknownLayout, .noKnownPoints:
            throw Rejection(reason: .unknownJoint, message: error.description, seq: seq)
          }
        }
        if let (given, taken) = stream.unitCorrected {
          Self.tellOnce(
            &s, .unitCorrected,
            "the keypoints' size is not \(given) m a unit, as layout '\(stream.layout?.id ?? "")' "
              + "gives, but \(taken) m a unit: taken so")
        }
        // Each reading told once, as it is decided (the up axis and a mirror image may come
        // frames apart).
        if stream.readingChanges != s.readingChangesSeen {
          s.readingChangesSeen = stream.readingChanges
          for note in stream.readingNotes where s.readingNotesTold.insert(note).inserted {
            Self.tell(&s, .turnedUpright, "keypoints: " + note)
          }
        }
        let implausible = stream.solver.implausible
        if implausible > s.implausibleSeen {
          s.rejected[.implausibleKeypoint, default: 0] += implausible - s.implausibleSeen
          s.implausibleSeen = implausible
        }
        if solved {
          for l in 0..<s.landmarks.positions.count {
            s.landmarks.positions[l] = stream.solver.landmarks[l]
          }
          s.landmarks.untracked = stream.solver.untrackedLandmarks
          s.keypointBodySeen = true
        } else if s.keypointBodySeen {
          // The body is lost (the patient left the picture): scored as a frame that shows
          // nothing, as a keypoint file's unsolved frames are (`KeypointTake.solved`).
          s.landmarks.untracked = Self.everyLandmark
        }
        s.keypointStream = stream
        return accept(
          &s, seq: seq, time: time, received: received, scoresLandmarks: true,
          solved: solved || s.keypointBodySeen, answering: answering)
      } catch {
        s.rejected[error.reason, default: 0] += 1
        return .rejected(error)
      }
    }
  }

  /// Takes one frame of channel values (Axis Neuron); its sequence number follows the last.
  func take(channels values: [Float], time: Double, received: Double, storage: StorageStatus)
    -> Outcome
  {
    state.withLock { s in
      do throws(Rejection) {
        try admit(&s, received: received, storage: storage, seq: nil)
        guard values.count == decoder.channels.channelCount else {
          throw Rejection(
            reason: .wrongValueCount,
            message:
              "\(values.count) values; the skeleton has \(decoder.channels.channelCount) channels")
        }
        guard decoder.channels.decode(values, into: &s.pose) else {
          throw Rejection(reason: .nonFinite, message: "a value is not finite")
        }
        let seq = try nextSeq(s)
        if s.scratch.count != values.count {
          s.scratch = [Float](repeating: 0, count: values.count)
        }
        for k in 0..<values.count { s.scratch[k] = values[k] }
        return accept(&s, seq: seq, time: time, received: received, channelsInScratch: true)
      } catch {
        s.rejected[error.reason, default: 0] += 1
        return .rejected(error)
      }
    }
  }

  /// Takes one pose (VMC, after assembly); its sequence number follows the last.
  func take(pose: Pose, time: Double, received: Double, storage: StorageStatus) -> Outcome {
    state.withLock { s in
      do throws(Rejection) {
        try admit(&s, received: received, storage: storage, seq: nil)
        s.pose.copy(from: pose)
        return accept(&s, seq: try nextSeq(s), time: time, received: received)
      } catch {
        s.rejected[error.reason, default: 0] += 1
        return .rejected(error)
      }
    }
  }

  /// The sequence number after the last, or a rejection once none is left.
  private func nextSeq(_ s: State) throws(Rejection) -> Int {
    guard s.lastSeq < StreamFrame.maximumSeq else {
      throw Rejection(
        reason: .outOfOrder,
        message: "this session has used every sequence number; start a new session")
    }
    return s.lastSeq + 1
  }

  /// `admit` for a JSON frame, before it is decoded: a frame over the rate cap costs no
  /// parsing (a flooding client would otherwise cost every session on its event loop the
  /// decoding of frames it then refuses); the refusal names the frame's `seq`, read on its own.
  private func admit(_ s: inout State, received: Double, storage: StorageStatus, text: String)
    throws(Rejection)
  {
    do throws(Rejection) {
      try admit(&s, received: received, storage: storage, seq: nil)
    } catch var rejection {
      rejection.seq = StreamFrameDecoder.peekSeq(text)
      throw rejection
    }
  }

  /// Refuses a frame of a streaming connection that no longer holds the session's stream.
  private func holdsStream(_ s: State, connection: UUID?, text: String) throws(Rejection) {
    guard let connection, s.stream?.id != connection else { return }
    throw Rejection(
      reason: .notAllowed,
      message: "this connection no longer holds the session's stream: another took it over",
      seq: StreamFrameDecoder.peekSeq(text))
  }

  /// Refuses a frame the session cannot take now, whatever it holds: a finished session, the
  /// rate cap, or storage that cannot keep up.
  private func admit(_ s: inout State, received: Double, storage: StorageStatus, seq: Int?)
    throws(Rejection)
  {
    guard !s.closed else {
      throw Rejection(reason: .noSession, message: "session \(record.id) is finished", seq: seq)
    }
    switch storage {
    case .writable: break
    case .belowFloor:
      throw Rejection(
        reason: .storageFull,
        message: "the server's disk is nearly full; this frame was not taken, send it again later",
        seq: seq)
    case .backlogged:
      throw Rejection(
        reason: .storageUnavailable,
        message: "the server cannot store frames at the moment; send this frame again later",
        seq: seq)
    }
    let rate = limits.maximumFrameRate
    if let last = s.allowanceTime {
      s.allowance = min(rate, s.allowance + max(0, received - last) * rate)
    }
    s.allowanceTime = received
    guard s.allowance >= 1 else {
      throw Rejection(
        reason: .rateLimited,
        message: "more than \(Int(rate)) frames a second; send this frame again later", seq: seq)
    }
    s.allowance -= 1
  }

  /// The session's time of a frame the connected stream sent at `time` on its own clock.
  ///
  /// A client whose clock started again (a camera helper or an app restarted mid-session,
  /// counting from 0 again) resumes after the hello's `lastSeq` with times that are not after
  /// `lastTime`; every frame would be refused as out of order, and the session could not go
  /// on. So the first new frame of each connection (`seq` after `lastSeq`) decides: if its time
  /// is not after `lastTime`, the connection's clock is moved on to continue the session's —
  /// `lastTime` plus the time the server waited between the two frames (at least a
  /// millisecond) — and every later frame of the connection is moved by as much; the client
  /// hears a `clock_rebased` notice with the offset. A frame already taken (a resend) does not
  /// decide. Within a connection, time going back is refused as before (`accept`), as is a
  /// frame whose moved time leaves ±2⁵³ s.
  private func streamTime(_ s: inout State, seq: Int, time: Double, received: Double)
    throws(Rejection) -> Double
  {
    if s.clockUnsettled, seq > s.lastSeq {
      s.clockUnsettled = false
      s.clockOffset = 0
      if s.lastTime.isFinite, time <= s.lastTime {
        let waited = received - s.lastReceived
        let step = waited.isFinite ? max(waited, 0.001) : 0.001
        let offset = s.lastTime + step - time
        if offset.isFinite {
          s.clockOffset = offset
          Self.tell(
            &s, .clockRebased,
            "t \(time) is not after the session's \(s.lastTime): this connection's clock "
              + "is taken to have started again, and its times are moved on by \(offset) s")
        }
      }
    }
    let moved = time + s.clockOffset
    guard moved.isFinite, abs(moved) <= Double(StreamFrame.maximumSeq) else {
      throw Rejection(
        reason: .malformed, message: "t \(time) moved by \(s.clockOffset) s leaves ±2^53 s",
        seq: seq)
    }
    return moved
  }

  /// Takes a checked frame whose pose is in `s.pose` (and, for a keypoint session, whose
  /// landmarks are in `s.landmarks` if `solved`).
  ///
  /// `channelsInScratch`: the frame came as channel values, now in `s.scratch`; they are stored
  /// as received (the pose scored is their decoding, so a scorer rebuilt from the store sees
  /// exactly what this one saw) instead of encoding the pose again.
  private func accept(
    _ s: inout State, seq: Int, time: Double, received: Double, scoresLandmarks: Bool = false,
    solved: Bool = true, channelsInScratch: Bool = false, answering: Bool = true
  ) -> Outcome {
    guard seq > s.lastSeq else {
      let rejection = Rejection(
        reason: .outOfOrder, message: "seq \(seq) is not after \(s.lastSeq)", seq: seq)
      s.rejected[rejection.reason, default: 0] += 1
      return .rejected(rejection)
    }
    guard time > s.lastTime else {
      let rejection = Rejection(
        reason: .outOfOrder, message: "t \(time) is not after \(s.lastTime)", seq: seq)
      s.rejected[rejection.reason, default: 0] += 1
      return .rejected(rejection)
    }
    s.lastSeq = seq
    s.lastTime = time
    s.lastReceived = received
    s.lastActivity = .now
    let before = s.scorer.repetitions.count
    if !scoresLandmarks {
      _ = s.scorer.push(pose: s.pose, at: time)
    } else if solved {
      _ = s.scorer.push(landmarks: s.landmarks, at: time)
    }
    if s.scorer.cannotSee != s.toldNotSeen {
      s.toldNotSeen = s.scorer.cannotSee
      if let words = s.toldNotSeen {
        Self.tell(&s, .notSeen, words)
      } else {
        Self.tell(&s, .seenAgain, "what was not seen is seen again")
      }
    }
    let completed = EncodedRepetition.encode(s.scorer.repetitions[before...], session: record.id)
    if channelsInScratch, s.scratch.count == skeleton.channelCount {
      if s.channels.count != s.scratch.count {
        s.channels = [Float](repeating: 0, count: s.scratch.count)
      }
      for k in 0..<s.scratch.count { s.channels[k] = s.scratch[k] }
    } else {
      encoder.encode(s.pose, into: &s.channels)
    }
    var storedChannels = s.channels
    if scoresLandmarks {
      KeypointFrameBlock.append(solved ? s.landmarks : nil, to: &storedChannels)
    }
    let frame = StoredFrame(
      session: record.id, seq: seq, time: time, received: received, channels: storedChannels)
    let message =
      answering ? Self.frameMessage(seq: seq, time: time, scorer: s.scorer, values: nil) : nil
    if !s.watchers.isEmpty {
      // Viewers also get the pose, to move the patient's avatar.
      if s.world.count != skeleton.count {
        s.world = Array(repeating: RigidTransform(), count: skeleton.count)
        s.positions = Array(repeating: 0, count: 3 * skeleton.count)
      }
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: s.pose, into: &s.world)
      for j in 0..<skeleton.count {
        let p = s.world[j].translation
        s.positions[3 * j] = p.x
        s.positions[3 * j + 1] = p.y
        s.positions[3 * j + 2] = p.z
      }
      let withPose = Self.frameMessage(
        seq: seq, time: time, scorer: s.scorer, values: s.channels, positions: s.positions)
      for watcher in s.watchers.values { watcher.yield(withPose) }
    }
    for repetition in completed {
      for watcher in s.watchers.values { watcher.yield(repetition.message) }
    }
    return .scored(message: message, frame: frame, repetitions: completed)
  }

  /// The answer to a batch of which `taken` frames were taken, the last of them `seq` at
  /// `time`: its `frame` message, with `taken`.
  func batchAnswer(seq: Int, time: Double, taken: Int) -> String {
    state.withLock { s in
      Self.frameMessage(seq: seq, time: time, scorer: s.scorer, values: nil, taken: taken)
    }
  }

  /// Scores what the stream left unfinished and closes the session to new frames.
  func finish() -> TakeResult {
    state.withLock { s in
      let before = s.scorer.repetitions.count
      _ = s.scorer.finish()
      for repetition in EncodedRepetition.encode(
        s.scorer.repetitions[before...], session: record.id)
      {
        for watcher in s.watchers.values { watcher.yield(repetition.message) }
      }
      s.closed = true
      return s.scorer.result
    }
  }

  /// Ends every watcher and the connected stream (its writer still writes what it was owed).
  func close() {
    state.withLock { s in
      s.closed = true
      for watcher in s.watchers.values {
        watcher.yield(ServerMessage.finished(session: record.id).json)
        watcher.finish()
      }
      s.watchers = [:]
      if let stream = s.stream {
        s.departed[stream.id] = Owed(outbox: stream.outbox)
        stream.doorbell.yield()
        stream.doorbell.finish()
      }
      s.stream = nil
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

  /// Rebuilds the scorer's state from stored frames (after a restart, or waking from sleep).
  /// Frames a bounded session could not have taken (a sequence number above
  /// `StreamFrame.maximumSeq`, stored by an older server) are skipped; returns how many.
  @discardableResult
  func replay(_ frames: [StoredFrame]) -> Int {
    state.withLock { s in
      var skipped = 0
      for frame in frames where frame.seq > s.lastSeq {
        guard frame.seq <= StreamFrame.maximumSeq,
          abs(frame.time) <= Double(StreamFrame.maximumSeq),
          frame.time > s.lastTime,
          KeypointFrameBlock.decodePose(frame.channels, decoder: decoder.channels, into: &s.pose)
        else {
          skipped += 1
          continue
        }
        s.lastSeq = frame.seq
        s.lastTime = frame.time
        s.lastReceived = frame.received
        if keypoints == nil {
          _ = s.scorer.push(pose: s.pose, at: frame.time)
        } else if KeypointFrameBlock.read(
          frame.channels, channelCount: decoder.channels.channelCount, into: &s.landmarks)
        {
          // Stored with landmarks: a body had been seen by then (live took it so).
          s.keypointBodySeen = true
          _ = s.scorer.push(landmarks: s.landmarks, at: frame.time)
        }
      }
      s.durableSeq = s.lastSeq
      return skipped
    }
  }

  // MARK: Messages

  static func frameMessage(
    seq: Int, time: Double, scorer: StreamingScorer, values: [Float]?,
    positions: [Float]? = nil, taken: Int? = nil
  ) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(640 + (values?.count ?? 0) * 9 + (positions?.count ?? 0) * 9)
    FrameResult.appendJSON(
      seq: seq, time: time, progress: Double(scorer.progress),
      repetitions: scorer.repetitions.count, names: boneNames, measured: scorer.measuredBones,
      errors: scorer.currentBoneErrors, severity: scorer.currentBoneSeverity, values: values,
      positions: positions, taken: taken, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// A completed repetition, encoded once for the stream, the viewers and the store.
  struct EncodedRepetition: Sendable {
    var stored: StoredRepetition
    /// The `repetition` message clients and viewers get.
    var message: String { #"{"type":"repetition","result":"# + stored.result + "}" }

    static func encode(_ repetitions: ArraySlice<RepetitionResult>, session: String)
      -> [EncodedRepetition]
    {
      guard !repetitions.isEmpty else { return [] }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return repetitions.compactMap { repetition in
        guard let data = try? encoder.encode(repetition) else { return nil }
        return EncodedRepetition(
          stored: StoredRepetition(
            session: session, index: repetition.index,
            score: repetition.isMeasured ? repetition.score : nil,
            result: String(decoding: data, as: UTF8.self)))
      }
    }
  }

  // MARK: Listeners

  /// Frame and repetition messages for a viewer (`/watch`); nil if the session has `limit`
  /// viewers already.
  func watch(limit: Int) -> (UUID, AsyncStream<String>)? {
    let (stream, continuation) = AsyncStream<String>.makeStream(
      bufferingPolicy: .bufferingNewest(256))
    let id = UUID()
    let admitted = state.withLock { s in
      guard s.watchers.count < limit else { return false }
      s.watchers[id] = continuation
      s.lastActivity = .now
      return true
    }
    return admitted ? (id, stream) : nil
  }

  /// How many viewers the session has.
  var watcherCount: Int { state.withLock { $0.watchers.count } }

  func unwatch(_ id: UUID) {
    state.withLock {
      $0.watchers[id]?.finish()
      $0.watchers[id] = nil
    }
  }

  /// Attaches a streaming connection: from now on it is the session's only one (a connection
  /// already attached is told it was replaced, `Owed.replaced`, and closes). Returns its id
  /// and its doorbell: each ring means something is owed (`owed(to:)`); the doorbell ends when
  /// the connection is detached, replaced or the session closes.
  func attachStream() -> (UUID, AsyncStream<Void>) {
    let (doorbell, continuation) = AsyncStream<Void>.makeStream(
      bufferingPolicy: .bufferingNewest(1))
    let id = UUID()
    state.withLock { s in
      if let previous = s.stream {
        s.departed[previous.id] = Owed(replaced: true)
        previous.doorbell.yield()
        previous.doorbell.finish()
      }
      s.stream = (id, StreamOutbox(), continuation)
      // The new connection hears what is not seen (if anything) with its next frame.
      s.toldNotSeen = nil
      s.clockOffset = 0
      s.clockUnsettled = true
      s.lastActivity = .now
    }
    return (id, doorbell)
  }

  func detachStream(_ id: UUID) {
    state.withLock { s in
      s.departed[id] = nil
      guard s.stream?.id == id else { return }
      s.stream?.doorbell.finish()
      s.stream = nil
    }
  }

  /// Everything connection `id` is owed, taken out of the session: the newest acknowledgement
  /// and the notices since its writer last asked, or that it was replaced.
  func owed(to id: UUID) -> Owed {
    state.withLock { s in
      guard s.stream?.id == id else {
        return s.departed.removeValue(forKey: id) ?? Owed()
      }
      return Owed(outbox: s.stream?.outbox.take() ?? StreamOutbox())
    }
  }

  /// Called by the frame writer once frames up to `seq` are committed.
  func acknowledged(upTo seq: Int) {
    state.withLock { s in
      guard seq > s.durableSeq else { return }
      s.durableSeq = seq
      guard s.stream != nil else { return }
      s.stream?.outbox.acknowledge(upTo: seq)
      s.stream?.doorbell.yield()
    }
  }

  /// Tells the connected stream, if any.
  func notify(_ notice: Notice) {
    state.withLock { Self.tell(&$0, notice.code, notice.message) }
  }

  /// Every landmark's bit (`LandmarkFrame.untracked`).
  private static let everyLandmark = UInt32((1 << BodyLandmark.allCases.count) - 1)

  /// `tell`, if this session has not told `code` before.
  private static func tellOnce(
    _ s: inout State, _ code: Notice.Code, _ message: @autoclosure () -> String
  ) {
    guard s.toldOnce.insert(code).inserted else { return }
    tell(&s, code, message())
  }

  /// Sends the connected stream of `s`, if any, a notice.
  private static func tell(_ s: inout State, _ code: Notice.Code, _ message: String) {
    guard s.stream != nil else { return }
    s.stream?.outbox.post(Notice(code: code, message: message))
    s.stream?.doorbell.yield()
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

  var isConnected: Bool { state.withLock { $0.stream != nil } }

  /// True if nobody is connected or watching and nothing arrived since `cutoff`.
  func isIdle(since cutoff: ContinuousClock.Instant) -> Bool {
    state.withLock { $0.stream == nil && $0.watchers.isEmpty && $0.lastActivity < cutoff }
  }

  /// What a client hears first: the session, its skeleton (BVH), and how far the server got,
  /// so a reconnecting client resumes after `lastSeq`.
  func hello() -> SessionHello {
    let (last, durable, repetitions, lastTime) = state.withLock {
      ($0.lastSeq, $0.durableSeq, $0.scorer.repetitions.count, $0.lastTime)
    }
    return SessionHello(
      session: record.id, patient: record.patient, exercise: record.exercise,
      exerciseVersion: record.exerciseVersion, skeleton: SessionSkeleton.bvh(record.skeleton),
      channels: skeleton.channelCount, lastSeq: last, durableSeq: durable,
      repetitions: repetitions, joints: skeleton.joints.map(\.name),
      parents: skeleton.parentIndices.map { Int($0) },
      lastTime: lastTime.isFinite ? lastTime : nil)
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

/// Whether frames can be stored now, as the hub sees it for each frame.
enum StorageStatus: Sendable {
  case writable
  /// The disk is below the free-space floor.
  case belowFloor
  /// The writer's queue of unwritten frames is full (the database is locked or failing).
  case backlogged
}
