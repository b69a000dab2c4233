import Foundation
import Logging
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Synchronization

/// Every session the server knows: creates them, keeps the open ones in memory (rebuilding a
/// session's scorer from its stored frames after a restart), routes frames from any protocol to
/// them, and finishes them.
public final class SessionHub: Sendable {
  let store: Store
  let library: ExerciseLibrary
  let writer: FrameWriter
  let metrics: ServerMetrics
  let logger: Logger
  /// Largest accepted JSON frame, bytes.
  let maximumFrameBytes: Int
  private let live = Mutex<[String: LiveSession]>([:])
  /// Open sessions put to sleep (`sleepIdleSessions`), by id and by device name → id: the only
  /// open sessions not in `live`, so a device frame that matches neither needs no store read.
  private let asleep = Mutex<[String: String]>([:])

  init(
    store: Store, library: ExerciseLibrary, writer: FrameWriter, metrics: ServerMetrics,
    logger: Logger, maximumFrameBytes: Int
  ) {
    self.store = store
    self.library = library
    self.writer = writer
    self.metrics = metrics
    self.logger = logger
    self.maximumFrameBytes = maximumFrameBytes
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

    /// Parses the `skeleton` field of a session request.
    static func named(_ name: String) -> SkeletonChoice? {
      switch name {
      case "reference": .reference
      case "perception-neuron": .perceptionNeuron(displacement: false)
      case "perception-neuron-displacement": .perceptionNeuron(displacement: true)
      case "unity-humanoid", "vmc": .unityHumanoid
      default: nil
      }
    }
  }

  /// Creates a session of `patient` doing `exerciseID` and returns it.
  func create(
    exerciseID: String, version: Int?, skeleton choice: SkeletonChoice, patient: String,
    therapist: String?, device: String?
  ) throws(APIError) -> LiveSession {
    let (exercise, exerciseVersion) = try library.exercise(id: exerciseID, version: version)
    let skeleton: Skeleton
    switch choice {
    case .reference:
      guard let clip = exercise.referenceClip else {
        throw .badRequest("exercise '\(exerciseID)' has no reference skeleton")
      }
      skeleton = clip.skeleton
    case .perceptionNeuron(let displacement):
      skeleton = DeviceRigs.perceptionNeuron(displacement: displacement)
    case .unityHumanoid:
      skeleton = DeviceRigs.unityHumanoid()
    case .bvh(let text):
      do {
        skeleton = try BVHReader().read(text: text, fileName: "session skeleton").skeleton
      } catch {
        throw .badRequest("skeleton: \(error)")
      }
    }
    if let device {
      guard !device.isEmpty, device.count <= 64 else {
        throw .badRequest("device must be 1–64 characters")
      }
      if let holder = live.withLock({ $0.values.first { $0.record.device == device } }) {
        throw .conflict("device '\(device)' is in use by open session \(holder.record.id)")
      }
    }
    let record = Store.SessionRecord(
      id: UUID().uuidString.lowercased(), patient: patient, therapist: therapist,
      exercise: exercise.id, exerciseVersion: exerciseVersion,
      skeleton: SessionSkeleton.encode(skeleton), device: device,
      created: Date().timeIntervalSince1970, finished: nil, summary: nil, rejected: "{}")
    let session: LiveSession
    do {
      session = try LiveSession(
        record: record, exercise: exercise, skeleton: skeleton,
        maximumFrameBytes: maximumFrameBytes)
    } catch {
      throw .badRequest("this skeleton cannot be scored: \(error)")
    }
    do {
      try store.addSession(record)
    } catch {
      throw .internal("\(error)")
    }
    live.withLock { $0[record.id] = session }
    logger.info(
      "session created",
      metadata: [
        "session": "\(record.id)", "exercise": "\(exercise.id)@\(exerciseVersion)",
        "patient": "\(patient)",
      ])
    return session
  }

  /// The stored record of session `id`.
  func record(_ id: String) throws(APIError) -> Store.SessionRecord {
    if let session = live.withLock({ $0[id] }) { return session.record }
    do {
      guard let record = try store.session(id: id) else {
        throw APIError.notFound("no session '\(id.prefix(64))'")
      }
      return record
    } catch let error as APIError {
      throw error
    } catch {
      throw .internal("\(error)")
    }
  }

  /// The open session `id`, loaded from the store (and its scorer rebuilt from its frames) if
  /// the server restarted since it was created.
  func liveSession(_ id: String) throws(APIError) -> LiveSession {
    if let session = live.withLock({ $0[id] }) { return session }
    let record = try record(id)
    guard record.finished == nil else {
      throw .conflict("session \(id) is finished; start a new one")
    }
    let session = try load(record)
    asleep.withLock { names in names = names.filter { $0.value != id } }
    return live.withLock { sessions in
      if let other = sessions[id] { return other }
      sessions[id] = session
      return session
    }
  }

  private func load(_ record: Store.SessionRecord) throws(APIError) -> LiveSession {
    let (exercise, _) = try library.exercise(id: record.exercise, version: record.exerciseVersion)
    do {
      let skeleton = try SessionSkeleton.decode(record.skeleton)
      let session = try LiveSession(
        record: record, exercise: exercise, skeleton: skeleton,
        maximumFrameBytes: maximumFrameBytes)
      session.replay(try store.frames(session: record.id))
      session.restoreRejected(record.storedRejected)
      return session
    } catch {
      throw .internal("session \(record.id) cannot be restored: \(error)")
    }
  }

  /// Loads every open session (at start-up, so devices find theirs and watchers can attach).
  func restoreOpenSessions() throws -> Int {
    let records = try store.openSessions()
    var restored = 0
    for record in records {
      do {
        _ = try liveSession(record.id)
        restored += 1
      } catch {
        logger.error(
          "cannot restore session", metadata: ["session": "\(record.id)", "error": "\(error)"])
      }
    }
    return restored
  }

  /// The open session bound to a device name (Axis Neuron avatar name, VMC), or whose id is
  /// the name; woken from the store if it was put to sleep.
  func session(forDevice name: String) -> LiveSession? {
    let found = live.withLock { sessions in
      sessions[name] ?? sessions.values.first { $0.record.device == name }
    }
    if let found { return found }
    guard let id = asleep.withLock({ $0[name] }) else { return nil }
    return try? liveSession(id)
  }

  /// Drops open sessions nobody has used for `timeout` from memory (they stay open in the
  /// store and come back, scorer rebuilt, when a frame or a client arrives). Returns how many.
  @discardableResult
  func sleepIdleSessions(timeout: Duration) -> Int {
    let cutoff = ContinuousClock.now - timeout
    let idle = live.withLock { sessions in
      let idle = sessions.values.filter { $0.isIdle(since: cutoff) }
      for session in idle { sessions[session.record.id] = nil }
      return idle
    }
    asleep.withLock { names in
      // Oldest first, so a device name shared by several ends at the newest session.
      for session in idle.sorted(by: { $0.record.created < $1.record.created }) {
        names[session.record.id] = session.record.id
        if let device = session.record.device { names[device] = session.record.id }
      }
    }
    return idle.count
  }

  var openSessionCount: Int { live.withLock { $0.count } }

  var connectedSessionCount: Int { live.withLock { $0.values.count(where: \.isConnected) } }

  // MARK: Frames

  /// Takes one JSON frame for `session`: scores it, queues it for storage, counts and logs a
  /// rejection.
  func take(json text: String, session: LiveSession) -> LiveSession.Outcome {
    let received = Date().timeIntervalSince1970
    return handle(session.take(json: text, received: received), session: session)
  }

  /// Takes one frame of channel values (Axis Neuron).
  func take(channels: [Float], time: Double, session: LiveSession) -> LiveSession.Outcome {
    let received = Date().timeIntervalSince1970
    return handle(
      session.take(channels: channels, seq: nil, time: time, received: received),
      session: session)
  }

  /// Takes one pose (VMC).
  func take(pose: Pose, time: Double, session: LiveSession) -> LiveSession.Outcome {
    let received = Date().timeIntervalSince1970
    return handle(
      session.take(pose: pose, seq: nil, time: time, received: received), session: session)
  }

  /// Counts and logs a frame rejected before it reached a session (no session, bad packet).
  func reject(_ rejection: FrameRejection, source: String, session: LiveSession? = nil) {
    metrics.framesReceived.increment()
    metrics.rejected(rejection.reason)
    if let session {
      session.countRejection(rejection.reason)
      writer.enqueueRejected(session: session.record.id, counts: session.rejectedJSON)
    }
    logger.info(
      "frame rejected",
      metadata: [
        "source": "\(source)", "session": "\(session?.record.id ?? "-")",
        "reason": "\(rejection.reason.rawValue)", "detail": "\(rejection.message)",
      ])
  }

  private func handle(_ outcome: LiveSession.Outcome, session: LiveSession) -> LiveSession.Outcome {
    metrics.framesReceived.increment()
    switch outcome {
    case .scored(_, let frame, let repetitions):
      for _ in repetitions { metrics.repetitions.increment() }
      writer.enqueue(
        frame, repetitions: repetitions.compactMap { r in r.json.map { (r.index, $0) } },
        session: session)
    case .rejected(let rejection):
      metrics.rejected(rejection.reason)
      writer.enqueueRejected(session: session.record.id, counts: session.rejectedJSON)
      logger.info(
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
  func finish(_ id: String) async throws(APIError) -> TakeResult {
    let session = try liveSession(id)
    let result = session.finish()
    await writer.flush()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      let summary = String(decoding: try encoder.encode(result), as: UTF8.self)
      let repetitions = try result.repetitions.map {
        (id, $0.index, String(decoding: try encoder.encode($0), as: UTF8.self))
      }
      try store.write(frames: [], repetitions: repetitions, rejected: [:])
      try store.finishSession(id: id, summary: summary, rejected: session.rejectedJSON)
    } catch {
      throw .internal("\(error)")
    }
    live.withLock { _ = $0.removeValue(forKey: id) }
    session.close()
    logger.info(
      "session finished",
      metadata: ["session": "\(id)", "repetitions": "\(result.repetitions.count)"])
    return result
  }

  /// The session's results so far: live from its scorer if open, else its stored summary.
  func result(_ record: Store.SessionRecord) throws(APIError) -> TakeResult? {
    if record.finished == nil, let session = live.withLock({ $0[record.id] }) {
      return session.result
    }
    guard let summary = record.summary else {
      return record.finished == nil ? try liveSession(record.id).result : nil
    }
    do {
      return try JSONDecoder().decode(TakeResult.self, from: Data(summary.utf8))
    } catch {
      throw .internal("stored summary of \(record.id) does not decode: \(error)")
    }
  }
}

/// How a session's skeleton is stored: a BVH file with one rest frame, preceded by one line
/// naming its length unit (`unit cm 0.01`), so it reads back in the unit it was declared in.
enum SessionSkeleton {
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
    guard stored.hasPrefix("unit "), let newline = stored.firstIndex(of: "\n") else {
      return stored
    }
    return String(stored[stored.index(after: newline)...])
  }
}
