/// OnTrack's canonical skeleton: 26 joints (20 with rotations), a T-pose facing +Z with X to
/// the body's left, in metres. The bundled exercises' references are on it, and keypoint
/// streams are solved onto it.
public enum CanonicalSkeleton {
  /// One joint: its name, parent, the direction it lies in from its parent at rest, the
  /// keypoint that places it, and its length (metres) for an adult of about 1.70 m.
  public struct JointSpec: Sendable {
    public var name: String
    public var parent: Int?
    public var rest: SIMD3<Float>
    /// The keypoint at this joint; `nil` for the clavicles, placed between the neck and the
    /// shoulders.
    public var point: BodyPoint?
    public var length: Float
  }

  public static let joints: [JointSpec] = [
    .init(name: "Hips", parent: nil, rest: [0, 0, 0], point: .pelvis, length: 0),
    .init(name: "Spine", parent: 0, rest: [0, 1, 0], point: .spine, length: 0.12),
    .init(name: "Chest", parent: 1, rest: [0, 1, 0], point: .chest, length: 0.18),
    .init(name: "Neck", parent: 2, rest: [0, 1, 0], point: .neck, length: 0.15),
    .init(name: "Head", parent: 3, rest: [0, 1, 0], point: .head, length: 0.10),
    .init(name: "Head_End", parent: 4, rest: [0, 1, 0], point: .headTop, length: 0.12),
    .init(name: "LeftShoulder", parent: 2, rest: [1, 0.5, 0], point: nil, length: 0.16),
    .init(name: "LeftArm", parent: 6, rest: [1, 0, 0], point: .leftShoulder, length: 0.12),
    .init(name: "LeftForeArm", parent: 7, rest: [1, 0, 0], point: .leftElbow, length: 0.28),
    .init(name: "LeftHand", parent: 8, rest: [1, 0, 0], point: .leftWrist, length: 0.25),
    .init(name: "LeftHand_End", parent: 9, rest: [1, 0, 0], point: .leftHand, length: 0.08),
    .init(name: "RightShoulder", parent: 2, rest: [-1, 0.5, 0], point: nil, length: 0.16),
    .init(name: "RightArm", parent: 11, rest: [-1, 0, 0], point: .rightShoulder, length: 0.12),
    .init(name: "RightForeArm", parent: 12, rest: [-1, 0, 0], point: .rightElbow, length: 0.28),
    .init(name: "RightHand", parent: 13, rest: [-1, 0, 0], point: .rightWrist, length: 0.25),
    .init(name: "RightHand_End", parent: 14, rest: [-1, 0, 0], point: .rightHand, length: 0.08),
    .init(name: "LeftUpLeg", parent: 0, rest: [0.97, -0.24, 0], point: .leftHip, length: 0.10),
    .init(name: "LeftLeg", parent: 16, rest: [0, -1, 0], point: .leftKnee, length: 0.42),
    .init(name: "LeftFoot", parent: 17, rest: [0, -1, 0], point: .leftAnkle, length: 0.40),
    .init(name: "LeftToeBase", parent: 18, rest: [0, -0.37, 0.93], point: .leftToe, length: 0.14),
    .init(name: "LeftToeBase_End", parent: 19, rest: [0, 0, 1], point: nil, length: 0.05),
    .init(name: "RightUpLeg", parent: 0, rest: [-0.97, -0.24, 0], point: .rightHip, length: 0.10),
    .init(name: "RightLeg", parent: 21, rest: [0, -1, 0], point: .rightKnee, length: 0.42),
    .init(name: "RightFoot", parent: 22, rest: [0, -1, 0], point: .rightAnkle, length: 0.40),
    .init(
      name: "RightToeBase", parent: 23, rest: [0, -0.37, 0.93], point: .rightToe, length: 0.14),
    .init(name: "RightToeBase_End", parent: 24, rest: [0, 0, 1], point: nil, length: 0.05),
  ]

  /// Joints with no rotation channels: the tips.
  static let endSites: Set<String> = [
    "Head_End", "LeftHand_End", "RightHand_End", "LeftToeBase_End", "RightToeBase_End",
  ]

  /// The canonical skeleton with its default proportions.
  public static func make() -> Skeleton {
    make(
      offsets: joints.map { spec in
        (spec.rest == .zero ? spec.rest : normalize(spec.rest)) * spec.length
      })
  }

  /// The canonical skeleton with `lengths[j]` metres from each joint to its parent along the
  /// default rest directions (the defaults where not positive).
  public static func make(lengths: [Float]) -> Skeleton {
    make(
      offsets: joints.enumerated().map { j, spec in
        let length = j < lengths.count && lengths[j] > 0 ? lengths[j] : spec.length
        return (spec.rest == .zero ? spec.rest : normalize(spec.rest)) * length
      })
  }

  /// The canonical skeleton with rest offsets `offsets[j]` (metres, from each joint's parent,
  /// in the T-pose body frame: X left, Y up, Z forward); missing entries take the defaults.
  public static func make(offsets: [SIMD3<Float>]) -> Skeleton {
    var specs: [Skeleton.Joint] = []
    for (j, spec) in joints.enumerated() {
      let offset: SIMD3<Float> =
        j < offsets.count && offsets[j].x.isFinite && offsets[j].y.isFinite
          && offsets[j].z.isFinite
        ? offsets[j] : (spec.rest == .zero ? spec.rest : normalize(spec.rest)) * spec.length
      let isEndSite = endSites.contains(spec.name)
      let channels: [Channel] =
        isEndSite
        ? []
        : (spec.parent == nil
          ? [.xPosition, .yPosition, .zPosition, .zRotation, .xRotation, .yRotation]
          : [.zRotation, .xRotation, .yRotation])
      specs.append(
        Skeleton.Joint(
          name: spec.name, parent: spec.parent, offset: spec.parent == nil ? .zero : offset,
          channels: channels,
          isEndSite: isEndSite))
    }
    // The joint list is fixed and valid; a failure here is a programming error.
    guard let skeleton = try? Skeleton(joints: specs, lengthUnit: .metre) else {
      preconditionFailure("the canonical skeleton is valid")
    }
    return skeleton
  }
}
