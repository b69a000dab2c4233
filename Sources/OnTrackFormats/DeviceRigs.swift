import OnTrackKinematics

/// The skeletons that motion-capture devices stream on, declared here because the devices do
/// not send them: the 59-joint Perception Neuron rig of Axis Neuron's BVH broadcast, and the
/// Unity humanoid rig of the VMC protocol.
///
/// Both are T-poses facing +Z with identity rest rotations, like OnTrack's canonical skeleton,
/// so local rotations carry over between them joint for joint (`RigRetargeter`).
public enum DeviceRigs {
  /// Axis Neuron's 59-joint Perception Neuron skeleton, lengths in centimetres, rotation
  /// channels `Yrotation Xrotation Zrotation` (the order Axis Neuron writes).
  ///
  /// - Parameter displacement: With displacement every joint has 6 channels (position then
  ///   rotation: 354 values a frame); without, only `Hips` has (180 values).
  public static func perceptionNeuron(displacement: Bool) -> Skeleton {
    var rig = RigBuilder(lengthUnit: .centimetre)
    let rotation: [Channel] = [.yRotation, .xRotation, .zRotation]
    let full: [Channel] = [.xPosition, .yPosition, .zPosition] + rotation
    let channels = displacement ? full : rotation
    rig.add("Hips", parent: nil, offset: [0, 104, 0], channels: full)
    for (side, x) in [("Right", Float(-1)), ("Left", 1)] {
      rig.add("\(side)UpLeg", parent: "Hips", offset: [9.5 * x, 0, 0], channels: channels)
      rig.add("\(side)Leg", parent: "\(side)UpLeg", offset: [0, -44, 0], channels: channels)
      rig.add("\(side)Foot", parent: "\(side)Leg", offset: [0, -43, 0], channels: channels)
      rig.endSite(parent: "\(side)Foot", offset: [0, -7, 15])
    }
    rig.add("Spine", parent: "Hips", offset: [0, 10, 0], channels: channels)
    rig.add("Spine1", parent: "Spine", offset: [0, 10, 0], channels: channels)
    rig.add("Spine2", parent: "Spine1", offset: [0, 10, 0], channels: channels)
    rig.add("Spine3", parent: "Spine2", offset: [0, 10, 0], channels: channels)
    rig.add("Neck", parent: "Spine3", offset: [0, 13, 0], channels: channels)
    rig.add("Head", parent: "Neck", offset: [0, 10, 0], channels: channels)
    rig.endSite(parent: "Head", offset: [0, 16, 0])
    for (side, x) in [("Right", Float(-1)), ("Left", 1)] {
      rig.add("\(side)Shoulder", parent: "Spine3", offset: [3 * x, 9, 0], channels: channels)
      rig.add("\(side)Arm", parent: "\(side)Shoulder", offset: [15 * x, 0, 0], channels: channels)
      rig.add("\(side)ForeArm", parent: "\(side)Arm", offset: [28 * x, 0, 0], channels: channels)
      rig.add("\(side)Hand", parent: "\(side)ForeArm", offset: [26 * x, 0, 0], channels: channels)
      rig.add(
        "\(side)HandThumb1", parent: "\(side)Hand", offset: [2.5 * x, 0, 3], channels: channels)
      rig.add(
        "\(side)HandThumb2", parent: "\(side)HandThumb1", offset: [3 * x, 0, 0],
        channels: channels)
      rig.add(
        "\(side)HandThumb3", parent: "\(side)HandThumb2", offset: [2.5 * x, 0, 0],
        channels: channels)
      rig.endSite(parent: "\(side)HandThumb3", offset: [2 * x, 0, 0])
      for (finger, z) in [("Index", Float(2.5)), ("Middle", 0.8), ("Ring", -0.8), ("Pinky", -2.5)] {
        rig.add(
          "\(side)InHand\(finger)", parent: "\(side)Hand", offset: [3 * x, 0, z],
          channels: channels)
        rig.add(
          "\(side)Hand\(finger)1", parent: "\(side)InHand\(finger)", offset: [6 * x, 0, 0],
          channels: channels)
        rig.add(
          "\(side)Hand\(finger)2", parent: "\(side)Hand\(finger)1", offset: [3.5 * x, 0, 0],
          channels: channels)
        rig.add(
          "\(side)Hand\(finger)3", parent: "\(side)Hand\(finger)2", offset: [2.2 * x, 0, 0],
          channels: channels)
        rig.endSite(parent: "\(side)Hand\(finger)3", offset: [2 * x, 0, 0])
      }
    }
    return rig.skeleton
  }

  /// The Unity humanoid rig (the 55 `HumanBodyBones` a VMC performer sends), lengths in metres,
  /// already converted to OnTrack's right-handed frame (the character's left is +X). Every
  /// bone but `Hips` has 3 rotation channels `Zrotation Xrotation Yrotation`; `Hips` has 6.
  ///
  /// VMC sends local rotations relative to a T-pose with identity rotations, which is what VRM
  /// models' normalised bones give.
  public static func unityHumanoid() -> Skeleton {
    var rig = RigBuilder(lengthUnit: .metre)
    let rotation: [Channel] = [.zRotation, .xRotation, .yRotation]
    rig.add(
      "Hips", parent: nil, offset: [0, 0.95, 0],
      channels: [.xPosition, .yPosition, .zPosition] + rotation)
    for (side, x) in [("Left", Float(1)), ("Right", -1)] {
      rig.add("\(side)UpperLeg", parent: "Hips", offset: [0.09 * x, -0.05, 0], channels: rotation)
      rig.add(
        "\(side)LowerLeg", parent: "\(side)UpperLeg", offset: [0, -0.42, 0], channels: rotation)
      rig.add("\(side)Foot", parent: "\(side)LowerLeg", offset: [0, -0.41, 0], channels: rotation)
      rig.add("\(side)Toes", parent: "\(side)Foot", offset: [0, -0.06, 0.12], channels: rotation)
      rig.endSite(parent: "\(side)Toes", offset: [0, 0, 0.05])
    }
    rig.add("Spine", parent: "Hips", offset: [0, 0.1, 0], channels: rotation)
    rig.add("Chest", parent: "Spine", offset: [0, 0.12, 0], channels: rotation)
    rig.add("UpperChest", parent: "Chest", offset: [0, 0.12, 0], channels: rotation)
    rig.add("Neck", parent: "UpperChest", offset: [0, 0.14, 0], channels: rotation)
    rig.add("Head", parent: "Neck", offset: [0, 0.09, 0], channels: rotation)
    rig.endSite(parent: "Head", offset: [0, 0.18, 0])
    rig.add("Jaw", parent: "Head", offset: [0, 0.02, 0.05], channels: rotation)
    for (side, x) in [("Left", Float(1)), ("Right", -1)] {
      rig.add("\(side)Eye", parent: "Head", offset: [0.03 * x, 0.07, 0.08], channels: rotation)
    }
    for (side, x) in [("Left", Float(1)), ("Right", -1)] {
      rig.add(
        "\(side)Shoulder", parent: "UpperChest", offset: [0.03 * x, 0.1, 0], channels: rotation)
      rig.add(
        "\(side)UpperArm", parent: "\(side)Shoulder", offset: [0.12 * x, 0, 0], channels: rotation)
      rig.add(
        "\(side)LowerArm", parent: "\(side)UpperArm", offset: [0.27 * x, 0, 0], channels: rotation)
      rig.add(
        "\(side)Hand", parent: "\(side)LowerArm", offset: [0.25 * x, 0, 0], channels: rotation)
      for (finger, z) in [
        ("Thumb", Float(0.03)), ("Index", 0.025), ("Middle", 0.008), ("Ring", -0.008),
        ("Little", -0.025),
      ] {
        let base: SIMD3<Float> = finger == "Thumb" ? [0.025 * x, 0, z] : [0.09 * x, 0, z]
        rig.add("\(side)\(finger)Proximal", parent: "\(side)Hand", offset: base, channels: rotation)
        rig.add(
          "\(side)\(finger)Intermediate", parent: "\(side)\(finger)Proximal",
          offset: [0.035 * x, 0, 0], channels: rotation)
        rig.add(
          "\(side)\(finger)Distal", parent: "\(side)\(finger)Intermediate",
          offset: [0.025 * x, 0, 0], channels: rotation)
      }
      rig.endSite(parent: "\(side)Hand", offset: [0.18 * x, 0, 0])
    }
    return rig.skeleton
  }

  /// OnTrack's canonical skeleton (the bundled exercises' references) → Perception Neuron.
  /// The canonical `Chest` drives `Spine3`, from which the neck and shoulders hang.
  public static let canonicalToPerceptionNeuron: [String: String] = {
    var map = ["Hips": "Hips", "Spine": "Spine", "Chest": "Spine3", "Neck": "Neck", "Head": "Head"]
    for side in ["Left", "Right"] {
      for joint in ["Shoulder", "Arm", "ForeArm", "Hand", "UpLeg", "Leg", "Foot"] {
        map[side + joint] = side + joint
      }
    }
    return map
  }()

  /// OnTrack's canonical skeleton → the Unity humanoid rig.
  public static let canonicalToUnityHumanoid: [String: String] = {
    var map = [
      "Hips": "Hips", "Spine": "Spine", "Chest": "UpperChest", "Neck": "Neck", "Head": "Head",
    ]
    for side in ["Left", "Right"] {
      map[side + "Shoulder"] = side + "Shoulder"
      map[side + "Arm"] = side + "UpperArm"
      map[side + "ForeArm"] = side + "LowerArm"
      map[side + "Hand"] = side + "Hand"
      map[side + "UpLeg"] = side + "UpperLeg"
      map[side + "Leg"] = side + "LowerLeg"
      map[side + "Foot"] = side + "Foot"
      map[side + "ToeBase"] = side + "Toes"
    }
    return map
  }()
}

/// Builds a skeleton joint by joint, parents named, lengths in `lengthUnit`.
struct RigBuilder {
  let lengthUnit: LengthUnit
  private(set) var joints: [Skeleton.Joint] = []
  private var indices: [String: Int] = [:]

  init(lengthUnit: LengthUnit) {
    self.lengthUnit = lengthUnit
  }

  mutating func add(_ name: String, parent: String?, offset: SIMD3<Float>, channels: [Channel]) {
    indices[name] = joints.count
    joints.append(
      Skeleton.Joint(
        name: name, parent: parent.flatMap { indices[$0] },
        offset: offset * Float(lengthUnit.metres), channels: channels))
  }

  mutating func endSite(parent: String, offset: SIMD3<Float>) {
    let index = indices[parent] ?? 0
    joints.append(
      Skeleton.Joint(
        name: joints[index].name + "_End", parent: index,
        offset: offset * Float(lengthUnit.metres), isEndSite: true))
  }

  /// The skeleton. The rigs above are fixed and valid, which the tests check; a mistake in
  /// them is a programming error.
  var skeleton: Skeleton {
    do {
      return try Skeleton(joints: joints, lengthUnit: lengthUnit)
    } catch {
      preconditionFailure("built-in rig is invalid: \(error)")
    }
  }
}
