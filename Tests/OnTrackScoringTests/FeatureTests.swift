import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Testing

@Suite("Body model and features")
struct FeatureTests {
  static let rigs = [
    "cmu_fairmotion/01_01.bvh", "cmu_dazfriendly_rgbdacquisition/102_01cc.bvh",
    "cmu_dazfriendly_rgbdacquisition/49_04.bvh", "bandai_namco/dataset-2_walk_normal_001.bvh",
    "misc_bvh_toolbox/walk01.bvh", "mixamo_rig_bvh_python/test_freebvh.bvh",
    "mocapbank_bvh_python/test_mocapbank_crlf.bvh", "pymo_demo/AV_8Walk_Meredith_HVHA_Rep1.bvh",
    "xia2015_cmu_skeleton_deepmotionediting/neutral_01_000.bvh",
  ]

  @Test(
    "every shared rig maps onto the body model with anatomically placed landmarks", arguments: rigs)
  func rigsMap(path: String) throws {
    let clip = try BVHReader().read(
      contentsOf: ScoringData.shared.appendingPathComponent("data/bvh/\(path)"))
    let body = try BodyModel(skeleton: clip.skeleton)
    let frame = ClipFeatures.landmarks(of: clip, body: body)[0]
    // Head above hips above ankles; left hip on the left of the right hip in the body's frame.
    let hips = (frame[.leftHip] + frame[.rightHip]) / 2
    #expect(frame[.head].y > hips.y && hips.y > frame[.leftAnkle].y)
    #expect(length(frame[.leftWrist] - frame[.leftElbow]) > 0.1)
    let features = ClipFeatures.features(of: try clip.trimmed(frames: 0..<2), body: body)
    // The trunk points up, the pelvis bone points to the body's left.
    let trunk = FeatureLayout.bones.firstIndex(of: .trunk)! * 3
    let pelvis = FeatureLayout.bones.firstIndex(of: .pelvis)! * 3
    #expect(features[0, trunk + 1] > 0.7)
    #expect(features[0, pelvis] > 0.7)
  }

  @Test("names: sides and stems from the conventions of many rigs")
  func nameParsing() {
    #expect(BodyModel.parse("mixamorig:LeftForeArm") == (.left, "forearm"))
    #expect(BodyModel.parse("LowerLeg_R") == (.right, "lowerleg"))
    #expect(BodyModel.parse("lknee") == (.left, "knee"))
    #expect(BodyModel.parse("ElbowRight") == (.right, "elbow"))
    #expect(BodyModel.parse("lowerback") == (nil, "lowerback"))
    #expect(BodyModel.parse("Neck1") == (nil, "neck1"))
  }

  @Test("a rig without elbows is refused with the missing landmark named")
  func missingLandmark() throws {
    let skeleton = try Skeleton(joints: [
      .init(name: "Hips", parent: nil, offset: .zero),
      .init(name: "Spine", parent: 0, offset: [0, 0.3, 0]),
    ])
    #expect(throws: BodyModelError.missingLandmark(.head)) { try BodyModel(skeleton: skeleton) }
  }

  @Test("features do not change when the patient faces another way or is another size")
  func invariance() throws {
    let clip = try ScoringData.kinect(movement: 1, subject: 2, episode: 3)
    let body = try BodyModel(skeleton: clip.skeleton)
    let base = ClipFeatures.landmarks(of: clip, body: body)
    let turn = Quaternion(angle: 1.9, axis: [0, 1, 0])
    let moved = base.map { frame -> LandmarkFrame in
      var f = frame
      for i in f.positions.indices {
        f.positions[i] = turn.act(on: f.positions[i]) * 1.3 + SIMD3(4, 0, -2)
      }
      return f
    }
    let times = (0..<base.count).map { Double($0) / 30 }
    let a = ClipFeatures.features(landmarks: base, times: times, step: 1.0 / 30)
    let b = ClipFeatures.features(landmarks: moved, times: times, step: 1.0 / 30)
    // Directions, angles and noise the same; the bones' lengths 1.3 times as long.
    let lengths = FeatureLayout.lengthColumn(FeatureLayout.bones[0])
    var worst: Float = 0
    for (k, (x, y)) in zip(a.values, b.values).enumerated() {
      let long = k % FeatureLayout.width >= lengths
      worst = max(worst, long ? abs(x * 1.3 - y) : abs(x - y))
    }
    #expect(worst < 1e-3)
  }

  @Test("mirroring features equals the features of the mirrored motion")
  func mirroredFeatures() throws {
    let clip = try ScoringData.kinect(movement: 7, subject: 1, episode: 2)
    let body = try BodyModel(skeleton: clip.skeleton)
    let frames = ClipFeatures.landmarks(of: clip, body: body)
    let reflected = frames.map { frame -> LandmarkFrame in
      var f = LandmarkFrame()
      for landmark in BodyLandmark.allCases {
        f[landmark.mirrored] = frame[landmark] * SIMD3(-1, 1, 1)
      }
      return f
    }
    let times = (0..<frames.count).map { Double($0) / 30 }
    let a = ClipFeatures.features(landmarks: frames, times: times, step: 1.0 / 30).mirrored()
    let b = ClipFeatures.features(landmarks: reflected, times: times, step: 1.0 / 30)
    let worst = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
    #expect(worst < 1e-4)
  }

  /// Limb directions are reproduced exactly; the head and pelvis bones hang off the tiny
  /// neck–collar and hip segments, whose per-frame length noise in the Kinect data a skeleton
  /// with fixed bone lengths cannot follow (a few degrees).
  @Test("the canonical retarget keeps the bone directions of the Kinect recording")
  func retargetKeepsDirections() throws {
    let clip = try ScoringData.kinect(movement: 5, subject: 4, episode: 6)
    let canonical = try UIPRMDExerciseBuilder.retarget(clip, mirrored: false)
    #expect(canonical.skeleton.joints.map(\.name).contains("LeftForeArm"))
    // Unfiltered: a filter averages positions, and the Kinect's bone lengths wobble where the
    // canonical skeleton's are fixed.
    let a = ClipFeatures.features(
      of: clip, body: try BodyModel(skeleton: clip.skeleton), cutoff: nil)
    let b = ClipFeatures.features(
      of: canonical, body: try BodyModel(skeleton: canonical.skeleton), cutoff: nil)
    for (k, bone) in FeatureLayout.bones.enumerated() {
      var worst: Float = 0
      for f in 0..<a.count {
        for c in 0..<3 { worst = max(worst, abs(a[f, 3 * k + c] - b[f, 3 * k + c])) }
      }
      let limit: Float =
        [.head, .pelvis, .trunk, .shoulders, .lowerBack].contains(bone) ? 0.12 : 3e-3
      #expect(worst < limit, "\(bone): largest direction component difference \(worst)")
    }
  }

  @Test("the grid resampler interpolates streams at other rates onto the reference's rate")
  func resampling() {
    var resampler = GridResampler(step: 0.1)
    var frame = LandmarkFrame()
    var produced: [Float] = []
    for (t, x) in [(0.0, 0.0), (0.25, 2.5), (0.3, 3.0), (0.29, 9.0), (0.52, 5.2)]
      as [(Double, Float)]
    {
      frame[.head] = SIMD3(x, 0, 0)
      let accepted = resampler.push(frame, at: t)
      #expect(accepted == (t != 0.29))
      for k in 0..<resampler.outputCount { produced.append(resampler.output[k][.head].x) }
    }
    #expect(produced.count == 6)
    for (k, value) in produced.enumerated() { #expect(abs(value - Float(k)) < 1e-4) }
  }

  /// The grid frames of `times` (seconds) pushed through a pipeline at 30 frames a second,
  /// and which of them it says it drew across a gap in the stream.
  static func bridged(_ times: [Double]) -> [Bool] {
    var pipeline = FeaturePipeline(step: 1.0 / 30)
    var frame = LandmarkFrame()
    var flags: [Bool] = []
    for t in times {
      // A body moving sideways, so no frame is refused as frozen or too fast.
      for k in frame.positions.indices {
        let x = Float(t) * 0.1 + Float(k) * 0.05
        let y = 1 + Float(k) * 0.03
        frame.positions[k] = SIMD3(x, y, 0)
      }
      pipeline.push(frame, at: t)
      for k in 0..<pipeline.outputCount { flags.append(pipeline.bridged[k]) }
    }
    return flags
  }

  @Test("the grid frames drawn across a gap in the stream are marked, and no others")
  func bridgedFrames() {
    // 30 frames a second, then 0.4 s lost (frames 30–41): the 13 grid frames up to the next
    // are drawn across the gap, all but the last (at it) bridged.
    let steady = (0..<30).map { Double($0) / 30 }
    let after = (42..<60).map { Double($0) / 30 }
    let flags = Self.bridged(steady + after)
    #expect(flags.count == 60)
    #expect(flags.indices.filter { flags[$0] } == Array(30..<42))
    // A slower sensor (10 a second), one with a frame lost now and then, and one whose
    // timestamps jitter by up to 40 % of a frame: nothing is a gap.
    #expect(!Self.bridged((0..<30).map { Double($0) / 10 }).contains(true))
    let kept = (0..<90).filter { k in k % 7 != 3 && k % 11 != 5 }
    let dropped = kept.map { k in Double(k) / 30 }
    #expect(!Self.bridged(dropped).contains(true))
    let jittered = (0..<90).map { k -> Double in
      let shift = k % 2 == 0 ? 0.4 : -0.4
      return (Double(k) + shift) / 30
    }
    #expect(!Self.bridged(jittered).contains(true))
  }
}
