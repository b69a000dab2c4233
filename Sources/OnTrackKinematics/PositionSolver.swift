import Foundation

/// Solves local joint rotations that reproduce given world joint positions on a skeleton: the
/// step that turns 3-D keypoints (or another rig's forward kinematics) into joint angles.
///
/// Each joint is turned so that its bones point where the targets say, with the least rotation
/// from the rest pose (no invented twist):
/// - a joint with one child gets the shortest-arc rotation taking the rest bone direction
///   (as its parent now carries it) onto the target direction;
/// - a joint with several children (pelvis, chest) gets the rotation taking the rest frame of
///   its first child's direction and the line from its last child to its second child onto the
///   same frame built from the targets, so both its up direction and its left–right axis match;
/// - a joint with no children keeps its parent's orientation.
///
/// Bone lengths come from the skeleton, so only directions are reproduced exactly. The root
/// translation is the root target. Works in place on a caller-owned pose, without allocating.
public struct PositionSolver: Sendable {
  public let skeleton: Skeleton
  private let children: [[Int]]

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    children = (0..<skeleton.count).map { skeleton.children(of: $0) }
  }

  /// Writes into `pose` the rotations (and root translation) that put every joint of the
  /// skeleton in the direction of `targets` (world positions, one per joint, metres).
  /// `world` is scratch space of `skeleton.count` transforms.
  public func solve(
    targets: [SIMD3<Float>], into pose: inout Pose, world: inout [RigidTransform]
  ) {
    let n = skeleton.count
    precondition(targets.count == n && pose.count == n && world.count == n)
    for j in 0..<n {
      let joint = skeleton.joints[j]
      let parentRotation = joint.parent.map { world[$0].rotation } ?? .identity
      let kids = children[j]
      var worldRotation = parentRotation
      if kids.count == 1 {
        let c = kids[0]
        let rest = parentRotation.act(on: skeleton.joints[c].offset)
        let target = targets[c] - targets[j]
        worldRotation = Quaternion.shortestArc(from: rest, to: target) * parentRotation
      } else if kids.count >= 2 {
        let first = kids[0]
        let second = kids[1]
        let last = kids[kids.count - 1]
        let restPrimary = parentRotation.act(on: skeleton.joints[first].offset)
        let restSecondary = parentRotation.act(
          on: skeleton.joints[second].offset - skeleton.joints[last].offset)
        let targetPrimary = targets[first] - targets[j]
        let targetSecondary = targets[second] - targets[last]
        worldRotation =
          Quaternion.aligning(
            restPrimary, restSecondary, onto: targetPrimary, targetSecondary) * parentRotation
      }
      pose.rotations[j] = (parentRotation.conjugate * worldRotation).normalized
      pose.translations[j] = joint.parent == nil ? targets[j] : joint.offset
      world[j] = RigidTransform(
        rotation: worldRotation,
        translation: joint.parent.map { world[$0].apply(to: joint.offset) } ?? targets[j])
    }
  }
}

extension Quaternion {
  /// The shortest rotation taking the direction of `a` onto the direction of `b` (identity if
  /// either is zero; a half turn about a perpendicular axis if they are opposite).
  public static func shortestArc(from a: SIMD3<Float>, to b: SIMD3<Float>) -> Quaternion {
    let u = OnTrackKinematics.normalize(a)
    let v = OnTrackKinematics.normalize(b)
    guard OnTrackKinematics.length(u) > 0, OnTrackKinematics.length(v) > 0 else { return .identity }
    let d = OnTrackKinematics.dot(u, v)
    if d < -0.999_999 {
      var axis = OnTrackKinematics.cross(SIMD3(1, 0, 0), u)
      if OnTrackKinematics.length(axis) < 1e-3 { axis = OnTrackKinematics.cross(SIMD3(0, 1, 0), u) }
      return Quaternion(angle: .pi, axis: axis)
    }
    return Quaternion(real: 1 + d, imaginary: OnTrackKinematics.cross(u, v)).normalized
  }

  /// The rotation taking the orthonormal frame built from (`primary`, `secondary`) onto the
  /// one built from (`targetPrimary`, `targetSecondary`): the primaries coincide exactly, the
  /// secondaries as nearly as the primaries allow.
  public static func aligning(
    _ primary: SIMD3<Float>, _ secondary: SIMD3<Float>, onto targetPrimary: SIMD3<Float>,
    _ targetSecondary: SIMD3<Float>
  ) -> Quaternion {
    let first = shortestArc(from: primary, to: targetPrimary)
    // Then turn about the target primary so the secondaries' components across it agree.
    let axis = OnTrackKinematics.normalize(targetPrimary)
    let turned = first.act(on: secondary)
    let a = turned - axis * OnTrackKinematics.dot(turned, axis)
    let b = targetSecondary - axis * OnTrackKinematics.dot(targetSecondary, axis)
    guard OnTrackKinematics.length(a) > 1e-6, OnTrackKinematics.length(b) > 1e-6 else {
      return first
    }
    // Both lie across the axis, so the turn between them is about the axis itself.
    let angle = atan2(
      OnTrackKinematics.dot(OnTrackKinematics.cross(a, b), axis), OnTrackKinematics.dot(a, b))
    return Quaternion(angle: angle, axis: axis) * first
  }
}
