import Foundation
import OnTrackKinematics

/// A movement authored as key postures at times, played on OnTrack's canonical skeleton.
///
/// Between keys every posture parameter follows the minimum-jerk profile
/// `s(τ) = 10τ³ − 15τ⁴ + 6τ⁵` (τ the share of the interval gone): zero velocity and
/// acceleration at every key, so a hold begins and ends without a jolt (Flash & Hogan 1985,
/// the model of smooth point-to-point human movement). Frames are joint centres from
/// `AuthoredPosture.points()`, put through the `KeypointSolver` onto the canonical skeleton
/// (no smoothing, nothing missing), so the clip is what a perfect keypoint sensor would give.
public struct AuthoredMotion: Sendable {
  public struct Key: Sendable {
    public var time: Double
    public var posture: AuthoredPosture
    /// Reached at constant speed from the previous key (for a path through many keys, such
    /// as a circle), instead of with the minimum-jerk profile.
    public var linear: Bool
    public init(_ time: Double, _ posture: AuthoredPosture, linear: Bool = false) {
      self.time = time
      self.posture = posture
      self.linear = linear
    }
  }

  public var keys: [Key]
  public var frameRate: Double

  public init(keys: [Key], frameRate: Double = 30) {
    self.keys = keys.sorted { $0.time < $1.time }
    self.frameRate = frameRate
  }

  public var duration: Double { keys.last?.time ?? 0 }

  /// The posture at `time` seconds.
  public func posture(at time: Double) -> AuthoredPosture {
    guard let first = keys.first else { return AuthoredPosture() }
    guard time > first.time else { return first.posture }
    for k in 1..<keys.count where time <= keys[k].time {
      let a = keys[k - 1]
      let b = keys[k]
      let span = b.time - a.time
      let tau = span > 0 ? (time - a.time) / span : 1
      let s = b.linear ? tau : tau * tau * tau * (10 - 15 * tau + 6 * tau * tau)
      return AuthoredPosture.blend(a.posture, b.posture, s)
    }
    return keys[keys.count - 1].posture
  }

  /// Joint centres at every frame (1/`frameRate` apart, the last key included).
  public func frames() -> [[BodyPoint: SIMD3<Double>]] {
    let count = Int((duration * frameRate).rounded()) + 1
    return (0..<count).map { posture(at: Double($0) / frameRate).points() }
  }

  /// The motion as a clip of the canonical skeleton.
  public func clip() throws(ClipError) -> Clip {
    let skeleton = CanonicalSkeleton.make()
    var solver = KeypointSolver(skeleton: skeleton)
    solver.smoothing = 0
    var pose = skeleton.restPose
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    var frame = KeypointFrame()
    for (f, points) in frames().enumerated() {
      frame.clear()
      for (point, p) in points {
        frame[point] = SIMD3(Float(p.x), Float(p.y), Float(p.z))
        frame.confidence[point.rawValue] = 1
      }
      _ = solver.solve(frame, at: Double(f) / frameRate, into: &pose)
      rotations.append(contentsOf: pose.rotations)
      translations.append(contentsOf: pose.translations)
    }
    return try Clip(
      skeleton: skeleton, frameTime: 1 / frameRate, rotations: rotations,
      translations: translations)
  }
}

extension AuthoredPosture {
  /// Gives every limb that reaches in `other` but not here a reach for where its end is.
  mutating func pinLimbs(like other: AuthoredPosture) {
    let needs = [
      leftArm.reach == nil && other.leftArm.reach != nil,
      rightArm.reach == nil && other.rightArm.reach != nil,
      leftLeg.reach == nil && other.leftLeg.reach != nil,
      rightLeg.reach == nil && other.rightLeg.reach != nil,
    ]
    guard needs.contains(true) else { return }
    let p = points()
    func pin(_ root: BodyPoint, _ mid: BodyPoint, _ end: BodyPoint) -> Reach? {
      guard let r = p[root], let m = p[mid], let e = p[end] else { return nil }
      var bend = m - (r + e) / 2
      if length(bend) < 1e-6 { bend = [0, 0, 1] }
      return Reach(target: e, bend: normalize(bend))
    }
    if needs[0] { leftArm.reach = pin(.leftShoulder, .leftElbow, .leftWrist) }
    if needs[1] { rightArm.reach = pin(.rightShoulder, .rightElbow, .rightWrist) }
    if needs[2] { leftLeg.reach = pin(.leftHip, .leftKnee, .leftAnkle) }
    if needs[3] { rightLeg.reach = pin(.rightHip, .rightKnee, .rightAnkle) }
  }

  /// `a + (b − a)·s` for every parameter (reach targets included when both have one).
  static func blend(_ a: AuthoredPosture, _ b: AuthoredPosture, _ s: Double) -> AuthoredPosture {
    func mix(_ x: Double, _ y: Double) -> Double { x + (y - x) * s }
    func mix(_ x: SIMD3<Double>, _ y: SIMD3<Double>) -> SIMD3<Double> { x + (y - x) * s }
    func bend(_ x: Bend, _ y: Bend) -> Bend {
      Bend(
        flexion: mix(x.flexion, y.flexion), lateral: mix(x.lateral, y.lateral),
        rotation: mix(x.rotation, y.rotation))
    }
    func limb(_ x: Limb, _ y: Limb) -> Limb {
      var out = Limb(
        flexion: mix(x.flexion, y.flexion), abduction: mix(x.abduction, y.abduction),
        rotation: mix(x.rotation, y.rotation), bend: mix(x.bend, y.bend))
      out.distal = mix(x.distal, y.distal)
      if let p = x.reach, let q = y.reach {
        out.reach = Reach(target: mix(p.target, q.target), bend: mix(p.bend, q.bend))
      }
      return out
    }
    // A limb that reaches in one posture and is posed by angles in the other reaches in both:
    // the posed one for where its hand or foot is.
    var a = a
    var b = b
    a.pinLimbs(like: b)
    b.pinLimbs(like: a)
    var out = AuthoredPosture()
    out.pelvis = mix(a.pelvis, b.pelvis)
    out.heading = mix(a.heading, b.heading)
    out.pitch = mix(a.pitch, b.pitch)
    out.tilt = mix(a.tilt, b.tilt)
    out.roll = mix(a.roll, b.roll)
    out.lumbar = bend(a.lumbar, b.lumbar)
    out.thoracic = bend(a.thoracic, b.thoracic)
    out.headFlexion = mix(a.headFlexion, b.headFlexion)
    out.leftArm = limb(a.leftArm, b.leftArm)
    out.rightArm = limb(a.rightArm, b.rightArm)
    out.leftLeg = limb(a.leftLeg, b.leftLeg)
    out.rightLeg = limb(a.rightLeg, b.rightLeg)
    out.footFlat = s < 0.5 ? a.footFlat : b.footFlat
    return out
  }
}
