/// How one repetition went, in degrees and seconds, with a 0–100 score and plain-word cues.
public struct RepetitionResult: Codable, Sendable, Equatable {
  /// 1-based.
  public var index: Int
  /// Seconds from the start of the take.
  public var startTime: Double
  public var endTime: Double
  /// 0–100: `100 · 0.7^(N²)` where N² combines the normalised errors (see `RepetitionScorer`).
  public var score: Double
  /// True if the take was compared with the mirrored reference (the other side worked).
  public var mirrored: Bool
  public var measures: [MeasureResult]
  public var compensations: [CompensationResult]
  /// Postures held (or not) through the repetition (`nil` in results from before postures).
  public var postures: [PostureResult]?
  /// Repetition duration ÷ reference duration (2 = twice as slow).
  public var tempoRatio: Double
  /// Plain-word feedback, most important first.
  public var cues: [Cue]
  /// Mean squared alignment cost per reference frame.
  public var alignmentCost: Double
  /// Measures (on the patient's side) left out because the sensor did not see a landmark
  /// they need in more than `RepetitionScorer.unseenLimit` of the repetition: not scored, not
  /// cued (`nil`: every measure was seen).
  public var unseen: [String]? = nil
  /// True when none of the exercise's measures was seen: the repetition was counted but could
  /// not be measured, and its `score` (0) is not a judgement; summaries leave it out.
  public var unmeasured: Bool? = nil
  /// For an exercise with a hold: how much of it was held (`nil` otherwise).
  public var hold: HoldResult? = nil

  /// Whether the score says something about the movement.
  public var isMeasured: Bool { unmeasured != true }

  public struct MeasureResult: Codable, Sendable, Equatable {
    public var measure: String
    /// Mean aligned error, degrees (angle between bone directions, or |angle difference|).
    public var error: Double
    /// Mean signed difference patient − reference, degrees (angles only; 0 for bones).
    public var signedError: Double
    /// Tolerance, degrees.
    public var tolerance: Double
    /// error ÷ tolerance.
    public var normalizedError: Double
    /// How much less range of motion than the reference's, degrees (0 if as much or more).
    public var rangeDeficit: Double
    /// Accepted range deficit, degrees.
    public var rangeTolerance: Double
    /// rangeDeficit ÷ rangeTolerance.
    public var normalizedRangeDeficit: Double
    /// Range of motion reached (excursion from the start of the repetition), degrees.
    public var rangeOfMotion: Double
    /// The reference's range of motion, degrees.
    public var referenceRangeOfMotion: Double
    public var weight: Double
    /// The sensor noise estimated on this measure (patient and reference, after filtering),
    /// degrees: the tolerance was widened by it (`nil` in results from before it was).
    public var noise: Double?
  }

  /// The hold at the end position: only time within tolerance of the reference's held
  /// posture counts.
  public struct HoldResult: Codable, Sendable, Equatable {
    /// Seconds asked (`holdSeconds`).
    public var target: Double
    /// Seconds held within tolerance.
    public var held: Double
    /// held ÷ target, at most 1.
    public var share: Double
  }

  public struct PostureResult: Codable, Sendable, Equatable {
    public var measure: String
    /// Mean deviation from the posture to hold, degrees.
    public var deviation: Double
    /// Mean signed deviation (value − target), degrees (angles; 0 for bones).
    public var signedDeviation: Double
    /// Accepted deviation, degrees.
    public var tolerance: Double
    /// max(0, deviation − tolerance) ÷ (tolerance / 2).
    public var normalizedExcess: Double
  }

  public struct CompensationResult: Codable, Sendable, Equatable {
    public var measure: String
    /// How far the measure moved during the repetition, degrees.
    public var movement: Double
    /// How far it moves in the reference, degrees.
    public var referenceMovement: Double
    public var tolerance: Double
    /// max(0, movement − referenceMovement) ÷ tolerance.
    public var normalizedExcess: Double
  }
}

/// One piece of feedback for the patient.
public struct Cue: Codable, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Codable, Sendable {
    case position, range, compensation, posture, tempo, hold, praise
    /// Counted, not scored: the sensor did not show what the exercise measures.
    case unseen
  }

  public var kind: Kind
  /// The words to show or say: "Bend your right knee more".
  public var text: String
  /// The measure it concerns, if any.
  public var measure: String?
  /// How much it weighs in the score (its share of N²).
  public var severity: Double

  public var description: String { text }
}
