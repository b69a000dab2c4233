import Foundation
import OnTrackKinematics

/// A causal low-pass filter on landmark positions: a second-order Butterworth on every
/// coordinate, the filter biomechanics uses on marker data (Winter, *Biomechanics and Motor
/// Control of Human Movement*, ch. 2), run forwards only so that a live stream and a whole
/// recording are filtered identically, frame for frame.
///
/// Design (bilinear transform, pre-warped): with `K = tan(π f_c / f_s)` and
/// `n = 1 / (1 + √2 K + K²)`,
///
///     b₀ = K² n,  b₁ = 2 b₀,  b₂ = b₀,  a₁ = 2 (K² − 1) n,  a₂ = (1 − √2 K + K²) n
///     y[t] = b₀ x[t] + b₁ x[t−1] + b₂ x[t−2] − a₁ y[t−1] − a₂ y[t−2]
///
/// (transposed direct form II). Unity gain at rest; −3 dB at `f_c`; the group delay at low
/// frequencies is about `√2 / (2π f_c)` (≈ 56 ms at 4 Hz), the same for the patient and the
/// reference, so alignment cancels it. The first frame (and the first after a restart) sets the
/// state to rest at that frame: no start-up transient. No allocation per frame.
public struct LandmarkFilter: Sendable {
  /// Cut-off frequency, hertz.
  public let cutoff: Double
  /// Sampling rate, hertz.
  public let rate: Double
  let b0: Float, b1: Float, b2: Float, a1: Float, a2: Float
  private var z1: [SIMD3<Float>]
  private var z2: [SIMD3<Float>]
  private var primed = false

  /// The cut-off OnTrack uses: human movement in rehabilitation exercises sits well below it,
  /// sensor noise mostly above.
  public static let defaultCutoff = 4.0

  public init(cutoff: Double = defaultCutoff, rate: Double) {
    self.rate = rate
    // Below the Nyquist frequency whatever is asked.
    let fc = min(cutoff, rate * 0.45)
    self.cutoff = fc
    let k = tan(Double.pi * fc / rate)
    let n = 1 / (1 + 2.0.squareRoot() * k + k * k)
    b0 = Float(k * k * n)
    b1 = 2 * b0
    b2 = b0
    a1 = Float(2 * (k * k - 1) * n)
    a2 = Float((1 - 2.0.squareRoot() * k + k * k) * n)
    let count = BodyLandmark.allCases.count
    z1 = [SIMD3<Float>](repeating: .zero, count: count)
    z2 = [SIMD3<Float>](repeating: .zero, count: count)
  }

  /// Forgets the past: the next frame starts the filter again at rest.
  public mutating func restart() { primed = false }

  /// Filters one frame in place.
  public mutating func filter(_ frame: inout LandmarkFrame) {
    if !primed {
      primed = true
      for k in 0..<frame.positions.count {
        let x = frame.positions[k]
        z1[k] = x * (1 - b0)
        z2[k] = x * (b2 - a2)
      }
      return
    }
    for k in 0..<frame.positions.count {
      let x = frame.positions[k]
      let y = x * b0 + z1[k]
      z1[k] = x * b1 - y * a1 + z2[k]
      z2[k] = x * b2 - y * a2
      frame.positions[k] = y
    }
  }

  /// The delay of slow movement through the filter, seconds: its group delay at zero frequency,
  /// `√2 / (2π f_c)` for a second-order Butterworth (from the transfer function's phase slope).
  public var delay: Double { 2.0.squareRoot() / (2 * Double.pi * cutoff) }

  /// The ratio of the filter's output noise to its input noise for white noise:
  /// `√(Σ h[n]²)` over its impulse response.
  public var noiseGain: Double {
    var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0
    var sum = 0.0
    for t in 0..<4000 {
      let x = t == 0 ? 1.0 : 0.0
      let y =
        Double(b0) * x + Double(b1) * x1 + Double(b2) * x2 - Double(a1) * y1
        - Double(a2) * y2
      sum += y * y
      x2 = x1
      x1 = x
      y2 = y1
      y1 = y
    }
    return sum.squareRoot()
  }
}
