/// What a keep-still part does out of step with the movement: the spread (radians) of its
/// values over a repetition that no smooth function of the movement's phase explains.
///
/// A compensation moves in step with the exercise: the trunk leans as the arm rises and comes
/// back as it falls, at the same point of every repetition. A sensor's slowly wandering
/// offsets (a joint-angle sensor's drift, a pose model's smoothed landmarks) do not: they
/// move the part for tenths of a second at a time, at any phase. Second differences barely see
/// such noise and segment lengths do not see a joint-angle sensor's, so a keep-still part read
/// through it looked like a patient moving it (3° of drift: correct performances 52–92).
///
/// With `φ_i ∈ [0, 1]` the reference phase patient frame `i` is aligned with (the mean of its
/// aligned reference frames ÷ the reference's last frame), the part's values `x_i` (read
/// through the keep-still moving average; a landmark the sensor lost is held, as everywhere)
/// are fitted by least squares with the polynomial `a_0 + a_1 φ + … + a_5 φ⁵`, and the spread
/// is `σ_u = √(Σ r_i² / (n − k))` of the residuals `r_i`, `k` the number of independent
/// polynomials (6 unless the phase takes fewer distinct values). For a bone direction, the
/// residuals of its three components, halved for the two directions a unit vector can move in.
/// Each part is allowed `2σ_u` of movement as noise (`RepetitionScorer`), at most the median
/// part's `σ_u` (`allowed`).
///
/// `2σ_u` is an allowance, not the whole reach of the noise: the polynomial takes up part of
/// slow noise, the more the shorter the repetition, and neighbouring frames of the moving
/// average are not independent. Simulated drift with a correlation time of 0.25 s reaches
/// about 12σ_u over a 2 s repetition, 5σ_u over 4 s and 3σ_u over 10 s, so the same sensor is
/// excused more of a long repetition (the back-pain exercises' holds) than of a short one.
/// Allowing the whole reach excused UI-PRMD's incorrect repetitions (below).
///
/// A real compensation need not be smooth in the phase: UI-PRMD's incorrect sit-to-stand
/// repetitions shift the trunk and pelvis sideways in shapes a line misses. Fitted with a
/// straight line in the movement's progress, their residual excused them (AUC 0.889 → 0.79);
/// with a cubic in the phase and `3σ_u`, 0.867; with degree 5 and `2σ_u`, every movement's
/// leave-one-subject-out AUC stays within 0.002 (README, "How robust the score is"). The price
/// of any degree: drift that happens to follow the phase over one repetition is read as the
/// patient's. The median cap needs three parts or more to protect anything: with two it is
/// their mean, with one the part's own spread.
struct UnlockedMotion {
  /// Degree of the phase polynomial.
  static let degree = 5
  /// The movement allowed as noise, in `σ_u` (see above: not the noise's whole reach).
  static let allowance = 2.0

  /// Orthonormal basis of the polynomials in the phase, over the repetition's frames.
  private var basis: [[Double]] = []
  private let count: Int

  /// The phase of each of a repetition's `frames` patient frames from its alignment `path`
  /// (patient frame, reference frame) with a reference of `referenceFrames` frames: the mean
  /// of its aligned reference frames ÷ the reference's last frame.
  init(path: [(Int, Int)], frames: Int, referenceFrames: Int) {
    var phase = [Double](repeating: 0, count: frames)
    var pairs = [Double](repeating: 0, count: frames)
    for (i, j) in path where phase.indices.contains(i) {
      phase[i] += Double(j) / Double(max(1, referenceFrames - 1))
      pairs[i] += 1
    }
    for i in phase.indices { phase[i] /= max(1, pairs[i]) }
    self.init(phase: phase)
  }

  /// `phase[i]`: the reference phase of patient frame `i` of the repetition.
  init(phase: [Double]) {
    count = phase.count
    guard count > Self.degree + 3 else { return }
    for power in 0...Self.degree {
      var v = phase.map { p in (0..<power).reduce(1.0) { acc, _ in acc * p } }
      for u in basis {
        let d = Self.dot(v, u)
        for i in v.indices { v[i] -= d * u[i] }
      }
      let norm = Self.dot(v, v).squareRoot()
      if norm > 1e-9 { basis.append(v.map { $0 / norm }) }
    }
  }

  /// `σ_u` of a keep-still measure's values over the repetition (radians); 0 when the
  /// repetition is too short to tell (at most `degree + 3` frames) or a value is not a number.
  func spread(_ measure: BodyMeasure, _ s: FeatureSequence, _ range: Range<Int>, smoothing h: Int)
    -> Double
  {
    guard !basis.isEmpty, range.count == count else { return 0 }
    let freedom = Double(count - basis.count)
    switch measure {
    case .angle:
      let v = RepetitionScorer.values(s, range, measure.column, smoothing: h).map(Double.init)
      guard !v.contains(where: \.isNaN) else { return 0 }
      return (residualSquares(v) / freedom).squareRoot()
    case .bone:
      let d = RepetitionScorer.directions(s, range, measure.column, smoothing: h)
      guard !d.contains(where: { $0.x.isNaN }) else { return 0 }
      var total = 0.0
      for axis in 0..<3 { total += residualSquares(d.map { Double($0[axis]) }) }
      return (total / freedom / 2).squareRoot()
    }
  }

  /// Each part's allowed spread: its own `σ_u`, at most the median part's. A sensor's noise
  /// moves every part; a patient who fidgets moves one, and is not excused by it.
  static func allowed(_ spreads: [Double]) -> [Double] {
    guard !spreads.isEmpty else { return [] }
    let sorted = spreads.sorted()
    let median = (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
    return spreads.map { min($0, median) }
  }

  private func residualSquares(_ values: [Double]) -> Double {
    var r = values
    for u in basis {
      let d = Self.dot(r, u)
      for i in r.indices { r[i] -= d * u[i] }
    }
    return Self.dot(r, r)
  }

  private static func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
  }
}
