import OnTrackKinematics
import Testing

@Suite("Mirroring")
struct MirroringTests {
  @Test("left and right joints are paired by name; midline joints pair with themselves")
  func pairs() throws {
    let skeleton = try symmetricBody()
    let mirror = SkeletonMirror(skeleton: skeleton)
    func name(_ j: Int) -> String { skeleton.joints[mirror.counterparts[j]].name }
    #expect(name(1) == "RightUpLeg")
    #expect(name(5) == "LeftLeg")
    #expect(name(3) == "RightLeg_End")
    #expect(name(10) == "RArm")
    #expect(name(7) == "Spine")
    #expect(mirror.restAxis == 0)
    #expect(mirror.pairCount == 5)  // legs, leg tips, arms, arm tips
    #expect(SkeletonMirror.counterpartNames(of: "UpperArm_L").contains("UpperArm_R"))
    #expect(SkeletonMirror.counterpartNames(of: "lhipjoint").contains("rhipjoint"))
    #expect(
      SkeletonMirror.counterpartNames(of: "mixamorig:LeftHand").contains("mixamorig:RightHand"))
    #expect(SkeletonMirror.counterpartNames(of: "eye.l").contains("eye.r"))
  }

  @Test("mirroring twice gives the original clip")
  func involution() throws {
    let clip = try randomClip(try symmetricBody(), frames: 30, seed: 21)
    let twice = clip.mirrored().mirrored()
    for i in 0..<clip.rotations.count {
      #expect(degreesBetween(twice.rotations[i], clip.rotations[i]) < 0.001)
      #expect(isClose(twice.translations[i], clip.translations[i], 1e-6))
    }
  }

  @Test("a mirrored motion puts each joint where its counterpart's reflection was")
  func reflectsWorldPositions() throws {
    let clip = try randomClip(try symmetricBody(), frames: 30, seed: 4)
    let mirrored = clip.mirrored()
    let mirror = SkeletonMirror(skeleton: clip.skeleton)
    for f in 0..<clip.frameCount {
      let original = worldPositions(clip, frame: f)
      let reflected = worldPositions(mirrored, frame: f)
      for j in 0..<clip.skeleton.count {
        let expected = original[j] * SIMD3(-1, 1, 1)
        #expect(isClose(reflected[mirror.counterparts[j]], expected, 1e-4))
      }
    }
  }

  @Test("a rig whose rest pose mirrors across another axis is reflected correctly")
  func otherRestAxis() throws {
    // The same body built lying along X with left on +Z, as Maya-style rigs are: rotate the
    // offsets so rest "up" is +X and rest "left" is +Z; the root rotation stands it up.
    let body = try symmetricBody()
    let turn =
      Quaternion(angle: .pi / 2, axis: [1, 0, 0]) * Quaternion(angle: -.pi / 2, axis: [0, 0, 1])
    let joints = body.joints.map { joint -> Skeleton.Joint in
      var copy = joint
      if joint.parent != nil { copy.offset = turn.act(on: joint.offset) }
      return copy
    }
    let skeleton = try Skeleton(joints: joints)
    let mirror = SkeletonMirror(skeleton: skeleton)
    #expect(mirror.restAxis != 0)
    let upright = try randomClip(skeleton, frames: 10, seed: 8)
    let mirrored = upright.mirrored(mirror: mirror)
    for f in 0..<upright.frameCount {
      let original = worldPositions(upright, frame: f)
      let reflected = worldPositions(mirrored, frame: f)
      for j in 0..<skeleton.count {
        #expect(isClose(reflected[mirror.counterparts[j]], original[j] * SIMD3(-1, 1, 1), 1e-4))
      }
    }
  }
}
