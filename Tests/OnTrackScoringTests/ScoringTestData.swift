import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring

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
