import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation

/// Shared data and helpers for the scoring tests.
enum ScoringData {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static let shared: URL = {
    if let path = ProcessInfo.processInfo.environment["ONTRACK_SHARED"] {
      return URL(fileURLWithPath: path)
    }
    return root.deletingLastPathComponent().appendingPathComponent("shared")
  }()

  static let uiprmd = shared.appendingPathComponent("data/uiprmd")
  static let exercises = root.appendingPathComponent("Assets/exercises")
  static let fixtures = root.appendingPathComponent("Tests/OnTrackScoringTests/Fixtures")

  static func exercise(_ id: String) throws -> Exercise {
    try Exercise.load(contentsOf: exercises.appendingPathComponent(id + ".json"))
  }

  /// One UI-PRMD Kinect repetition.
  static func kinect(movement: Int, subject: Int, episode: Int, correct: Bool = true) throws -> Clip
  {
    try UIPRMDReader.readKinect(
      root: uiprmd.appendingPathComponent("raw"), movement: movement, subject: subject,
      episode: episode, correct: correct)
  }

  /// Consecutive repetitions of one subject joined into one continuous take (the dataset's
  /// episodes follow one another), and the frame where each repetition starts.
  static func continuousTake(
    movement: Int, subject: Int, episodes: ClosedRange<Int>, correct: Bool = true
  ) throws -> (clip: Clip, starts: [Int]) {
    let clips = try episodes.map {
      try kinect(movement: movement, subject: subject, episode: $0, correct: correct)
    }
    var starts = [0]
    for clip in clips { starts.append(starts[starts.count - 1] + clip.frameCount) }
    return (try Clip(joining: clips), starts)
  }

  /// Streams `take` frame by frame into a `StreamingScorer`, as a live session would, then
  /// finishes it. Returns the scorer and, per completed repetition, the index of the frame
  /// on which it was reported.
  /// The landmark frames of `take` (as its rig places them), with `wait` seconds of its first
  /// frame before them and white jitter of `jitter` metres per axis, and their times.
  static func landmarks(
    of take: Clip, waitingFirst wait: Double = 0, jitter: Float, seed: UInt64
  ) throws -> (landmarks: [LandmarkFrame], times: [Double]) {
    let body = try BodyModel(skeleton: take.skeleton)
    let performed = ClipFeatures.landmarks(of: take, body: body)
    var landmarks =
      Array(repeating: performed[0], count: Int(wait / take.frameTime)) + performed
    RobustnessSuite.addJitter(to: &landmarks, metres: jitter, seed: seed)
    return (landmarks, landmarks.indices.map { Double($0) * take.frameTime })
  }

  /// `repetitions` of `exercise`'s reference performed by a simulated patient (`seed`), at
  /// `frameRate` frames a second (the reference's if `nil`), with `change` to the variation.
  static func simulatedTake(
    of exercise: Exercise, repetitions: Int = 3, seed: UInt64, frameRate: Double? = nil,
    _ change: (inout PatientSimulator.Variation) -> Void = { _ in }
  ) throws -> Clip {
    guard let reference = exercise.referenceClip else {
      throw ExerciseError(file: exercise.id, reason: "no reference clip to perform")
    }
    var variation = PatientSimulator.Variation()
    change(&variation)
    var simulator = PatientSimulator(
      reference: reference, variation: variation,
      frameRate: frameRate ?? 1 / reference.frameTime, seed: seed)
    return try simulator.take(repetitions: repetitions)
  }

  /// Landmark frames streamed through a live scorer, finished.
  static func streamLive(landmarks: [LandmarkFrame], times: [Double], exercise: Exercise) throws
    -> StreamingScorer
  {
    var live = try StreamingScorer(exercise: exercise)
    for (frame, time) in zip(landmarks, times) { _ = live.push(landmarks: frame, at: time) }
    live.finish()
    return live
  }

  static func streamLive(_ take: Clip, exercise: Exercise) throws -> (
    scorer: StreamingScorer, reportedAt: [Int]
  ) {
    var live = try StreamingScorer(exercise: exercise, skeleton: take.skeleton)
    var pose = take.skeleton.restPose
    var reportedAt: [Int] = []
    for f in 0..<take.frameCount {
      take.copyFrame(f, into: &pose)
      let update = live.push(pose: pose, at: Double(f) * take.frameTime)
      for _ in 0..<update.completedRepetitions { reportedAt.append(f) }
    }
    live.finish()
    return (live, reportedAt)
  }
}
