import OnTrackKinematics

extension Clip {
  /// The clip with white joint-angle noise, as a sensor adds it: every rotated joint's local
  /// rotation turned, frame by frame, by an angle drawn from N(0, `degrees`²) about a random
  /// axis (`PatientSimulator`'s `noiseDegrees`, applied to a recording). Deterministic for a
  /// `seed`.
  public func addingJointNoise(degrees: Double, seed: UInt64) throws(ClipError) -> Clip {
    guard degrees > 0 else { return self }
    var rng = SplitMix64(seed: seed)
    let sigma = Float(degrees * .pi / 180)
    let joints = skeleton.count
    var noisy = rotations
    for f in 0..<frameCount {
      for j in 0..<joints where !skeleton.joints[j].channels.isEmpty {
        noisy[f * joints + j] = rng.jointNoise(noisy[f * joints + j], sigma: sigma)
      }
    }
    var clip = try Clip(
      skeleton: skeleton, frameTime: frameTime, rotations: noisy, translations: translations)
    clip.untracked = untracked
    return clip
  }
}

extension SplitMix64 {
  /// `rotation` turned by an angle drawn from N(0, `sigma`²) (radians) about a random axis:
  /// white joint-angle noise, one joint of one frame.
  mutating func jointNoise(_ rotation: Quaternion, sigma: Float) -> Quaternion {
    let axis = SIMD3(Float(gaussian()), Float(gaussian()), Float(gaussian()))
    return rotation * Quaternion(angle: Float(gaussian()) * sigma, axis: axis)
  }
}
