import OnTrackKinematics
import Testing

@Suite("Point filter")
struct PointFilterTests {
  /// The noise gains against white noise pushed through the filter and then averaged, frame
  /// by frame (a seeded generator; 200,000 samples).
  @Test("noise gains match white noise through the filter and through a moving average after it")
  func noiseGains() {
    for rate in [30.0, 60.0] {
      var filter = PointFilter(cutoff: 4, rate: rate, count: 1)
      let window = 2 * Int((0.25 * rate).rounded()) + 1
      var state: UInt64 = 12345
      func gaussian() -> Float {
        // Sum of twelve uniforms: mean 6, variance 1.
        var sum: Float = 0
        for _ in 0..<12 {
          state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          sum += Float(state >> 40) / Float(1 << 24)
        }
        return sum - 6
      }
      var recent = [Float](repeating: 0, count: window)
      var running: Float = 0
      var filtered = 0.0
      var averaged = 0.0
      let samples = 200_000
      for t in 0..<samples {
        let y = filter.filter(SIMD3(gaussian(), 0, 0), point: 0).x
        running += y - recent[t % window]
        recent[t % window] = y
        filtered += Double(y * y)
        let a = running / Float(window)
        averaged += Double(a * a)
      }
      let measuredGain = (filtered / Double(samples)).squareRoot()
      let measuredAveraged = (averaged / Double(samples)).squareRoot()
      #expect(abs(measuredGain - filter.noiseGain) < 0.02 * filter.noiseGain, "rate \(rate)")
      #expect(filter.noiseGain(averagingOver: 1) == filter.noiseGain)
      let expected = filter.noiseGain(averagingOver: window)
      #expect(abs(measuredAveraged - expected) < 0.05 * expected, "rate \(rate)")
      // About 0.45 of the filtered noise is left after the 0.5 s average, at either rate.
      #expect(abs(expected / filter.noiseGain - 0.45) < 0.03, "rate \(rate)")
    }
  }
}
