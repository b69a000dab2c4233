/// One animated degree of freedom of a joint, as BVH names them.
///
/// Position channels replace the matching component of the joint's rest offset (the convention
/// of Blender's importer and bvhio); rotation channels compose in the order they are listed.
public enum Channel: String, CaseIterable, Sendable, Codable {
  case xPosition = "Xposition"
  case yPosition = "Yposition"
  case zPosition = "Zposition"
  case xRotation = "Xrotation"
  case yRotation = "Yrotation"
  case zRotation = "Zrotation"

  /// The axis index: 0 = X, 1 = Y, 2 = Z.
  public var axis: Int {
    switch self {
    case .xPosition, .xRotation: 0
    case .yPosition, .yRotation: 1
    case .zPosition, .zRotation: 2
    }
  }

  public var isRotation: Bool {
    switch self {
    case .xRotation, .yRotation, .zRotation: true
    default: false
    }
  }

  public var isPosition: Bool { !isRotation }
}

extension Array where Element == Channel {
  /// The Euler order that the rotation channels compose in, completed with the missing axes
  /// when fewer than three are present; `nil` when there is no rotation channel.
  public var rotationOrder: EulerOrder? {
    let axes = filter(\.isRotation).map(\.axis)
    return axes.isEmpty ? nil : EulerOrder.completing(axes)
  }
}
