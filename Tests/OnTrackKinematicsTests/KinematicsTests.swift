import AllocationCounter
import Foundation
import OnTrackKinematics
import Testing

@Suite("Skeleton, forward kinematics, clips")
struct KinematicsTests {
  @Test("forward kinematics of a two-bone chain by hand")
  func handComputedChain() throws {
    let skeleton = try Skeleton(joints: [
      .init(name: "root", parent: nil, offset: [1, 0, 0], channels: [.zRotation]),
      .init(name: "elbow", parent: 0, offset: [0, 2, 0], channels: [.zRotation]),
      .init(name: "elbow_End", parent: 1, offset: [0, 1, 0], isEndSite: true),
    ])
    var pose = skeleton.restPose
    pose.rotations[0] = Quaternion(angle: .pi / 2, axis: [0, 0, 1])  // +Y bone now points −X
    pose.rotations[1] = Quaternion(angle: .pi / 2, axis: [0, 0, 1])
    var world = [RigidTransform](repeating: .identity, count: 3)
    ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
    #expect(isClose(world[0].translation, [1, 0, 0]))
    #expect(isClose(world[1].translation, [-1, 0, 0]))
    #expect(isClose(world[2].translation, [-1, -1, 0]))
  }

  @Test("forward kinematics equals composing rigid transforms up the chain")
  func matchesRecursiveComposition() throws {
    let clip = try randomClip(try symmetricBody(), frames: 20, seed: 7)
    let skeleton = clip.skeleton
    for f in 0..<clip.frameCount {
      let pose = clip.pose(atFrame: f)
      let fast = worldPositions(clip, frame: f)
      for j in 0..<skeleton.count {
        var transform = RigidTransform(
          rotation: pose.rotations[j], translation: pose.translations[j])
        var parent = skeleton.joints[j].parent
        while let p = parent {
          transform =
            RigidTransform(rotation: pose.rotations[p], translation: pose.translations[p])
            * transform
          parent = skeleton.joints[p].parent
        }
        #expect(isClose(fast[j], transform.translation, 1e-5))
      }
    }
  }

  @Test("sampling, decoding and forward kinematics allocate nothing per frame")
  func noAllocationPerFrame() throws {
    let clip = try randomClip(try symmetricBody(), frames: 50, seed: 3)
    var pose = clip.skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
    let decoder = ChannelDecoder(skeleton: clip.skeleton)
    let values = [Float](repeating: 10, count: decoder.channelCount)
    // Warm up (first calls may resolve lazy metadata).
    clip.sample(at: 0.01, into: &pose)
    ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
    decoder.decode(values, into: &pose)
    let before = ontrack_thread_allocation_count()
    for k in 0..<1000 {
      clip.sample(at: Double(k) * 0.0007, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
      decoder.decode(values, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
    }
    let after = ontrack_thread_allocation_count()
    #expect(after == before, "\(after - before) heap allocations in 1000 frames")
  }

  @Test("a skeleton rejects bad joint lists")
  func skeletonValidation() {
    typealias J = Skeleton.Joint
    #expect(throws: SkeletonError.empty) { try Skeleton(joints: []) }
    #expect(throws: SkeletonError.duplicateName("a")) {
      try Skeleton(joints: [
        J(name: "a", parent: nil, offset: .zero), J(name: "a", parent: 0, offset: .zero),
      ])
    }
    #expect(throws: SkeletonError.parentNotBeforeChild(joint: "b", index: 1)) {
      try Skeleton(joints: [
        J(name: "a", parent: nil, offset: .zero), J(name: "b", parent: 1, offset: .zero),
      ])
    }
    #expect(throws: SkeletonError.multipleRoots("b")) {
      try Skeleton(joints: [
        J(name: "a", parent: nil, offset: .zero), J(name: "b", parent: nil, offset: .zero),
      ])
    }
    #expect(throws: SkeletonError.nonFiniteOffset("b")) {
      try Skeleton(joints: [
        J(name: "a", parent: nil, offset: .zero), J(name: "b", parent: 0, offset: [.nan, 0, 0]),
      ])
    }
    #expect(throws: SkeletonError.duplicateChannel("a")) {
      try Skeleton(joints: [
        J(name: "a", parent: nil, offset: .zero, channels: [.xRotation, .xRotation])
      ])
    }
  }

  @Test("a clip rejects non-finite values, naming the frame and joint")
  func clipValidation() throws {
    let skeleton = try symmetricBody()
    var rotations = [Quaternion](repeating: .identity, count: skeleton.count * 3)
    let translations = [SIMD3<Float>](repeating: .zero, count: skeleton.count * 3)
    rotations[skeleton.count * 2 + 4] = Quaternion(x: .nan, y: 0, z: 0, w: 1)
    #expect(throws: ClipError.nonFinite(frame: 2, joint: "RightUpLeg")) {
      try Clip(
        skeleton: skeleton, frameTime: 0.01, rotations: rotations, translations: translations)
    }
    #expect(throws: ClipError.invalidFrameTime(0)) {
      try Clip(skeleton: skeleton, frameTime: 0, rotations: [], translations: [])
    }
    // Frame times outside 0.1 ms…10 s would make counts derived from times (resampling,
    // smoothing windows) too large to hold.
    let identity = [Quaternion](repeating: .identity, count: skeleton.count * 3)
    for frameTime in [1e-300, 1e-5, 11, 1e300, .nan, .infinity] {
      let error = #expect(throws: ClipError.self) {
        try Clip(
          skeleton: skeleton, frameTime: frameTime, rotations: identity,
          translations: translations)
      }
      guard case .invalidFrameTime = error else {
        Issue.record("frame time \(frameTime): \(String(describing: error))")
        continue
      }
    }
    for frameTime in [1e-4, 10] {
      _ = try Clip(
        skeleton: skeleton, frameTime: frameTime, rotations: identity, translations: translations)
    }
    #expect(throws: ClipError.noFrames) {
      try Clip(skeleton: skeleton, frameTime: 0.01, rotations: [], translations: [])
    }
  }

  @Test("sampling: frame times give frames, midpoints slerp, times clamp to the clip")
  func sampling() throws {
    let clip = try randomClip(try symmetricBody(), frames: 10, seed: 11, frameTime: 0.1)
    var pose = clip.skeleton.restPose
    clip.sample(at: 0.3, into: &pose)
    #expect(pose == clip.pose(atFrame: 3))
    clip.sample(at: 0.35, into: &pose)
    let a = clip.pose(atFrame: 3)
    let b = clip.pose(atFrame: 4)
    for j in 0..<clip.skeleton.count {
      let expected = Quaternion.slerp(a.rotations[j], b.rotations[j], t: 0.5)
      #expect(degreesBetween(pose.rotations[j], expected) < 0.01)
      #expect(isClose(pose.translations[j], (a.translations[j] + b.translations[j]) / 2))
    }
    clip.sample(at: -5, into: &pose)
    #expect(pose == clip.pose(atFrame: 0))
    clip.sample(at: 99, into: &pose)
    #expect(pose == clip.pose(atFrame: 9))
    clip.sample(at: .nan, into: &pose)
    #expect(pose == clip.pose(atFrame: 0))
    #expect(abs(clip.duration - 1.0) < 1e-12)
  }

  @Test("resampling to coinciding times keeps the frames; trimming keeps the range")
  func resampleAndTrim() throws {
    let clip = try randomClip(try symmetricBody(), frames: 121, seed: 5, frameTime: 1.0 / 120)
    let quarter = try clip.resampled(frameRate: 30)
    #expect(quarter.frameCount == 31)
    for f in 0..<quarter.frameCount {
      for (a, b) in zip(quarter.pose(atFrame: f).rotations, clip.pose(atFrame: f * 4).rotations) {
        #expect(degreesBetween(a, b) < 0.01)
      }
    }
    let same = try clip.resampled(frameRate: 120)
    #expect(same.frameCount == clip.frameCount)
    let doubled = try clip.resampled(frameRate: 240)
    #expect(doubled.frameCount == 241)
    #expect(throws: ClipError.self) { try clip.resampled(frameRate: 0) }
    #expect(throws: ClipError.self) { try clip.resampled(frameRate: .infinity) }

    let trimmed = try clip.trimmed(frames: 10..<20)
    #expect(trimmed.frameCount == 10)
    #expect(trimmed.pose(atFrame: 0) == clip.pose(atFrame: 10))
    let byTime = try clip.trimmed(from: 0.5, to: 0.75)
    #expect(byTime.frameCount == 31)
    #expect(byTime.pose(atFrame: 0) == clip.pose(atFrame: 60))
    #expect(throws: ClipError.noFrames) { try clip.trimmed(frames: 500..<600) }
    #expect(throws: ClipError.noFrames) { try clip.trimmed(from: 1e300, to: 2e300) }
  }

  @Test("the channel decoder matches the double-precision Euler path and rejects bad frames")
  func channelDecoder() throws {
    let skeleton = try symmetricBody()
    let decoder = ChannelDecoder(skeleton: skeleton)
    var rng = SplitMix(state: 99)
    let values = (0..<decoder.channelCount).map { _ in Float.random(in: -180...180, using: &rng) }
    var pose = skeleton.restPose
    #expect(decoder.decode(values, into: &pose))
    for (j, joint) in skeleton.joints.enumerated() {
      guard let order = joint.channels.rotationOrder else { continue }
      let start = skeleton.channelOffsets[j]
      var angles = SIMD3<Double>.zero
      var k = 0
      for (c, channel) in joint.channels.enumerated() where channel.isRotation {
        angles[k] = Double(values[start + c]) * .pi / 180
        k += 1
      }
      #expect(
        degreesBetween(pose.rotations[j], Quaternion(eulerAngles: angles, order: order)) < 0.01)
    }
    #expect(pose.translations[0] == SIMD3(values[0], values[1], values[2]))
    let before = pose
    var bad = values
    bad[7] = .nan
    #expect(!decoder.decode(bad, into: &pose))
    #expect(!decoder.decode(Array(values.dropLast()), into: &pose))
    #expect(pose == before)
  }
}
