/// Carries a pose from one T-pose rig to another by copying local rotations of mapped joints
/// (unmapped target joints stay at rest) and scaling the root's translation by the ratio of
/// hip heights. Valid when both rigs rest in the same T-pose with identity rotations.
public struct RigRetargeter: Sendable {
  public let source: Skeleton
  public let target: Skeleton
  private let pairs: [(source: Int, target: Int)]
  private let scale: Float

  /// - Parameter map: Source joint name → target joint name; names missing from either rig
  ///   are ignored.
  public init(source: Skeleton, target: Skeleton, map: [String: String]) {
    self.source = source
    self.target = target
    pairs = map.compactMap { key, value in
      guard let s = source.index(of: key), let t = target.index(of: value) else { return nil }
      return (s, t)
    }.sorted { $0.target < $1.target }
    let sourceHeight = Self.legLength(source)
    let targetHeight = Self.legLength(target)
    scale = sourceHeight > 0.01 && targetHeight > 0.01 ? targetHeight / sourceHeight : 1
  }

  /// How far the lowest rest joint hangs below the root, metres.
  static func legLength(_ skeleton: Skeleton) -> Float {
    var world = [SIMD3<Float>](repeating: .zero, count: skeleton.count)
    var lowest: Float = 0
    for (j, joint) in skeleton.joints.enumerated() {
      world[j] = j == 0 ? .zero : joint.offset + world[joint.parent ?? 0]
      lowest = min(lowest, world[j].y)
    }
    return -lowest
  }

  /// Writes the retargeted pose into `pose` (a pose of `target`).
  public func retarget(_ input: Pose, into pose: inout Pose) {
    for j in 0..<target.count {
      pose.rotations[j] = .identity
      pose.translations[j] = target.joints[j].offset
    }
    for (s, t) in pairs {
      pose.rotations[t] = input.rotations[s]
    }
    pose.translations[0] = input.translations[0] * scale
  }
}
