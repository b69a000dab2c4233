import Foundation
import OnTrackKinematics

/// One posture of OnTrack's canonical skeleton described the way a clinician would: where the
/// pelvis is and how it is oriented, how the spine bends, and the anatomical angles of each
/// limb (degrees, metres). `points()` turns it into joint-centre positions with the canonical
/// segment lengths, which `AuthoredMotion` solves onto the skeleton.
///
/// Frames: world Y up, metres; standing the body faces +Z with its left towards +X. Rotations
/// compose from the pelvis outwards, each about its parent's axes (X = the body's left,
/// Y = towards the head, Z = forward):
/// - pelvis: `R_p = R_y(heading) · R_x(pitch) · R_z(−tilt) · R_y(roll)`. `pitch` > 0 tips the
///   pelvis's top forward (anterior tilt; +90° lies the body face down, −90° face up with the
///   head towards −Z); `tilt` > 0 leans its top to the left (the left hip drops); `roll`
///   turns it about its own long axis towards the left.
/// - lumbar and thoracic joints: `R_x(flexion) · R_z(−lateral) · R_y(rotation)`, positive =
///   bending forward, to the left, turning to the left.
/// - a limb: `R_z(±abduction) · R_x(−flexion) · R_y(±rotation)` from hanging straight down in
///   the parent frame (± by side, so that positive abduction is away from the midline and
///   positive rotation external); the elbow and knee then bend by their flexion: the forearm
///   towards the front of the arm, the shank towards the back of the thigh.
/// - `footFlat`: the foot lies flat along the pelvis's heading instead of following the shank.
///
/// A limb may instead reach for a world point (`Reach`): the elbow or knee is placed by
/// two-segment inverse kinematics in the plane that contains the `bend` direction (a foot kept
/// on the floor, hands on the floor or holding a thigh).
public struct AuthoredPosture: Sendable, Equatable {
  public var pelvis = SIMD3<Double>(0, 0.92, 0)
  public var heading = 0.0
  public var pitch = 0.0
  public var tilt = 0.0
  public var roll = 0.0
  public var lumbar = Bend()
  public var thoracic = Bend()
  /// Head flexion against the thorax (looking down > 0).
  public var headFlexion = 0.0
  public var leftArm = Limb()
  public var rightArm = Limb()
  public var leftLeg = Limb()
  public var rightLeg = Limb()
  public var footFlat = true

  /// A spinal joint's bend, degrees.
  public struct Bend: Sendable, Equatable {
    public var flexion = 0.0
    public var lateral = 0.0
    public var rotation = 0.0
    public init(flexion: Double = 0, lateral: Double = 0, rotation: Double = 0) {
      self.flexion = flexion
      self.lateral = lateral
      self.rotation = rotation
    }
  }

  /// A limb's angles (degrees) and optional world reach.
  public struct Limb: Sendable, Equatable {
    public var flexion = 0.0
    public var abduction = 0.0
    public var rotation = 0.0
    /// Elbow or knee flexion (0 = straight).
    public var bend = 0.0
    /// Ankle plantar flexion (legs, when the foot is not flat) or wrist flexion.
    public var distal = 0.0
    public var reach: Reach?
    public init(
      flexion: Double = 0, abduction: Double = 0, rotation: Double = 0, bend: Double = 0,
      reach: Reach? = nil
    ) {
      self.flexion = flexion
      self.abduction = abduction
      self.rotation = rotation
      self.bend = bend
      self.reach = reach
    }
  }

  /// The wrist or ankle held at `target` (world, metres); the elbow or knee bends towards
  /// `bend` (a world direction).
  public struct Reach: Sendable, Equatable {
    public var target: SIMD3<Double>
    public var bend: SIMD3<Double>
    public init(target: SIMD3<Double>, bend: SIMD3<Double>) {
      self.target = target
      self.bend = bend
    }
  }

  public init() {}

  /// Sets the reach of the left (`side` > 0) or right arm or leg.
  mutating func setReach(side: Double, arm: Bool, _ reach: Reach) {
    switch (side > 0, arm) {
    case (true, true): leftArm.reach = reach
    case (false, true): rightArm.reach = reach
    case (true, false): leftLeg.reach = reach
    case (false, false): rightLeg.reach = reach
    }
  }

  /// A wrist held this low (metres) is a hand flat on the floor.
  static let handOnFloorHeight = 0.08

  // MARK: Geometry

  /// Segment lengths and rest offsets of `CanonicalSkeleton` (metres).
  enum Length {
    static let hipOffset = SIMD3<Double>(0.0971, -0.0240, 0)
    static let spine = 0.12
    static let chest = 0.18
    static let neck = 0.15
    static let head = 0.10
    static let headTop = 0.12
    /// Chest joint → shoulder joint (clavicle 0.16 along (1, 0.5, 0), then 0.12 along X).
    static let shoulderOffset = SIMD3<Double>(0.1431 + 0.12, 0.0716, 0)
    static let upperArm = 0.28
    static let forearm = 0.25
    static let hand = 0.08
    static let thigh = 0.42
    static let shank = 0.40
    static let foot = 0.14
    static let footDirection =
      SIMD3<Double>(0, -0.37, 0.93) / (0.37 * 0.37 + 0.93 * 0.93).squareRoot()
  }

  /// The joint centre `point` of this posture (metres): `points()[point]`, which `points()`
  /// gives for every `BodyPoint` (the pelvis stands in for none).
  public func point(_ point: BodyPoint) -> SIMD3<Double> {
    points()[point] ?? pelvis
  }

  /// The joint centres of this posture (metres), every `BodyPoint`.
  public func points() -> [BodyPoint: SIMD3<Double>] {
    var p: [BodyPoint: SIMD3<Double>] = [:]
    let rp = Rotation.y(heading) * Rotation.x(pitch) * Rotation.z(-tilt) * Rotation.y(roll)
    let rl = rp * lumbar.matrix
    let rc = rl * thoracic.matrix
    let rh = rc * Rotation.x(headFlexion)
    let spine = pelvis + rp * SIMD3(0, Length.spine, 0)
    let chest = spine + rl * SIMD3(0, Length.chest, 0)
    let neck = chest + rc * SIMD3(0, Length.neck, 0)
    let head = neck + rh * SIMD3(0, Length.head, 0)
    p[.pelvis] = pelvis
    p[.spine] = spine
    p[.chest] = chest
    p[.neck] = neck
    p[.head] = head
    p[.headTop] = head + rh * SIMD3(0, Length.headTop, 0)
    let forwardHeading = Rotation.y(heading) * SIMD3<Double>(0, 0, 1)
    for side in [1.0, -1.0] {
      let left = side > 0
      // Arm.
      let shoulder = chest + rc * (Length.shoulderOffset * SIMD3(side, 1, 1))
      let arm = left ? leftArm : rightArm
      let (elbow, wrist, _) = limb(
        root: shoulder, frame: rc, arm, side: side, lengths: (Length.upperArm, Length.forearm),
        bendSign: -1)
      var handPoint = wrist + normalize(wrist - elbow) * Length.hand
      if let reach = arm.reach, reach.target.y <= Self.handOnFloorHeight {
        // A hand on the floor lies flat, fingers towards the head.
        var towardsHead = rp * SIMD3(0, 1, 0)
        towardsHead.y = 0
        if length(towardsHead) < 1e-6 { towardsHead = forwardHeading }
        handPoint = wrist + normalize(towardsHead) * Length.hand - SIMD3(0, 0.02, 0)
      }
      p[left ? .leftShoulder : .rightShoulder] = shoulder
      p[left ? .leftElbow : .rightElbow] = elbow
      p[left ? .leftWrist : .rightWrist] = wrist
      p[left ? .leftHand : .rightHand] = handPoint
      // Leg.
      let hip = pelvis + rp * (Length.hipOffset * SIMD3(side, 1, 1))
      let leg = left ? leftLeg : rightLeg
      let (knee, ankle, shankFrame) = limb(
        root: hip, frame: rp, leg, side: side, lengths: (Length.thigh, Length.shank), bendSign: 1)
      let toe: SIMD3<Double>
      if footFlat {
        let along = normalize(forwardHeading - SIMD3(0, 1, 0) * dot(forwardHeading, SIMD3(0, 1, 0)))
        toe =
          ankle + (along * Length.footDirection.z + SIMD3(0, Length.footDirection.y, 0))
          * Length.foot
      } else {
        toe = ankle + shankFrame * (Rotation.x(leg.distal) * Length.footDirection) * Length.foot
      }
      p[left ? .leftHip : .rightHip] = hip
      p[left ? .leftKnee : .rightKnee] = knee
      p[left ? .leftAnkle : .rightAnkle] = ankle
      p[left ? .leftToe : .rightToe] = toe
    }
    return p
  }

  /// A two-segment limb from `root`: by its angles in `frame`, or reaching for its target.
  /// Returns the middle joint, the end joint and the distal segment's frame.
  private func limb(
    root: SIMD3<Double>, frame: Matrix3, _ limb: Limb, side: Double,
    lengths: (Double, Double), bendSign: Double
  ) -> (SIMD3<Double>, SIMD3<Double>, Matrix3) {
    let r =
      frame * Rotation.z(side * limb.abduction) * Rotation.x(-limb.flexion)
      * Rotation.y(side * limb.rotation)
    if let reach = limb.reach {
      let (mid, end) = Self.twoLink(
        root: root, target: reach.target, lengths: lengths, bend: reach.bend)
      return (mid, end, r)
    }
    let mid = root + r * SIMD3(0, -lengths.0, 0)
    // Elbows bend to the front of the arm (−X rotation), knees to the back of the thigh.
    let distal = r * Rotation.x(bendSign * limb.bend)
    let end = mid + distal * SIMD3(0, -lengths.1, 0)
    return (mid, end, distal)
  }

  /// Two-segment inverse kinematics: the middle joint in the plane of root, target and the
  /// `bend` direction; a target out of reach is met by the straight limb pointing at it.
  static func twoLink(
    root: SIMD3<Double>, target: SIMD3<Double>, lengths: (Double, Double), bend: SIMD3<Double>
  ) -> (SIMD3<Double>, SIMD3<Double>) {
    let (a, b) = lengths
    var toTarget = target - root
    var d = length(toTarget)
    if d < 1e-9 {
      toTarget = SIMD3(0, -1, 0)
      d = 1e-9
    }
    let axis = toTarget / d
    let reachable = min(max(d, abs(a - b) + 1e-6), a + b - 1e-9)
    // Distance along the axis to the middle joint's foot, and its height off the axis.
    let along = (a * a - b * b + reachable * reachable) / (2 * reachable)
    let off = max(0, a * a - along * along).squareRoot()
    var perpendicular = bend - axis * dot(bend, axis)
    if length(perpendicular) < 1e-9 { perpendicular = SIMD3(0, 0, 1) - axis * axis.z }
    perpendicular = normalize(perpendicular)
    let mid = root + axis * along + perpendicular * off
    let end = root + axis * reachable
    return (mid, end)
  }
}

extension AuthoredPosture.Bend {
  var matrix: Matrix3 {
    Rotation.x(flexion) * Rotation.z(-lateral) * Rotation.y(rotation)
  }
}

/// A 3×3 rotation (double precision, for authoring).
struct Matrix3: Sendable, Equatable {
  var columns: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

  static func * (m: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
    m.columns.0 * v.x + m.columns.1 * v.y + m.columns.2 * v.z
  }

  static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
    Matrix3(columns: (a * b.columns.0, a * b.columns.1, a * b.columns.2))
  }

  static func == (a: Matrix3, b: Matrix3) -> Bool {
    a.columns.0 == b.columns.0 && a.columns.1 == b.columns.1 && a.columns.2 == b.columns.2
  }
}

/// Rotations about the axes, angles in degrees (right-handed).
enum Rotation {
  static func x(_ degrees: Double) -> Matrix3 {
    let a = degrees * .pi / 180
    return Matrix3(columns: ([1, 0, 0], [0, cos(a), sin(a)], [0, -sin(a), cos(a)]))
  }

  static func y(_ degrees: Double) -> Matrix3 {
    let a = degrees * .pi / 180
    return Matrix3(columns: ([cos(a), 0, -sin(a)], [0, 1, 0], [sin(a), 0, cos(a)]))
  }

  static func z(_ degrees: Double) -> Matrix3 {
    let a = degrees * .pi / 180
    return Matrix3(columns: ([cos(a), sin(a), 0], [-sin(a), cos(a), 0], [0, 0, 1]))
  }
}

// Double-precision vector helpers for authoring (the core's are single precision).
func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }
func length(_ v: SIMD3<Double>) -> Double { dot(v, v).squareRoot() }
func normalize(_ v: SIMD3<Double>) -> SIMD3<Double> {
  let n = length(v)
  return n > 1e-12 ? v / n : v
}
