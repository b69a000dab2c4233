import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation

/// Evaluations of keypoint input on UI-PRMD (README, "Keypoints, cameras and other sensors"):
///
/// - **Kinect as keypoints.** Every Kinect repetition's joint positions (world, from the data's
///   own hierarchy) are fed as keypoints through `KeypointSolver` and scored in the same
///   leave-one-subject-out protocol as `UIPRMDEvaluation` (references and tolerances from the
///   other subjects' repetitions as recorded; the test subject's repetitions as keypoints), as
///   they are, with landmark jitter, and with one landmark lost for half a second in every
///   repetition. AUCs are compared with scoring the same repetitions from their angles.
/// - **Vicon markers (cross-sensor).** Every Vicon repetition in `vicon/` (Plug-in-Gait
///   markers, joint centres estimated by `PlugInGait`) scored with the bundled Kinect-built
///   exercise: nothing is fitted to these takes.
public enum KeypointEvaluation {
  /// What the keypoints go through before the solver.
  public struct Perturbation: Sendable {
    /// Gaussian jitter per coordinate (metres).
    public var jitter: Float = 0
    /// A landmark lost for `dropoutSeconds` in the middle of every repetition.
    public var dropout: BodyPoint? = nil
    public var dropoutSeconds = 0.5
    public var seed: UInt64 = 1
    /// Only the points a camera's pose model gives (`cameraPoints`): no point on the spine.
    public var cameraPoints = false

    public init(
      jitter: Float = 0, dropout: BodyPoint? = nil, seed: UInt64 = 1, cameraPoints: Bool = false
    ) {
      self.jitter = jitter
      self.dropout = dropout
      self.seed = seed
      self.cameraPoints = cameraPoints
    }
  }

  /// The body points a camera's pose model (BlazePose) gives: the head (from the ears), the
  /// limbs' joints, hands and feet; nothing on the spine (pelvis, spine, chest, neck) and no
  /// head top.
  public static let cameraPoints: Set<BodyPoint> = Set(
    BodyPoint.allCases.filter { ![.pelvis, .spine, .chest, .neck, .headTop].contains($0) })

  public struct MovementResult: Codable, Sendable {
    public var movement: Int
    public var name: String
    /// Leave-one-subject-out AUC with the test repetitions from their angles.
    public var anglesAUC: Double
    /// The same, with the test repetitions as keypoints.
    public var keypointsAUC: Double
    /// As keypoints with jitter.
    public var jitterAUC: Double
    /// As keypoints with one landmark lost for 0.5 s per repetition.
    public var dropoutAUC: Double
    /// As a camera's points (`cameraPoints`), the references measured as that camera sees them
    /// (`DerivedLandmarks`, the neck at the mid-shoulder point), as every scorer does.
    public var cameraAUC: Double
    /// The same against the references' own necks (before `DerivedLandmarks`).
    public var cameraOwnNeckAUC: Double
    /// The landmark that was lost.
    public var dropped: String
    /// Cues naming a measure that needs the lost landmark which the same repetition did not
    /// get with every landmark seen.
    public var falseCues: Int
    /// Repetitions in which the lost landmark's measures were left out as unseen.
    public var unseenRepetitions: Int
    public var repetitions: Int
    public var medianCorrect: [String: Double]
  }

  /// The landmark a movement depends on most: the distal joint of its highest-weighted
  /// measure (the worst one to lose).
  static func keyPoint(of exercise: Exercise) -> BodyPoint {
    let best = exercise.measures.max { $0.weight < $1.weight }?.measure
    let landmarks = best?.landmarks ?? [.leftKnee]
    let landmark = landmarks.last ?? .leftKnee
    return BodyPoint.allCases.first { $0.landmark == landmark } ?? .leftKnee
  }

  /// The keypoint take of a Kinect clip: its joints' world positions (metres) as the
  /// `uiprmd-kinect` layout, perturbed.
  static func keypoints(
    of clip: Clip, perturbation: Perturbation, random: inout SplitMix64
  ) throws -> KeypointTake {
    let skeleton = clip.skeleton
    let layout = KeypointLayout.uiprmdKinect.with(metresPerUnit: 1)
    let indices = layout.names.map { skeleton.index(of: $0) }
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var frames: [[SIMD3<Float>?]] = []
    var times: [Double] = []
    let n = clip.frameCount
    let dropRange: Range<Int>? = perturbation.dropout.map { _ in
      let span = Int((perturbation.dropoutSeconds / clip.frameTime).rounded())
      let start = max(0, (n - span) / 2)
      return start..<min(n, start + span)
    }
    let dropName = perturbation.dropout.flatMap { point in
      layout.sources[point].flatMap { $0.first }.map { layout.names[$0] }
    }
    // The source points of the body points a camera does not give.
    var hidden = Set<Int>()
    if perturbation.cameraPoints {
      for (point, list) in layout.sources where !cameraPoints.contains(point) {
        hidden.formUnion(list)
      }
    }
    for f in 0..<n {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      var frame: [SIMD3<Float>?] = []
      for (k, index) in indices.enumerated() {
        guard let index else {
          frame.append(nil)
          continue
        }
        if let dropRange, dropRange.contains(f), layout.names[k] == dropName {
          frame.append(nil)
          continue
        }
        if hidden.contains(k) {
          frame.append(nil)
          continue
        }
        var p = world[index].translation
        if perturbation.jitter > 0 {
          p +=
            SIMD3(
              Float(random.gaussian()), Float(random.gaussian()), Float(random.gaussian()))
            * perturbation.jitter
        }
        frame.append(p)
      }
      frames.append(frame)
      times.append(Double(f) * clip.frameTime)
    }
    return try KeypointTake(
      layout: layout, times: times, frames: frames, confidence: nil, source: "kinect")
  }

  /// Body features of a keypoint take at the exercise's frame rate, from the solver's
  /// landmarks, as `TakeScorer` reads keypoint takes but not levelled (`SensorLevelling`): the
  /// leave-one-subject-out exercises are built from features and have no reference posture to
  /// level against, and UI-PRMD's Kinect stood where it stood for every subject.
  public static func features(of take: KeypointTake, step: Double) throws -> FeatureSequence {
    let solved = try take.solved()
    return ClipFeatures.features(
      landmarks: ClipFeatures.landmarks(of: solved), times: solved.times, step: step)
  }

  /// The Kinect-as-keypoints protocol for `movements`.
  public static func kinect(
    dataset: URL, exercises: URL, movements: [Int] = Array(1...10), jitter: Float = 0.02,
    progress: (String) -> Void = { _ in }
  ) throws -> [MovementResult] {
    var results: [MovementResult] = []
    for movement in movements {
      let url = try UIPRMDEvaluation.definitionURL(movement: movement, in: exercises)
      let definition = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
      let bundled = try Exercise.load(contentsOf: url)
      let repetitions = try UIPRMDEvaluation.loadKinect(
        movement: movement, root: dataset.appendingPathComponent("raw"))
      let dropped = keyPoint(of: bundled)
      var random = SplitMix64(seed: UInt64(movement) * 7919)
      var variants: [String: [UIPRMDEvaluation.Repetition]] = [:]
      for (name, perturbation) in [
        ("keypoints", Perturbation()), ("jitter", Perturbation(jitter: jitter)),
        ("dropout", Perturbation(dropout: dropped)), ("camera", Perturbation(cameraPoints: true)),
      ] {
        variants[name] = try repetitions.map { repetition in
          var copy = repetition
          copy.features = try features(
            of: keypoints(of: repetition.clip, perturbation: perturbation, random: &random),
            step: repetition.features.frameTime)
          return copy
        }
      }
      let angles = try UIPRMDEvaluation.evaluate(
        movement: movement, definition: definition, repetitions: repetitions)
      var outcomes: [String: Outcome] = [:]
      for name in ["keypoints", "jitter", "dropout", "camera"] {
        guard let tests = variants[name] else { continue }
        outcomes[name] = try Self.evaluate(
          definition: definition, training: repetitions, tests: tests, dropped: dropped,
          cuesWithoutDropout: name == "dropout" ? outcomes["keypoints"]?.cues : nil)
      }
      // The camera's points against references measured as the camera sees them: what the
      // first solved frames say the solver placed by rule, placed alike in every training
      // repetition (the scorers do this to the bundled reference, `Exercise.derivingAlike`;
      // here the references are built from the training repetitions in every fold).
      if let tests = variants["camera"], let first = repetitions.first {
        var one = random
        let solved = try keypoints(
          of: first.clip, perturbation: Perturbation(cameraPoints: true), random: &one
        ).solved()
        let derived = DerivedLandmarksDecision.decided(
          landmarks: ClipFeatures.landmarks(of: solved), times: solved.times)
        let training = try repetitions.map { repetition in
          var copy = repetition
          copy.features = ClipFeatures.features(
            of: repetition.clip, body: try BodyModel(skeleton: repetition.clip.skeleton),
            step: repetition.features.frameTime, placing: derived)
          return copy
        }
        outcomes["cameraOwnNeck"] = outcomes["camera"]
        outcomes["camera"] = try Self.evaluate(
          definition: definition, training: training, tests: tests, dropped: dropped,
          cuesWithoutDropout: nil)
      }
      let result = MovementResult(
        movement: movement, name: UIPRMDEvaluation.movementNames[movement] ?? "m\(movement)",
        anglesAUC: angles.auc, keypointsAUC: outcomes["keypoints"]?.auc ?? .nan,
        jitterAUC: outcomes["jitter"]?.auc ?? .nan, dropoutAUC: outcomes["dropout"]?.auc ?? .nan,
        cameraAUC: outcomes["camera"]?.auc ?? .nan,
        cameraOwnNeckAUC: outcomes["cameraOwnNeck"]?.auc ?? .nan,
        dropped: "\(dropped)", falseCues: outcomes["dropout"]?.falseCues ?? 0,
        unseenRepetitions: outcomes["dropout"]?.unseen ?? 0, repetitions: repetitions.count,
        medianCorrect: [
          "angles": angles.medianScoreCorrect,
          "keypoints": outcomes["keypoints"]?.medianCorrect ?? .nan,
          "jitter": outcomes["jitter"]?.medianCorrect ?? .nan,
          "camera": outcomes["camera"]?.medianCorrect ?? .nan,
          "cameraOwnNeck": outcomes["cameraOwnNeck"]?.medianCorrect ?? .nan,
        ])
      progress(
        "m\(UIPRMDReader.twoDigits(movement)): AUC angles \(format(result.anglesAUC)), keypoints \(format(result.keypointsAUC)), jitter \(format(result.jitterAUC)), dropout \(format(result.dropoutAUC)) (\(result.falseCues) false cues), camera \(format(result.cameraAUC)) (own neck \(format(result.cameraOwnNeckAUC)))"
      )
      results.append(result)
    }
    return results
  }

  struct Outcome {
    var auc: Double
    var medianCorrect: Double
    var falseCues: Int
    var unseen: Int
    /// Per test repetition, the measures its cues named.
    var cues: [[String]]
  }

  /// Leave-one-subject-out: references from `training` (as recorded), scores of `tests`.
  static func evaluate(
    definition: ExerciseDefinition, training: [UIPRMDEvaluation.Repetition],
    tests: [UIPRMDEvaluation.Repetition], dropped: BodyPoint, cuesWithoutDropout: [[String]]?
  ) throws -> Outcome {
    let template = try Exercise(definition: definition, reference: training[0].features)
    var correct: [Double] = []
    var incorrect: [Double] = []
    var falseCues = 0
    var unseen = 0
    var cued = [[String]](repeating: [], count: tests.count)
    let droppedLandmark = dropped.landmark
    for subject in 1...10 {
      let exercise = try UIPRMDEvaluation.buildExercise(
        definition: definition, template: template,
        correct: training.filter { $0.subject != subject && $0.correct }.map(\.features))
      var scorer = RepetitionScorer(exercise: exercise)
      for (index, repetition) in tests.enumerated() where repetition.subject == subject {
        var features = repetition.features
        let mirrored = scorer.worksOtherSide(features, frames: 0..<features.count)
        if mirrored { features = features.mirrored() }
        let result = scorer.score(features, frames: 0..<features.count, mirrored: mirrored)
        if repetition.correct {
          correct.append(result.score)
        } else {
          incorrect.append(result.score)
        }
        if result.unseen != nil { unseen += 1 }
        cued[index] = result.cues.compactMap(\.measure)
        guard let before = cuesWithoutDropout?[index] else { continue }
        for name in cued[index] where !before.contains(name) {
          guard let measure = BodyMeasure(name: name), let droppedLandmark else { continue }
          // Cues name the patient's own side, as the recording's landmarks do.
          if measure.landmarks.contains(droppedLandmark) { falseCues += 1 }
        }
      }
    }
    return Outcome(
      auc: rocAUC(positives: correct, negatives: incorrect),
      medianCorrect: UIPRMDEvaluation.median(correct), falseCues: falseCues, unseen: unseen,
      cues: cued)
  }

  // MARK: Vicon

  public struct CrossSensorResult: Codable, Sendable {
    public var movement: Int
    public var name: String
    public var auc: Double
    public var medianCorrect: Double
    public var medianIncorrect: Double
    public var correct: Int
    public var incorrect: Int
    public var mirrored: Int
    /// Per score term ("error leftKneeFlexion", "range …", "keepStill …", "posture …",
    /// "tempo"): its median normalised value (the N² share) over correct and over incorrect
    /// repetitions, to see what a sensor change moves.
    public var terms: [String: [Double]]
  }

  /// Scores every Vicon marker repetition of `movements` found in `vicon` with the bundled
  /// exercise of each movement.
  public static func vicon(
    vicon: URL, exercises: URL, movements: [Int] = Array(1...10),
    progress: (String) -> Void = { _ in }
  ) throws -> [CrossSensorResult] {
    var results: [CrossSensorResult] = []
    for movement in movements {
      var files: [(URL, Bool)] = []
      for (folder, correct) in [("correct", true), ("incorrect", false)] {
        let directory = vicon.appendingPathComponent(folder)
        let names =
          (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names.sorted()
        where name.hasPrefix("m\(UIPRMDReader.twoDigits(movement))_") && name.contains("_positions")
        {
          files.append((directory.appendingPathComponent(name), correct))
        }
      }
      guard !files.isEmpty else { continue }
      let url = try UIPRMDEvaluation.definitionURL(movement: movement, in: exercises)
      let exercise = try Exercise.load(contentsOf: url)
      var scorer = RepetitionScorer(exercise: exercise)
      var correct: [Double] = []
      var incorrect: [Double] = []
      var mirroredCount = 0
      var terms: [String: (correct: [Double], incorrect: [Double])] = [:]
      for (file, isCorrect) in files {
        let take = try KeypointFiles.read(file)
        var features = try features(of: take, step: exercise.frameTime)
        let mirrored = scorer.worksOtherSide(features, frames: 0..<features.count)
        if mirrored {
          features = features.mirrored()
          mirroredCount += 1
        }
        let result = scorer.score(features, frames: 0..<features.count, mirrored: mirrored)
        let score = result.score
        if isCorrect { correct.append(score) } else { incorrect.append(score) }
        let parts =
          result.measures.map { ("error " + $0.measure, $0.normalizedError) }
          + result.measures.map { ("range " + $0.measure, $0.normalizedRangeDeficit) }
          + result.compensations.map { ("keepStill " + $0.measure, $0.normalizedExcess) }
          + (result.postures ?? []).map { ("posture " + $0.measure, $0.normalizedExcess) }
        for (name, value) in parts {
          if isCorrect {
            terms[name, default: ([], [])].correct.append(value)
          } else {
            terms[name, default: ([], [])].incorrect.append(value)
          }
        }
      }
      let result = CrossSensorResult(
        movement: movement, name: UIPRMDEvaluation.movementNames[movement] ?? "m\(movement)",
        auc: rocAUC(positives: correct, negatives: incorrect),
        medianCorrect: UIPRMDEvaluation.median(correct),
        medianIncorrect: UIPRMDEvaluation.median(incorrect), correct: correct.count,
        incorrect: incorrect.count, mirrored: mirroredCount,
        terms: terms.mapValues {
          [UIPRMDEvaluation.median($0.correct), UIPRMDEvaluation.median($0.incorrect)]
        })
      progress(
        "m\(UIPRMDReader.twoDigits(movement)) Vicon: AUC \(format(result.auc)), median correct \(format(result.medianCorrect, 1)), incorrect \(format(result.medianIncorrect, 1))"
      )
      results.append(result)
    }
    return results
  }

  static func format(_ value: Double, _ decimals: Int = 3) -> String {
    String(format: "%.\(decimals)f", value)
  }
}
