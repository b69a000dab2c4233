import Foundation

/// A causal second-order Butterworth low-pass on a fixed set of 3-D points (every coordinate):
/// the filter biomechanics uses on marker data, run forwards only, so a live stream and a whole
/// recording are filtered identically, frame for frame.
///
/// Design (bilinear transform, pre-warped): with `K = tan(π f_c / f_s)` and
/// `n = 1 / (1 + √2 K + K²)`,
///
///     b₀ = K² n,  b₁ = 2 b₀,  b₂ = b₀,  a₁ = 2 (K² − 1) n,  a₂ = (1 − √2 K + K²) n
///     y[t] = b₀ x[t] + b₁ x[t−1] + b₂ x[t−2] − a₁ y[t−1] − a₂ y[t−2]
///
/// (transposed direct form II). Unity gain at rest; −3 dB at `f_c`; slow movement is delayed by
/// `delay` = √2 / (2π f_c) seconds. The first frame (and the first after `restart`) sets the
/// state to rest at that frame: no start-up transient. No allocation per frame.
public struct PointFilter: Sendable {
  /// Cut-off frequency, hertz (below the Nyquist frequency whatever is asked).
  public let cutoff: Double
  /// Sampling rate, hertz.
  public let rate: Double
  let b0: Float, b1: Float, b2: Float, a1: Float, a2: Float
  private var z1: [SIMD3<Float>]
  private var z2: [SIMD3<Float>]
  private var primed: [Bool]

  public init(cutoff: Double, rate: Double, count: Int) {
    self.rate = rate
    let fc = min(cutoff, rate * 0.45)
    self.cutoff = fc
    let k = tan(Double.pi * fc / rate)
    let n = 1 / (1 + 2.0.squareRoot() * k + k * k)
    b0 = Float(k * k * n)
    b1 = 2 * b0
    b2 = b0
    a1 = Float(2 * (k * k - 1) * n)
    a2 = Float((1 - 2.0.squareRoot() * k + k * k) * n)
    z1 = [SIMD3<Float>](repeating: .zero, count: count)
    z2 = [SIMD3<Float>](repeating: .zero, count: count)
    primed = [Bool](repeating: false, count: count)
  }

  /// Forgets the past of every point: the next frame starts the filter again at rest.
  public mutating func restart() {
    for k in primed.indices { primed[k] = false }
  }

  /// Forgets the past of point `k` (it went missing: it starts again where it reappears).
  public mutating func restart(point k: Int) { primed[k] = false }

  /// Filters point `k`'s next value.
  public mutating func filter(_ x: SIMD3<Float>, point k: Int) -> SIMD3<Float> {
    guard primed[k] else {
      primed[k] = true
      z1[k] = x * (1 - b0)
      z2[k] = x * (b2 - a2)
      return x
    }
    let y = x * b0 + z1[k]
    z1[k] = x * b1 - y * a1 + z2[k]
    z2[k] = x * b2 - y * a2
    return y
  }

  /// The delay of slow movement through the filter, seconds: its group delay at zero
  /// frequency, `√2 / (2π f_c)`.
  public var delay: Double { 2.0.squareRoot() / (2 * Double.pi * cutoff) }

  /// The ratio of output noise to input noise for white noise: `√(Σ h[n]²)` over the impulse
  /// response.
  public var noiseGain: Double { noiseGain(averagingOver: 1) }

  /// The same ratio when the filter's output is then averaged over `window` consecutive
  /// frames (a moving average): `√(Σ g[n]²)` with `g = h ∗ box_window / window`.
  public func noiseGain(averagingOver window: Int) -> Double {
    let w = max(1, window)
    var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0
    var recent = [Double](repeating: 0, count: w)
    var running = 0.0
    var sum = 0.0
    for t in 0..<(4000 + w) {
      let x = t == 0 ? 1.0 : 0.0
      let y =
        Double(b0) * x + Double(b1) * x1 + Double(b2) * x2 - Double(a1) * y1 - Double(a2) * y2
      running += y - recent[t % w]
      recent[t % w] = y
      let g = running / Double(w)
      sum += g * g
      x2 = x1
      x1 = x
      y2 = y1
      y1 = y
    }
    return sum.squareRoot()
  }
}
