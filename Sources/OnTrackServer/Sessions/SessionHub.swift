import Foundation
import Logging
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization

/// Every session the server knows: creates them (within the quotas), keeps the ones in use in
/// memory and loads the others from the store when they are used (rebuilding the scorer from
/// the stored frames), routes frames from any protocol to them, and finishes them.
///
/// Nothing is loaded eagerly: after a restart an open session returns to memory when its
/// client reconnects, a paired device sends, or someone reads it.
public final class SessionHub: Sendable {
  let store: any ServerStore
  let library: ExerciseLibrary
  let writer: FrameWriter
  let metrics: ServerMetrics
  let logger: Logger
  /// Rejections before a session (device ports, binary messages) are logged at most once a
  /// second per source and reason.
  private let rejectionLog = LogThrottle()
  let audit: AuditLog
  let limits: ServerLimits
  let pairing: DevicePairing
  let storage: StorageGuard
  /// This server as a session lease holder (`LeaseStore`, `ServerConfiguration.serverName`).
  let holder: String
  private let live = Mutex<[String: LiveSession]>([:])
  /// Loads in progress, so two callers waking one session share one load.
  private let loading = Mutex<[String: Task<LiveSession, any Error>]>([:])

  init(
    store: any ServerStore, library: ExerciseLibrary, metrics: ServerMetrics, logger: Logger,
    audit: AuditLog, limits: ServerLimits, storage: StorageGuard, holder: String
  ) {
    self.holder = holder
    self.store = store
    self.library = library
    self.metrics = metrics
    self.logger = logger
    self.audit = audit
    self.limits = limits
    self.storage = storage
    writer = FrameWriter(store: store, logger: logger, maximumBacklog: limits.maximumBacklog)
    pairing = DevicePairing(lifetime: limits.pairingCodeLifetime)
    writer.onHealthChange { [weak self] failing in self?.storageHealthChanged(failing: failing) }
    writer.start()
  }

  // MARK: Creating and finding sessions

  /// The skeletons a session can be declared on.
  public enum SkeletonChoice: Sendable, Equatable {
    /// The exercise reference's own skeleton.
    case reference
    /// Axis Neuron's Perception Neuron rig, 180 or (with displacement) 354 values a frame.
    case perceptionNeuron(displacement: Bool)
    /// The Unity humanoid rig of the VMC protocol.
    case unityHumanoid
    /// Any skeleton, as a BVH file (hierarchy and at least one frame).
    case bvh(String)
    /// Keypoint frames (a camera, a depth sensor, markers) in `layout` (or whichever the
    /// first frame is in), solved onto the canonical skeleton.
    case keypoints(layout: String?)

    /// Parses the `skeleton` field of a session request: `keypoints` or `keypoints:LAYOUT`
    /// for keypoint frames.
    static func named(_ name: String) -> SkeletonChoice? {
      switch name {
      case "reference": return .reference
      case "perception-neuron": return .perceptionNeuron(displacement: false)
      case "perception-neuron-displacement": return .perceptionNeuron(displacement: true)
      case "unity-humanoid", "vmc": return .unityHumanoid
      case "keypoints": return .keypoints(layout: nil)
      default:
        guard name.hasPrefix("keypoints:") else { return nil }
        let layout = String(name.dropFirst("keypoints:".count))
        return KeypointLayout.ids.contains(layout) ? .keypoints(layout: layout) : nil
      }
    }
  }

  /// Creates a session of `patient` doing `exerciseID` (an exercise `identity` may see) and
  /// returns it.
  /// - Throws: `SessionError.storageFull` below the disk floor, `.quota` over the open-session
  ///   limits, `.invalid` for a skeleton that cannot be scored; `ExerciseError.notFound`.
  func create(
    exerciseID: String, version: Int?, skeleton choice: SkeletonChoice, patient: String,
    therapist: String?, identity: Identity, programme: String? = nil, clientKey: String? = nil
  ) async throws -> LiveSession {
    guard !storage.isBelowFloor else {
      throw SessionError.storageFull(
        "the server's disk is nearly full; no new sessions until space is freed")
    }
    var (exercise, exerciseRecord) = try await library.exercise(
      id: exerciseID, version: version, for: identity)
    let created = Date().timeIntervalSince1970
    exercise = try await prescribed(exercise, programme: programme, at: created)
    let skeleton: Skeleton
    var keypoints: KeypointSessionLayout?
    switch choice {
    case .keypoints(let layout):
      skeleton = CanonicalSkeleton.make()
      keypoints = KeypointSessionLayout(id: layout)
    case .reference:
      guard let clip = exercise.referenceClip else {
        throw SessionError.invalid("exercise '\(exerciseID)' has no reference skeleton")
      }
      skeleton = clip.skeleton
    case .perceptionNeuron(let displacement):
      skeleton = DeviceRigs.perceptionNeuron(displacement: displacement)
    case .unityHumanoid:
      skeleton = DeviceRigs.unityHumanoid()
    case .bvh(let text):
      do {
        skeleton = try BVHReader(options: ServerLimits.uploadedBVH).read(
          text: text, fileName: "session skeleton"
        ).skeleton
      } catch {
        throw SessionError.invalid("skeleton: \(error)")
      }
    }
    let record = SessionRecord(
      id: UUID().uuidString.lowercased(), patient: patient, therapist: therapist,
      exercise: exercise.id, exerciseVersion: exerciseRecord.version,
      skeleton: SessionSkeleton.encode(skeleton, keypoints: keypoints),
      created: created, programme: programme, clientKey: clientKey)
    let session: LiveSession
    do {
      session = try LiveSession(
        record: record, exercise: exercise, skeleton: skeleton, keypoints: keypoints,
        limits: limits)
    } catch {
      throw SessionError.invalid("this skeleton cannot be scored: \(error)")
    }
    do {
      try await store.addSession(
        record, maximumOpen: limits.maximumOpenSessions,
        maximumOpenPerPatient: limits.maximumOpenSessionsPerPatient)
    } catch StoreError.quota(let message) {
      throw SessionError.quota(message)
    }
    // Not kept in memory, and no lease taken: the server its stream reaches (behind a
    // balancer, the one its id hashes to) loads it and takes the lease.
    logger.info(
      "session created",
      metadata: [
        "session": "\(record.id)", "exercise": "\(exercise.id)@\(exerciseRecord.version)",
        "patient": "\(patient)",
      ])
    return session
  }

  /// The stored record of session `id`.
  func record(_ id: String) async throws -> SessionRecord {
    if let session = loadedSession(id) { return session.record }
    guard let record = try await store.session(id: id) else { throw SessionError.missing(id) }
    return record
  }

  /// Session `id` if it is in memory.
  func loadedSession(_ id: String) -> LiveSession? {
    live.withLock { $0[id] }
  }

  /// `exercise` as programme `programme` prescribes it in the week of `time` (its repetitions
  /// and hold: `ProgrammeItem.prescribing`, the rule the patient's own day scores with), or
  /// as it is outside a programme.
  private func prescribed(_ exercise: Exercise, programme: String?, at time: Double)
    async throws -> Exercise
  {
    guard let programme,
      let item = try await ProgrammeBook(store: store, library: library).prescription(
        programme: programme, exercise: exercise.id, at: time)
    else { return exercise }
    return item.prescribing(exercise)
  }

  /// The open session `id`, loaded from the store (its scorer rebuilt from its frames) if it
  /// is not in memory.
  func liveSession(_ id: String) async throws -> LiveSession {
    if let session = loadedSession(id) { return session }
    let task = loading.withLock { tasks in
      if let running = tasks[id] { return running }
      let task = Task<LiveSession, any Error> { try await self.load(id) }
      tasks[id] = task
      return task
    }
    defer { _ = loading.withLock { $0.removeValue(forKey: id) } }
    let session = try await task.value
    return live.withLock { sessions in
      if let other = sessions[id] { return other }
      sessions[id] = session
      return session
    }
  }

  private func load(_ id: String) async throws -> LiveSession {
    let record = try await record(id)
    guard record.finished == nil else {
      throw SessionError.finished(
        "session \(ServerText.truncated(id)) is finished; start a new one")
    }
    // One server scores a session at a time: take its lease (free, ours, or expired).
    let lease = limits.sessionLease.seconds
    guard try await store.acquireLease(session: id, holder: holder, ttl: lease) else {
      let until = try await store.lease(session: id)?.expires ?? 0
      let wait = max(1, Int((until - Date().timeIntervalSince1970).rounded(.up)))
      throw SessionError.heldElsewhere(
        "session \(ServerText.truncated(id)) is being scored by another server; try again in \(wait) s"
      )
    }
    // Its frames as stored now: another server may have written them up to a moment ago.
    let (stored, _) = try await library.exercise(
      id: record.exercise, version: record.exerciseVersion)
    let exercise = try await prescribed(stored, programme: record.programme, at: record.created)
    let session: LiveSession
    do {
      let skeleton = try SessionSkeleton.decode(record.skeleton)
      session = try LiveSession(
        record: record, exercise: exercise, skeleton: skeleton,
        keypoints: SessionSkeleton.keypoints(record.skeleton), limits: limits)
    } catch {
      throw SessionError.invalid("session \(record.id) cannot be restored: \(error)")
    }
    let skipped = session.replay(try await store.frames(session: record.id, from: 0))
    if skipped > 0 {
      logger.warning(
        "stored frames skipped on restore",
        metadata: ["session": "\(record.id)", "frames": "\(skipped)"])
    }
    session.restoreRejected(record.storedRejected)
    return session
  }

  /// Drops open sessions nobody has used for `timeout` from memory (they stay open in the
  /// store and come back, scorer rebuilt, when used). Returns how many.
  @discardableResult
  func sleepIdleSessions(timeout: Duration) -> Int {
    let cutoff = ContinuousClock.now - timeout
    let idle = live.withLock { sessions in
      let idle = sessions.values.filter { $0.isIdle(since: cutoff) }
      for session in idle { sessions[session.record.id] = nil }
      return idle.map(\.record.id)
    }
    let (store, holder) = (self.store, self.holder)
    if !idle.isEmpty {
      Task {
        // Unless it came back meanwhile (a client reconnecting here).
        for id in idle where self.loadedSession(id) == nil {
          try? await store.releaseLease(session: id, holder: holder)
        }
      }
    }
    return idle.count
  }

  /// Renews this server's leases on the sessions in memory; a session whose lease another
  /// server took meanwhile (this one stalled past its lease) leaves memory, closed to
  /// frames. Returns how many were lost.
  @discardableResult
  func renewLeases() async -> Int {
    let ids = live.withLock { Array($0.keys) }
    guard !ids.isEmpty else { return 0 }
    do {
      let held = Set(
        try await store.renewLeases(ids, holder: holder, ttl: limits.sessionLease.seconds))
      let lost = ids.filter { !held.contains($0) }
      for id in lost {
        let session = live.withLock { $0.removeValue(forKey: id) }
        session?.close()
        logger.warning("session lease lost to another server", metadata: ["session": "\(id)"])
      }
      return lost.count
    } catch {
      logger.warning("cannot renew session leases", metadata: ["error": "\(error)"])
      return 0
    }
  }

  /// Forgets every session in memory without releasing its lease: what a server that dies
  /// leaves behind (tests of the takeover use it).
  func abandonForTests() {
    live.withLock { sessions in
      for session in sessions.values { session.close() }
      sessions.removeAll()
    }
  }

  /// Finishes open sessions that received nothing for `age` (a patient who closed the app
  /// mid-session), scoring what they have. Returns how many.
  @discardableResult
  func finishAbandonedSessions(age: Duration) async -> Int {
    let before = Date().timeIntervalSince1970 - age.seconds
    guard let ids = try? await store.abandonedSessionIDs(before: before) else { return 0 }
    var finished = 0
    for id in ids {
      if let session = loadedSession(id), !session.isIdle(since: .now - age) { continue }
      do {
        _ = try await finish(id)
        finished += 1
      } catch {
        logger.warning(
          "cannot finish abandoned session", metadata: ["session": "\(id)", "error": "\(error)"])
      }
    }
    return finished
  }

  var openSessionCount: Int { live.withLock { $0.count } }

  var connectedSessionCount: Int { live.withLock { $0.values.count(where: \.isConnected) } }

  /// Whether frames can be stored now.
  var storageStatus: StorageStatus {
    if storage.isBelowFloor { return .belowFloor }
    if writer.isBacklogged { return .backlogged }
    return .writable
  }

  private func storageHealthChanged(failing: Bool) {
    let notice =
      failing
      ? Notice(
        code: .storageUnavailable,
        message:
          "the server cannot store frames at the moment; it keeps retrying, and acknowledgements resume once they are stored"
      )
      : Notice(code: .storageRestored, message: "frames are being stored again")
    let sessions = live.withLock { Array($0.values) }
    for session in sessions { session.notify(notice) }
  }

  // MARK: Devices

  /// A pairing code for the open session `id`.
  func pairingCode(for id: String) async throws -> (code: String, expires: Double) {
    let session = try await liveSession(id)
    return pairing.issue(for: session.record.id)
  }

  // MARK: Frames

  /// Takes one JSON frame for `session` from streaming `connection` (`LiveSession.attachStream`;
  /// nil: not a streaming connection): scores it, queues it for storage, counts and logs a
  /// rejection.
  func take(json text: String, session: LiveSession, connection: UUID? = nil)
    -> LiveSession.Outcome
  {
    let received = Date().timeIntervalSince1970
    return handle(
      session.take(
        json: text, received: received, storage: storageStatus, connection: connection),
      session: session)
  }

  /// Takes one stream message — a frame, or a batch of frames (`StreamFrameBatch`) — and
  /// returns what to send back, in order. A frame alone: its `frame` or `rejected` answer,
  /// then the repetitions it completed. A batch: for each frame in turn its `rejected` answer
  /// or the repetitions it completed, then one `frame` answer for the last frame taken (with
  /// how many were taken), if any was. A batch that cannot be split is refused whole
  /// (`malformed`, counted once): none of its frames is taken. `connection` as for
  /// `take(json:session:connection:)`.
  func take(message text: String, session: LiveSession, connection: UUID? = nil) -> [String] {
    switch StreamFrameBatch.split(text) {
    case .single:
      let outcome = take(json: text, session: session, connection: connection)
      var answers = outcome.answer.map { [$0] } ?? []
      for repetition in outcome.completed { answers.append(repetition.message) }
      return answers
    case .refused(let reason):
      let rejection = Rejection(reason: .malformed, message: "not a batch of frames: \(reason)")
      reject(rejection, source: "websocket", session: session)
      return [ServerMessage.rejected(rejection).json]
    case .frames(let frames):
      let received = Date().timeIntervalSince1970
      var answers: [String] = []
      var taken = 0
      var last: StoredFrame?
      for frame in frames {
        let outcome = handle(
          session.take(
            json: frame, received: received, storage: storageStatus, answering: false,
            connection: connection),
          session: session)
        switch outcome {
        case .scored(_, let stored, let repetitions):
          taken += 1
          last = stored
          for repetition in repetitions { answers.append(repetition.message) }
        case .rejected(let rejection):
          answers.append(ServerMessage.rejected(rejection).json)
        }
      }
      if let last {
        answers.append(session.batchAnswer(seq: last.seq, time: last.time, taken: taken))
      }
      return answers
    }
  }

  /// Takes one frame of channel values (Axis Neuron).
  func take(channels: [Float], time: Double, session: LiveSession) -> LiveSession.Outcome {
    let received = Date().timeIntervalSince1970
    return handle(
      session.take(channels: channels, time: time, received: received, storage: storageStatus),
      session: session)
  }

  /// Takes one pose (VMC).
  func take(pose: Pose, time: Double, session: LiveSession) -> LiveSession.Outcome {
    let received = Date().timeIntervalSince1970
    return handle(
      session.take(pose: pose, time: time, received: received, storage: storageStatus),
      session: session)
  }

  /// Counts and logs a frame rejected before it reached a session (no session, bad packet).
  func reject(_ rejection: Rejection, source: String, session: LiveSession? = nil) {
    metrics.framesReceived.increment()
    metrics.rejected(rejection.reason)
    if let session {
      session.countRejection(rejection.reason)
      writer.enqueue(rejected: (session.record.id, session.rejectedJSON))
    }
    // At most a line a second per source and reason: a flood must not fill the disk.
    guard let held = rejectionLog.admit("\(source) \(rejection.reason.rawValue)") else { return }
    logger.info(
      "frame rejected",
      metadata: [
        "source": "\(source)", "session": "\(session?.record.id ?? "-")",
        "reason": "\(rejection.reason.rawValue)", "detail": "\(rejection.message)",
        "heldBack": "\(held)",
      ])
  }

  private func handle(_ outcome: LiveSession.Outcome, session: LiveSession) -> LiveSession.Outcome {
    metrics.framesReceived.increment()
    switch outcome {
    case .scored(_, let frame, let repetitions):
      for _ in repetitions { metrics.repetitions.increment() }
      writer.enqueue(frame, repetitions: repetitions.map(\.stored), session: session)
    case .rejected(let rejection):
      metrics.rejected(rejection.reason)
      writer.enqueue(rejected: (session.record.id, session.rejectedJSON))
      logger.debug(
        "frame rejected",
        metadata: [
          "session": "\(session.record.id)", "reason": "\(rejection.reason.rawValue)",
          "seq": "\(rejection.seq.map(String.init) ?? "-")", "detail": "\(rejection.message)",
        ])
    }
    return outcome
  }

  // MARK: Finishing

  /// Ends session `id`: scores what is left, stores the summary, and closes it to new frames.
  func finish(_ id: String) async throws -> TakeResult {
    let session = try await liveSession(id)
    let result = session.finish()
    let encoded = LiveSession.EncodedRepetition.encode(result.repetitions[...], session: id)
    writer.enqueue(repetitions: encoded.map(\.stored), rejected: (id, session.rejectedJSON))
    guard await writer.flush(timeout: .seconds(30)) else {
      throw StoreError.unavailable(
        "the session's frames cannot be stored at the moment; try again")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let summary = String(decoding: try encoder.encode(result), as: UTF8.self)
    try await store.finishSession(id: id, summary: summary, rejected: session.rejectedJSON)
    live.withLock { _ = $0.removeValue(forKey: id) }
    session.close()
    try? await store.releaseLease(session: id, holder: holder)
    logger.info(
      "session finished",
      metadata: ["session": "\(id)", "repetitions": "\(result.repetitions.count)"])
    return result
  }

  /// The session's results so far: live from its scorer if open, else its stored summary.
  func result(_ record: SessionRecord) async throws -> TakeResult? {
    if record.finished == nil {
      return try await liveSession(record.id).result
    }
    guard let summary = record.summary else { return nil }
    do {
      return try JSONDecoder().decode(TakeResult.self, from: Data(summary.utf8))
    } catch {
      throw StoreError.failed("stored summary of \(record.id) does not decode: \(error)")
    }
  }

  /// A finished session's stored result (nil for an open one).
  func finishedResult(_ record: SessionRecord) async throws -> TakeResult? {
    guard record.finished != nil else { return nil }
    return try await result(record)
  }

  /// How many repetitions of session `id` are stored, and their mean score (measured ones).
  func storedRepetitions(_ id: String) async throws -> (count: Int, meanScore: Double?) {
    let decoder = JSONDecoder()
    let results = try await store.repetitions(session: id).compactMap {
      try? decoder.decode(RepetitionResult.self, from: Data($0.utf8))
    }
    let scores = results.filter(\.isMeasured).map(\.score)
    return (results.count, scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count))
  }

  /// Rejection counts of a session: live if it is in memory, else as stored.
  func rejectedCounts(_ record: SessionRecord) -> [String: Int] {
    if record.finished == nil, let session = loadedSession(record.id) {
      return session.rejectedByReason
    }
    return record.storedRejected
  }
}

/// A keypoint session's layout: an id, or `nil` for whichever the first frame is in.
struct KeypointSessionLayout: Sendable, Equatable {
  var id: String?
}

/// How a session's skeleton is stored: a BVH file with one rest frame, preceded by one line
/// naming its length unit (`unit cm 0.01`), so it reads back in the unit it was declared in;
/// a keypoint session's first line is `keypoints LAYOUT` (`auto`: from the first frame).
enum SessionSkeleton {
  static func encode(_ skeleton: Skeleton, keypoints: KeypointSessionLayout?) -> String {
    let prefix = keypoints.map { "keypoints \($0.id ?? "auto")\n" } ?? ""
    return prefix + encode(skeleton)
  }

  /// The keypoint layout line of a stored skeleton, if it is a keypoint session's.
  static func keypoints(_ stored: String) -> KeypointSessionLayout? {
    guard stored.hasPrefix("keypoints "), let newline = stored.firstIndex(of: "\n") else {
      return nil
    }
    let id = String(stored[stored.index(stored.startIndex, offsetBy: 10)..<newline])
    return KeypointSessionLayout(id: id == "auto" ? nil : id)
  }

  /// `stored` without its keypoints line.
  private static func withoutKeypoints(_ stored: String) -> String {
    guard stored.hasPrefix("keypoints "), let newline = stored.firstIndex(of: "\n") else {
      return stored
    }
    return String(stored[stored.index(after: newline)...])
  }

  static func encode(_ skeleton: Skeleton) -> String {
    let rest = skeleton.restPose
    let text: String
    do {
      let clip = try Clip(
        skeleton: skeleton, frameTime: 1.0 / 60, rotations: rest.rotations,
        translations: rest.translations)
      text = BVHWriter().text(for: clip)
    } catch {
      preconditionFailure("a rest pose is always a valid clip: \(error)")
    }
    return "unit \(skeleton.lengthUnit.name) \(skeleton.lengthUnit.metres)\n" + text
  }

  static func decode(_ stored: String) throws -> Skeleton {
    let stored = withoutKeypoints(stored)
    var bvh = Substring(stored)
    var unit: LengthUnit?
    if stored.hasPrefix("unit "), let newline = stored.firstIndex(of: "\n") {
      let fields = stored[..<newline].split(separator: " ")
      if fields.count == 3, let metres = Double(fields[2]) {
        unit = LengthUnit(name: String(fields[1]), metres: metres)
      }
      bvh = stored[stored.index(after: newline)...]
    }
    return try BVHReader(options: .init(lengthUnit: unit)).read(
      text: String(bvh), fileName: "session skeleton"
    ).skeleton
  }

  /// The BVH part alone (for clients).
  static func bvh(_ stored: String) -> String {
    let stored = withoutKeypoints(stored)
    guard stored.hasPrefix("unit "), let newline = stored.firstIndex(of: "\n") else {
      return stored
    }
    return String(stored[stored.index(after: newline)...])
  }
}
