import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation

/// The validity protocol on UI-PRMD (see README, "Validation on UI-PRMD").
///
/// Kinect, every movement, leave-one-subject-out: for each subject, the reference and the
/// tolerances are built from the *other nine* subjects' correct repetitions only (left-limbed
/// performers mirrored onto the exercise's working side), then that subject's correct and
/// incorrect repetitions are scored (mirrored automatically if they work the other side).
/// Reported per movement: the ROC AUC of correct-vs-incorrect scores pooled over all
/// subjects, and the mean score of each class. Nothing is fitted to the held-out subject, and
/// no incorrect repetition is used to build anything.
///
/// Vicon deep squat: the same protocol on the 117 Vicon joint angles as an opaque feature
/// vector, compared with the quality labels of Liao, Vakanski & Xian (2020): the scores,
/// min–max rescaled to the labels' range, against the labels (mean absolute deviation).
public enum UIPRMDEvaluation {
  public static let movementNames = [
    1: "Deep squat", 2: "Hurdle step", 3: "Inline lunge", 4: "Side lunge", 5: "Sit to stand",
    6: "Standing active straight leg raise", 7: "Standing shoulder abduction",
    8: "Standing shoulder extension", 9: "Standing shoulder internal-external rotation",
    10: "Standing shoulder scaption",
  ]

  public struct MovementResult: Codable, Sendable {
    public var movement: Int
    public var name: String
    public var auc: Double
    public var meanScoreCorrect: Double
    public var meanScoreIncorrect: Double
    public var medianScoreCorrect: Double
    public var medianScoreIncorrect: Double
    public var correctCount: Int
    public var incorrectCount: Int
    /// Repetitions compared with the mirrored reference.
    public var mirroredCount: Int
    /// Repetition counting on continuous takes (each subject's ten episodes joined, scored with
    /// the bundled exercise): repetitions found, summed over subjects, for correct and
    /// incorrect takes (100 each are present), and the summed |found − 10| per subject.
    public var countedCorrect: Int
    public var countedIncorrect: Int
    public var countingError: Int
    /// Single repetitions (each segmented file scored as a take of its own, with the bundled
    /// exercise) found as exactly one repetition, of those tried; and how many of them give the
    /// same count and a score within 5 points with one frame more or less at either end.
    public var singleCounted: Int
    public var singleTried: Int
    public var singleStable: Int
    /// Diagnostics: the AUC each measure's normalised error (and each compensation's excess)
    /// would reach alone, lower error counting as better.
    public var measureAUC: [String: Double]
  }

  public struct ViconResult: Codable, Sendable {
    public var repetitions: Int
    public var auc: Double
    /// Mean |rescaled score − label| over the labelled repetitions.
    public var meanAbsoluteDeviation: Double
    public var spearman: Double
    public var labelRange: [Double]
  }

  public struct Report: Codable, Sendable {
    public var movements: [MovementResult]
    public var vicon: ViconResult?
  }

  /// One repetition: its identity, the clip as recorded and its body features.
  struct Repetition {
    var subject: Int
    var episode: Int
    var correct: Bool
    var clip: Clip
    var features: FeatureSequence
  }

  /// Runs the Kinect protocol for `movements` and, if asked, the Vicon deep-squat comparison.
  ///
  /// - Parameters:
  ///   - dataset: The folder holding `raw/` (and `liao2020_derived/` for the Vicon part).
  ///   - exercises: The folder with `uiprmd-mNN-*.json` definitions (measures, weights,
  ///     laterality); their tolerances and references are rebuilt in every fold.
  ///   - dump: A folder to write every fold's raw measures and features into, for studies
  ///     outside Swift (`UIPRMDAblationDump`); nothing is written without one.
  ///   - noise: Degrees of white joint-angle noise added to every repetition (references,
  ///     tolerances and scored takes alike; `Clip.addingJointNoise`), 0 for none.
  public static func run(
    dataset: URL, exercises: URL, movements: [Int] = Array(1...10), vicon: Bool = true,
    dump: URL? = nil, noise: Double = 0, progress: (String) -> Void = { _ in }
  ) throws -> Report {
    let dumper = try dump.map { try UIPRMDAblationDump(folder: $0) }
    defer { try? dumper?.close() }
    var results: [MovementResult] = []
    for movement in movements {
      let url = try definitionURL(movement: movement, in: exercises)
      let definition = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
      let repetitions = try loadKinect(
        movement: movement, root: dataset.appendingPathComponent("raw"), noise: noise)
      var result = try evaluate(
        movement: movement, definition: definition, repetitions: repetitions, dump: dumper)
      try countRepetitions(
        exercise: Exercise.load(contentsOf: url), repetitions: repetitions, into: &result)
      progress(
        "m\(UIPRMDReader.twoDigits(movement)) \(result.name): AUC \(String(format: "%.3f", result.auc))"
      )
      results.append(result)
    }
    var viconResult: ViconResult?
    if vicon {
      viconResult = try evaluateVicon(dataset: dataset)
      progress(
        "Vicon deep squat: MAD \(String(format: "%.3f", viconResult?.meanAbsoluteDeviation ?? .nan))"
      )
    }
    return Report(movements: results, vicon: viconResult)
  }

  /// The `uiprmd-mNN-*.json` definition of `movement` in `folder` (the first by name).
  static func definitionURL(movement: Int, in folder: URL) throws -> URL {
    let prefix = "uiprmd-m\(UIPRMDReader.twoDigits(movement))-"
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    guard let name = names.sorted().first(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".json") })
    else {
      throw ExerciseError(file: folder.path, reason: "no \(prefix)*.json exercise definition")
    }
    return folder.appendingPathComponent(name)
  }

  /// Every Kinect repetition of `movement` in `classes` (true: correct), subject by subject,
  /// episode by episode; with `noise` degrees of white joint noise added to each (seeded by
  /// movement, subject, episode and class).
  static func loadKinect(
    movement: Int, root: URL, classes: [Bool] = [true, false], noise: Double = 0
  ) throws -> [Repetition] {
    var repetitions: [Repetition] = []
    for subject in 1...10 {
      for episode in 1...10 {
        for correct in classes {
          let clip = try UIPRMDReader.readKinect(
            root: root, movement: movement, subject: subject, episode: episode, correct: correct
          ).addingJointNoise(
            degrees: noise,
            seed: UInt64(((movement * 100 + subject) * 100 + episode) * 2 + (correct ? 1 : 0)))
          let body = try BodyModel(skeleton: clip.skeleton)
          repetitions.append(
            Repetition(
              subject: subject, episode: episode, correct: correct, clip: clip,
              features: ClipFeatures.features(of: clip, body: body)))
        }
      }
    }
    return repetitions
  }

  static func evaluate(
    movement: Int, definition: ExerciseDefinition, repetitions: [Repetition],
    dump: UIPRMDAblationDump? = nil
  ) throws -> MovementResult {
    let template = try Exercise(definition: definition, reference: repetitions[0].features)
    var correctScores: [Double] = []
    var incorrectScores: [Double] = []
    var mirroredCount = 0
    var perMeasure: [String: (correct: [Double], incorrect: [Double])] = [:]
    for subject in 1...10 {
      let exercise = try buildExercise(
        definition: definition, template: template,
        correct: repetitions.filter { $0.subject != subject && $0.correct }.map(\.features))
      try dump?.writeFold(
        movement: movement, fold: subject, exercise: exercise, repetitions: repetitions)
      var scorer = RepetitionScorer(exercise: exercise)
      for repetition in repetitions where repetition.subject == subject {
        var features = repetition.features
        let mirrored = scorer.worksOtherSide(features, frames: 0..<features.count)
        if mirrored {
          features = features.mirrored()
          mirroredCount += 1
        }
        let result = scorer.score(features, frames: 0..<features.count, mirrored: mirrored)
        let parts =
          result.measures.map { ($0.measure, -$0.normalizedError) }
          + result.measures.map { ("range " + $0.measure, -$0.normalizedRangeDeficit) }
          + result.compensations.map { ("keepStill " + $0.measure, -$0.normalizedExcess) }
          + [("tempo", -abs(log(result.tempoRatio)))]
        for (name, value) in parts {
          if repetition.correct {
            perMeasure[name, default: ([], [])].correct.append(value)
          } else {
            perMeasure[name, default: ([], [])].incorrect.append(value)
          }
        }
        if repetition.correct {
          correctScores.append(result.score)
        } else {
          incorrectScores.append(result.score)
        }
      }
    }
    return MovementResult(
      movement: movement, name: movementNames[movement] ?? "m\(movement)",
      auc: rocAUC(positives: correctScores, negatives: incorrectScores),
      meanScoreCorrect: correctScores.reduce(0, +) / Double(max(correctScores.count, 1)),
      meanScoreIncorrect: incorrectScores.reduce(0, +) / Double(max(incorrectScores.count, 1)),
      medianScoreCorrect: median(correctScores), medianScoreIncorrect: median(incorrectScores),
      correctCount: correctScores.count, incorrectCount: incorrectScores.count,
      mirroredCount: mirroredCount, countedCorrect: 0, countedIncorrect: 0, countingError: 0,
      singleCounted: 0, singleTried: 0, singleStable: 0,
      measureAUC: perMeasure.mapValues { rocAUC(positives: $0.correct, negatives: $0.incorrect) })
  }

  /// Joins each subject's ten episodes into one take and counts the repetitions the bundled
  /// exercise finds in it; scores every segmented repetition alone, and again with a frame
  /// more or less at either end.
  static func countRepetitions(
    exercise: Exercise, repetitions: [Repetition], into result: inout MovementResult
  ) throws {
    let scorer = TakeScorer(exercise: exercise)
    for repetition in repetitions {
      let clip = repetition.clip
      let alone = try scorer.score(clip)
      result.singleTried += 1
      guard alone.repetitions.count == 1 else { continue }
      result.singleCounted += 1
      let n = clip.frameCount
      var stable = true
      for frames in [1..<n, 0..<(n - 1), 0..<n] {
        let variant = try clip.trimmed(frames: frames)
        let variants =
          frames == 0..<n
          ? try Clip(joining: [variant, try clip.trimmed(frames: (n - 1)..<n)]) : variant
        let again = try scorer.score(variants)
        if again.repetitions.count != 1
          || abs((again.repetitions.first?.score ?? 0) - alone.repetitions[0].score) > 5
        {
          stable = false
        }
      }
      if stable { result.singleStable += 1 }
    }
    for correct in [true, false] {
      for subject in 1...10 {
        let take = try Clip(
          joining: repetitions.filter { $0.subject == subject && $0.correct == correct }.map(\.clip)
        )
        let found = try scorer.score(take).repetitions.count
        if correct { result.countedCorrect += found } else { result.countedIncorrect += found }
        result.countingError += abs(found - 10)
      }
    }
  }

  /// The middle value (the mean of the two middle ones for an even count); NaN when empty.
  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let k = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[k] : (sorted[k - 1] + sorted[k]) / 2
  }

  /// An exercise whose reference and tolerances come from `correct` repetitions only.
  static func buildExercise(
    definition: ExerciseDefinition, template: Exercise, correct: [FeatureSequence]
  ) throws -> Exercise {
    let onSide = try ReferenceBuilder.onWorkingSide(
      correct, definition: definition, template: template
    ).sided
    let reference = onSide[ReferenceBuilder.representative(of: onSide, exercise: template)]
    return ReferenceBuilder.calibrated(
      try Exercise(definition: definition, reference: reference), correct: onSide)
  }
}
