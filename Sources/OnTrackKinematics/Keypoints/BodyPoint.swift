/// The joint centres a keypoint source can give, whatever its layout (a camera's 33 landmarks,
/// a depth sensor's 25 joints, an optical marker set's estimated centres): what the
/// `KeypointSolver` puts OnTrack's canonical skeleton through.
///
/// Positions are metres in OnTrack's frame (right-handed, Y up). A layout that lacks a point
/// leaves it missing; the solver derives the ones it can (the pelvis from the hips, the neck
/// from the shoulders, the spine between them).
public enum BodyPoint: Int, CaseIterable, Sendable, Codable {
  case pelvis, spine, chest, neck, head, headTop
  case leftShoulder, leftElbow, leftWrist, leftHand
  case rightShoulder, rightElbow, rightWrist, rightHand
  case leftHip, leftKnee, leftAnkle, leftToe
  case rightHip, rightKnee, rightAnkle, rightToe

  /// The same point on the other side (itself on the midline).
  public var mirrored: BodyPoint {
    switch self {
    case .leftShoulder: .rightShoulder
    case .leftElbow: .rightElbow
    case .leftWrist: .rightWrist
    case .leftHand: .rightHand
    case .rightShoulder: .leftShoulder
    case .rightElbow: .leftElbow
    case .rightWrist: .leftWrist
    case .rightHand: .leftHand
    case .leftHip: .rightHip
    case .leftKnee: .rightKnee
    case .leftAnkle: .rightAnkle
    case .leftToe: .rightToe
    case .rightHip: .leftHip
    case .rightKnee: .leftKnee
    case .rightAnkle: .leftAnkle
    case .rightToe: .leftToe
    default: self
    }
  }

  /// The scoring landmark at this point (`nil` for the trunk's inner points and the tips).
  public var landmark: BodyLandmark? {
    switch self {
    case .head: .head
    case .neck: .neck
    case .spine: .spine
    case .leftShoulder: .leftShoulder
    case .leftElbow: .leftElbow
    case .leftWrist: .leftWrist
    case .rightShoulder: .rightShoulder
    case .rightElbow: .rightElbow
    case .rightWrist: .rightWrist
    case .leftHip: .leftHip
    case .leftKnee: .leftKnee
    case .leftAnkle: .leftAnkle
    case .leftToe: .leftToe
    case .rightHip: .rightHip
    case .rightKnee: .rightKnee
    case .rightAnkle: .rightAnkle
    case .rightToe: .rightToe
    default: nil
    }
  }

  /// Bit `point.rawValue`.
  @inline(__always)
  public var bit: UInt32 { 1 << UInt32(rawValue) }

  /// Points a solve cannot do without (limbs and trunk); the others are derived when missing.
  public static let essential: [BodyPoint] = [
    .leftShoulder, .leftElbow, .leftWrist, .rightShoulder, .rightElbow, .rightWrist, .leftHip,
    .leftKnee, .leftAnkle, .rightHip, .rightKnee, .rightAnkle,
  ]
}

/// One instant of keypoints: a position and a confidence (0…1) per `BodyPoint`, and which
/// points are present. No allocation to update once made.
public struct KeypointFrame: Sendable, Equatable {
  public var positions: [SIMD3<Float>]
  public var confidence: [Float]
  /// Bit `point.rawValue` set: the point is present (seen with enough confidence).
  public var present: UInt32

  public init() {
    positions = [SIMD3<Float>](repeating: .zero, count: BodyPoint.allCases.count)
    confidence = [Float](repeating: 0, count: BodyPoint.allCases.count)
    present = 0
  }

  public subscript(_ point: BodyPoint) -> SIMD3<Float>? {
    get { has(point) ? positions[point.rawValue] : nil }
    set {
      if let newValue {
        positions[point.rawValue] = newValue
        present |= 1 << UInt32(point.rawValue)
      } else {
        present &= ~(1 << UInt32(point.rawValue))
      }
    }
  }

  public func has(_ point: BodyPoint) -> Bool { present & (1 << UInt32(point.rawValue)) != 0 }

  /// Forgets every point.
  public mutating func clear() {
    present = 0
    for k in confidence.indices { confidence[k] = 0 }
  }
}
