import Foundation
import OnTrackKinematics

/// The horizontal direction towards the patient's left, which `FeatureExtractor` measures the
/// body against, so that a patient facing any direction compares equal to the reference.
///
/// Two rates, one for each reason the direction changes:
/// - **A part of the body turning** (the pelvis in a pelvis rotation, the chest in a trunk
///   rotation, a hip turning with the chest as a fault) is part of the movement and must show:
///   the heading follows the hips' left direction made horizontal (the shoulders' when the hips
///   give none) through a causal exponential filter of time constant `timeConstant` (2 s).
/// - **The whole body turning** (a patient who repositions between repetitions, or walks out
///   of the picture and comes back facing elsewhere; a camera knocked round) is no movement of
///   the exercise and must not: left alone to the slow filter, a turn of 30° was read for the
///   next seconds as the trunk and legs twisted sideways (a perfect sit-to-stand after the
///   patient turned 30° in the rest before it scored 24, "Keep your hips level").
///
/// A whole-body turn is told by three cues — the hips' line, the shoulders' line and the
/// legs' (the ankles', else the knees', when the sensor sees both), each made horizontal and
/// followed by its own filter of `cueTimeConstant` (0.5 s: the exercise's own movement has
/// left it by the next repetition). Per frame each cue's turn from its filter is
/// `dᵢ = atan2(fᵢ × rᵢ, fᵢ · rᵢ)` (radians, about the vertical). The body is turning when, for
/// `turnOnset` (0.1 s) in a row,
///
///     all dᵢ > zᵢ (or all < −zᵢ),   zᵢ = max(deadZone, jitterZones · σᵢ),
///     max dᵢ − min dᵢ ≤ max(deadZone, ½ |median dᵢ|)   (turned alike),
///
/// with σᵢ the cue's RMS turn from one frame to the next through the slow filter (its
/// jitter; a smooth movement adds little to it, a sensor's noise all of it) and `deadZone` 5°.
/// Then the heading (and the cues' filters with it) is turned by `b · (1 − e^(−Δt/τ))` each
/// frame, `b` the angle from the heading to the hips' line now and τ `turnTimeConstant`
/// (0.1 s), until `b` is within `caughtUp` (0.5°): the whole turn, not the cues' least, since a
/// cue's filter may still lag the last repetition. A movement of the exercise turns one or
/// two of the three cues — the feet stay while the pelvis or the chest turns, the legs swing
/// while the trunk stays — or turns them unalike (a lunge's step), and shows as before; with
/// no turn the heading is exactly the slow filter's. A sensor that does not show the legs
/// (a webcam that frames the upper body) tells a whole-body turn by the hips and shoulders
/// alone (the shoulders' turn standing in for the legs') only where the exercise never turns
/// them (`trunkTells`, `Exercise.trunkTurnIsBodyTurn`); elsewhere only the slow filter
/// follows. Each cue's jitter is followed whenever that cue is seen in two frames running.
///
/// Only landmarks the sensor saw are read (`LandmarkFrame.untracked`): a hip not seen yet sits
/// wherever a solver or the gate put it, and its line is no heading.
///
/// Causal and allocation-free, so a stream and a whole recording give the same heading frame
/// for frame.
struct BodyHeading: Sendable {
  /// Time constant of the slow filter, seconds.
  var timeConstant: Double
  /// Time constant with which a turn of the whole body is followed, seconds.
  static let turnTimeConstant = 0.1
  /// Least turn of each cue (radians, 5°) for a whole-body turn.
  static let deadZone: Float = 5 * .pi / 180
  /// Time constant of the cues' own filters, seconds: short, so that the exercise's own
  /// movement has left them before the next repetition.
  static let cueTimeConstant = 0.5
  /// A cue's dead zone in multiples of its jitter (its RMS turn from frame to frame).
  static let jitterZones: Float = 4
  /// Seconds the cues must agree on a turn before it is followed.
  static let turnOnset = 0.1
  /// How near (radians, 0.5°) the heading must come to its own line for a turn to be done.
  static let caughtUp: Float = 0.5 * .pi / 180
  /// Shortest horizontal line (metres) a cue is read from.
  static let shortestLine: Float = 0.04

  /// The filtered left direction (unit, horizontal), `nil` before the first frame giving one.
  private(set) var left: SIMD3<Float>?
  /// The cues' lines (hips, shoulders, legs) through their own filters (`cueTimeConstant`),
  /// and as last seen.
  private var cues: (SIMD2<Float>?, SIMD2<Float>?, SIMD2<Float>?)
  private var lastCues: (SIMD2<Float>?, SIMD2<Float>?, SIMD2<Float>?)
  /// Each cue's mean square turn from one frame to the next (radians²), through the slow
  /// filter: its jitter.
  private var jitter = SIMD3<Float>(repeating: 0)
  /// A turn of the whole body is being followed, of sign `turnSign`.
  private var turning = false
  private var turnSign: Float = 0
  /// Seconds the cues have agreed on a turn of sign `turnSign`.
  private var agreeing = 0.0

  /// With the legs unseen, a turn of the hips and the shoulders alike is the whole body's: for
  /// an exercise whose reference turns neither (`Exercise.trunkTurnIsBodyTurn`); else, with
  /// the legs unseen, only the slow filter follows.
  var trunkTells: Bool

  init(timeConstant: Double, trunkTells: Bool = false) {
    self.timeConstant = timeConstant
    self.trunkTells = trunkTells
  }

  /// Follows `frame`, `timeStep` seconds after the previous one.
  mutating func update(_ frame: LandmarkFrame, timeStep: Double) {
    let step = max(timeStep, 0)
    let slow = Float(1 - exp(-step / max(timeConstant, 1e-6)))
    let cueAlpha = Float(1 - exp(-step / Self.cueTimeConstant))
    let fast = Float(1 - exp(-step / Self.turnTimeConstant))
    let raw = (
      Self.line(frame, .leftHip, .rightHip), Self.line(frame, .leftShoulder, .rightShoulder),
      Self.line(frame, .leftAnkle, .rightAnkle) ?? Self.line(frame, .leftKnee, .rightKnee)
    )
    // The heading's own line: the hips', else the shoulders' (any length), of points the
    // sensor saw. While a hip is not seen the heading holds (the shoulders' line turns with a
    // trunk rotation); before any hip was seen, the shoulders' line is taken. A point not seen
    // sits where a solver or the gate put it — a hip never seen yet, in the middle of the body
    // — and read as the hips' line it turned the heading by tens of degrees for seconds.
    let hipsSeen = frame.shows(.leftHip) && frame.shows(.rightHip)
    var ownLine = hipsSeen ? Self.horizontal(frame, .leftHip, .rightHip) : nil
    if ownLine == nil && (hipsSeen || left == nil) {
      ownLine = Self.horizontal(frame, .leftShoulder, .rightShoulder)
    }
    var turns = Self.turns(from: cues, to: raw)
    // With the legs unseen (a webcam that shows the upper body), the hips and shoulders alone,
    // for an exercise that turns neither (`trunkTells`): the shoulders' turn stands in for the
    // legs'.
    var zoneOfLegs = 2
    if turns == nil, trunkTells, raw.2 == nil, let h = cues.0, let s = cues.1, let rh = raw.0,
      let rs = raw.1
    {
      let shoulders = Self.angle(s, rs)
      turns = Self.alike(SIMD3(Self.angle(h, rh), shoulders, shoulders))
      zoneOfLegs = 1
    }
    Self.updateJitter(&jitter, 0, lastCues.0, raw.0, slow)
    Self.updateJitter(&jitter, 1, lastCues.1, raw.1, slow)
    Self.updateJitter(&jitter, 2, lastCues.2, raw.2, slow)
    lastCues = raw
    // A turn of the whole body: the three cues turned one way, each past its dead zone, and
    // alike, for `turnOnset` seconds.
    if !turning {
      var zone = pointwiseMax(
        Self.jitterZones * jitter.squareRoot(), SIMD3<Float>(repeating: Self.deadZone))
      zone.z = zone[zoneOfLegs]
      var sign: Float = 0
      if let t = turns, t.max() - t.min() <= max(Self.deadZone, 0.5 * abs(Self.middle(t))) {
        if all(t .> zone) { sign = 1 } else if all(t .< -zone) { sign = -1 }
      }
      agreeing = sign == 0 ? 0 : (sign == turnSign ? agreeing + step : step)
      turnSign = sign
      turning = sign != 0 && agreeing >= Self.turnOnset
    }
    // … followed until the heading has caught up with its own line.
    if turning {
      agreeing = 0
      if raw.0 == nil && raw.1 == nil {
        turning = false
      } else if let current = left, let ownLine {
        var behind = Self.angle(SIMD2(current.x, current.z), SIMD2(ownLine.x, ownLine.z))
        // Near a half turn the line may lie just past ±π: the turn goes on the way it began.
        if behind * turnSign < -0.5 * .pi { behind += 2 * .pi * turnSign }
        if behind * turnSign <= Self.caughtUp {
          turning = false
        } else {
          let turn = behind * fast
          cues.0 = cues.0.map { Self.rotate($0, turn) }
          cues.1 = cues.1.map { Self.rotate($0, turn) }
          cues.2 = cues.2.map { Self.rotate($0, turn) }
          let r = Self.rotate(SIMD2(current.x, current.z), turn)
          left = SIMD3(r.x, 0, r.y)
        }
      } else {
        turning = false
      }
    }
    cues.0 = Self.blend(cues.0, raw.0, cueAlpha)
    cues.1 = Self.blend(cues.1, raw.1, cueAlpha)
    cues.2 = Self.blend(cues.2, raw.2, cueAlpha)
    guard let ownLine else { return }
    if let previous = left {
      let blended = previous + (ownLine - previous) * slow
      left = length(blended) > 1e-6 ? normalize(blended) : ownLine
    } else {
      left = ownLine
    }
  }

  /// Each cue's turn from `from` to `to` (radians), when both give all three.
  private static func turns(
    from: (SIMD2<Float>?, SIMD2<Float>?, SIMD2<Float>?),
    to: (SIMD2<Float>?, SIMD2<Float>?, SIMD2<Float>?)
  ) -> SIMD3<Float>? {
    guard let a = from.0, let b = from.1, let c = from.2, let x = to.0, let y = to.1,
      let z = to.2
    else { return nil }
    return alike(SIMD3(angle(a, x), angle(b, y), angle(c, z)))
  }

  /// The cues' turns `t` (radians) each read the way round nearest their median: a half turn
  /// has no sign of its own (a body seen with its labels swapped, or turned right round
  /// between two frames).
  private static func alike(_ t: SIMD3<Float>) -> SIMD3<Float> {
    var t = t
    let m = middle(t)
    for i in 0..<3 where abs(t[i] - m) > .pi { t[i] -= 2 * .pi * (t[i] > m ? 1 : -1) }
    return t
  }

  /// Cue `i`'s jitter: its mean square turn from one frame to the next, through the slow
  /// filter, when it was seen in both.
  private static func updateJitter(
    _ jitter: inout SIMD3<Float>, _ i: Int, _ last: SIMD2<Float>?, _ now: SIMD2<Float>?,
    _ alpha: Float
  ) {
    guard let last, let now else { return }
    let moved = angle(last, now)
    jitter[i] += (moved * moved - jitter[i]) * alpha
  }

  /// The median of three.
  private static func middle(_ t: SIMD3<Float>) -> Float {
    max(min(t.x, t.y), min(max(t.x, t.y), t.z))
  }

  /// The unit direction from `right` to `left` made horizontal (3-D, y = 0), when the sensor
  /// saw both and it is longer than 10⁻⁶ m.
  private static func horizontal(
    _ frame: LandmarkFrame, _ left: BodyLandmark, _ right: BodyLandmark
  ) -> SIMD3<Float>? {
    guard frame.shows(left), frame.shows(right) else { return nil }
    var d = frame[left] - frame[right]
    d.y = 0
    let n = length(d)
    guard n.isFinite, n >= 1e-6 else { return nil }
    return d / n
  }

  /// The largest turn about the vertical (radians) of the line from `right` to `left` over
  /// `frames`, from its direction in the first (`line`; lines shorter than `shortestLine`, a
  /// body lying on its side, are left out).
  static func largestTurn(
    of frames: [LandmarkFrame], _ left: BodyLandmark, _ right: BodyLandmark
  ) -> Float {
    guard let first = frames.first.flatMap({ line($0, left, right) }) else { return 0 }
    var largest: Float = 0
    for frame in frames {
      guard let v = line(frame, left, right) else { continue }
      largest = max(largest, abs(angle(first, v)))
    }
    return largest
  }

  /// The horizontal unit direction from `right` to `left` (x, z), when the sensor sees both
  /// and they are `shortestLine` apart.
  private static func line(_ frame: LandmarkFrame, _ left: BodyLandmark, _ right: BodyLandmark)
    -> SIMD2<Float>?
  {
    guard frame.shows(left), frame.shows(right) else { return nil }
    let d = frame[left] - frame[right]
    let v = SIMD2(d.x, d.z)
    let n = (v.x * v.x + v.y * v.y).squareRoot()
    guard n.isFinite, n >= shortestLine else { return nil }
    return v / n
  }

  /// The signed angle (radians) that turns `from` onto `to`.
  private static func angle(_ from: SIMD2<Float>, _ to: SIMD2<Float>) -> Float {
    atan2(from.x * to.y - from.y * to.x, from.x * to.x + from.y * to.y)
  }

  private static func rotate(_ v: SIMD2<Float>, _ angle: Float) -> SIMD2<Float> {
    let c = cos(angle)
    let s = sin(angle)
    return SIMD2(v.x * c - v.y * s, v.x * s + v.y * c)
  }

  /// The slow filter of a cue: towards `raw` by `alpha`, kept while the cue is not seen.
  private static func blend(_ filtered: SIMD2<Float>?, _ raw: SIMD2<Float>?, _ alpha: Float)
    -> SIMD2<Float>?
  {
    guard let raw else { return filtered }
    guard let filtered else { return raw }
    let b = filtered + (raw - filtered) * alpha
    let n = (b.x * b.x + b.y * b.y).squareRoot()
    return n > 1e-6 ? b / n : raw
  }
}
