import AllocationCounter
import Foundation
import OnTrackKinematics
import Testing

/// `KeypointSolver`: keypoints of a known pose in, the same pose's bone directions out.
@Suite("Keypoint solver")
struct KeypointSolverTests {
  /// Joint-centre keypoints of the canonical skeleton in `pose`.
  static func keypoints(_ skeleton: Skeleton, _ pose: Pose) -> KeypointFrame {
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
    var frame = KeypointFrame()
    for (j, spec) in CanonicalSkeleton.joints.enumerated() {
      guard let point = spec.point, let k = skeleton.index(of: spec.name) else { continue }
      frame[point] = world[k].translation
      frame.confidence[point.rawValue] = 1
      _ = j
    }
    return frame
  }

  /// A pose with the left arm raised `angle` radians sideways and the right knee bent.
  static func pose(_ skeleton: Skeleton, arm angle: Float, knee: Float) -> Pose {
    var pose = skeleton.restPose
    pose.translations[0] = [0, 0.95, 0]
    if let arm = skeleton.index(of: "LeftArm") {
      pose.rotations[arm] = Quaternion(angle: -Float.pi / 2 + angle, axis: [0, 0, 1])
    }
    if let rightArm = skeleton.index(of: "RightArm") {
      pose.rotations[rightArm] = Quaternion(angle: Float.pi / 2, axis: [0, 0, 1])
    }
    if let leg = skeleton.index(of: "RightLeg") {
      pose.rotations[leg] = Quaternion(angle: knee, axis: [1, 0, 0])
    }
    return pose
  }

  static func direction(_ skeleton: Skeleton, _ pose: Pose, _ from: String, _ to: String)
    -> SIMD3<Float>
  {
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
    let a = world[skeleton.index(of: from) ?? 0].translation
    let b = world[skeleton.index(of: to) ?? 0].translation
    return normalize(b - a)
  }

  @Test("solved bones point where the keypoints say, limb by limb")
  func reproducesDirections() throws {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    solver.smoothing = 0
    var solved = skeleton.restPose
    for k in 0..<90 {
      let truth = Self.pose(skeleton, arm: Float(k) / 90 * 1.5, knee: 0.6)
      #expect(solver.solve(Self.keypoints(skeleton, truth), at: Double(k) / 30, into: &solved))
      for (a, b) in [
        ("LeftArm", "LeftForeArm"), ("LeftForeArm", "LeftHand"), ("RightUpLeg", "RightLeg"),
        ("RightLeg", "RightFoot"), ("Hips", "Neck"),
      ] {
        let want = Self.direction(skeleton, truth, a, b)
        let got = Self.direction(skeleton, solved, a, b)
        #expect(dot(want, got) > 0.999, "frame \(k) \(a)→\(b)")
      }
    }
    #expect(solver.tracked & BodyPoint.leftElbow.bit != 0)
  }

  @Test("a lost point is held with its parent and reported unseen; a swapped reading is undone")
  func heldAndSwapped() throws {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    solver.smoothing = 0
    var solved = skeleton.restPose
    let truth = Self.pose(skeleton, arm: 0.8, knee: 0.3)
    var frame = Self.keypoints(skeleton, truth)
    for k in 0..<70 { solver.solve(frame, at: Double(k) / 30, into: &solved) }
    let held = Self.direction(skeleton, solved, "LeftForeArm", "LeftHand")
    frame[.leftWrist] = nil
    solver.solve(frame, at: 70.0 / 30, into: &solved)
    #expect(solver.tracked & BodyPoint.leftWrist.bit == 0)
    #expect(solver.untrackedLandmarks & (1 << UInt32(BodyLandmark.leftWrist.rawValue)) != 0)
    #expect(dot(Self.direction(skeleton, solved, "LeftForeArm", "LeftHand"), held) > 0.999)
    // A detector that mislabels left as right for a frame: read back as it was.
    var swapped = Self.keypoints(skeleton, truth)
    for (l, r) in [
      (BodyPoint.leftShoulder, BodyPoint.rightShoulder), (.leftElbow, .rightElbow),
      (.leftWrist, .rightWrist), (.leftHand, .rightHand), (.leftHip, .rightHip),
      (.leftKnee, .rightKnee), (.leftAnkle, .rightAnkle), (.leftToe, .rightToe),
    ] {
      let a = swapped[l]
      swapped[l] = swapped[r]
      swapped[r] = a
    }
    solver.solve(swapped, at: 71.0 / 30, into: &solved)
    #expect(solver.swaps == 1)
    let want = Self.direction(skeleton, truth, "RightUpLeg", "RightLeg")
    #expect(dot(Self.direction(skeleton, solved, "RightUpLeg", "RightLeg"), want) > 0.99)
  }

  @Test("a knee bent past 165° is turned back; an impossible point is refused and counted")
  func limitsAndLengths() throws {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    solver.smoothing = 0
    var solved = skeleton.restPose
    let truth = Self.pose(skeleton, arm: 0.2, knee: 0.2)
    for k in 0..<70 {
      solver.solve(Self.keypoints(skeleton, truth), at: Double(k) / 30, into: &solved)
    }
    #expect(solver.isCalibrated)
    var frame = Self.keypoints(skeleton, truth)
    // The right ankle folded up onto the thigh (flexion ~ 180°).
    if let knee = frame[.rightKnee], let hip = frame[.rightHip] {
      frame[.rightAnkle] = knee + (hip - knee) * 0.95
    }
    solver.solve(frame, at: 71.0 / 30, into: &solved)
    let thigh = Self.direction(skeleton, solved, "RightLeg", "RightUpLeg")
    let shank = Self.direction(skeleton, solved, "RightLeg", "RightFoot")
    let interior = acos(min(max(dot(thigh, shank), -1), 1)) * 180 / .pi
    #expect(interior >= 14.5, "interior knee angle \(interior)°")
    // An elbow a metre from the shoulder: refused.
    var far = Self.keypoints(skeleton, truth)
    far[.leftElbow] = (far[.leftShoulder] ?? .zero) + SIMD3(1, 0, 0)
    let before = solver.implausible
    solver.solve(far, at: 72.0 / 30, into: &solved)
    // The elbow, and the wrist measured from it.
    #expect(solver.implausible > before)
    #expect(solver.tracked & BodyPoint.leftElbow.bit == 0)
  }

  /// A body that reaches forward and bends a knee (both into the camera's depth), 10 s at
  /// 30 frames a second: frame `k`'s pose.
  static func reaching(_ skeleton: Skeleton, _ k: Int) -> Pose {
    let phase = Float(1 - cos(2 * Double.pi * Double(k) / 90)) / 2
    var pose = skeleton.restPose
    pose.translations[0] = [0, 0.95, 0]
    if let arm = skeleton.index(of: "LeftArm") {
      pose.rotations[arm] =
        Quaternion(angle: -1.3 * phase, axis: [1, 0, 0])
        * Quaternion(angle: -Float.pi / 2, axis: [0, 0, 1])
    }
    if let rightArm = skeleton.index(of: "RightArm") {
      pose.rotations[rightArm] = Quaternion(angle: Float.pi / 2, axis: [0, 0, 1])
    }
    if let leg = skeleton.index(of: "RightLeg") {
      pose.rotations[leg] = Quaternion(angle: 1.2 * phase, axis: [1, 0, 0])
    }
    return pose
  }

  /// `frame` with its depth (z, about the hips) multiplied by `depth` and, with `jitter`,
  /// white noise of that standard deviation (metres, per axis) from `random`.
  static func seen(
    _ frame: KeypointFrame, depth: Float, jitter: Float = 0, random: inout UInt64
  ) -> KeypointFrame {
    var out = frame
    for point in BodyPoint.allCases {
      guard var p = frame[point] else { continue }
      p.z *= depth
      if jitter > 0 {
        for axis in 0..<3 {
          // Box–Muller from a 64-bit LCG.
          random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          let u = max(Double(random >> 11) / Double(1 << 53), 1e-12)
          random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          let v = Double(random >> 11) / Double(1 << 53)
          p[axis] += jitter * Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
      }
      out[point] = p
    }
    return out
  }

  /// A monocular model's depth, flattened to 60 %: the forearm reaching forward reads several
  /// degrees off on average, up to 15°; the scale is told by the limbs' lengths changing as they turn into depth and undone
  /// (`DepthScale`). Jitter alone, or a body that never turns out of the image plane, tells no
  /// scale: it stays 1.
  @Test("a monocular model's flattened depth is told by the body's rigid limbs and undone")
  func depthScale() throws {
    let skeleton = CanonicalSkeleton.make()
    var random: UInt64 = 7
    /// The solver after 10 s, and the forearm's mean angular error over the last 5 s, degrees.
    func run(depth: Float, jitter: Float, corrects: Bool, motion: (Int) -> Pose) -> (
      solver: KeypointSolver, error: Float
    ) {
      var solver = KeypointSolver(skeleton: skeleton)
      solver.correctsDepthScale = corrects
      var solved = skeleton.restPose
      var sum: Float = 0
      for k in 0..<300 {
        let truth = motion(k)
        let frame = Self.seen(
          Self.keypoints(skeleton, truth), depth: depth, jitter: jitter, random: &random)
        solver.solve(frame, at: Double(k) / 30, into: &solved)
        if k >= 150 {
          let a = Self.direction(skeleton, truth, "LeftForeArm", "LeftHand")
          let b = Self.direction(skeleton, solved, "LeftForeArm", "LeftHand")
          sum += acos(min(max(dot(a, b), -1), 1)) * 180 / .pi
        }
      }
      return (solver, sum / 150)
    }
    let reach = { (k: Int) in Self.reaching(skeleton, k) }
    let flat = run(depth: 0.6, jitter: 0, corrects: false, motion: reach)
    let corrected = run(depth: 0.6, jitter: 0, corrects: true, motion: reach)
    #expect(abs(corrected.solver.depthScale.scale - 0.6) < 0.03)
    #expect(corrected.error < flat.error / 4, "\(corrected.error)° against \(flat.error)°")
    let jitteredFlat = run(depth: 0.6, jitter: 0.01, corrects: false, motion: reach)
    let jittered = run(depth: 0.6, jitter: 0.01, corrects: true, motion: reach)
    #expect(abs(jittered.solver.depthScale.scale - 0.6) < 0.06)
    #expect(
      jittered.error < jitteredFlat.error / 2,
      "through 1 cm: \(jittered.error)° against \(jitteredFlat.error)°")
    // Deeper than true (a model that exaggerates depth) is told too, on stronger evidence.
    let deep = run(depth: 1.3, jitter: 0, corrects: true, motion: reach)
    #expect(abs(deep.solver.depthScale.scale - 1.3) < 0.03)
    // Nothing to tell: the same motion unflattened through 1 and 2 cm of jitter, and an arm
    // raised sideways (in the image plane) flattened.
    for jitter: Float in [0.01, 0.02] {
      let honest = run(depth: 1, jitter: jitter, corrects: true, motion: reach)
      #expect(honest.solver.depthScale.scale == 1, "jitter \(jitter)")
      #expect(honest.solver.depthScale.estimate == nil)
    }
    let sideways = run(depth: 0.6, jitter: 0.01, corrects: true) { k in
      Self.pose(skeleton, arm: Float(1 - cos(2 * Double.pi * Double(k) / 90)), knee: 0)
    }
    #expect(sideways.solver.depthScale.scale == 1)
  }

  @Test("solving allocates nothing per frame")
  func allocationFree() throws {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    // With the depth scale estimated and undone, as for a camera's model.
    solver.correctsDepthScale = true
    var solved = skeleton.restPose
    var random: UInt64 = 3
    let frames = (0..<200).map { k in
      Self.seen(Self.keypoints(skeleton, Self.reaching(skeleton, k)), depth: 0.7, random: &random)
    }
    // Past calibration first (it sorts once at its end).
    for k in 0..<100 { solver.solve(frames[k], at: Double(k) / 30, into: &solved) }
    let before = ontrack_thread_allocation_count()
    for k in 100..<200 { solver.solve(frames[k], at: Double(k) / 30, into: &solved) }
    let after = ontrack_thread_allocation_count()
    #expect(after == before, "\(after - before) heap allocations in 100 frames")
  }

  @Test("a fitted skeleton takes the body's proportions")
  func fittedSkeleton() throws {
    // A body 20 % larger than the canonical one.
    let big = CanonicalSkeleton.make(
      lengths: CanonicalSkeleton.joints.map { $0.length * 1.2 })
    let frames = (0..<30).map { k in
      Self.keypoints(big, Self.pose(big, arm: Float(k) / 30, knee: 0.1))
    }
    let fitted = KeypointSolver.fittedSkeleton(frames)
    for name in ["LeftForeArm", "LeftHand", "RightLeg", "RightFoot"] {
      let a = try #require(fitted.index(of: name))
      let b = try #require(big.index(of: name))
      let ratio = length(fitted.joints[a].offset) / length(big.joints[b].offset)
      #expect(abs(ratio - 1) < 0.02, "\(name) \(ratio)")
    }
  }
}
