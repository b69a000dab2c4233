import OnTrackKinematics

extension BodyAngle {
  /// The shadow's length (share of the segment) from which an angle's differences count in
  /// full.
  static let fullShadow: Float = 0.5

  /// How well the angle is defined in a feature frame: for an angle that is a segment's
  /// *shadow* on an anatomical plane (hip and shoulder flexion and abduction, trunk flexion and
  /// lateral flexion, head flexion: `θ = atan2(a, b)` of the unit direction `v`),
  /// `min(1, r / fullShadow)` with `r = √(a² + b²) = √(1 − (v·n)²)` the length of that shadow
  /// and `n` the plane's normal; 1 for every other angle.
  ///
  /// A shadow's angle moves by `δ / r` when the segment's direction moves by `δ` (radians):
  /// with the arm pointing forward, the frontal-plane abduction is undefined (`r → 0`), and a
  /// sensor that puts the shoulder joint 3 cm further in turns an arm held forward from 180°
  /// to 150° of "abduction" — 30° from a 6° difference in the arm's direction. Scaled by `r`,
  /// an angle's differences are what the segment's direction moves in that plane
  /// (`RepetitionScorer`, `StreamingScorer`); down to a shadow of half the segment (at most
  /// twice the direction's change, which tolerances absorb) they count in full.
  ///
  /// `value(c)` gives feature column `c` of the frame: the trunk's frame and the segment's
  /// direction are read from the bone columns, as `FeatureExtractor` built the angle from them.
  @inline(__always)
  func conditioning(_ value: (Int) -> Float) -> Float {
    func bone(_ b: BodyBone) -> SIMD3<Float> {
      let c = FeatureLayout.boneColumn(b)
      return SIMD3(value(c), value(c + 1), value(c + 2))
    }
    let trunk = bone(.trunk)
    func trunkAxes() -> (x: SIMD3<Float>, z: SIMD3<Float>) {
      let t = normalizeOrUp(trunk)
      let x = normalizeOrUp(SIMD3<Float>(1, 0, 0) - t * t.x, fallback: [1, 0, 0])
      return (x, cross(x, t))
    }
    func shadow(_ along: Float) -> Float {
      guard along.isFinite else { return 1 }
      return min(1, (max(0, 1 - min(along * along, 1))).squareRoot() / Self.fullShadow)
    }
    switch self {
    case .trunkFlexion: return shadow(normalizeOrUp(trunk).x)
    case .trunkLateralFlexion: return shadow(normalizeOrUp(trunk).z)
    case .headFlexion: return shadow(dot(normalizeOrUp(bone(.head)), trunkAxes().x))
    case .leftHipFlexion: return shadow(dot(normalizeOrUp(bone(.leftThigh)), trunkAxes().x))
    case .rightHipFlexion: return shadow(dot(normalizeOrUp(bone(.rightThigh)), trunkAxes().x))
    case .leftShoulderFlexion:
      return shadow(dot(normalizeOrUp(bone(.leftUpperArm)), trunkAxes().x))
    case .rightShoulderFlexion:
      return shadow(dot(normalizeOrUp(bone(.rightUpperArm)), trunkAxes().x))
    case .leftHipAbduction: return shadow(dot(normalizeOrUp(bone(.leftThigh)), trunkAxes().z))
    case .rightHipAbduction: return shadow(dot(normalizeOrUp(bone(.rightThigh)), trunkAxes().z))
    case .leftShoulderAbduction:
      return shadow(dot(normalizeOrUp(bone(.leftUpperArm)), trunkAxes().z))
    case .rightShoulderAbduction:
      return shadow(dot(normalizeOrUp(bone(.rightUpperArm)), trunkAxes().z))
    case .leftKneeFlexion, .leftKneeValgus, .rightKneeFlexion, .rightKneeValgus,
      .leftElbowFlexion, .rightElbowFlexion, .lumbarFlexion, .trunkRotation, .pelvicObliquity:
      return 1
    }
  }

  /// `conditioning` of frame `frame` of `s`.
  func conditioning(_ s: FeatureSequence, _ frame: Int) -> Float {
    conditioning { s[frame, $0] }
  }

  /// The mean `conditioning` over frames `range` of `s` (1 when empty).
  func meanConditioning(_ s: FeatureSequence, _ range: Range<Int>) -> Float {
    guard !range.isEmpty else { return 1 }
    var sum: Float = 0
    for f in range { sum += conditioning(s, f) }
    return sum / Float(range.count)
  }
}
