import Foundation
import OnTrackFormats
import OnTrackScoring

/// Every message the server sends on a session's WebSocket (`/stream` and `/watch`), one JSON
/// object each, told apart by `type`:
///
/// | type | when | payload |
/// |---|---|---|
/// | `session` | first, on connecting | `SessionHello` |
/// | `frame` | every scored frame | `FrameResult` (`/watch` adds the pose's channel values and joint positions) |
/// | `repetition` | a repetition completed | `{"result": RepetitionResult}` |
/// | `rejected` | a frame was not taken | `Rejection` |
/// | `ack` | frames up to `seq` are on disk | `{"seq": N}` |
/// | `notice` | something the client should know (storage trouble, another connection took over) | `Notice` |
/// | `finished` | the session ended (`/watch`) | `{"session": ID}` |
///
/// The server writes the per-frame message with `FrameResult.appendJSON` (no encoder, no
/// dictionary); it decodes as this type like every other message (tested).
public enum ServerMessage: Codable, Sendable, Equatable {
  case session(SessionHello)
  case frame(FrameResult)
  case repetition(RepetitionResult)
  case rejected(Rejection)
  case ack(seq: Int)
  case notice(Notice)
  case finished(session: String)

  /// The `type` field of each case.
  public enum Kind: String, Codable, Sendable {
    case session, frame, repetition, rejected, ack, notice, finished
  }

  public var kind: Kind {
    switch self {
    case .session: .session
    case .frame: .frame
    case .repetition: .repetition
    case .rejected: .rejected
    case .ack: .ack
    case .notice: .notice
    case .finished: .finished
    }
  }

  private enum Keys: String, CodingKey {
    case type, result, seq, session
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Keys.self)
    switch try container.decode(Kind.self, forKey: .type) {
    case .session: self = .session(try SessionHello(from: decoder))
    case .frame: self = .frame(try FrameResult(from: decoder))
    case .repetition:
      self = .repetition(try container.decode(RepetitionResult.self, forKey: .result))
    case .rejected: self = .rejected(try Rejection(from: decoder))
    case .ack: self = .ack(seq: try container.decode(Int.self, forKey: .seq))
    case .notice: self = .notice(try Notice(from: decoder))
    case .finished: self = .finished(session: try container.decode(String.self, forKey: .session))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Keys.self)
    try container.encode(kind, forKey: .type)
    switch self {
    case .session(let hello): try hello.encode(to: encoder)
    case .frame(let frame): try frame.encode(to: encoder)
    case .repetition(let result): try container.encode(result, forKey: .result)
    case .rejected(let rejection): try rejection.encode(to: encoder)
    case .ack(let seq): try container.encode(seq, forKey: .seq)
    case .notice(let notice): try notice.encode(to: encoder)
    case .finished(let session): try container.encode(session, forKey: .session)
    }
  }

  /// The message as one line of JSON (sorted keys).
  public var json: String {
    // The commonest message after `frame`, a few a second on every stream: no encoder.
    if case .ack(let seq) = self { return #"{"seq":"# + String(seq) + #","type":"ack"}"# }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) }
      ?? #"{"type":"notice","code":"unencodable","message":"a message could not be encoded"}"#
  }

  /// Reads one message.
  public static func decode(_ text: String) throws -> ServerMessage {
    try JSONDecoder().decode(ServerMessage.self, from: Data(text.utf8))
  }
}

/// What a client hears first: the session, its skeleton (BVH), and how far the server got, so a
/// reconnecting client resends everything after `lastSeq`.
public struct SessionHello: Codable, Sendable, Equatable {
  public var session: String
  public var patient: String
  public var exercise: String
  public var exerciseVersion: Int
  /// The session skeleton: a BVH file with one rest frame.
  public var skeleton: String
  /// Channel values per `values` frame.
  public var channels: Int
  /// The last frame taken (scored and queued for storage); −1 before the first.
  public var lastSeq: Int
  /// The last frame stored durably; −1 before the first.
  public var durableSeq: Int
  public var repetitions: Int
  /// The skeleton's joint names and each one's parent index (−1 for the root), so a viewer
  /// can draw `FrameResult.positions` without reading the BVH.
  public var joints: [String]?
  public var parents: [Int]?
  /// The time of the last frame taken (`lastSeq`), seconds of the session's clock; absent
  /// before the first. A client resuming on a clock that started again may continue from it
  /// (the server otherwise moves that connection's clock on itself: `Notice.Code.clockRebased`).
  public var lastTime: Double?

  public init(
    session: String, patient: String, exercise: String, exerciseVersion: Int, skeleton: String,
    channels: Int, lastSeq: Int, durableSeq: Int, repetitions: Int, joints: [String]? = nil,
    parents: [Int]? = nil, lastTime: Double? = nil
  ) {
    self.joints = joints
    self.parents = parents
    self.lastTime = lastTime
    self.session = session
    self.patient = patient
    self.exercise = exercise
    self.exerciseVersion = exerciseVersion
    self.skeleton = skeleton
    self.channels = channels
    self.lastSeq = lastSeq
    self.durableSeq = durableSeq
    self.repetitions = repetitions
  }
}

/// The answer to one scored frame: where the patient is in the repetition and how far each
/// measured body part is off.
public struct FrameResult: Codable, Sendable, Equatable {
  public var seq: Int
  /// The frame's time, seconds of the stream's clock.
  public var t: Double
  /// Share of the reference repetition reached, 0…1.
  public var progress: Double
  /// Repetitions completed so far.
  public var repetitions: Int
  /// Current error of each measured bone against the reference, degrees (`BoneFeature` names).
  public var errors: [String: Double]
  /// The same as a share of the bone's tolerance (1 = at the tolerance), for colouring.
  public var severity: [String: Double]
  /// The pose as the session skeleton's channel values (`/watch` only).
  public var values: [Float]?
  /// Each joint's world position, x y z in metres (Y up), in `SessionHello.joints` order
  /// (`/watch` only).
  public var positions: [Float]?
  /// For the answer to a batch (`StreamFrameBatch`): how many of its frames were taken (this
  /// message is the last one's); absent when the message held one frame.
  public var taken: Int?

  public init(
    seq: Int, t: Double, progress: Double, repetitions: Int, errors: [String: Double],
    severity: [String: Double], values: [Float]? = nil, positions: [Float]? = nil,
    taken: Int? = nil
  ) {
    self.positions = positions
    self.taken = taken
    self.seq = seq
    self.t = t
    self.progress = progress
    self.repetitions = repetitions
    self.errors = errors
    self.severity = severity
    self.values = values
  }

  /// Writes the `frame` message for these numbers without an encoder: the per-frame hot path.
  /// `names[k]` is written for bone `k` where `measured[k]`; errors to 0.1°, severities to
  /// 0.01, values to 0.001.
  public static func appendJSON(
    seq: Int, time: Double, progress: Double, repetitions: Int, names: [String],
    measured: [Bool], errors: [Float], severity: [Float], values: [Float]?,
    positions: [Float]? = nil, taken: Int? = nil, to out: inout [UInt8]
  ) {
    out.append(contentsOf: #"{"type":"frame","seq":"#.utf8)
    out.append(contentsOf: String(seq).utf8)
    out.append(contentsOf: #","t":"#.utf8)
    NumberFormatting.appendShortest(time, to: &out)
    out.append(contentsOf: #","progress":"#.utf8)
    NumberFormatting.appendFixed(progress, decimals: 3, to: &out)
    out.append(contentsOf: #","repetitions":"#.utf8)
    out.append(contentsOf: String(repetitions).utf8)
    for (key, numbers, decimals) in [
      (#","errors":{"#, errors, 1), (#"},"severity":{"#, severity, 2),
    ] {
      out.append(contentsOf: key.utf8)
      var first = true
      for k in names.indices where measured[k] {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: names[k].utf8)
        out.append(contentsOf: #"":"#.utf8)
        NumberFormatting.appendFixed(Double(numbers[k]), decimals: decimals, to: &out)
      }
    }
    out.append(UInt8(ascii: "}"))
    if let values {
      out.append(contentsOf: #","values":["#.utf8)
      for (k, v) in values.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        NumberFormatting.appendFixed(Double(v), decimals: 3, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    }
    if let positions {
      out.append(contentsOf: #","positions":["#.utf8)
      for (k, v) in positions.enumerated() {
        if k > 0 { out.append(UInt8(ascii: ",")) }
        NumberFormatting.appendFixed(Double(v), decimals: 4, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    }
    if let taken {
      out.append(contentsOf: #","taken":"#.utf8)
      out.append(contentsOf: String(taken).utf8)
    }
    out.append(UInt8(ascii: "}"))
  }
}

/// A frame that was not taken, with the reason to count and the words to show.
public struct Rejection: Codable, Sendable, Equatable, Error {
  public var seq: Int?
  public var reason: RejectionReason
  public var message: String

  public init(reason: RejectionReason, message: String, seq: Int? = nil) {
    self.reason = reason
    self.message = message
    self.seq = seq
  }
}

/// Why a frame was not taken. The last three are the server's, not the frame's: the client
/// keeps such frames and sends them again later.
public enum RejectionReason: String, Sendable, CaseIterable, Codable {
  case malformed
  case oversized
  case outOfOrder = "out_of_order"
  case nonFinite = "non_finite"
  case unknownJoint = "unknown_joint"
  case wrongValueCount = "wrong_value_count"
  case noSession = "no_session"
  case notAllowed = "not_allowed"
  /// More frames a second than the session's cap.
  case rateLimited = "rate_limited"
  /// The server's disk is below its free-space floor.
  case storageFull = "storage_full"
  /// Frames cannot be written right now (the database is locked or failing) and the queue of
  /// unwritten frames is full.
  case storageUnavailable = "storage_unavailable"
  /// A keypoints frame in another layout than the session's.
  case layoutMismatch = "layout_mismatch"
  /// Not a frame rejection: keypoints whose distance from their neighbour no body could have
  /// (a mis-detection), left out of the solve and counted.
  case implausibleKeypoint = "implausible_keypoint"

  /// True if the same frame may be taken when sent again later.
  public var isRetryable: Bool {
    switch self {
    case .rateLimited, .storageFull, .storageUnavailable: true
    default: false
    }
  }
}

/// Something a connected client should know that is not about one frame.
public struct Notice: Codable, Sendable, Equatable {
  public var code: Code
  public var message: String

  public enum Code: String, Codable, Sendable {
    /// Frames cannot be stored at the moment; acknowledgements pause until they can.
    case storageUnavailable = "storage_unavailable"
    /// Storage works again; acknowledgements resume.
    case storageRestored = "storage_restored"
    /// Another connection took over this session's stream; this one closes.
    case replaced
    case unencodable
    /// The connection's first new frame was not after the session's last: its clock is taken
    /// to have started again, and its frame times are moved on to continue the session's.
    case clockRebased = "clock_rebased"
    /// The keypoints' unit, as their layout gives it, made a body five times too large or
    /// small: the unit the body's size tells is taken instead (once per session).
    case unitCorrected = "unit_corrected"
    /// Keypoints in a layout whose axes are assumed (`named`: y up) came upside down: they
    /// are read with y down, as a camera's frame (once per session).
    case turnedUpright = "turned_upright"
    /// A part of the body the exercise measures has not been seen for a while; the message
    /// says which, in the patient's words (`StreamingScorer.cannotSee`). Told again when what
    /// is unseen changes.
    case notSeen = "not_seen"
    /// What `not_seen` told of is seen again (the patient back in the picture: each part
    /// then has a while to be found before it is told of).
    case seenAgain = "seen_again"
  }

  public init(code: Code, message: String) {
    self.code = code
    self.message = message
  }
}
