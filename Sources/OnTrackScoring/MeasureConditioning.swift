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
    guard let (segment, normal) = shadowPlane else { return 1 }
    func direction(_ b: BodyBone) -> SIMD3<Float> {
      let c = FeatureLayout.boneColumn(b)
      return normalizeOrUp(SIMD3(value(c), value(c + 1), value(c + 2)))
    }
    let along: Float
    switch normal {
    case .bodyLeft: along = direction(segment).x
    case .bodyForward: along = direction(segment).z
    case .trunkLeft:
      along = dot(direction(segment), FeatureExtractor.trunkAxes(direction(.trunk)).x)
    case .trunkForward:
      along = dot(direction(segment), FeatureExtractor.trunkAxes(direction(.trunk)).z)
    }
    guard along.isFinite else { return 1 }
    return min(1, (max(0, 1 - min(along * along, 1))).squareRoot() / Self.fullShadow)
  }

  /// The normal of the plane a shadow angle is taken in (`FeatureExtractor`): the body
  /// frame's left or forward axis (trunk flexion, lateral flexion), or the trunk's own
  /// (`FeatureExtractor.trunkAxes`: hip, shoulder and head angles).
  enum PlaneNormal { case bodyLeft, bodyForward, trunkLeft, trunkForward }

  /// The segment whose shadow the angle is, and the normal of the plane it falls on; `nil` for
  /// an angle that is no shadow (between two segments, about the trunk's axis, a tilt).
  var shadowPlane: (segment: BodyBone, normal: PlaneNormal)? {
    switch self {
    case .trunkFlexion: (.trunk, .bodyLeft)
    case .trunkLateralFlexion: (.trunk, .bodyForward)
    case .headFlexion: (.head, .trunkLeft)
    case .leftHipFlexion: (.leftThigh, .trunkLeft)
    case .rightHipFlexion: (.rightThigh, .trunkLeft)
    case .leftShoulderFlexion: (.leftUpperArm, .trunkLeft)
    case .rightShoulderFlexion: (.rightUpperArm, .trunkLeft)
    case .leftHipAbduction: (.leftThigh, .trunkForward)
    case .rightHipAbduction: (.rightThigh, .trunkForward)
    case .leftShoulderAbduction: (.leftUpperArm, .trunkForward)
    case .rightShoulderAbduction: (.rightUpperArm, .trunkForward)
    case .leftKneeFlexion, .leftKneeValgus, .rightKneeFlexion, .rightKneeValgus,
      .leftElbowFlexion, .rightElbowFlexion, .lumbarFlexion, .trunkRotation, .pelvicObliquity:
      nil
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
