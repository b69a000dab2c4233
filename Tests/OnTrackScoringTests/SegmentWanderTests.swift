import Foundation
import OnTrackEvaluation
import OnTrackKinematics
import OnTrackSimulation
import Testing

@testable import OnTrackScoring

/// Landmarks that wander smoothly (a camera's, over tenths of a second), which second
/// differences barely see and the low-pass filter does not remove: read from how the
/// segments' lengths wander (`SegmentWander`), so that a keep-still check does not take the
/// wander for the patient moving.
@Suite("Noise told by the segments' lengths")
struct SegmentWanderTests {
  static let correlation = 0.3

  /// Three simulated repetitions of `id`'s reference, as landmark frames with their times.
  static func performance(_ id: String, seed: UInt64 = 11) throws -> (
    exercise: Exercise, landmarks: [LandmarkFrame], times: [Double]
  ) {
    let exercise = try ScoringData.exercise(id)
    let take = try ScoringData.simulatedTake(of: exercise, seed: seed)
    let body = try BodyModel(skeleton: take.skeleton)
    let landmarks = ClipFeatures.landmarks(of: take, body: body)
    return (exercise, landmarks, landmarks.indices.map { Double($0) * take.frameTime })
  }

  static func spread(_ landmarks: [LandmarkFrame], _ times: [Double], _ exercise: Exercise)
    -> Double
  {
    let features = ClipFeatures.features(landmarks: landmarks, times: times, for: exercise)
    let smoothing = RepetitionScorer.smoothingFrames(exercise.frameTime)
    return SegmentWander(features, 30..<(features.count - 30), smoothing: smoothing)
      .lengthSpread
  }

  @Test("a segment's length wanders by what the landmarks wander, and by nothing without it")
  func readsTheWander() throws {
    let (exercise, clean, times) = try Self.performance("uiprmd-m07-shoulder-abduction")
    #expect(Self.spread(clean, times, exercise) < 0.001)
    for metres: Float in [0.005, 0.01] {
      var wandering = clean
      RobustnessSuite.addWander(
        to: &wandering, times: times, metres: metres, correlationSeconds: Self.correlation,
        seed: 5)
      // Along a segment: its two ends' noise, √2 σ; the least of the segments' and a
      // 0.5 s average take some of it away.
      let spread = Self.spread(wandering, times, exercise)
      let expected = Double(metres) * 2.0.squareRoot()
      #expect(spread > 0.3 * expected && spread < 1.2 * expected, "\(metres) m: \(spread)")
    }
  }

  /// A sensor whose joint centre slides with the pose (a depth camera's elbow, a marker
  /// model's knee) changes two segments' lengths; that is not noise.
  @Test("a joint centre that slides with the pose is not noise")
  func poseChangeIsNotNoise() throws {
    let (exercise, clean, times) = try Self.performance("uiprmd-m07-shoulder-abduction")
    var sliding = clean
    for f in sliding.indices {
      let arm = sliding[f][.rightElbow] - sliding[f][.rightShoulder]
      let reach = Float(0.04 * sin(Double(f) / 15))
      sliding[f][.rightElbow] += arm / max(length(arm), 1e-6) * reach
    }
    #expect(Self.spread(sliding, times, exercise) < 0.001)
  }

  /// A correct performance through 0.5 cm of wander, 0.3 s correlation time: before the
  /// lengths were read, the glute bridge scored 71 here ("Keep your hips level: don't let one
  /// side drop"), the bird-dog 53; now 81 and 62.
  @Test(
    "a correct performance through wandering landmarks keeps more of its score",
    arguments: [("lbp-glute-bridge", 77.0), ("lbp-bird-dog", 58.0)])
  func correctThroughWander(id: String, least: Double) throws {
    var (exercise, landmarks, times) = try Self.performance(id)
    RobustnessSuite.addWander(
      to: &landmarks, times: times, metres: 0.005, correlationSeconds: Self.correlation,
      seed: 112)
    let result = TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times)
    #expect(result.repetitions.count == 3)
    let mean = try #require(result.summary.meanScore)
    #expect(mean >= least, "\(id): \(mean)")
  }

  /// The fault each low-back-pain exercise is about, through the same wander: still caught
  /// and named (the allowance is the wander's, not the fault's).
  @Test(
    "the fault is still caught through wandering landmarks",
    arguments: ["lbp-glute-bridge", "lbp-bird-dog", "lbp-knee-rolls", "lbp-press-up"])
  func faultThroughWander(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let exercise = try ScoringData.exercise(id)
    var (landmarks, times) = try BackPainLibraryTests.faultLandmarks(library)
    RobustnessSuite.addWander(
      to: &landmarks, times: times, metres: 0.005, correlationSeconds: Self.correlation,
      seed: 29)
    try BackPainLibraryTests.expectFaultCaught(
      TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times), library, id)
  }
}
