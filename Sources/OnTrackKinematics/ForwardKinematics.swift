/// Local-to-world ("local-to-model") pass: composes each joint's local transform with its
/// parent's world transform, `world[j] = world[parent(j)] ∘ (translation[j], rotation[j])`.
///
/// In the style of ozz-animation's jobs: the caller owns every buffer; the pass validates their
/// sizes and writes into `output` without allocating, so it can run on every display frame.
/// Positions are in metres in the world frame (the frame of the root's parent).
public enum ForwardKinematics {
  /// Computes world transforms of every joint of `skeleton` in `pose`.
  ///
  /// - Parameters:
  ///   - output: Receives one transform per joint; must already hold `skeleton.count` elements
  ///     (make it once with `Array(repeating: .identity, count: skeleton.count)`).
  /// - Precondition: `pose` and `output` have `skeleton.count` elements.
  public static func computeWorldTransforms(
    skeleton: Skeleton, pose: Pose, into output: inout [RigidTransform]
  ) {
    let n = skeleton.count
    precondition(pose.count == n && output.count == n, "buffer sizes differ from the skeleton")
    skeleton.parentIndices.withUnsafeBufferPointer { parents in
      pose.rotations.withUnsafeBufferPointer { rotations in
        pose.translations.withUnsafeBufferPointer { translations in
          output.withUnsafeMutableBufferPointer { world in
            run(
              count: n, parents: parents, rotations: rotations, translations: translations,
              world: world)
          }
        }
      }
    }
  }

  /// The inner loop over raw buffers: `parents[j] < j` for every non-root joint.
  @inline(__always)
  static func run(
    count: Int, parents: UnsafeBufferPointer<Int32>, rotations: UnsafeBufferPointer<Quaternion>,
    translations: UnsafeBufferPointer<SIMD3<Float>>,
    world: UnsafeMutableBufferPointer<RigidTransform>
  ) {
    guard let p = parents.baseAddress, let r = rotations.baseAddress,
      let t = translations.baseAddress, let w = world.baseAddress
    else { return }
    for j in 0..<count {
      let parent = Int(p[j])
      if parent < 0 {
        w[j] = RigidTransform(rotation: r[j], translation: t[j])
      } else {
        w[j] = w[parent] * RigidTransform(rotation: r[j], translation: t[j])
      }
    }
  }
}
