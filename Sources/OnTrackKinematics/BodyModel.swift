/// Anatomical landmarks that every supported rig maps onto, so that a patient recorded on one
/// skeleton (a 22-joint Kinect) can be compared with a reference on another (a CMU BVH).
///
/// Landmarks are joint centres: `leftShoulder` is the gleno-humeral joint, `leftHip` the hip
/// joint, `leftToe` the toe tip or toe joint. The pelvis and chest centres are derived (the
/// midpoints of the hips and of the shoulders), not looked up.
public enum BodyLandmark: Int, CaseIterable, Sendable, Codable {
  case head
  case neck
  case leftShoulder, leftElbow, leftWrist
  case rightShoulder, rightElbow, rightWrist
  case leftHip, leftKnee, leftAnkle, leftToe
  case rightHip, rightKnee, rightAnkle, rightToe
  /// The lumbar spine: the first joint of the spine above the pelvis (`Spine`, CMU's
  /// `LowerBack`, Kinect's `SpineMid`). It moves with the pelvis, so the pelvis centre → spine
  /// direction is the pelvis's own forward/back tilt. A rig without one gets a stand-in on the
  /// trunk line.
  case spine

  /// The same landmark on the other side (itself on the midline).
  public var mirrored: BodyLandmark {
    switch self {
    case .head, .neck, .spine: self
    case .leftShoulder: .rightShoulder
    case .leftElbow: .rightElbow
    case .leftWrist: .rightWrist
    case .rightShoulder: .leftShoulder
    case .rightElbow: .leftElbow
    case .rightWrist: .leftWrist
    case .leftHip: .rightHip
    case .leftKnee: .rightKnee
    case .leftAnkle: .rightAnkle
    case .leftToe: .rightToe
    case .rightHip: .leftHip
    case .rightKnee: .leftKnee
    case .rightAnkle: .leftAnkle
    case .rightToe: .leftToe
    }
  }

  /// The landmark before this one along its limb (the elbow's shoulder, the toe's ankle, the
  /// head's neck); nil for the trunk's (neck, shoulders, hips, spine), which have none.
  public var limbParent: BodyLandmark? {
    switch self {
    case .leftElbow: .leftShoulder
    case .leftWrist: .leftElbow
    case .rightElbow: .rightShoulder
    case .rightWrist: .rightElbow
    case .leftKnee: .leftHip
    case .leftAnkle: .leftKnee
    case .leftToe: .leftAnkle
    case .rightKnee: .rightHip
    case .rightAnkle: .rightKnee
    case .rightToe: .rightAnkle
    case .head: .neck
    case .neck, .spine, .leftShoulder, .rightShoulder, .leftHip, .rightHip: nil
    }
  }
}

/// Finds the anatomical landmarks of a skeleton from its joint names and hierarchy.
///
/// Names are matched after lower-casing and dropping a namespace (`mixamorig:`) and separators,
/// with the side read from `left`/`right` anywhere, an `l`/`r` prefix (`lknee`) or an `_l`/`.l`
/// suffix (`LowerLeg_L`). Elbows are `forearm`/`elbow`/`lowerarm` joints and knees
/// `leg`/`knee`/`lowerleg`/`shin` joints; the shoulder and hip are their parents, the wrist and
/// ankle their first children, the toe the ankle's first child (joint or End Site). This covers
/// CMU, Mixamo, Bandai Namco, MocapBank, DAZ, Perception Neuron, Kinect v2 and UI-PRMD rigs.
public struct BodyModel: Hashable, Sendable {
  public let skeleton: Skeleton
  /// `joints[landmark.rawValue]` is the joint index, or −1 if the rig lacks it (toes, neck).
  public let joints: [Int]
  /// The quarter turn the rig's rest pose asks for to stand up: it carries the rig's own up —
  /// from between its ankles to its head in its rest pose, snapped to the nearest axis — onto
  /// +Y. Identity for a Y-up rig. Taken only when a take's first frame stands along the same
  /// axis (`upright(firstFrame:)`): some Y-up rigs (Bandai Namco's) lie along X in their rest
  /// pose and are stood up by their root's rotation in every frame.
  public let restUpright: Quaternion

  /// - Throws: `BodyModelError.missingLandmark` naming the first landmark that limbs and
  ///   scoring need (shoulders, elbows, wrists, hips, knees, ankles, head or neck) and cannot
  ///   be found.
  public init(skeleton: Skeleton) throws(BodyModelError) {
    self.skeleton = skeleton
    var found = [Int](repeating: -1, count: BodyLandmark.allCases.count)
    let parsed = skeleton.joints.map { BodyModel.parse($0.name) }
    func firstJoint(side: Side?, stems: [String]) -> Int? {
      for stem in stems {
        for (index, joint) in skeleton.joints.enumerated() where !joint.isEndSite {
          if parsed[index].side == side && parsed[index].stem == stem { return index }
        }
      }
      return nil
    }
    func firstChild(of index: Int) -> Int? {
      let children = skeleton.children(of: index)
      return children.first { !skeleton.joints[$0].isEndSite } ?? children.first
    }
    for side in [Side.left, .right] {
      let isLeft = side == .left
      if let elbow = firstJoint(side: side, stems: ["forearm", "elbow", "lowerarm"]) {
        found[(isLeft ? BodyLandmark.leftElbow : .rightElbow).rawValue] = elbow
        if let shoulder = skeleton.joints[elbow].parent {
          found[(isLeft ? BodyLandmark.leftShoulder : .rightShoulder).rawValue] = shoulder
        }
        if let wrist = firstChild(of: elbow) {
          found[(isLeft ? BodyLandmark.leftWrist : .rightWrist).rawValue] = wrist
        }
      }
      if let knee = firstJoint(side: side, stems: ["leg", "knee", "lowerleg", "shin", "calf"]) {
        found[(isLeft ? BodyLandmark.leftKnee : .rightKnee).rawValue] = knee
        if let hip = skeleton.joints[knee].parent {
          found[(isLeft ? BodyLandmark.leftHip : .rightHip).rawValue] = hip
        }
        if let ankle = firstChild(of: knee) {
          found[(isLeft ? BodyLandmark.leftAnkle : .rightAnkle).rawValue] = ankle
          if let toe = firstChild(of: ankle) {
            found[(isLeft ? BodyLandmark.leftToe : .rightToe).rawValue] = toe
          }
        }
      }
    }
    if let head = firstJoint(side: nil, stems: ["head"]) {
      found[BodyLandmark.head.rawValue] = head
    }
    if let neck = firstJoint(side: nil, stems: ["neck", "spineshoulder", "neck1"]) {
      found[BodyLandmark.neck.rawValue] = neck
    }
    if found[BodyLandmark.head.rawValue] < 0 {
      found[BodyLandmark.head.rawValue] = found[BodyLandmark.neck.rawValue]
    }
    found[BodyLandmark.spine.rawValue] = Self.lumbarJoint(
      skeleton, hips: (found[BodyLandmark.leftHip.rawValue], found[BodyLandmark.rightHip.rawValue]),
      top: found[BodyLandmark.neck.rawValue] >= 0
        ? found[BodyLandmark.neck.rawValue] : found[BodyLandmark.head.rawValue])
    let required: [BodyLandmark] = [
      .head, .leftShoulder, .leftElbow, .leftWrist, .rightShoulder, .rightElbow, .rightWrist,
      .leftHip, .leftKnee, .leftAnkle, .rightHip, .rightKnee, .rightAnkle,
    ]
    for landmark in required where found[landmark.rawValue] < 0 {
      throw .missingLandmark(landmark)
    }
    self.joints = found
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(
      skeleton: skeleton, pose: skeleton.restPose, into: &world)
    let feet =
      (world[found[BodyLandmark.leftAnkle.rawValue]].translation
        + world[found[BodyLandmark.rightAnkle.rawValue]].translation) * 0.5
    restUpright = Self.upright(
      along: world[found[BodyLandmark.head.rawValue]].translation - feet)
  }

  /// The turn that stands a take on this rig up, from the world transforms of its first frame:
  /// identity or `restUpright` (a Z-up rig: 3ds Max, MotionBuilder set to Z-up, some optical
  /// systems' exports; before, a Z-up take of a perfect performance scored 0).
  /// - With `like`, the posture the take should start in (its exercise's reference's,
  ///   `BodyPosture`): the reading whose first frame is nearer it, turned only if clearly so
  ///   (by `turnMargin`). A patient lying on their back on a Z-up rig and one lying along a
  ///   Y-up rig's rest axis (Bandai Namco's lie along X at rest, stood up by their root) are
  ///   told apart by which way the chest faces.
  /// - Without, `restUpright` if the body in that frame (ankles to head) lies along the same
  ///   axis as in the rest pose (a take of no known exercise, a reference itself).
  public func upright(firstFrame world: [RigidTransform], like start: BodyPosture? = nil)
    -> Quaternion
  {
    guard restUpright != .identity, world.count == skeleton.count else { return .identity }
    guard let start else {
      let feet =
        (world[joints[BodyLandmark.leftAnkle.rawValue]].translation
          + world[joints[BodyLandmark.rightAnkle.rawValue]].translation) * 0.5
      let up = world[joints[BodyLandmark.head.rawValue]].translation - feet
      return Self.upright(along: up) == restUpright ? restUpright : .identity
    }
    let asGiven = posture(world).distance(to: start)
    let turned = posture(world, turned: restUpright).distance(to: start)
    return turned + Self.turnMargin < asGiven ? restUpright : .identity
  }

  /// How much nearer the reference's starting posture a turned first frame must be
  /// (`BodyPosture.distance`) for the take to be turned.
  public static let turnMargin: Float = 0.5

  /// The posture of the body in `world`, turned by `turn` (`BodyPosture`).
  public func posture(_ world: [RigidTransform], turned turn: Quaternion = .identity)
    -> BodyPosture
  {
    func point(_ landmark: BodyLandmark) -> SIMD3<Float> {
      turn.act(on: world[joints[landmark.rawValue]].translation)
    }
    let top = joints[BodyLandmark.neck.rawValue] >= 0 ? point(.neck) : point(.head)
    return BodyPosture(leftHip: point(.leftHip), rightHip: point(.rightHip), neck: top)
  }

  /// The quarter turn (or half turn) carrying the axis nearest `up` onto +Y; identity when
  /// that axis is +Y or `up` is no direction.
  static func upright(along up: SIMD3<Float>) -> Quaternion {
    let size = SIMD3(Swift.abs(up.x), Swift.abs(up.y), Swift.abs(up.z))
    guard up.x.isFinite, up.y.isFinite, up.z.isFinite, size.max() > 1e-6 else {
      return .identity
    }
    let quarter = Float.pi / 2
    if size.y >= size.x && size.y >= size.z {
      return up.y > 0 ? .identity : Quaternion(angle: .pi, axis: SIMD3(1, 0, 0))
    }
    if size.z >= size.x {
      return Quaternion(angle: up.z > 0 ? -quarter : quarter, axis: SIMD3(1, 0, 0))
    }
    return Quaternion(angle: up.x > 0 ? quarter : -quarter, axis: SIMD3(0, 0, 1))
  }

  /// The first joint above the pelvis on the way to `top` (the neck): the child of the hips'
  /// nearest common ancestor that leads to `top`, unless that is `top` itself. −1 if none.
  static func lumbarJoint(_ skeleton: Skeleton, hips: (Int, Int), top: Int) -> Int {
    guard hips.0 >= 0, hips.1 >= 0, top >= 0 else { return -1 }
    func ancestors(_ j: Int) -> [Int] {
      var chain: [Int] = []
      var current = skeleton.joints[j].parent
      while let c = current, chain.count <= skeleton.count {
        chain.append(c)
        current = skeleton.joints[c].parent
      }
      return chain
    }
    let right = Set(ancestors(hips.1))
    guard let pelvis = ancestors(hips.0).first(where: right.contains) else { return -1 }
    var j = top
    while let parent = skeleton.joints[j].parent, parent != pelvis {
      j = parent
      guard j != top else { return -1 }
    }
    guard skeleton.joints[j].parent == pelvis, j != top else { return -1 }
    return j
  }

  /// The joint of `landmark`, or `nil` if the rig lacks it.
  public func joint(_ landmark: BodyLandmark) -> Int? {
    let j = joints[landmark.rawValue]
    return j >= 0 ? j : nil
  }

  public enum Side: Sendable { case left, right }

  /// Splits a joint name into its side and a normalised stem: `mixamorig:LeftForeArm` →
  /// (left, "forearm"), `LowerLeg_L` → (left, "lowerleg"), `lknee` → (left, "knee"),
  /// `ElbowRight` → (right, "elbow"), `Neck1` → (nil, "neck1").
  public static func parse(_ name: String) -> (side: Side?, stem: String) {
    var text = name
    if let colon = text.lastIndex(of: ":") { text = String(text[text.index(after: colon)...]) }
    var lower = text.lowercased()
    var side: Side?
    // Suffixes _l / .l / _r / .r before separators are stripped.
    for (suffix, s) in [("_l", Side.left), (".l", .left), ("_r", .right), (".r", .right)]
    where lower.hasSuffix(suffix) {
      side = s
      lower.removeLast(suffix.count)
      break
    }
    if side == nil {
      if let range = lower.range(of: "left") {
        side = .left
        lower.removeSubrange(range)
      } else if let range = lower.range(of: "right") {
        side = .right
        lower.removeSubrange(range)
      }
    }
    var stem = lower.filter { $0.isLetter || $0.isNumber }
    if side == nil, stem.count > 1, let first = stem.first, first == "l" || first == "r" {
      let rest = String(stem.dropFirst())
      if knownStems.contains(rest) {
        side = first == "l" ? .left : .right
        stem = rest
      }
    }
    return (side, stem)
  }

  /// Stems that a single-letter side prefix may precede (`lknee`, `RHand`, `lshoulder`).
  static let knownStems: Set<String> = [
    "forearm", "elbow", "lowerarm", "hand", "wrist", "shoulder", "upperarm", "arm", "collar",
    "leg", "knee", "lowerleg", "shin", "calf", "foot", "ankle", "toe", "toes", "toebase", "hip",
    "upleg", "upperleg", "thigh", "ear", "eye",
  ]
}

public enum BodyModelError: Error, Hashable, Sendable, CustomStringConvertible {
  case missingLandmark(BodyLandmark)

  public var description: String {
    switch self {
    case .missingLandmark(let landmark):
      "the skeleton has no joint for the \(landmark) (no elbow/forearm, knee/leg, or head/neck joint found by name)"
    }
  }
}
