import Foundation
import OnTrackKinematics

/// Builds an exercise's reference and tolerances from correct repetitions, as a therapist's
/// recordings would be turned into a prescription.
///
/// - The reference is one *representative* repetition: each repetition is stretched linearly to
///   64 frames, their mean is taken, and the repetition closest to the mean (in weighted bone
///   directions) is chosen: a real movement, free of any one performer's quirks.
/// - A measure's tolerance is the mean plus three standard deviations of the correct
///   repetitions' own aligned errors, at least 3°; its range tolerance likewise from their
///   range-of-motion shortfalls; a keep-still tolerance likewise from their excess movement.
/// - Then one scale for every exercise: all tolerances are multiplied by the one factor that
///   makes the median correct repetition score `typicalCorrectScore` (85), so a score means
///   the same on a squat as on a shoulder raise (README, "What a score means").
public enum ReferenceBuilder {
  /// The index of the representative repetition among `repetitions` (all on the working side).
  public static func representative(
    of repetitions: [FeatureSequence], exercise template: Exercise
  ) -> Int {
    representative(of: repetitions.map { template.alignmentMatrix($0) })
  }

  /// The index of the row sequence closest to the mean of all, each stretched to 64 frames.
  public static func representative(of rows: [DTWMatrix]) -> Int {
    let length = 64
    guard let width = rows.first?.width else { return 0 }
    var normalized: [[Float]] = []
    for matrix in rows {
      var out = [Float](repeating: 0, count: length * width)
      for k in 0..<length {
        let position = Double(k) * Double(max(matrix.rows - 1, 0)) / Double(length - 1)
        let a = Int(position)
        let b = min(a + 1, matrix.rows - 1)
        let t = Float(position - Double(a))
        for c in 0..<width {
          let va = matrix.values[a * matrix.stride + c]
          let vb = matrix.values[b * matrix.stride + c]
          out[k * width + c] = va + (vb - va) * t
        }
      }
      normalized.append(out)
    }
    var mean = [Float](repeating: 0, count: length * width)
    for sequence in normalized {
      for i in 0..<mean.count { mean[i] += sequence[i] / Float(normalized.count) }
    }
    var best = 0
    var bestDistance = Float.infinity
    for (index, sequence) in normalized.enumerated() {
      var distance: Float = 0
      for i in 0..<mean.count { distance += (sequence[i] - mean[i]) * (sequence[i] - mean[i]) }
      if distance < bestDistance {
        bestDistance = distance
        best = index
      }
    }
    return best
  }

  /// Which of `repetitions` must be mirrored to work the exercise's working side (all false for
  /// bilateral exercises). A rough pass by which side's measures move more gives a provisional
  /// reference; then each repetition is mirrored if it fits the mirrored provisional reference
  /// better.
  public static func mirrorFlags(
    of repetitions: [FeatureSequence], definition: ExerciseDefinition, template: Exercise
  ) throws(ExerciseError) -> [Bool] {
    guard template.workingSide != nil else { return repetitions.map { _ in false } }
    let rough = repetitions.map { template.worksOtherSide($0, frames: 0..<$0.count) }
    let sided = zip(repetitions, rough).map { $1 ? $0.mirrored() : $0 }
    let provisional = try Exercise(
      definition: definition, reference: sided[representative(of: sided, exercise: template)])
    var scorer = RepetitionScorer(exercise: provisional)
    return repetitions.map { scorer.worksOtherSide($0, frames: 0..<$0.count) }
  }

  /// `repetitions` moved onto the exercise's working side (`mirrorFlags`), and which of them
  /// were mirrored.
  public static func onWorkingSide(
    _ repetitions: [FeatureSequence], definition: ExerciseDefinition, template: Exercise
  ) throws(ExerciseError) -> (sided: [FeatureSequence], mirrored: [Bool]) {
    let flags = try mirrorFlags(of: repetitions, definition: definition, template: template)
    return (zip(repetitions, flags).map { $1 ? $0.mirrored() : $0 }, flags)
  }

  /// The score the median correct repetition gets after calibration.
  public static let typicalCorrectScore = 85.0

  /// `exercise` with tolerances estimated from correct repetitions scored against its
  /// reference (mean + 3 SD, floor 3°), then scaled together so that the median of them scores
  /// `typicalCorrectScore`.
  public static func calibrated(
    _ exercise: Exercise, correct repetitions: [FeatureSequence],
    floorDegrees: Double = 3
  ) -> Exercise {
    let estimated = estimated(exercise, correct: repetitions, floorDegrees: floorDegrees)
    return scaled(estimated, correct: repetitions)
  }

  /// Tolerances from the correct repetitions' own errors (mean + 3 SD, floor).
  static func estimated(
    _ exercise: Exercise, correct repetitions: [FeatureSequence], floorDegrees: Double
  ) -> Exercise {
    var probe = exercise
    // Score with unit tolerances so the normalised errors are the raw numerators (radians).
    probe.measures = probe.measures.map { measure in
      var unit = measure
      unit.tolerance = 1
      unit.rangeTolerance = 1
      return unit
    }
    for k in probe.keepStill.indices { probe.keepStill[k].tolerance = 1 }
    var scorer = RepetitionScorer(exercise: probe)
    scorer.allowsForNoise = false
    var numerators = [[Double]](repeating: [], count: probe.measures.count)
    var deficits = [[Double]](repeating: [], count: probe.measures.count)
    var excesses = [[Double]](repeating: [], count: probe.keepStill.count)
    for repetition in repetitions {
      let result = scorer.score(repetition, frames: 0..<repetition.count)
      for (k, m) in result.measures.enumerated() {
        numerators[k].append(m.normalizedError)
        deficits[k].append(m.normalizedRangeDeficit)
      }
      for (k, c) in result.compensations.enumerated() { excesses[k].append(c.normalizedExcess) }
    }
    let floor = Float(floorDegrees * .pi / 180)
    var calibrated = exercise
    calibrated.measures = calibrated.measures.enumerated().map { k, measure in
      var fitted = measure
      fitted.tolerance = max(floor, Float(meanPlusThreeSD(numerators[k])))
      fitted.rangeTolerance = max(floor, Float(meanPlusThreeSD(deficits[k])))
      return fitted
    }
    for k in calibrated.keepStill.indices {
      calibrated.keepStill[k].tolerance = max(floor, Float(meanPlusThreeSD(excesses[k])))
    }
    return calibrated
  }

  /// `exercise` with every tolerance multiplied by the factor that makes the median of
  /// `repetitions` score `typicalCorrectScore`: `N²` falls as the square of the factor, so the
  /// factor is `√(median N² / N²_typical)` with `N²_typical = ln(0.85) / ln(0.7)`. Tempo is not
  /// a tolerance and is left out of both. Scored without the allowance for motion out of step
  /// with the movement (`RepetitionScorer.allowsForUnlockedMotion`), which scoring then adds:
  /// with it the median repetition scores `typicalCorrectScore` or a little more.
  static func scaled(_ exercise: Exercise, correct repetitions: [FeatureSequence]) -> Exercise {
    guard !repetitions.isEmpty else { return exercise }
    var scorer = RepetitionScorer(exercise: exercise)
    // Scaled without the allowance for motion out of step with the movement, so that it only
    // ever loosens a drifting sensor's score: folded into the scale, it tightened every
    // tolerance instead (UI-PRMD's straight leg raise: median correct score 80.2 → 79.2).
    scorer.allowsForUnlockedMotion = false
    var terms = repetitions.map { repetition -> Double in
      let result = scorer.score(repetition, frames: 0..<repetition.count)
      let tempo = tempoTerm(result.tempoRatio, exercise.tempo)
      return max(0, log(result.score / 100) / log(0.7) - tempo)
    }
    terms.sort()
    let median = terms[terms.count / 2]
    let typical = log(typicalCorrectScore / 100) / log(0.7)
    guard median > 1e-6 else { return exercise }
    let factor = Float((median / typical).squareRoot())
    var scaled = exercise
    scaled.measures = scaled.measures.map { measure in
      var wider = measure
      wider.tolerance *= factor
      wider.rangeTolerance *= factor
      return wider
    }
    for k in scaled.keepStill.indices { scaled.keepStill[k].tolerance *= factor }
    // Postures are limits the therapist sets (the trunk within 12° of upright), not learnt.
    return scaled
  }

  /// The tempo term of `N²` (`RepetitionScorer`).
  static func tempoTerm(_ ratio: Double, _ tempo: ExerciseDefinition.TempoRange) -> Double {
    var excess = 0.0
    if ratio > tempo.maximumRatio {
      excess = (ratio / tempo.maximumRatio - 1) / 0.5
    } else if ratio < tempo.minimumRatio {
      excess = (tempo.minimumRatio / ratio - 1) / 0.5
    }
    return excess * excess
  }

  /// Mean plus three standard deviations: beyond what nearly all correct executions show.
  public static func meanPlusThreeSD(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return mean + 3 * variance.squareRoot()
  }
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative (ties count half). 1 = perfect separation, 0.5 = chance.
public func rocAUC(positives: [Double], negatives: [Double]) -> Double {
  guard !positives.isEmpty, !negatives.isEmpty else { return .nan }
  var wins = 0.0
  for p in positives {
    for n in negatives {
      if p > n { wins += 1 } else if p == n { wins += 0.5 }
    }
  }
  return wins / Double(positives.count * negatives.count)
}
