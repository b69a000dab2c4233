/// One instant of a skeleton's motion: every joint's local rotation and translation.
///
/// Local means relative to the parent joint's frame. `translations[j]` is the joint's offset
/// with any position channels applied (metres); for the root it is the position in the world.
/// A `Pose` is a plain value: make one per skeleton and reuse it every frame
/// (`Clip.sample(at:into:)` overwrites it without allocating).
public struct Pose: Hashable, Sendable {
  public var rotations: [Quaternion]
  public var translations: [SIMD3<Float>]

  public init(rotations: [Quaternion], translations: [SIMD3<Float>]) {
    precondition(rotations.count == translations.count, "rotations and translations differ")
    self.rotations = rotations
    self.translations = translations
  }

  /// The number of joints this pose holds.
  public var count: Int { rotations.count }

  /// Copies `other` (a pose of the same skeleton) into this one without allocating.
  public mutating func copy(from other: Pose) {
    rotations.withUnsafeMutableBufferPointer { target in
      for j in 0..<min(target.count, other.rotations.count) { target[j] = other.rotations[j] }
    }
    translations.withUnsafeMutableBufferPointer { target in
      for j in 0..<min(target.count, other.translations.count) { target[j] = other.translations[j] }
    }
  }
}
