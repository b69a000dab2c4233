import Foundation
import OnTrackKinematics

/// A body segment whose direction is compared between patient and reference.
///
/// Directions are unit vectors in the heading-normalised body frame (`FeatureExtractor`), so
/// they depend neither on the rig, nor on body size, nor on where the patient faces.
public enum BodyBone: String, CaseIterable, Sendable, Codable {
  /// Pelvis centre → neck (the base of the neck: the spine's top, which does not ride up with
  /// a raised arm as the shoulder joints do).
  case trunk
  /// Neck → head.
  case head
  /// Right hip → left hip (pelvic tilt and rotation).
  case pelvis
  /// Pelvis centre → lumbar spine (`BodyLandmark.spine`): the pelvis's forward and backward
  /// tilt, which no other bone shows (a posterior pelvic tilt, cat–camel).
  /// Right shoulder → left shoulder (shoulder-girdle tilt and rotation).
  case shoulders
  case leftUpperArm, leftForearm, rightUpperArm, rightForearm
  case leftThigh, leftShank, leftFoot, rightThigh, rightShank, rightFoot
  case lowerBack

  /// Bones that guide the time alignment only when an exercise measures them (added for
  /// postures the first exercises did not need; they leave those exercises' scores alone).
  public static let alignedOnlyWhenMeasured: Set<BodyBone> = [.lowerBack]

  /// The landmarks the segment runs between (`nil` start = the derived centre of the body).
  var endpoints: (from: Endpoint, to: Endpoint) {
    switch self {
    case .trunk: (.pelvisCentre, .landmark(.neck))
    case .head: (.landmark(.neck), .landmark(.head))
    case .pelvis: (.landmark(.rightHip), .landmark(.leftHip))
    case .shoulders: (.landmark(.rightShoulder), .landmark(.leftShoulder))
    case .leftUpperArm: (.landmark(.leftShoulder), .landmark(.leftElbow))
    case .leftForearm: (.landmark(.leftElbow), .landmark(.leftWrist))
    case .rightUpperArm: (.landmark(.rightShoulder), .landmark(.rightElbow))
    case .rightForearm: (.landmark(.rightElbow), .landmark(.rightWrist))
    case .leftThigh: (.landmark(.leftHip), .landmark(.leftKnee))
    case .leftShank: (.landmark(.leftKnee), .landmark(.leftAnkle))
    case .leftFoot: (.landmark(.leftAnkle), .landmark(.leftToe))
    case .rightThigh: (.landmark(.rightHip), .landmark(.rightKnee))
    case .rightShank: (.landmark(.rightKnee), .landmark(.rightAnkle))
    case .rightFoot: (.landmark(.rightAnkle), .landmark(.rightToe))
    case .lowerBack: (.pelvisCentre, .landmark(.spine))
    }
  }

  enum Endpoint: Hashable {
    case landmark(BodyLandmark)
    case pelvisCentre
    case shoulderCentre
  }

  /// The bone on the other side of the body (itself for midline bones).
  public var mirrored: BodyBone {
    switch self {
    case .trunk, .head, .pelvis, .shoulders, .lowerBack: self
    case .leftUpperArm: .rightUpperArm
    case .leftForearm: .rightForearm
    case .rightUpperArm: .leftUpperArm
    case .rightForearm: .leftForearm
    case .leftThigh: .rightThigh
    case .leftShank: .rightShank
    case .leftFoot: .rightFoot
    case .rightThigh: .leftThigh
    case .rightShank: .leftShank
    case .rightFoot: .leftFoot
    }
  }

  /// Which side of the body the bone is on (`nil` on the midline).
  public var side: BodyModel.Side? {
    switch self {
    case .trunk, .head, .pelvis, .shoulders, .lowerBack: nil
    case .leftUpperArm, .leftForearm, .leftThigh, .leftShank, .leftFoot: .left
    default: .right
    }
  }

  /// Words for feedback: "left thigh".
  public var words: String {
    switch self {
    case .trunk: "trunk"
    case .head: "head"
    case .pelvis: "hips"
    case .shoulders: "shoulders"
    case .leftUpperArm: "left upper arm"
    case .leftForearm: "left forearm"
    case .rightUpperArm: "right upper arm"
    case .rightForearm: "right forearm"
    case .leftThigh: "left thigh"
    case .leftShank: "left lower leg"
    case .leftFoot: "left foot"
    case .rightThigh: "right thigh"
    case .rightShank: "right lower leg"
    case .rightFoot: "right foot"
    case .lowerBack: "lower back"
    }
  }
}

/// A named anatomical angle, computed from joint positions (degrees in reports, radians inside).
///
/// Conventions: 0 is upright standing with arms hanging. Flexion angles are positive forward
/// (hip and shoulder flexion in the trunk's sagittal plane; negative is extension). Abduction
/// is positive away from the midline in the trunk's frontal plane. Knee and elbow flexion are
/// 180° minus the angle between the two segments (0 = straight). Trunk flexion is the forward
/// lean of the trunk from vertical, lateral flexion its lean towards the left (positive) or right.
/// Head flexion is the forward tilt of the head (neck → head) relative to the trunk (looking
/// down). Knee valgus is how far the knee sits inside the hip–ankle line, as an angle
/// (asin of the inward offset over the thigh length; positive = knee collapsing inwards).
///
/// Trunk flexion and lateral flexion are taken from the vertical, for standing and sitting
/// exercises. Three angles use the body's own axes only, so they mean the same lying on the
/// back or front, on hands and knees, or standing: `lumbarFlexion` is the trunk line
/// (pelvis centre → neck) against the pelvis's own up direction (pelvis centre → lumbar spine)
/// in the pelvis's sagittal plane, positive when the back rounds or the pelvis tilts back
/// (posterior tilt), `atan2((p × t)·l, p·t)` with `l` the hip line across the trunk;
/// `trunkRotation` is the shoulder line against the hip line about the trunk axis, positive
/// when the shoulders turn to the left; `pelvicObliquity` is the hip line's tilt from the
/// horizontal, `asin(ĥ·y)`, positive when the left hip is higher (hips level in a bridge, a
/// bird-dog or standing).
public enum BodyAngle: String, CaseIterable, Sendable, Codable {
  case trunkFlexion, trunkLateralFlexion, headFlexion
  case leftHipFlexion, leftHipAbduction, leftKneeFlexion, leftKneeValgus
  case rightHipFlexion, rightHipAbduction, rightKneeFlexion, rightKneeValgus
  case leftShoulderFlexion, leftShoulderAbduction, leftElbowFlexion
  case rightShoulderFlexion, rightShoulderAbduction, rightElbowFlexion
  case lumbarFlexion, trunkRotation, pelvicObliquity

  /// What the angle's value is multiplied by when the body is mirrored: lateral trunk flexion,
  /// trunk rotation and pelvic obliquity turn the other way (−1); every other angle keeps its
  /// value on the other side (1).
  public var mirrorSign: Float {
    switch self {
    case .trunkLateralFlexion, .trunkRotation, .pelvicObliquity: -1
    default: 1
    }
  }

  /// The angle on the other side of the body (lateral flexion keeps its name: the sign flips).
  public var mirrored: BodyAngle {
    switch self {
    case .trunkFlexion, .trunkLateralFlexion, .headFlexion, .lumbarFlexion, .trunkRotation,
      .pelvicObliquity:
      self
    case .leftKneeValgus: .rightKneeValgus
    case .rightKneeValgus: .leftKneeValgus
    case .leftHipFlexion: .rightHipFlexion
    case .leftHipAbduction: .rightHipAbduction
    case .leftKneeFlexion: .rightKneeFlexion
    case .rightHipFlexion: .leftHipFlexion
    case .rightHipAbduction: .leftHipAbduction
    case .rightKneeFlexion: .leftKneeFlexion
    case .leftShoulderFlexion: .rightShoulderFlexion
    case .leftShoulderAbduction: .rightShoulderAbduction
    case .leftElbowFlexion: .rightElbowFlexion
    case .rightShoulderFlexion: .leftShoulderFlexion
    case .rightShoulderAbduction: .leftShoulderAbduction
    case .rightElbowFlexion: .leftElbowFlexion
    }
  }

  public var side: BodyModel.Side? {
    switch self {
    case .trunkFlexion, .trunkLateralFlexion, .headFlexion, .lumbarFlexion, .trunkRotation,
      .pelvicObliquity:
      nil
    case .leftHipFlexion, .leftHipAbduction, .leftKneeFlexion, .leftKneeValgus,
      .leftShoulderFlexion,
      .leftShoulderAbduction, .leftElbowFlexion:
      .left
    default: .right
    }
  }
}

/// Something an exercise measures: a bone's direction or an anatomical angle.
public enum BodyMeasure: Hashable, Sendable, CustomStringConvertible {
  case bone(BodyBone)
  case angle(BodyAngle)

  /// Column in a feature frame (see `FeatureLayout`).
  var column: Int {
    switch self {
    case .bone(let b): FeatureLayout.boneColumn(b)
    case .angle(let a): FeatureLayout.angleColumn(a)
    }
  }

  /// The landmarks the measure is computed from (not counting the heading and trunk frame,
  /// which follow the hips and shoulders slowly): when one is unseen, so is the measure.
  public var landmarks: [BodyLandmark] {
    func endpoint(_ e: BodyBone.Endpoint) -> [BodyLandmark] {
      switch e {
      case .landmark(let l): [l]
      case .pelvisCentre: [.leftHip, .rightHip]
      case .shoulderCentre: [.leftShoulder, .rightShoulder]
      }
    }
    switch self {
    case .bone(let b):
      return endpoint(b.endpoints.from) + endpoint(b.endpoints.to)
    case .angle(let a):
      switch a {
      case .trunkFlexion, .trunkLateralFlexion:
        return [.leftHip, .rightHip, .neck]
      case .headFlexion: return [.neck, .head]
      case .leftHipFlexion, .leftHipAbduction: return [.leftHip, .leftKnee]
      case .rightHipFlexion, .rightHipAbduction: return [.rightHip, .rightKnee]
      case .leftKneeFlexion, .leftKneeValgus: return [.leftHip, .leftKnee, .leftAnkle]
      case .rightKneeFlexion, .rightKneeValgus: return [.rightHip, .rightKnee, .rightAnkle]
      case .leftShoulderFlexion, .leftShoulderAbduction: return [.leftShoulder, .leftElbow]
      case .rightShoulderFlexion, .rightShoulderAbduction: return [.rightShoulder, .rightElbow]
      case .leftElbowFlexion: return [.leftShoulder, .leftElbow, .leftWrist]
      case .rightElbowFlexion: return [.rightShoulder, .rightElbow, .rightWrist]
      case .lumbarFlexion: return [.leftHip, .rightHip, .spine, .neck]
      case .trunkRotation: return [.leftHip, .rightHip, .leftShoulder, .rightShoulder, .neck]
      case .pelvicObliquity: return [.leftHip, .rightHip]
      }
    }
  }

  /// `landmarks` as bits (`1 << landmark.rawValue`).
  var landmarkMask: UInt32 {
    landmarks.reduce(0) { $0 | (1 << UInt32($1.rawValue)) }
  }

  /// The column of the measure's per-frame noise value.
  var noiseColumn: Int {
    switch self {
    case .bone(let b): FeatureLayout.noiseColumn(b)
    case .angle(let a): FeatureLayout.noiseColumn(a)
    }
  }

  public var mirrored: BodyMeasure {
    switch self {
    case .bone(let b): .bone(b.mirrored)
    case .angle(let a): .angle(a.mirrored)
    }
  }

  public var side: BodyModel.Side? {
    switch self {
    case .bone(let b): b.side
    case .angle(let a): a.side
    }
  }

  public var description: String {
    switch self {
    case .bone(let b): b.rawValue
    case .angle(let a): a.rawValue
    }
  }

  /// Parses `"leftKneeFlexion"` or `"leftThigh"`.
  public init?(name: String) {
    if let angle = BodyAngle(rawValue: name) {
      self = .angle(angle)
    } else if let bone = BodyBone(rawValue: name) {
      self = .bone(bone)
    } else {
      return nil
    }
  }
}

/// Where each feature sits in a frame: three values per bone (its unit direction in the body
/// frame: left, up, forward), then one value per angle (radians) — the measures, from
/// low-pass-filtered landmarks — then one *noise* value per bone and per angle: the size of
/// the second difference of the unfiltered measure at that frame (radians), from which a
/// repetition's own sensor noise is estimated (`RepetitionScorer`); NaN where a landmark the
/// measure needs was not seen (`LandmarkFrame.untracked`) — then one *length* per bone (metres,
/// between the same low-pass-filtered landmarks as its direction; NaN where unseen): a body's
/// segments keep their lengths, so whatever a length does over a repetition is the sensor's,
/// smooth wander that second differences barely show (`SegmentWander`).
public enum FeatureLayout {
  public static let bones = BodyBone.allCases
  public static let angles = BodyAngle.allCases
  /// The measure columns (bones and angles).
  public static let measureWidth = 3 * bones.count + angles.count
  public static let width = measureWidth + 2 * bones.count + angles.count

  static func boneColumn(_ bone: BodyBone) -> Int {
    3 * (bones.firstIndex(of: bone) ?? 0)
  }

  static func angleColumn(_ angle: BodyAngle) -> Int {
    3 * bones.count + angleIndex(angle)
  }

  /// The angle's place among `angles`.
  static func angleIndex(_ angle: BodyAngle) -> Int {
    angles.firstIndex(of: angle) ?? 0
  }

  static func noiseColumn(_ bone: BodyBone) -> Int {
    measureWidth + (bones.firstIndex(of: bone) ?? 0)
  }

  static func noiseColumn(_ angle: BodyAngle) -> Int {
    measureWidth + bones.count + (angles.firstIndex(of: angle) ?? 0)
  }

  /// The column of `bone`'s length (metres).
  public static func lengthColumn(_ bone: BodyBone) -> Int {
    measureWidth + bones.count + angles.count + (bones.firstIndex(of: bone) ?? 0)
  }
}

extension BodyMeasure {
  /// The measure at frame `frame` of `features`, in degrees, for plots and reports: an angle's
  /// value, or a bone's angle from pointing straight down in the body frame (0° for a hanging
  /// limb, 90° horizontal, 180° straight up).
  public func degrees(in features: FeatureSequence, frame: Int) -> Double {
    switch self {
    case .angle:
      return Double(features[frame, column]) * 180 / .pi
    case .bone:
      let up = Double(features[frame, column + 1])
      return acos(min(max(-up, -1), 1)) * 180 / .pi
    }
  }
}
