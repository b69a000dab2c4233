import Foundation
import OnTrackKinematics

/// The world positions (metres, Y up) of the body landmarks at one instant.
public struct LandmarkFrame: Sendable {
  /// `positions[landmark.rawValue]`; a landmark the rig lacks holds its nearest stand-in
  /// (a missing toe sits at the ankle, a missing neck at the head).
  public var positions: [SIMD3<Float>]
  /// Bit `landmark.rawValue`: the sensor did not see this landmark (its position is held or
  /// guessed). Measures that need it are left out of scoring (`FeaturePipeline`).
  public var untracked: UInt32 = 0

  public init() {
    positions = Array(repeating: .zero, count: BodyLandmark.allCases.count)
  }

  public subscript(_ landmark: BodyLandmark) -> SIMD3<Float> {
    get { positions[landmark.rawValue] }
    set { positions[landmark.rawValue] = newValue }
  }

  /// Whether the frame shows `landmark`: seen (not `untracked`) and finite.
  public func shows(_ landmark: BodyLandmark) -> Bool {
    let p = positions[landmark.rawValue]
    return untracked & (1 << UInt32(landmark.rawValue)) == 0 && p.x.isFinite && p.y.isFinite
      && p.z.isFinite
  }

  /// Fills the landmarks from the world transforms of `body`'s skeleton, turned by `turn`
  /// (the take's `BodyModel.upright(firstFrame:)`; no allocation).
  public mutating func update(
    body: BodyModel, world: [RigidTransform], turn: Quaternion = .identity
  ) {
    let turns = turn != .identity
    for landmark in BodyLandmark.allCases {
      if let j = body.joint(landmark) {
        let p = world[j].translation
        positions[landmark.rawValue] = turns ? turn.act(on: p) : p
      }
    }
    // Stand-ins for optional landmarks.
    if body.joint(.leftToe) == nil { self[.leftToe] = self[.leftAnkle] }
    if body.joint(.rightToe) == nil { self[.rightToe] = self[.rightAnkle] }
    if body.joint(.neck) == nil { self[.neck] = self[.head] }
    if body.joint(.spine) == nil {
      let pelvis = (self[.leftHip] + self[.rightHip]) * 0.5
      self[.spine] = pelvis + (self[.neck] - pelvis) * 0.3
    }
  }

  /// Copies `source`'s positions and tracking into `self`'s own storage (allocating nothing). A source whose `positions` a caller
  /// made shorter than a frame's gives its missing landmarks as not seen, at the origin.
  mutating func copy(from source: LandmarkFrame) {
    let n = min(positions.count, source.positions.count)
    var missing: UInt32 = 0
    positions.withUnsafeMutableBufferPointer { p in
      for i in 0..<n { p[i] = source.positions[i] }
      for i in n..<p.count where i < 32 {
        p[i] = .zero
        missing |= 1 << UInt32(i)
      }
    }
    untracked = source.untracked | missing
  }

  /// Linear blend `a + (b − a)·t` of every landmark, written into `self`.
  mutating func blend(_ a: LandmarkFrame, _ b: LandmarkFrame, _ t: Float) {
    for i in 0..<positions.count {
      positions[i] = a.positions[i] + (b.positions[i] - a.positions[i]) * t
    }
    untracked = t <= 0 ? a.untracked : (t >= 1 ? b.untracked : a.untracked | b.untracked)
  }
}

/// Turns landmark positions into a feature frame: bone directions in a heading-normalised body
/// frame and anatomical angles (layout: `FeatureLayout`).
///
/// The body frame has Y up (the world's), X towards the body's left and Z forward
/// (`forward = left × up`). Its heading — the left direction, from the hips (or shoulders) made
/// horizontal — is smoothed with a causal exponential filter (time constant
/// `headingTimeConstant`, seconds), so that a patient facing any direction compares equal to
/// the reference while turning the trunk *during* a movement still shows; a turn of the whole
/// body (hips, shoulders and legs alike) is followed within a fraction of a second
/// (`BodyHeading`). Causal, so a stream and a whole recording give the same features frame for
/// frame.
public struct FeatureExtractor: Sendable {
  public var headingTimeConstant: Double {
    get { heading.timeConstant }
    set { heading.timeConstant = newValue }
  }
  private var heading: BodyHeading

  /// `trunkTurnIsBodyTurn`: with the legs unseen, the hips and shoulders turning alike are
  /// taken as the whole body turning (`BodyHeading.trunkTells`).
  public init(headingTimeConstant: Double = 2, trunkTurnIsBodyTurn: Bool = false) {
    heading = BodyHeading(timeConstant: headingTimeConstant, trunkTells: trunkTurnIsBodyTurn)
  }

  /// Writes the measures of `frame` into `out[0..<FeatureLayout.measureWidth]`, and, given
  /// `lengths`, each bone's length (metres, `FeatureLayout.bones` order) into it; `timeStep` is
  /// the seconds since the previous frame of this take.
  public mutating func extract(
    _ frame: LandmarkFrame, timeStep: Double, into out: UnsafeMutableBufferPointer<Float>,
    lengths: UnsafeMutableBufferPointer<Float>? = nil
  ) {
    let hipL = frame[.leftHip]
    let hipR = frame[.rightHip]
    let shL = frame[.leftShoulder]
    let shR = frame[.rightShoulder]
    heading.update(frame, timeStep: timeStep)
    let l = heading.left ?? SIMD3(1, 0, 0)
    let up = SIMD3<Float>(0, 1, 0)
    let forward = cross(l, up)
    func body(_ v: SIMD3<Float>) -> SIMD3<Float> {
      SIMD3(dot(v, l), dot(v, up), dot(v, forward))
    }
    let pelvis = (hipL + hipR) * 0.5
    let chest = (shL + shR) * 0.5
    // The trunk's axis runs to the base of the neck.
    let neck = frame[.neck]
    func point(_ e: BodyBone.Endpoint) -> SIMD3<Float> {
      switch e {
      case .landmark(let landmark): frame[landmark]
      case .pelvisCentre: pelvis
      case .shoulderCentre: chest
      }
    }
    var k = 0
    for (i, bone) in FeatureLayout.bones.enumerated() {
      let (a, b) = bone.endpoints
      let v = point(b) - point(a)
      if let lengths { lengths[i] = length(v) }
      let d = body(normalizeOrUp(v))
      out[k] = d.x
      out[k + 1] = d.y
      out[k + 2] = d.z
      k += 3
    }
    // Anatomical angles in the trunk's own frame.
    let trunk = body(normalizeOrUp(neck - pelvis))
    let (trunkX, trunkZ) = Self.trunkAxes(trunk)
    func inTrunk(_ from: BodyLandmark, _ to: BodyLandmark) -> SIMD3<Float> {
      let v = body(normalizeOrUp(frame[to] - frame[from]))
      return SIMD3(dot(v, trunkX), dot(v, trunk), dot(v, trunkZ))
    }
    func flexion(_ v: SIMD3<Float>) -> Float { wrapAboveMinusQuarter(atan2(v.z, -v.y)) }
    func abduction(_ v: SIMD3<Float>, left: Bool) -> Float {
      wrapAboveMinusQuarter(atan2(left ? v.x : -v.x, -v.y))
    }
    func between(_ a: BodyLandmark, _ b: BodyLandmark, _ c: BodyLandmark) -> Float {
      let u = normalizeOrUp(frame[b] - frame[a])
      let v = normalizeOrUp(frame[c] - frame[b])
      return acos(min(max(dot(u, v), -1), 1))
    }
    func valgus(_ hip: BodyLandmark, _ knee: BodyLandmark, _ ankle: BodyLandmark, left: Bool)
      -> Float
    {
      let thigh = length(frame[knee] - frame[hip])
      guard thigh > 1e-6 else { return 0 }
      let inward = ((frame[hip] + frame[ankle]) * 0.5 - frame[knee]) * (left ? 1 : -1)
      return asin(min(max(body(inward).x / thigh, -1), 1))
    }
    let headInTrunk = inTrunk(.neck, .head)
    let thighL = inTrunk(.leftHip, .leftKnee)
    let thighR = inTrunk(.rightHip, .rightKnee)
    let armL = inTrunk(.leftShoulder, .leftElbow)
    let armR = inTrunk(.rightShoulder, .rightElbow)
    // Posture-free angles, from the body's own axes only (lying, kneeling or standing alike).
    let trunkAxis = normalizeOrUp(neck - pelvis)
    func across(_ v: SIMD3<Float>) -> SIMD3<Float> {
      normalizeOrUp(v - trunkAxis * dot(v, trunkAxis), fallback: [1, 0, 0])
    }
    let hipLine = hipL - hipR
    let pelvisLeft = across(hipLine)
    let shoulderLeft = across(shL - shR)
    let axial = atan2(
      dot(cross(pelvisLeft, shoulderLeft), trunkAxis), dot(pelvisLeft, shoulderLeft))
    let obliquity = asin(min(max(normalizeOrUp(hipLine, fallback: [1, 0, 0]).y, -1), 1))
    let pelvisUpRaw = normalizeOrUp(frame[.spine] - pelvis)
    let pelvisUp = normalizeOrUp(pelvisUpRaw - pelvisLeft * dot(pelvisUpRaw, pelvisLeft))
    let trunkSagittal = normalizeOrUp(trunkAxis - pelvisLeft * dot(trunkAxis, pelvisLeft))
    let lumbar = atan2(
      dot(cross(pelvisUp, trunkSagittal), pelvisLeft), dot(pelvisUp, trunkSagittal))
    for angle in FeatureLayout.angles {
      let value: Float
      switch angle {
      case .trunkFlexion: value = atan2(trunk.z, trunk.y)
      case .trunkLateralFlexion: value = atan2(trunk.x, trunk.y)
      case .headFlexion: value = atan2(headInTrunk.z, headInTrunk.y)
      case .leftKneeValgus: value = valgus(.leftHip, .leftKnee, .leftAnkle, left: true)
      case .rightKneeValgus: value = valgus(.rightHip, .rightKnee, .rightAnkle, left: false)
      case .leftHipFlexion: value = flexion(thighL)
      case .leftHipAbduction: value = abduction(thighL, left: true)
      case .leftKneeFlexion: value = between(.leftHip, .leftKnee, .leftAnkle)
      case .rightHipFlexion: value = flexion(thighR)
      case .rightHipAbduction: value = abduction(thighR, left: false)
      case .rightKneeFlexion: value = between(.rightHip, .rightKnee, .rightAnkle)
      case .leftShoulderFlexion: value = flexion(armL)
      case .leftShoulderAbduction: value = abduction(armL, left: true)
      case .leftElbowFlexion: value = between(.leftShoulder, .leftElbow, .leftWrist)
      case .rightShoulderFlexion: value = flexion(armR)
      case .rightShoulderAbduction: value = abduction(armR, left: false)
      case .rightElbowFlexion: value = between(.rightShoulder, .rightElbow, .rightWrist)
      case .lumbarFlexion: value = lumbar
      case .trunkRotation: value = axial
      case .pelvicObliquity: value = obliquity
      }
      out[k] = value
      k += 1
    }
  }
}

extension FeatureExtractor {
  /// The trunk's own left (`x`) and forward (`z`) axes for the unit trunk direction `trunk`
  /// (pelvis centre → neck, in the body frame): the body's left made perpendicular to the
  /// trunk, and `x × trunk`. The hip and shoulder angles and the head's are taken in them.
  @inline(__always)
  static func trunkAxes(_ trunk: SIMD3<Float>) -> (x: SIMD3<Float>, z: SIMD3<Float>) {
    let x = normalizeOrUp(SIMD3<Float>(1, 0, 0) - trunk * trunk.x, fallback: [1, 0, 0])
    return (x, cross(x, trunk))
  }
}

/// `v` normalised, or `fallback` (up) when `v` is too short to have a direction.
@inline(__always)
func normalizeOrUp(_ v: SIMD3<Float>, fallback: SIMD3<Float> = [0, 1, 0]) -> SIMD3<Float> {
  let n = length(v)
  return n > 1e-6 ? v / n : fallback
}

/// Maps an angle from (−π, π] to (−π/2, 3π/2], so that limbs raised overhead (near ±180°) do
/// not jump between +180° and −180°; extension beyond −90° does not occur at the hip or shoulder.
@inline(__always)
func wrapAboveMinusQuarter(_ a: Float) -> Float {
  a < -Float.pi / 2 ? a + 2 * Float.pi : a
}

extension FeatureLayout {
  /// Writes the mirror image of feature frame `source` into `target`: left and right swap;
  /// the lateral component of every bone direction changes sign, except for the right→left
  /// bones (pelvis, shoulders), whose up and forward components change sign instead; lateral
  /// trunk flexion changes sign; noise values and lengths swap sides.
  public static func mirror(
    _ source: UnsafeBufferPointer<Float>, into target: UnsafeMutableBufferPointer<Float>
  ) {
    for bone in bones {
      let from = boneColumn(bone)
      let to = boneColumn(bone.mirrored)
      if bone == .pelvis || bone == .shoulders {
        target[to] = source[from]
        target[to + 1] = -source[from + 1]
        target[to + 2] = -source[from + 2]
      } else {
        target[to] = -source[from]
        target[to + 1] = source[from + 1]
        target[to + 2] = source[from + 2]
      }
    }
    for angle in angles {
      target[angleColumn(angle.mirrored)] = source[angleColumn(angle)] * angle.mirrorSign
    }
    for bone in bones { target[noiseColumn(bone.mirrored)] = source[noiseColumn(bone)] }
    for angle in angles { target[noiseColumn(angle.mirrored)] = source[noiseColumn(angle)] }
    for bone in bones { target[lengthColumn(bone.mirrored)] = source[lengthColumn(bone)] }
  }
}
