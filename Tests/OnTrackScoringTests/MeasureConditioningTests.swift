import Foundation
import OnTrackKinematics
import Testing

@testable import OnTrackScoring

/// `BodyAngle.conditioning` reads the plane each angle is a shadow on as `FeatureExtractor`
/// builds it: an arm straight forward has no frontal-plane abduction, an arm straight out to
/// the side no sagittal-plane flexion, and a trunk bent straight forward no lateral flexion.
@Suite("Measure conditioning")
struct MeasureConditioningTests {
  /// A standing body (Y up, facing +Z, its left at +X) with the left upper arm along `arm`
  /// and the trunk turned by `trunk` about the hips.
  static func features(arm: SIMD3<Float>, trunk: Quaternion = .identity) -> [Float] {
    var frame = LandmarkFrame()
    let pelvis = SIMD3<Float>(0, 1, 0)
    frame[.leftHip] = pelvis + [0.1, 0, 0]
    frame[.rightHip] = pelvis + [-0.1, 0, 0]
    func upper(_ p: SIMD3<Float>) -> SIMD3<Float> { pelvis + trunk.act(on: p) }
    frame[.spine] = upper([0, 0.15, 0])
    frame[.neck] = upper([0, 0.5, 0])
    frame[.head] = upper([0, 0.7, 0])
    frame[.leftShoulder] = upper([0.18, 0.45, 0])
    frame[.rightShoulder] = upper([-0.18, 0.45, 0])
    frame[.leftElbow] = frame[.leftShoulder] + normalize(arm) * 0.3
    frame[.leftWrist] = frame[.leftElbow] + normalize(arm) * 0.25
    frame[.rightElbow] = upper([-0.18, 0.15, 0])
    frame[.rightWrist] = upper([-0.18, -0.1, 0])
    for (hip, knee, ankle, toe) in [
      (BodyLandmark.leftHip, BodyLandmark.leftKnee, BodyLandmark.leftAnkle, BodyLandmark.leftToe),
      (.rightHip, .rightKnee, .rightAnkle, .rightToe),
    ] {
      frame[knee] = frame[hip] - [0, 0.45, 0]
      frame[ankle] = frame[hip] - [0, 0.9, 0]
      frame[toe] = frame[ankle] + [0, 0, 0.15]
    }
    var extractor = FeatureExtractor()
    var out = [Float](repeating: 0, count: FeatureLayout.width)
    out.withUnsafeMutableBufferPointer { extractor.extract(frame, timeStep: 0, into: $0) }
    return out
  }

  static func conditioning(_ angle: BodyAngle, _ features: [Float]) -> Float {
    angle.conditioning { features[$0] }
  }

  @Test("zero along the plane's normal, one in the plane, for each shadow angle")
  func planes() {
    let forward = Self.features(arm: [0, 0, 1])
    #expect(Self.conditioning(.leftShoulderAbduction, forward) < 0.05)
    #expect(Self.conditioning(.leftShoulderFlexion, forward) == 1)
    let sideways = Self.features(arm: [1, 0, 0])
    #expect(Self.conditioning(.leftShoulderFlexion, sideways) < 0.05)
    #expect(Self.conditioning(.leftShoulderAbduction, sideways) == 1)
    // Halfway between: the shadow on either plane is cos 45° of the arm, over half of it.
    let between = Self.features(arm: [1, 0, 1])
    #expect(Self.conditioning(.leftShoulderFlexion, between) == 1)
    #expect(Self.conditioning(.leftShoulderAbduction, between) == 1)
    // 75° forward of the side: the frontal-plane shadow is cos 75° = 0.26 of the arm.
    let nearlyForward = Self.features(arm: [cos(75 * .pi / 180), 0, sin(75 * .pi / 180)])
    let abduction = Self.conditioning(.leftShoulderAbduction, nearlyForward)
    #expect(abs(abduction - cos(75 * Float.pi / 180) / BodyAngle.fullShadow) < 0.02)
    // Hanging: both planes hold the arm.
    let hanging = Self.features(arm: [0, -1, 0])
    #expect(Self.conditioning(.leftShoulderFlexion, hanging) == 1)
    #expect(Self.conditioning(.leftShoulderAbduction, hanging) == 1)
    // The trunk bent straight forward: its lateral flexion has no shadow, its flexion does;
    // the legs hang in both planes; angles that are no shadow are always defined.
    let bent = Self.features(
      arm: [0, -1, 0], trunk: Quaternion(angle: .pi / 2, axis: SIMD3(1, 0, 0)))
    #expect(Self.conditioning(.trunkLateralFlexion, bent) < 0.05)
    #expect(Self.conditioning(.trunkFlexion, bent) == 1)
    #expect(Self.conditioning(.leftHipFlexion, bent) == 1)
    for angle in [BodyAngle.leftKneeFlexion, .leftElbowFlexion, .lumbarFlexion, .trunkRotation] {
      #expect(Self.conditioning(angle, forward) == 1 && Self.conditioning(angle, bent) == 1)
    }
  }
}
