import Foundation

/// The scale of a monocular pose estimator's depth, told by the body's own rigid segments.
///
/// A single camera sees depth only through its pose model's guess, and the guess is
/// systematically shallow or deep: a model that regresses towards an average pose flattens the
/// body along the camera's axis. Every angle with a component along that axis is then read too
/// small — measured with an exercise's own reference performed perfectly and handed over as
/// BlazePose's points with their depth multiplied by 0.7 (README, "A camera's depth is a
/// guess"): a glute bridge scored 2 instead of 99 ("Don't lift so high"), a knee-to-chest 1, a
/// standing trunk rotation 59 ("Turn your chest a little further"), a deep squat 92.
///
/// A rigid segment keeps its length however it turns; seen with depth scaled by `k`, its
/// length `√(a² + k²b²)` (`a` across the image, `b` along the camera's axis) changes whenever
/// it turns into or out of the image plane. So for each candidate `k` in `candidates` the
/// estimator keeps, per rigid segment (upper arms, forearms, thighs, shanks, the pelvis's
/// width), the running variance of the logarithm of the segment's length with depth divided by
/// `k`, through a low-pass of `smoothing` seconds; the pooled variance
/// `σ²(k) = Σₛ Σₜ (ℓₛₜ(k) − ℓ̄ₛ(k))² / Σₛ nₛ` is least at the true scale. The best flattening
/// (`k < 1`) is believed when `σ²(k) ≤ flatteningShare · σ²(1)`, the best deepening when
/// `σ²(k) ≤ explained · σ²(1)`, either only if it lowers `σ²` by at least `leastDrop` and
/// after `leastFrames` frames. Until then, and for a body that never turns a limb out of the
/// image plane (where depth hardly matters, and nothing tells it), the scale is 1.
///
/// `scale` moves towards the estimate at most `rate` per second, so a change of estimate is
/// not a jump of every point along the camera's axis. Undoing a flattening deepens the
/// sensor's jitter along depth by as much (`1/k`).
///
/// Allocation-free per frame (fixed arrays sized at creation): a logarithm and a few
/// multiply-adds per segment per candidate, about 1.3 µs a frame (`ontrack bench keypoints`).
public struct DepthScale: Sendable {
  /// The scales tried: depth seen as 0.3 to 1.6 times the true.
  public static let candidates: [Float] = (0...26).map { 0.3 + Float($0) * 0.05 }
  /// The share of the variance at scale 1 a deepening (`k > 1`) must leave at most to be
  /// believed: depth noise larger than the image's (a monocular model's) favours one.
  public static let explained: Float = 0.25
  /// The share a flattening (`k < 1`) must leave at most. Noise cannot favour one: with noise
  /// of the same size along depth as across the image or larger, the variance of a segment's
  /// log length is least at `k = 1` or above (Cauchy–Schwarz: `(a² + b²/k⁴)(a² + b²) ≥
  /// (a² + b²/k²)²` for a segment of `a` across and `b` along depth), so a flattening that
  /// leaves less is the body's.
  public static let flatteningShare: Float = 0.8
  /// Frames with segments seen before an estimate is believed.
  public static let leastFrames = 60
  /// The fastest change of `scale`, per second.
  public static let rate: Float = 0.5
  /// Rigid segments (pairs of points whose distance no movement changes).
  public static let segments: [(BodyPoint, BodyPoint)] = [
    (.leftShoulder, .leftElbow), (.leftElbow, .leftWrist), (.rightShoulder, .rightElbow),
    (.rightElbow, .rightWrist), (.leftHip, .leftKnee), (.leftKnee, .leftAnkle),
    (.rightHip, .rightKnee), (.rightKnee, .rightAnkle), (.leftHip, .rightHip),
  ]

  /// The scale in use: the factor by which the source's depth is taken to be shallower than
  /// the truth (divide depth by it). 1 until an estimate is believed.
  public private(set) var scale: Float = 1
  /// The estimate, once believed.
  public private(set) var estimate: Float?
  /// Frames in which at least one segment was seen.
  public private(set) var frames = 0

  /// Per segment and candidate (`segment * candidates.count + candidate`): count, mean and
  /// sum of squared deviations of the logarithm of the length (Welford).
  private var count: [Float]
  private var mean: [Float]
  private var squares: [Float]
  private var lastTime: Double?
  /// Per segment and candidate: the log length through a first-order low-pass of time
  /// constant `smoothing`, and per segment whether it holds one.
  private var smoothed: [Float]
  private var smoothedValid: [Bool]
  /// Seconds: the time constant of the log lengths' low-pass. A sensor's jitter, frame by
  /// frame, varies a segment's length alike at every scale and hides the slower variation a
  /// wrong scale makes as the segment turns; a fifth of a second divides white jitter's
  /// variance at 30 frames a second by about twelve. (The lengths, not the segments' vectors,
  /// are filtered: a vector's low-pass shortens it while it turns, which a scale reads as
  /// depth.)
  public static let smoothing = 0.2
  /// The least drop of the pooled variance from scale 1 that is acted on: a scale that would
  /// change the segments' lengths by less than about 1.5 % (standard deviation) is left alone.
  public static let leastDrop: Float = 0.0002

  public init() {
    let n = Self.segments.count * Self.candidates.count
    count = [Float](repeating: 0, count: n)
    mean = [Float](repeating: 0, count: n)
    squares = [Float](repeating: 0, count: n)
    smoothed = [Float](repeating: 0, count: n)
    smoothedValid = [Bool](repeating: false, count: Self.segments.count)
  }

  /// Takes one frame's points (metres, the camera's axis along z; their depth already divided
  /// by `applied`, which is undone here), those in `seen` (bits of `BodyPoint`), at `time`
  /// seconds; updates `estimate` and moves `scale` towards it.
  public mutating func observe(
    _ positions: [SIMD3<Float>], seen: UInt32, applied: Float = 1, at time: Double
  ) {
    let width = Self.candidates.count
    var any = false
    let dt = lastTime.map { Float(max(0, min(1, time - $0))) } ?? 0
    if time.isFinite { lastTime = time }
    let alpha = dt > 0 ? Float(1 - exp(-Double(dt) / Self.smoothing)) : 1
    for (s, (a, b)) in Self.segments.enumerated() {
      guard seen & a.bit != 0, seen & b.bit != 0, a.rawValue < positions.count,
        b.rawValue < positions.count
      else {
        smoothedValid[s] = false
        continue
      }
      var d = positions[a.rawValue] - positions[b.rawValue]
      d.z *= applied
      let across = d.x * d.x + d.y * d.y
      let along = d.z * d.z
      guard across.isFinite, along.isFinite, across + along > 1e-4 else {
        smoothedValid[s] = false
        continue
      }
      any = true
      let fresh = !smoothedValid[s]
      smoothedValid[s] = true
      for c in 0..<width {
        let k = Self.candidates[c]
        let i = s * width + c
        let raw = 0.5 * log(across + along / (k * k))
        smoothed[i] = fresh ? raw : smoothed[i] + (raw - smoothed[i]) * alpha
        let value = smoothed[i]
        count[i] += 1
        let delta = value - mean[i]
        mean[i] += delta / count[i]
        squares[i] += delta * (value - mean[i])
      }
    }
    if any { frames += 1 }
    if frames >= Self.leastFrames { decide() }
    let target = estimate ?? 1
    let step = Self.rate * dt
    scale += max(-step, min(step, target - scale))
  }

  /// The best candidate, believed if it explains enough of the variance at scale 1: a
  /// flattening (`k < 1`) when it leaves at most `flatteningShare` of it, a deepening when it
  /// leaves at most `explained`.
  private mutating func decide() {
    let width = Self.candidates.count
    var flattest = (variance: Float.infinity, k: Float(1))
    var deepest = (variance: Float.infinity, k: Float(1))
    var unitVariance = Float.infinity
    for c in 0..<width {
      var sum: Float = 0
      var n: Float = 0
      for s in Self.segments.indices {
        let i = s * width + c
        sum += squares[i]
        n += count[i]
      }
      guard n > 0 else { return }
      let variance = sum / n
      let k = Self.candidates[c]
      if abs(k - 1) < 1e-3 {
        unitVariance = variance
      } else if k < 1, variance < flattest.variance {
        flattest = (variance, k)
      } else if k > 1, variance < deepest.variance {
        deepest = (variance, k)
      }
    }
    guard unitVariance.isFinite, unitVariance > 0 else {
      estimate = nil
      return
    }
    if flattest.variance <= Self.flatteningShare * unitVariance,
      flattest.variance <= deepest.variance, unitVariance - flattest.variance >= Self.leastDrop
    {
      estimate = flattest.k
    } else if deepest.variance <= Self.explained * unitVariance,
      unitVariance - deepest.variance >= Self.leastDrop
    {
      estimate = deepest.k
    } else {
      estimate = nil
    }
  }
}
