/// A rotation followed by a translation: `x ↦ rotation · x + translation` (metres).
///
/// Composition follows function composition: `(a * b).apply(to: x) == a.apply(to: b.apply(to: x))`,
/// so a joint's world transform is `parentWorld * local`.
@frozen
public struct RigidTransform: Hashable, Sendable {
  public var rotation: Quaternion
  public var translation: SIMD3<Float>

  @inlinable
  public init(rotation: Quaternion = .identity, translation: SIMD3<Float> = .zero) {
    self.rotation = rotation
    self.translation = translation
  }

  public static let identity = RigidTransform()

  /// Maps a point from this transform's local frame into its parent frame.
  @inlinable
  public func apply(to point: SIMD3<Float>) -> SIMD3<Float> {
    rotation.act(on: point) + translation
  }

  /// `lhs ∘ rhs`: apply `rhs`, then `lhs`.
  @inlinable
  public static func * (lhs: RigidTransform, rhs: RigidTransform) -> RigidTransform {
    RigidTransform(
      rotation: lhs.rotation * rhs.rotation,
      translation: lhs.translation + lhs.rotation.act(on: rhs.translation))
  }
}
