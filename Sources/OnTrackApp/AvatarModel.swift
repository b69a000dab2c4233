import OnTrackKinematics
import OnTrackScoring

/// How a skeleton is drawn as a mannequin: one capsule per bone and one sphere per joint,
/// sized by body part so that any rig (CMU, Mixamo, Kinect, a 165-joint face-and-fingers rig)
/// looks like a person, and each part tied to the scored bone whose error colours it.
struct AvatarModel {
  struct Segment {
    var from: Int
    var to: Int
    var radius: Float
    /// Index into `FeatureLayout.bones`, for colouring.
    var bone: Int
  }

  struct Ball {
    var joint: Int
    var radius: Float
    var bone: Int
  }

  let skeleton: Skeleton
  private(set) var segments: [Segment] = []
  private(set) var balls: [Ball] = []
  /// The head joint, drawn as a larger sphere between it and its tip.
  let head: Int
  let headTip: Int?
  let body: BodyModel

  private enum Part {
    case trunk, pelvis, clavicle, neck, head, upperArm, forearm, hand, thigh, shank, foot

    var radius: Float {
      switch self {
      case .trunk: 0.085
      case .pelvis: 0.07
      case .clavicle: 0.05
      case .neck: 0.045
      case .head: 0
      case .upperArm: 0.045
      case .forearm: 0.037
      case .hand: 0.02
      case .thigh: 0.07
      case .shank: 0.05
      case .foot: 0.035
      }
    }
  }

  init(skeleton: Skeleton) throws(BodyModelError) {
    self.skeleton = skeleton
    body = try BodyModel(skeleton: skeleton)
    head = body.joint(.head) ?? 0
    headTip = skeleton.children(of: head).first
    let landmarkOf = Dictionary(
      // The lumbar joint is part of the trunk here.
      BodyLandmark.allCases.filter { $0 != .spine }.compactMap { l in
        body.joint(l).map { ($0, l) }
      },
      uniquingKeysWith: { first, _ in first })
    func bone(_ b: BodyBone) -> Int { FeatureLayout.bones.firstIndex(of: b) ?? 0 }
    // The landmark a joint hangs below (itself included).
    func landmarkAbove(_ j: Int) -> BodyLandmark? {
      var current: Int? = j
      while let c = current {
        if let l = landmarkOf[c] { return l }
        current = skeleton.joints[c].parent
      }
      return nil
    }
    // True if one of `landmarks` is `j` or below it (hips below the pelvis joints, shoulders
    // below the clavicles, the head below the spine).
    func leadsTo(_ j: Int, _ landmarks: Set<BodyLandmark>) -> Bool {
      var stack = [j]
      while let c = stack.popLast() {
        if let l = landmarkOf[c], landmarks.contains(l) { return true }
        stack += skeleton.children(of: c)
      }
      return false
    }
    for (j, joint) in skeleton.joints.enumerated() {
      guard let p = joint.parent else { continue }
      let side: BodyModel.Side? = {
        let l = landmarkAbove(p)
        switch l {
        case .leftShoulder, .leftElbow, .leftWrist, .leftHip, .leftKnee, .leftAnkle, .leftToe:
          return .left
        case .rightShoulder, .rightElbow, .rightWrist, .rightHip, .rightKnee, .rightAnkle,
          .rightToe:
          return .right
        default: return nil
        }
      }()
      let left = side == .left
      let part: Part
      let b: Int
      switch landmarkAbove(p) {
      case .leftShoulder?, .rightShoulder?:
        part = .upperArm
        b = bone(left ? .leftUpperArm : .rightUpperArm)
      case .leftElbow?, .rightElbow?:
        part = .forearm
        b = bone(left ? .leftForearm : .rightForearm)
      case .leftWrist?, .rightWrist?:
        part = .hand
        b = bone(left ? .leftForearm : .rightForearm)
      case .leftHip?, .rightHip?:
        part = .thigh
        b = bone(left ? .leftThigh : .rightThigh)
      case .leftKnee?, .rightKnee?:
        part = .shank
        b = bone(left ? .leftShank : .rightShank)
      case .leftAnkle?, .rightAnkle?, .leftToe?, .rightToe?:
        part = .foot
        b = bone(left ? .leftFoot : .rightFoot)
      case .head?:
        part = .head
        b = bone(.head)
      case .neck?:
        part = .neck
        b = bone(.head)
      case nil, .spine?:
        if leadsTo(j, [.neck, .head]) {
          part = .trunk
          b = bone(.trunk)
        } else if leadsTo(j, [.leftHip, .rightHip]) {
          part = .pelvis
          b = bone(.pelvis)
        } else if leadsTo(j, [.leftShoulder, .rightShoulder]) {
          part = .clavicle
          b = bone(.shoulders)
        } else {
          part = .trunk
          b = bone(.trunk)
        }
      }
      if part == .head { continue }
      // Fingers and face joints stay small; very short bones of the trunk keep the trunk size.
      let boneLength = length(joint.offset)
      guard boneLength > 0.005 else { continue }
      let radius = part == .hand ? min(part.radius, max(0.008, boneLength * 0.35)) : part.radius
      segments.append(Segment(from: p, to: j, radius: radius, bone: b))
      // Round the far end; round the near end too where the parent's limb is thinner (the
      // cylinders are open, and a thinner neighbour must not leave a hole).
      balls.append(Ball(joint: j, radius: radius, bone: b))
      if let incoming = segments.last(where: { $0.to == p }), incoming.radius >= radius {
        // Covered by the parent limb's end.
      } else {
        balls.append(Ball(joint: p, radius: radius, bone: b))
      }
    }
    balls.append(Ball(joint: 0, radius: Part.pelvis.radius * 1.1, bone: bone(.pelvis)))
  }
}
