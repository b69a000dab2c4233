import Foundation
import OnTrackFormats

/// An exercise as a therapist writes it: a JSON file in `Assets/exercises/` (see README,
/// "Exercise files"). Every field but `name` and `reference` has a default.
///
/// ```json
/// {
///   "name": "Deep squat",
///   "reference": "deep-squat.bvh",
///   "repetitions": 10,
///   "measures": [
///     { "measure": "leftKneeFlexion", "weight": 1, "tolerance": 12 },
///     { "measure": "trunkFlexion", "weight": 1, "tolerance": 10 }
///   ],
///   "keepStill": [ { "measure": "trunkLateralFlexion", "tolerance": 8 } ]
/// }
/// ```
public struct ExerciseDefinition: Codable, Sendable, Equatable {
  /// A short identifier (file-name safe); defaults to the file name.
  public var id: String?
  public var name: String
  public var description: String?
  /// The reference movement: a BVH file (path relative to the definition) holding one
  /// repetition performed well.
  public var reference: String
  /// Where the reference came from (attribution).
  public var source: String?
  /// Repetitions prescribed per set. Default 10.
  public var repetitions: Int?
  /// Seconds to hold the end position of each repetition. Default 0 (no hold).
  public var holdSeconds: Double?
  /// Accepted tempo: a repetition's duration divided by the reference's. Default 0.6…1.8.
  public var tempo: TempoRange?
  /// `"auto"` (default: unilateral if the reference moves one side much more than the other,
  /// and a patient working the other side is compared with the mirrored reference),
  /// `"bilateral"` (never mirror), `"left"` or `"right"` (the reference's working side).
  public var laterality: String?
  /// `"same"` (default): every repetition on one side; `"alternating"`: a one-sided exercise
  /// done left and right in turn (bird-dog), each repetition compared with the reference or
  /// its mirror image, whichever it is, and the sides counted and compared; `"either-first"`:
  /// a repetition works both sides in turn (side bends, trunk rotations, pelvis circles) and
  /// may start on either (circle either way): the take is compared with the reference or its
  /// mirror image, whichever its first repetition follows.
  public var sides: String?
  /// What is scored, each with a weight (default 1) and a tolerance in degrees (default 15).
  /// Default: every bone direction, weight 1.
  public var measures: [MeasureSpec]?
  /// Measures that should not move during the repetition (compensation checks); the
  /// tolerance (degrees, default 10) is how much more than the reference's own movement is
  /// accepted.
  public var keepStill: [StillSpec]?
  /// Alignment weight of the bones no measure involves (default 0.25): they still guide the
  /// time alignment a little.
  public var alignmentWeight: Double?
  /// Postures to hold through the repetition, checked on the absolute value of a measure (the
  /// trunk upright, the pelvis level): where posture is the point, not the movement.
  public var postures: [PostureSpec]?

  public struct TempoRange: Codable, Sendable, Equatable {
    public var minimumRatio: Double
    public var maximumRatio: Double
  }

  public struct MeasureSpec: Codable, Sendable, Equatable {
    /// A `BodyAngle` (`leftKneeFlexion`) or a `BodyBone` (`leftThigh`) name.
    public var measure: String
    /// `"relative"` (default): the patient's movement from their own starting posture is
    /// compared with the reference's from its own, so a sensor that puts joint centres
    /// elsewhere, or a body built differently, is not read as error; `"absolute"`: the values
    /// themselves are compared.
    public var compare: String?
    public var weight: Double?
    /// Accepted mean error at aligned instants, degrees.
    public var tolerance: Double?
    /// Accepted shortfall of the range of motion against the reference's, degrees (default:
    /// `tolerance`).
    public var rangeTolerance: Double?
    /// The exercise's own words for "move further than this" ("Lift your hips higher") and
    /// "not so far" ("Don't let your knees drop so far"), instead of the generic cue.
    public var more: String?
    public var less: String?
    /// Accepted *excess* range over the reference's, degrees: set it where going further is
    /// the fault (a pain-free range, a bridge that arches the back); by default more range is
    /// not penalised.
    public var overshootTolerance: Double?

    public init(
      measure: String, weight: Double? = nil, tolerance: Double? = nil,
      rangeTolerance: Double? = nil
    ) {
      self.measure = measure
      self.weight = weight
      self.tolerance = tolerance
      self.rangeTolerance = rangeTolerance
    }
  }

  /// A posture held through the repetition: `measure` stays within `tolerance` degrees of
  /// `target` (degrees; default: the reference's own mean value).
  public struct PostureSpec: Codable, Sendable, Equatable {
    public var measure: String
    public var target: Double?
    public var tolerance: Double?
    /// The exercise's own words when the posture is not held ("Lie flat on your back").
    public var cue: String?

    public init(measure: String, target: Double? = nil, tolerance: Double? = nil) {
      self.measure = measure
      self.target = target
      self.tolerance = tolerance
    }
  }

  public struct StillSpec: Codable, Sendable, Equatable {
    public var measure: String
    public var tolerance: Double?
    /// The exercise's own words when it moves ("Keep your head on the floor").
    public var cue: String?

    public init(measure: String, tolerance: Double? = nil) {
      self.measure = measure
      self.tolerance = tolerance
    }
  }

  public init(name: String, reference: String) {
    self.name = name
    self.reference = reference
  }

  /// Defaults applied when a field is missing.
  public enum Defaults {
    public static let repetitions = 10
    public static let tolerance = 15.0
    public static let stillTolerance = 10.0
    public static let postureTolerance = 15.0
    public static let weight = 1.0
    public static let alignmentWeight = 0.25
    public static let tempo = TempoRange(minimumRatio: 0.6, maximumRatio: 1.8)
  }
}

/// Why an exercise definition cannot be used; names the file and the field.
public struct ExerciseError: Error, Hashable, Sendable, CustomStringConvertible {
  public var file: String
  /// The offending field, as a path (`measures[2].tolerance`), if any.
  public var field: String?
  public var reason: String

  public init(file: String, field: String? = nil, reason: String) {
    self.file = file
    self.field = field
    self.reason = reason
  }

  public var description: String {
    if let field { return "\(file): \(field): \(reason)" }
    return "\(file): \(reason)"
  }
}

extension ExerciseDefinition {
  /// Decodes and checks a definition; every problem names the field.
  public static func decode(_ data: Data, file: String) throws(ExerciseError) -> ExerciseDefinition
  {
    let definition: ExerciseDefinition
    do {
      definition = try JSONDecoder().decode(ExerciseDefinition.self, from: data)
    } catch let error as DecodingError {
      throw ExerciseDefinition.describe(error, file: file)
    } catch {
      throw ExerciseError(file: file, reason: "not valid JSON (\(error))")
    }
    // Readers disagree on which of two values of one name counts (`JSONDuplicateKeys`).
    let repeated = data.withUnsafeBytes {
      JSONDuplicateKeys.first(in: $0.bindMemory(to: UInt8.self))
    }
    if let repeated {
      throw ExerciseError(file: file, reason: "ambiguous: \(repeated)")
    }
    try definition.validate(file: file)
    return definition
  }

  /// Checks ranges and names.
  public func validate(file: String) throws(ExerciseError) {
    if name.trimmingCharacters(in: .whitespaces).isEmpty {
      throw ExerciseError(file: file, field: "name", reason: "must not be empty")
    }
    if let repetitions, repetitions < 1 || repetitions > 1000 {
      throw ExerciseError(
        file: file, field: "repetitions", reason: "must be 1 to 1000, not \(repetitions)")
    }
    if let holdSeconds, !(holdSeconds >= 0 && holdSeconds <= 600) {
      throw ExerciseError(
        file: file, field: "holdSeconds", reason: "must be 0 to 600 seconds, not \(holdSeconds)")
    }
    if let tempo,
      !(tempo.minimumRatio > 0 && tempo.maximumRatio >= tempo.minimumRatio
        && tempo.maximumRatio <= 10)
    {
      throw ExerciseError(
        file: file, field: "tempo",
        reason:
          "needs 0 < minimumRatio ≤ maximumRatio ≤ 10, not \(tempo.minimumRatio)…\(tempo.maximumRatio)"
      )
    }
    if let laterality, !["auto", "bilateral", "left", "right"].contains(laterality) {
      throw ExerciseError(
        file: file, field: "laterality",
        reason: "'\(laterality)' is not one of auto, bilateral, left, right")
    }
    if let sides, !["same", "alternating", "either-first"].contains(sides) {
      throw ExerciseError(
        file: file, field: "sides",
        reason: "'\(sides)' is not one of same, alternating, either-first")
    }
    if sides == "either-first", laterality == "left" || laterality == "right" {
      throw ExerciseError(
        file: file, field: "sides",
        reason: "either-first is for exercises that work both sides (laterality bilateral or auto)")
    }
    if sides == "alternating", laterality == "bilateral" {
      throw ExerciseError(
        file: file, field: "sides",
        reason: "alternating sides need a one-sided reference (laterality left, right or auto)")
    }
    if let alignmentWeight, !(alignmentWeight >= 0 && alignmentWeight <= 10) {
      throw ExerciseError(file: file, field: "alignmentWeight", reason: "must be 0 to 10")
    }
    for (k, spec) in (measures ?? []).enumerated() {
      try Self.checkMeasure(spec.measure, file: file, field: "measures[\(k)].measure")
      if let w = spec.weight, !(w > 0 && w <= 100) {
        throw ExerciseError(
          file: file, field: "measures[\(k)].weight", reason: "must be > 0 and ≤ 100, not \(w)")
      }
      if let t = spec.tolerance, !(t > 0 && t <= 180) {
        throw ExerciseError(
          file: file, field: "measures[\(k)].tolerance",
          reason: "must be > 0 and ≤ 180 degrees, not \(t)")
      }
      if let t = spec.rangeTolerance, !(t > 0 && t <= 180) {
        throw ExerciseError(
          file: file, field: "measures[\(k)].rangeTolerance",
          reason: "must be > 0 and ≤ 180 degrees, not \(t)")
      }
    }
    if let measures, measures.isEmpty {
      throw ExerciseError(
        file: file, field: "measures", reason: "must list at least one measure (or be left out)")
    }
    for (k, spec) in (measures ?? []).enumerated() {
      if let compare = spec.compare, !["relative", "absolute"].contains(compare) {
        throw ExerciseError(
          file: file, field: "measures[\(k)].compare",
          reason: "'\(compare)' is not relative or absolute")
      }
    }
    for (k, spec) in (postures ?? []).enumerated() {
      try Self.checkMeasure(spec.measure, file: file, field: "postures[\(k)].measure")
      if let t = spec.tolerance, !(t > 0 && t <= 180) {
        throw ExerciseError(
          file: file, field: "postures[\(k)].tolerance",
          reason: "must be > 0 and ≤ 180 degrees, not \(t)")
      }
      if let t = spec.target, !(t >= -360 && t <= 360) {
        throw ExerciseError(
          file: file, field: "postures[\(k)].target", reason: "must be −360 to 360 degrees")
      }
    }
    for (k, spec) in (keepStill ?? []).enumerated() {
      try Self.checkMeasure(spec.measure, file: file, field: "keepStill[\(k)].measure")
      if let t = spec.tolerance, !(t > 0 && t <= 180) {
        throw ExerciseError(
          file: file, field: "keepStill[\(k)].tolerance",
          reason: "must be > 0 and ≤ 180 degrees, not \(t)")
      }
    }
  }

  static func checkMeasure(_ name: String, file: String, field: String) throws(ExerciseError) {
    guard BodyMeasure(name: name) == nil else { return }
    let known = (BodyAngle.allCases.map(\.rawValue) + BodyBone.allCases.map(\.rawValue))
      .joined(separator: ", ")
    throw ExerciseError(
      file: file, field: field, reason: "unknown measure '\(name)' (known: \(known))")
  }

  static func describe(_ error: DecodingError, file: String) -> ExerciseError {
    func path(_ keys: [any CodingKey]) -> String {
      var text = ""
      for key in keys {
        if let index = key.intValue {
          text += "[\(index)]"
        } else {
          text += (text.isEmpty ? "" : ".") + key.stringValue
        }
      }
      return text
    }
    switch error {
    case .keyNotFound(let key, let context):
      let parent = path(context.codingPath)
      return ExerciseError(
        file: file, field: parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)",
        reason: "is required")
    case .typeMismatch(let type, let context):
      return ExerciseError(
        file: file, field: path(context.codingPath),
        reason: "expected \(type) (\(context.debugDescription))")
    case .valueNotFound(let type, let context):
      return ExerciseError(
        file: file, field: path(context.codingPath), reason: "expected \(type), found null")
    case .dataCorrupted(let context):
      return ExerciseError(
        file: file, field: context.codingPath.isEmpty ? nil : path(context.codingPath),
        reason: "not valid JSON: \(context.debugDescription)")
    @unknown default:
      return ExerciseError(file: file, reason: "\(error)")
    }
  }
}
