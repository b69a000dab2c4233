import Foundation
import OnTrackProtocol

/// A bearer token's holder, as stored under the token's SHA-256.
public struct TokenRecord: Sendable, Equatable {
  public var role: Role
  public var name: String
  /// For a patient: the therapist who looks after them.
  public var therapist: String?
  /// When the token was revoked (seconds since 1970); `nil` while it is valid.
  public var revoked: Double?
  /// When the token stops working (seconds since 1970); `nil`: never.
  public var expires: Double?

  public init(
    role: Role, name: String, therapist: String?, revoked: Double? = nil, expires: Double? = nil
  ) {
    self.role = role
    self.name = name
    self.therapist = therapist
    self.revoked = revoked
    self.expires = expires
  }
}

/// One version of an exercise: its definition (JSON) and reference movement (BVH).
public struct ExerciseRecord: Sendable, Equatable {
  public var id: String
  public var version: Int
  public var definition: String
  public var reference: String
  public var created: Double
  public var deleted: Bool
  /// The therapist who owns the exercise; `nil` for the bundled library.
  public var owner: String?

  public init(
    id: String, version: Int, definition: String, reference: String, created: Double,
    deleted: Bool, owner: String?
  ) {
    self.id = id
    self.version = version
    self.definition = definition
    self.reference = reference
    self.created = created
    self.deleted = deleted
    self.owner = owner
  }
}

/// A session as stored.
public struct SessionRecord: Sendable, Codable, Equatable {
  public var id: String
  public var patient: String
  public var therapist: String?
  public var exercise: String
  public var exerciseVersion: Int
  /// The session skeleton (`SessionSkeleton.encode`).
  public var skeleton: String
  public var created: Double
  public var finished: Double?
  /// The `TakeResult` as JSON once finished.
  public var summary: String?
  /// Rejected frames by reason, as JSON (`{"malformed": 2}`).
  public var rejected: String
  /// The programme the session is a set of.
  public var programme: String?
  /// The key the client created it under (one session per patient and key).
  public var clientKey: String?

  public init(
    id: String, patient: String, therapist: String?, exercise: String, exerciseVersion: Int,
    skeleton: String, created: Double, finished: Double? = nil, summary: String? = nil,
    rejected: String = "{}", programme: String? = nil, clientKey: String? = nil
  ) {
    self.programme = programme
    self.clientKey = clientKey
    self.id = id
    self.patient = patient
    self.therapist = therapist
    self.exercise = exercise
    self.exerciseVersion = exerciseVersion
    self.skeleton = skeleton
    self.created = created
    self.finished = finished
    self.summary = summary
    self.rejected = rejected
  }

  /// `rejected` decoded (empty if it does not decode).
  public var storedRejected: [String: Int] {
    (try? JSONDecoder().decode([String: Int].self, from: Data(rejected.utf8))) ?? [:]
  }
}

/// A session with the repetitions stored for it so far, as lists show it.
public struct SessionListing: Sendable, Equatable {
  public var record: SessionRecord
  public var repetitions: Int
  public var meanScore: Double?

  public init(record: SessionRecord, repetitions: Int, meanScore: Double?) {
    self.record = record
    self.repetitions = repetitions
    self.meanScore = meanScore
  }
}

/// One frame as stored: channel values (the session skeleton's channel order, degrees and
/// its length unit) as little-endian Float32.
public struct StoredFrame: Sendable, Equatable {
  public var session: String
  public var seq: Int
  public var time: Double
  public var received: Double
  public var channels: [Float]

  public init(session: String, seq: Int, time: Double, received: Double, channels: [Float]) {
    self.session = session
    self.seq = seq
    self.time = time
    self.received = received
    self.channels = channels
  }
}

/// A repetition result as stored: its score (`nil` for a repetition the sensor could not
/// measure, left out of means), and the whole `RepetitionResult` as JSON.
public struct StoredRepetition: Sendable, Equatable {
  public var session: String
  public var index: Int
  public var score: Double?
  public var result: String

  public init(session: String, index: Int, score: Double?, result: String) {
    self.session = session
    self.index = index
    self.score = score
    self.result = result
  }
}

/// What one group commit writes: frames, completed repetitions, and sessions' rejection counts
/// (JSON by session id). All of it or none of it is stored.
public struct FrameBatch: Sendable {
  public var frames: [StoredFrame] = []
  public var repetitions: [StoredRepetition] = []
  public var rejected: [String: String] = [:]

  public init(
    frames: [StoredFrame] = [], repetitions: [StoredRepetition] = [],
    rejected: [String: String] = [:]
  ) {
    self.frames = frames
    self.repetitions = repetitions
    self.rejected = rejected
  }

  public var isEmpty: Bool { frames.isEmpty && repetitions.isEmpty && rejected.isEmpty }

  /// Appends `other` after this batch's contents (its rejection counts are newer).
  public mutating func append(_ other: FrameBatch) {
    frames.append(contentsOf: other.frames)
    repetitions.append(contentsOf: other.repetitions)
    rejected.merge(other.rejected) { _, newer in newer }
  }
}

/// One version of a programme: its definition (`ProgrammeDefinition` as JSON), who made it and
/// for whom.
public struct ProgrammeRecord: Sendable, Equatable {
  public var id: String
  public var version: Int
  public var therapist: String
  public var patient: String
  public var definition: String
  public var created: Double

  public init(
    id: String, version: Int, therapist: String, patient: String, definition: String,
    created: Double
  ) {
    self.id = id
    self.version = version
    self.therapist = therapist
    self.patient = patient
    self.definition = definition
    self.created = created
  }
}

/// A day of a programme as stored: the client's record and whose it is.
public struct ProgrammeDayRecord: Sendable, Equatable {
  public var programme: String
  public var patient: String
  public var day: ProgrammeDay

  public init(programme: String, patient: String, day: ProgrammeDay) {
    self.programme = programme
    self.patient = patient
    self.day = day
  }
}
