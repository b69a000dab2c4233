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

  @Test("solving allocates nothing per frame")
  func allocationFree() throws {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    var solved = skeleton.restPose
    let frames = (0..<200).map { k in
      Self.keypoints(skeleton, Self.pose(skeleton, arm: Float(k % 60) / 40, knee: 0.4))
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
