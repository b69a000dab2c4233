import Foundation
import OnTrackScoring

// The bodies of the HTTP API (`/v1/…`), shared by the server, its clients and the tests. The
// README's endpoint table says who may call what.

/// Who may do what. A *therapist* manages their own exercises and patients and reads their
/// patients' sessions; a *patient* streams to and reads only their own sessions; a clinic
/// *admin* may also change the bundled library and any therapist's exercise.
public enum Role: String, Sendable, Codable, CaseIterable {
  case therapist, patient, admin
}

/// `POST /v1/sessions`.
public struct CreateSessionRequest: Codable, Sendable {
  public var exercise: String
  public var version: Int?
  /// `reference` (default), `perception-neuron`, `perception-neuron-displacement`,
  /// `unity-humanoid`, or `keypoints` / `keypoints:LAYOUT` (`KeypointLayout` ids, e.g.
  /// `keypoints:blazepose33`) for keypoint frames solved onto the canonical skeleton.
  public var skeleton: String?
  /// A BVH file declaring the skeleton instead.
  public var skeletonBVH: String?
  /// For a therapist: the patient the session is for (default: the therapist, to record a
  /// reference).
  public var patient: String?
  /// The programme this session is a set of (`/v1/programmes`), if any.
  public var programme: String?
  /// A key the client makes once per session it means to create (8–64 letters, digits, `-`,
  /// `_`): creating again with the same key answers the session already made (200) instead of
  /// a new one, so an upload repeated after a lost answer makes no duplicate.
  public var clientKey: String?

  public init(
    exercise: String, version: Int? = nil, skeleton: String? = nil, skeletonBVH: String? = nil,
    patient: String? = nil, programme: String? = nil, clientKey: String? = nil
  ) {
    self.exercise = exercise
    self.version = version
    self.skeleton = skeleton
    self.skeletonBVH = skeletonBVH
    self.patient = patient
    self.programme = programme
    self.clientKey = clientKey
  }
}

/// A session as the API shows it.
public struct SessionView: Codable, Sendable {
  public var id: String
  public var patient: String
  public var therapist: String?
  public var exercise: String
  public var exerciseVersion: Int
  public var created: Double
  public var finished: Double?
  public var open: Bool
  /// Frames stored (the detail view only).
  public var frames: Int?
  public var lastSeq: Int?
  public var durableSeq: Int?
  public var repetitions: Int
  public var meanScore: Double?
  public var rejected: [String: Int]
  public var stream: String
  public var watch: String
  /// The programme the session belongs to, if any.
  public var programme: String?

  public init(
    id: String, patient: String, therapist: String?, exercise: String, exerciseVersion: Int,
    created: Double, finished: Double?, open: Bool, frames: Int?, lastSeq: Int?,
    durableSeq: Int?, repetitions: Int, meanScore: Double?, rejected: [String: Int],
    programme: String? = nil
  ) {
    self.programme = programme
    self.id = id
    self.patient = patient
    self.therapist = therapist
    self.exercise = exercise
    self.exerciseVersion = exerciseVersion
    self.created = created
    self.finished = finished
    self.open = open
    self.frames = frames
    self.lastSeq = lastSeq
    self.durableSeq = durableSeq
    self.repetitions = repetitions
    self.meanScore = meanScore
    self.rejected = rejected
    stream = "/v1/sessions/\(id)/stream"
    watch = "/v1/sessions/\(id)/watch"
  }
}

/// `POST /v1/sessions/{id}/pairing`: a short-lived code that pairs one device connection (an
/// Axis Neuron avatar named with the code, or a VMC sender that sends `/OnTrack/Pair s:CODE`)
/// with the session.
public struct PairingCode: Codable, Sendable {
  public var code: String
  /// Seconds since 1970 after which the code no longer pairs.
  public var expires: Double

  public init(code: String, expires: Double) {
    self.code = code
    self.expires = expires
  }
}

/// `POST /v1/tokens`.
public struct TokenRequest: Codable, Sendable {
  public var name: String
  /// Seconds the token stays valid; none: until revoked.
  public var ttl: Double?

  public init(name: String, ttl: Double? = nil) {
    self.name = name
    self.ttl = ttl
  }
}

/// A token just issued: the only time it is shown.
public struct TokenResponse: Codable, Sendable {
  public var token: String
  /// The token's public id, for listing and revoking it.
  public var id: String
  public var role: Role
  public var name: String
  public var therapist: String?
  public var expires: Double?

  public init(
    token: String, id: String, role: Role, name: String, therapist: String?, expires: Double?
  ) {
    self.token = token
    self.id = id
    self.role = role
    self.name = name
    self.therapist = therapist
    self.expires = expires
  }
}

/// A token as it is listed: never the token itself, only its id.
public struct TokenListing: Sendable, Equatable, Codable {
  public var id: String
  public var role: Role
  public var name: String
  public var therapist: String?
  /// Seconds since 1970.
  public var created: Double
  public var revoked: Double?
  public var expires: Double?

  public init(
    id: String, role: Role, name: String, therapist: String?, created: Double,
    revoked: Double?, expires: Double?
  ) {
    self.id = id
    self.role = role
    self.name = name
    self.therapist = therapist
    self.created = created
    self.revoked = revoked
    self.expires = expires
  }
}

/// One exercise as listed.
public struct ExerciseSummary: Codable, Sendable {
  public var id: String
  public var version: Int
  public var versions: [Int]
  public var name: String
  public var description: String?
  public var repetitions: Int
  public var created: Double
  /// The therapist who owns it; `nil` for the bundled library.
  public var owner: String?

  public init(
    id: String, version: Int, versions: [Int], name: String, description: String?,
    repetitions: Int, created: Double, owner: String?
  ) {
    self.id = id
    self.version = version
    self.versions = versions
    self.name = name
    self.description = description
    self.repetitions = repetitions
    self.created = created
    self.owner = owner
  }
}

/// One exercise version in full.
public struct ExerciseDetail: Codable, Sendable {
  public var id: String
  public var version: Int
  public var versions: [Int]
  public var definition: ExerciseDefinition
  public var referenceFrames: Int
  public var referenceDuration: Double
  public var created: Double
  public var owner: String?

  public init(
    id: String, version: Int, versions: [Int], definition: ExerciseDefinition,
    referenceFrames: Int, referenceDuration: Double, created: Double, owner: String?
  ) {
    self.id = id
    self.version = version
    self.versions = versions
    self.definition = definition
    self.referenceFrames = referenceFrames
    self.referenceDuration = referenceDuration
    self.created = created
    self.owner = owner
  }
}

/// The body of `POST`/`PUT /v1/exercises`: a definition and its reference, either as BVH text
/// or cut from a recorded session between two times (seconds from its first frame).
public struct ExerciseUpload: Codable, Sendable {
  /// The definition as sent; its `reference` file name may be left out.
  public var definition: JSONValue
  public var reference: String?
  public var fromSession: String?
  public var trim: [Double]?

  public init(
    definition: JSONValue, reference: String? = nil, fromSession: String? = nil,
    trim: [Double]? = nil
  ) {
    self.definition = definition
    self.reference = reference
    self.fromSession = fromSession
    self.trim = trim
  }
}

extension ExerciseUpload {
  /// Why an upload's definition is not one.
  public struct InvalidDefinition: Error, CustomStringConvertible {
    public var description: String
  }

  /// The upload's definition, checked as a definition file is (`ExerciseDefinition.decode`);
  /// its `reference` file name may be left out (the server names the stored reference itself).
  public func decodedDefinition() throws -> ExerciseDefinition {
    guard case .object(var fields) = definition else {
      throw InvalidDefinition(description: "definition must be a JSON object")
    }
    if fields["reference"] == nil { fields["reference"] = .string("reference.bvh") }
    let data = try JSONEncoder().encode(JSONValue.object(fields))
    return try ExerciseDefinition.decode(data, file: "definition")
  }
}

/// An exercise stored: its id and the version made.
public struct ExerciseCreated: Codable, Sendable {
  public var id: String
  public var version: Int

  public init(id: String, version: Int) {
    self.id = id
    self.version = version
  }
}

/// `GET /health`.
public struct HealthStatus: Codable, Sendable {
  public var status: String
  /// Sessions in memory with a scorer.
  public var openSessions: Int
  public var connectedSessions: Int
  public var exercises: Int
  /// False while frames cannot be written (acknowledgements pause).
  public var storageWritable: Bool

  public init(
    status: String, openSessions: Int, connectedSessions: Int, exercises: Int,
    storageWritable: Bool
  ) {
    self.status = status
    self.openSessions = openSessions
    self.connectedSessions = connectedSessions
    self.exercises = exercises
    self.storageWritable = storageWritable
  }
}

/// Every error the API returns: `{"error": {"message": "…"}}` with the HTTP status.
public struct ErrorResponse: Codable, Sendable {
  public struct Detail: Codable, Sendable {
    public var message: String
  }
  public var error: Detail

  public init(message: String) {
    error = Detail(message: message)
  }
}
