import OnTrackKinematics

/// A small left–right symmetric body (metres, Y up, facing +Z, left on +X), with the channel
/// layouts real rigs use: a 6-channel root and 3-channel joints in mixed orders.
func symmetricBody() throws -> Skeleton {
  typealias J = Skeleton.Joint
  let rootChannels: [Channel] = [
    .xPosition, .yPosition, .zPosition, .zRotation, .yRotation, .xRotation,
  ]
  let zxy: [Channel] = [.zRotation, .xRotation, .yRotation]
  let joints: [J] = [
    J(name: "Hips", parent: nil, offset: [0, 0.9, 0], channels: rootChannels),
    J(name: "LeftUpLeg", parent: 0, offset: [0.1, -0.05, 0], channels: zxy),
    J(name: "LeftLeg", parent: 1, offset: [0, -0.42, 0.01], channels: zxy),
    J(name: "LeftLeg_End", parent: 2, offset: [0, -0.4, 0.1], isEndSite: true),
    J(name: "RightUpLeg", parent: 0, offset: [-0.1, -0.05, 0], channels: zxy),
    J(name: "RightLeg", parent: 4, offset: [0, -0.42, 0.01], channels: zxy),
    J(name: "RightLeg_End", parent: 5, offset: [0, -0.4, 0.1], isEndSite: true),
    J(
      name: "Spine", parent: 0, offset: [0, 0.15, -0.02],
      channels: [.yRotation, .xRotation, .zRotation]),
    J(
      name: "Head", parent: 7, offset: [0, 0.45, 0], channels: [.zRotation, .yRotation, .xRotation]),
    J(name: "Head_End", parent: 8, offset: [0, 0.2, 0], isEndSite: true),
    J(name: "LArm", parent: 7, offset: [0.18, 0.35, 0], channels: zxy),
    J(name: "LArm_End", parent: 10, offset: [0.55, 0, 0], isEndSite: true),
    J(name: "RArm", parent: 7, offset: [-0.18, 0.35, 0], channels: zxy),
    J(name: "RArm_End", parent: 12, offset: [-0.55, 0, 0], isEndSite: true),
  ]
  return try Skeleton(joints: joints)
}

/// A deterministic pseudo-random generator (SplitMix64) so tests are reproducible.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// `frames` frames of random motion on `skeleton`: any rotation on every joint, the root
/// wandering within a metre.
func randomClip(_ skeleton: Skeleton, frames: Int, seed: UInt64, frameTime: Double = 1.0 / 60)
  throws -> Clip
{
  var rng = SplitMix(state: seed)
  var rotations: [Quaternion] = []
  var translations: [SIMD3<Float>] = []
  for _ in 0..<frames {
    for joint in skeleton.joints {
      if joint.channels.contains(where: \.isRotation) {
        let v = SIMD4<Float>(
          .random(in: -1...1, using: &rng), .random(in: -1...1, using: &rng),
          .random(in: -1...1, using: &rng), .random(in: 0.2...1, using: &rng))
        rotations.append(Quaternion(v).normalized)
      } else {
        rotations.append(.identity)
      }
      var t = joint.offset
      if joint.parent == nil {
        t += SIMD3(.random(in: -1...1, using: &rng), 0, .random(in: -1...1, using: &rng))
      }
      translations.append(t)
    }
  }
  return try Clip(
    skeleton: skeleton, frameTime: frameTime, rotations: rotations, translations: translations)
}

/// World positions of every joint of one frame.
func worldPositions(_ clip: Clip, frame: Int) -> [SIMD3<Float>] {
  var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
  ForwardKinematics.computeWorldTransforms(
    skeleton: clip.skeleton, pose: clip.pose(atFrame: frame), into: &world)
  return world.map(\.translation)
}
