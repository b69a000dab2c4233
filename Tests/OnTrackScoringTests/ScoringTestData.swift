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
    let angles = UIPRMDReader.path(
      root: uiprmd.appendingPathComponent("raw"), kind: "angles", movement: movement,
      subject: subject, episode: episode, correct: correct)
    return try UIPRMDReader.readKinect(
      angles: angles, positions: UIPRMDReader.positionsPath(forAngles: angles))
  }

  /// Consecutive repetitions of one subject joined into one continuous take (the dataset's
  /// episodes follow one another), and the frame where each repetition starts.
  static func continuousTake(
    movement: Int, subject: Int, episodes: ClosedRange<Int>, correct: Bool = true
  ) throws -> (clip: Clip, starts: [Int]) {
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    var starts: [Int] = []
    var skeleton: Skeleton?
    var frames = 0
    for episode in episodes {
      let clip = try kinect(
        movement: movement, subject: subject, episode: episode, correct: correct)
      skeleton = skeleton ?? clip.skeleton
      starts.append(frames)
      frames += clip.frameCount
      rotations += clip.rotations
      translations += clip.translations
    }
    guard let skeleton else { throw ClipError.noFrames }
    let clip = try Clip(
      skeleton: skeleton, frameTime: 1 / UIPRMDReader.kinectFrameRate, rotations: rotations,
      translations: translations)
    return (clip, starts + [frames])
  }
}
