import Foundation
import OnTrackKinematics

/// Scores one repetition against an exercise's reference.
///
/// 1. Time alignment: banded multivariate DTW on the weighted bone directions
///    (`Exercise.boneWeights`), radius a quarter of the reference widened by the length
///    difference, so a slower patient is aligned, not punished.
/// 2. Per measure, the error at aligned instants, averaged per *reference* frame (each
///    reference instant counts once however long the patient lingered): the angle between
///    bone directions, or the absolute angle difference. Range of motion: each angle's largest
///    excursion from its value at the start of the repetition, compared with the reference's.
/// 3. `e_m = error / tolerance` and `r_m = range deficit / range tolerance` per measure;
///    compensation `c_k = max(0, movement − reference movement) / tolerance`; tempo `t` grows
///    by 1 for every 50 % outside the accepted tempo range.
/// 4. `N² = Σ w (e² + r²) / Σ w + Σ c² + t²` and `score = 100 · 0.7^(N²)`: 100 for a perfect
///    copy, 70 when the errors average one tolerance, 24 at two.
/// 5. Cues: the largest terms over their tolerance, in words; with none, praise if the score is
///    at least `praiseScore`, else the largest term under its tolerance.
public struct RepetitionScorer: Sendable {
  /// The score a repetition needs to be praised when no single error is over its tolerance.
  public static let praiseScore = 70.0

  public let exercise: Exercise
  private var dtw = DynamicTimeWarping()
  private var referenceRows: DTWMatrix { exercise.referenceRows }

  public init(exercise: Exercise) {
    self.exercise = exercise
  }

  /// The DTW band radius for a repetition of `n` frames against the reference.
  public var bandRadius: Int { max(4, exercise.reference.count / 4) }

  /// Scores frames `range` of `take` (body features at the exercise's frame rate) as one
  /// repetition; `mirrored` says the take's features were mirrored to the reference's side.
  ///
  /// Times: frame f of `take` is at `timeOffset + (frameOffset + f) · frameTime` seconds.
  public mutating func score(
    _ take: FeatureSequence, frames range: Range<Int>, index: Int = 1, timeOffset: Double = 0,
    frameOffset: Int = 0, mirrored: Bool = false
  ) -> RepetitionResult {
    let rows = exercise.alignmentMatrix(take, frames: range)
    let reference = exercise.reference
    let m = reference.count
    let n = range.count
    let (path, cost) = dtw.align(rows, aRows: n, referenceRows, bRows: m, radius: bandRadius)
    let degrees = 180 / Double.pi
    // Patient frames aligned with each reference frame.
    var firstMatch = [Int](repeating: 0, count: m)
    var matchCount = [Int](repeating: 0, count: m)
    var order: [Int] = []
    order.reserveCapacity(path.count)
    for (i, j) in path {
      if matchCount[j] == 0 { firstMatch[j] = order.count }
      matchCount[j] += 1
      order.append(i + range.lowerBound)
    }
    func alignedMean(_ value: (Int, Int) -> Double) -> Double {
      var total = 0.0
      for j in 0..<m where matchCount[j] > 0 {
        var sum = 0.0
        for k in firstMatch[j]..<(firstMatch[j] + matchCount[j]) { sum += value(order[k], j) }
        total += sum / Double(matchCount[j])
      }
      return total / Double(m)
    }
    var results: [RepetitionResult.MeasureResult] = []
    var weighted = 0.0
    var weightSum = 0.0
    var contributions: [(Double, Cue)] = []
    // Terms under their tolerance: cues only when nothing larger is wrong and the score is low.
    var minor: [(Double, Cue)] = []
    for scored in exercise.measures {
      let column = scored.measure.column
      let tolerance = Double(scored.tolerance)
      var error = 0.0
      var signed = 0.0
      var reached = 0.0
      var referenceRange = 0.0
      switch scored.measure {
      case .bone:
        error = alignedMean { i, j in Self.boneAngle(take, i, reference, j, column) }
        reached = Self.boneExcursion(take, range, column)
        referenceRange = Self.boneExcursion(reference, 0..<m, column)
      case .angle:
        error = alignedMean { i, j in abs(Double(take[i, column] - reference[j, column])) }
        signed = alignedMean { i, j in Double(take[i, column] - reference[j, column]) }
        reached = Self.angleExcursion(take, range, column)
        referenceRange = Self.angleExcursion(reference, 0..<m, column)
      }
      let deficit = max(0, abs(referenceRange) - abs(reached))
      let normalized = error / tolerance
      let rangeTolerance = Double(scored.rangeTolerance)
      let normalizedDeficit = deficit / rangeTolerance
      let w = Double(scored.weight)
      let term = normalized * normalized + normalizedDeficit * normalizedDeficit
      weighted += w * term
      weightSum += w
      // Reported on the patient's own side when the take was mirrored.
      let patientMeasure = mirrored ? scored.measure.mirrored : scored.measure
      results.append(
        .init(
          measure: patientMeasure.description, error: error * degrees,
          signedError: signed * degrees, tolerance: tolerance * degrees,
          normalizedError: normalized, rangeDeficit: deficit * degrees,
          rangeTolerance: rangeTolerance * degrees, normalizedRangeDeficit: normalizedDeficit,
          rangeOfMotion: reached * degrees, referenceRangeOfMotion: referenceRange * degrees,
          weight: w))
      if term > 0 {
        let rangeShort = normalizedDeficit > normalized
        let cue = CueWriter.cue(
          for: patientMeasure, signedError: mirroredSign(scored.measure, signed, mirrored),
          rangeDeficit: rangeShort,
          referenceRange: mirroredSign(scored.measure, referenceRange, mirrored))
        if max(normalized, normalizedDeficit) > 1 {
          contributions.append((w * term, cue))
        } else {
          minor.append((w * term, cue))
        }
      }
    }
    var nSquared = weightSum > 0 ? weighted / weightSum : 0
    for index in contributions.indices { contributions[index].0 /= max(weightSum, 1e-9) }
    for index in minor.indices { minor[index].0 /= max(weightSum, 1e-9) }
    var compensations: [RepetitionResult.CompensationResult] = []
    for still in exercise.keepStill {
      let column = still.measure.column
      let movement: Double
      let referenceMovement: Double
      switch still.measure {
      case .bone:
        movement = Self.boneExcursion(take, range, column)
        referenceMovement = Self.boneExcursion(reference, 0..<m, column)
      case .angle:
        movement = abs(Self.angleExcursion(take, range, column))
        referenceMovement = abs(Self.angleExcursion(reference, 0..<m, column))
      }
      let excess = max(0, movement - referenceMovement) / Double(still.tolerance)
      nSquared += excess * excess
      let patientStill = mirrored ? still.measure.mirrored : still.measure
      compensations.append(
        .init(
          measure: patientStill.description, movement: movement * degrees,
          referenceMovement: referenceMovement * degrees,
          tolerance: Double(still.tolerance) * degrees, normalizedExcess: excess))
      if excess > 1 {
        contributions.append((excess * excess, CueWriter.stillCue(for: patientStill)))
      } else if excess > 0 {
        minor.append((excess * excess, CueWriter.stillCue(for: patientStill)))
      }
    }
    let tempoRatio = Double(n) / Double(m)
    var tempoExcess = 0.0
    if tempoRatio > exercise.tempo.maximumRatio {
      tempoExcess = (tempoRatio / exercise.tempo.maximumRatio - 1) / 0.5
    } else if tempoRatio < exercise.tempo.minimumRatio {
      tempoExcess = (exercise.tempo.minimumRatio / tempoRatio - 1) / 0.5
    }
    nSquared += tempoExcess * tempoExcess
    if tempoExcess > 0.5 {
      contributions.append(
        (tempoExcess * tempoExcess, CueWriter.tempoCue(slow: tempoRatio > 1)))
    }
    let score = 100 * pow(0.7, nSquared)
    var cues = contributions.sorted { $0.0 > $1.0 }.prefix(3).map { contribution in
      var cue = contribution.1
      cue.severity = contribution.0
      return cue
    }
    if cues.isEmpty {
      // Several small errors can add up to a low score with none over its tolerance: then the
      // largest of them is still worth saying; praise is for repetitions that score well.
      if score < Self.praiseScore, let largest = minor.max(by: { $0.0 < $1.0 }) {
        var cue = largest.1
        cue.severity = largest.0
        cues = [cue]
      } else {
        cues = [CueWriter.praise(score: score)]
      }
    }
    let frameTime = take.frameTime
    return RepetitionResult(
      index: index, startTime: timeOffset + Double(frameOffset + range.lowerBound) * frameTime,
      endTime: timeOffset + Double(frameOffset + range.upperBound - 1) * frameTime, score: score,
      mirrored: mirrored, measures: results, compensations: compensations,
      tempoRatio: tempoRatio, cues: Array(cues), alignmentCost: Double(cost) / Double(m))
  }

  /// True if frames `range` of `take` fit the *mirrored* reference better than the reference
  /// (lower DTW alignment cost): the patient works the other side. Always false for bilateral
  /// exercises.
  public mutating func worksOtherSide(_ take: FeatureSequence, frames range: Range<Int>) -> Bool {
    guard exercise.workingSide != nil, range.count > 1 else { return false }
    let direct = exercise.alignmentMatrix(take, frames: range)
    let mirrored = exercise.alignmentMatrix(take.mirrored(), frames: range)
    let m = referenceRows.rows
    let a = dtw.accumulatedCost(
      direct, aRows: direct.rows, referenceRows, bRows: m, radius: bandRadius)
    let b = dtw.accumulatedCost(
      mirrored, aRows: mirrored.rows, referenceRows, bRows: m, radius: bandRadius)
    return b < a
  }

  /// `value` of `measure` as seen on the patient's side (`BodyAngle.mirrorSign`).
  private func mirroredSign(_ measure: BodyMeasure, _ value: Double, _ mirrored: Bool) -> Double {
    guard mirrored, case .angle(let angle) = measure else { return value }
    return value * Double(angle.mirrorSign)
  }

  /// Angle (radians) between bone directions at take frame `i` and reference frame `j`.
  static func boneAngle(
    _ a: FeatureSequence, _ i: Int, _ b: FeatureSequence, _ j: Int, _ column: Int
  ) -> Double {
    let u = SIMD3(a[i, column], a[i, column + 1], a[i, column + 2])
    let v = SIMD3(b[j, column], b[j, column + 1], b[j, column + 2])
    return Double(atan2(length(cross(u, v)), dot(u, v)))
  }

  /// Largest angle (radians) a bone reaches away from its direction at the range's start.
  static func boneExcursion(_ s: FeatureSequence, _ range: Range<Int>, _ column: Int) -> Double {
    guard let start = range.first else { return 0 }
    var widest = 0.0
    for f in range { widest = max(widest, boneAngle(s, start, s, f, column)) }
    return widest
  }

  /// The signed excursion (radians) of an angle from its value at the range's start: the value
  /// furthest from the start, minus the start.
  static func angleExcursion(_ s: FeatureSequence, _ range: Range<Int>, _ column: Int) -> Double {
    guard let start = range.first else { return 0 }
    let origin = s[start, column]
    var furthest: Float = 0
    for f in range where abs(s[f, column] - origin) > abs(furthest) {
      furthest = s[f, column] - origin
    }
    return Double(furthest)
  }
}
