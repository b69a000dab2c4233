import Foundation
import OnTrackKinematics

/// Scores one repetition against an exercise's reference.
///
/// 1. Time alignment: banded multivariate DTW on the weighted bone directions
///    (`Exercise.boneWeights`), radius a quarter of the reference widened by the length
///    difference, so a slower patient is aligned, not punished.
/// 2. Per measure, the error at aligned instants, averaged per *reference* frame (each
///    reference instant counts once however long the patient lingered). By default the
///    patient's movement from their own starting posture is compared with the reference's from
///    its own (`ScoredMeasure.relative`): angle differences `|(x_i − x₀) − (r_j − r₀)|`, and for
///    bones the angle between directions after the rotation that takes the patient's starting
///    direction onto the reference's. Starting values are the mean of the first
///    `originFrames` frames. Range of motion: each measure's robust excursion from its start
///    (the 90th percentile of the departures, so one noisy frame does not make a range),
///    compared with the reference's. An angle that is a segment's shadow on a plane (shoulder
///    abduction, …) counts `(x_i − r_j)·c_ij − (x₀ − r₀)·c₀`, with `c_ij` the
///    `BodyAngle.conditioning` of the better-defined of the two frames and `c₀` of the two
///    starting postures, and each departure of a range times `min(c_f, c₀)` of its own frame,
///    for patient and reference alike: where the segment points along the plane's normal, the
///    angle is undefined and a few centimetres between two sensors' joint centres read as tens
///    of degrees.
/// 3. Noise: each measure's sensor noise σ is estimated from the repetition itself (the median
///    second difference of the unfiltered measure, `FeaturePipeline`, times the landmark
///    filter's noise gain), for the patient and the reference, and every tolerance τ the
///    error is held to becomes `√(τ² + (3σ)²)`: a jittery sensor widens the tolerances by what
///    it alone would cost, a clean one leaves them as they are. Short segments are noisier and
///    get wider allowances by themselves.
///    The head may also move against the trunk by as much as the trunk itself leans in the
///    repetition: a person who leans forward and looks ahead turns the head back by as much,
///    which no sensor that tracks the head properly reads as stillness.
///    A keep-still measure's movement is read through a centred 0.5 s moving average
///    (`stillSmoothingSeconds`), and has what noise alone would show there removed,
///    `√(max(0, M² − (3σ_s)²))` with σ_s the noise left after that average: jitter makes a
///    still part wander, which is not the patient. The patient's part of σ_s is the larger of
///    the white noise's (σ times the average's gain) and what the segments' lengths show
///    through the same average (`SegmentWander`), the reference's added in quadrature:
///    landmarks that wander smoothly, as a camera's do, barely show in second differences.
///    Or, if more, twice what the part does out of step with the movement (`UnlockedMotion`:
///    the spread σ_u no degree-5 polynomial in the reference phase explains, at most the
///    median part's): a joint-angle sensor's drift shows in neither. (Only keep-still parts:
///    on the scored measures, a sensor whose joint centres slide with the pose would read as
///    noise and excuse real errors.)
///    Keep-still tolerances are at least `keepStillFloor` (5°, the head 10°): what two sensors
///    agree to. A range deficit is counted only for measures whose reference range is at
///    least `leastRange` (10°): below that the reference's "range" is sensor wobble.
/// 4. `e_m = error / tolerance` and `r_m = range deficit / range tolerance` per measure;
///    compensation `c_k = max(0, movement − reference movement) / tolerance`; posture
///    `p_k = max(0, mean deviation − tolerance) / (tolerance / 2)`; tempo `t` grows by 1 for
///    every 50 % outside the accepted tempo range.
/// 5. `N² = Σ w (e² + r²) / Σ w + Σ c² + Σ p² + t²` and `score = 100 · 0.7^(N²)`: 100 for a
///    perfect copy, 70 when the errors average one tolerance, 24 at two (README, "What a score
///    means").
/// 6. Cues: the largest terms over their tolerance, in words; with none, praise if the score is
///    at least `praiseScore`, else the largest term under its tolerance.
/// 7. Unseen landmarks (a hand out of the camera's view; not the patient's fault, so never a
///    cost or a cue): a scored measure's error is taken over the frames in which its landmarks
///    were seen, and its range is not asked when more than `unseenLimit` of the repetition was
///    unseen (the peak may be in the gap), nor is it cued; a measure unseen in more than
///    `unseenMeasureLimit`,
///    and a keep-still or posture check unseen in more than `unseenLimit`, is left out and
///    listed in `unseen`. With none of the exercise's measures seen the repetition is
///    `unmeasured`.
public struct RepetitionScorer: Sendable {
  /// The score a repetition needs to be praised when no single error is over its tolerance.
  public static let praiseScore = 70.0
  /// How many standard deviations of noise a tolerance allows for.
  public static let noiseAllowance = 3.0
  /// The share of a repetition's frames in which a measure's landmarks may go unseen before
  /// its range, or a keep-still or posture check on it, is left out of the score and cues
  /// (short gaps are bridged before that).
  public static let unseenLimit = 0.05
  /// The share beyond which a scored measure is left out altogether; below it, its error is
  /// taken over the frames in which it was seen.
  public static let unseenMeasureLimit = 0.5

  public let exercise: Exercise
  /// Widen tolerances by the estimated sensor noise (off only to calibrate tolerances).
  public var allowsForNoise = true
  /// With `allowsForNoise`, also allow a keep-still part what it does out of step with the
  /// movement (`UnlockedMotion`); off when tolerances are scaled (`ReferenceBuilder`).
  public var allowsForUnlockedMotion = true
  private var dtw = DynamicTimeWarping()
  private var referenceRows: DTWMatrix { exercise.referenceRows }
  /// Noise after the landmark filter ÷ noise before it, at the exercise's frame rate.
  private let filterNoiseGain: Double
  /// How late the filtered features follow the movement (seconds): reported times are moved
  /// back by it, to the patient's own clock.
  private let filterDelay: Double
  /// Noise of a keep-still measure read through `stillSmoothing` ÷ its noise frame by frame
  /// (about 0.45 at any rate: the 0.5 s window over the 4 Hz filter's output).
  private let stillNoiseGain: Double

  public init(exercise: Exercise) {
    self.exercise = exercise
    let filter = LandmarkFilter(rate: 1 / exercise.frameTime)
    filterNoiseGain = filter.noiseGain
    filterDelay = filter.delay
    let window = 2 * Self.smoothingFrames(exercise.frameTime) + 1
    stillNoiseGain = filter.noiseGain(averagingOver: window) / max(filter.noiseGain, 1e-12)
  }

  /// The DTW band radius for a repetition of `n` frames against the reference.
  public var bandRadius: Int { max(4, exercise.reference.count / 4) }

  /// Frames averaged for a starting value: a tenth of the repetition, 1 to 3 frames.
  static func originFrames(_ count: Int) -> Int { max(1, min(3, count / 10)) }

  /// The frames of `range` (in `take`'s numbering) that hold the patient's resting posture:
  /// the first `originFrames`, or the last ones when those are nearer the reference's own
  /// start. A repetition starts and ends at rest, but one cut from a recording may begin
  /// part-way through the movement (UI-PRMD's Vicon segments do); its rest is then at its end.
  /// `rows`: the repetition's alignment rows (`Exercise.alignmentMatrix`), row 0 = the first
  /// frame of `range`.
  static func restingEnd(_ rows: DTWMatrix, range: Range<Int>, reference: DTWMatrix)
    -> Range<Int>
  {
    let n = range.count
    let k = originFrames(n)
    let first = range.lowerBound..<(range.lowerBound + k)
    guard n >= 2 * k, reference.rows > 0 else { return first }
    func distance(_ rowsRange: Range<Int>) -> Float {
      var total: Float = 0
      for r in rowsRange {
        for c in 0..<rows.width {
          let d = rows.values[r * rows.stride + c] - reference.values[c]
          total += d * d
        }
      }
      return total
    }
    let atStart = distance(0..<k)
    let atEnd = distance((n - k)..<n)
    // Only a clear difference moves the rest to the end.
    return atEnd * 2 < atStart ? (range.upperBound - k)..<range.upperBound : first
  }

  /// Scores frames `range` of `take` (body features at the exercise's frame rate) as one
  /// repetition; `mirrored` says the take's features were mirrored to the reference's side.
  ///
  /// Times: frame f of `take` is at `timeOffset + (frameOffset + f) · frameTime` seconds.
  public mutating func score(
    _ take: FeatureSequence, frames range: Range<Int>, index: Int = 1, timeOffset: Double = 0,
    frameOffset: Int = 0, mirrored: Bool = false
  ) -> RepetitionResult {
    let rows = exercise.alignmentMatrix(take, frames: range)
    let reference = exercise.reference
    let m = reference.count
    let n = range.count
    let (path, cost) = dtw.align(rows, aRows: n, referenceRows, bRows: m, radius: bandRadius)
    let degrees = 180 / Double.pi
    // Patient frames aligned with each reference frame.
    var firstMatch = [Int](repeating: 0, count: m)
    var matchCount = [Int](repeating: 0, count: m)
    var order: [Int] = []
    order.reserveCapacity(path.count)
    for (i, j) in path {
      if matchCount[j] == 0 { firstMatch[j] = order.count }
      matchCount[j] += 1
      order.append(i + range.lowerBound)
    }
    /// The mean of `value(i, j)` over aligned pairs, per reference frame; patient frames for
    /// which `seen(i)` is false are left out (and reference frames they alone matched).
    func alignedMean(_ value: (Int, Int) -> Double, seen: (Int) -> Bool = { _ in true })
      -> Double
    {
      var total = 0.0
      var counted = 0
      for j in 0..<m where matchCount[j] > 0 {
        var sum = 0.0
        var pairs = 0
        for k in firstMatch[j]..<(firstMatch[j] + matchCount[j]) where seen(order[k]) {
          sum += value(order[k], j)
          pairs += 1
        }
        guard pairs > 0 else { continue }
        total += sum / Double(pairs)
        counted += 1
      }
      return counted > 0 ? total / Double(counted) : 0
    }
    let takeOrigin = Self.restingEnd(rows, range: range, reference: referenceRows)
    let referenceOrigin = 0..<Self.originFrames(m)
    var results: [RepetitionResult.MeasureResult] = []
    var weighted = 0.0
    var weightSum = 0.0
    var contributions: [(Double, Cue)] = []
    // Terms under their tolerance: cues only when nothing larger is wrong and the score is low.
    var minor: [(Double, Cue)] = []
    var unseen: [String] = []
    // Per scored measure, whether patient frame i is within its hold tolerance of the reference's
    // held posture (exercises with a hold).
    let holdFrames = exercise.holdSeconds > 0 ? exercise.holdFrames : nil
    var holdChecks: [(Int) -> Bool] = []
    func seen(_ measure: BodyMeasure, limit: Double = Self.unseenLimit) -> Bool {
      guard Self.unseenShare(measure, take, range) > limit else { return true }
      let onPatient = mirrored ? measure.mirrored : measure
      if !unseen.contains(onPatient.description) { unseen.append(onPatient.description) }
      return false
    }
    for (k, scored) in exercise.measures.enumerated()
    where seen(scored.measure, limit: Self.unseenMeasureLimit) {
      let column = scored.measure.column
      // Frames in which the measure's landmarks were seen; its error is taken over those.
      let noiseColumn = scored.measure.noiseColumn
      let partlyUnseen = Self.unseenShare(scored.measure, take, range) > Self.unseenLimit
      let isSeen: (Int) -> Bool = { !take[$0, noiseColumn].isNaN }
      let noise = noiseLevel(scored.measure, take, range)
      let tolerance = allowing(Double(scored.tolerance), noise)
      // An angle that is a segment's shadow counts by how well it is defined
      // (`BodyAngle.conditioning`): per frame of the repetition and of the reference, and at
      // the better-defined of the two starting postures.
      var shadows: (take: [Float], reference: [Float], start: Float)?
      if case .angle(let angle) = scored.measure {
        let reference = Array(exercise.referenceConditioning(angle))
        shadows = (
          range.map { angle.conditioning(take, $0) }, reference,
          max(
            angle.meanConditioning(take, takeOrigin),
            referenceOrigin.isEmpty
              ? 1 : reference[referenceOrigin].reduce(0, +) / Float(referenceOrigin.count))
        )
      }
      var error = 0.0
      var signed = 0.0
      switch scored.measure {
      case .bone:
        if scored.relative {
          let u0 = Self.meanDirection(take, takeOrigin, column)
          let v0 = Self.meanDirection(reference, referenceOrigin, column)
          let turn = Quaternion.shortestArc(from: u0, to: v0)
          error = alignedMean(
            { i, j in
              let u = turn.act(
                on: SIMD3(take[i, column], take[i, column + 1], take[i, column + 2]))
              let v = SIMD3(
                reference[j, column], reference[j, column + 1], reference[j, column + 2])
              return Double(atan2(length(cross(u, v)), dot(u, v)))
            }, seen: isSeen)
        } else {
          error = alignedMean(
            { i, j in Self.boneAngle(take, i, reference, j, column) }, seen: isSeen)
        }
      case .angle:
        let offset =
          scored.relative
          ? Self.meanValue(take, takeOrigin, column)
            - Self.meanValue(reference, referenceOrigin, column)
          : 0
        // The two frames' difference by the better-defined of them, the starting postures'
        // difference (`offset`) by theirs.
        let (takeShadow, referenceShadow, startShadow) = shadows ?? ([], [], 1)
        let lower = range.lowerBound
        let startDifference = offset * Double(startShadow)
        func difference(_ i: Int, _ j: Int) -> Double {
          Double(take[i, column] - reference[j, column])
            * Double(max(takeShadow[i - lower], referenceShadow[j])) - startDifference
        }
        error = alignedMean({ i, j in abs(difference(i, j)) }, seen: isSeen)
        signed = alignedMean({ i, j in difference(i, j) }, seen: isSeen)
      }
      if holdFrames != nil, k < exercise.holdTargets.count, k < exercise.holdTolerances.count {
        let c = column
        let holdTolerance = allowing(Double(exercise.holdTolerances[k]), noise)
        switch scored.measure {
        case .angle:
          let offset =
            scored.relative
            ? Self.meanValue(take, takeOrigin, c)
              - Self.meanValue(reference, referenceOrigin, c) : 0
          let target = Double(exercise.holdTargets[k].x) + offset
          holdChecks.append { i in
            take[i, noiseColumn].isNaN || abs(Double(take[i, c]) - target) <= holdTolerance
          }
        case .bone:
          let target = exercise.holdTargets[k]
          let turn =
            scored.relative
            ? Quaternion.shortestArc(
              from: Self.meanDirection(take, takeOrigin, c),
              to: Self.meanDirection(reference, referenceOrigin, c))
            : Quaternion.identity
          holdChecks.append { i in
            if take[i, noiseColumn].isNaN { return true }
            let u = turn.act(on: SIMD3(take[i, c], take[i, c + 1], take[i, c + 2]))
            return Double(atan2(length(cross(u, target)), dot(u, target))) <= holdTolerance
          }
        }
      }
      // Ranges are read alike: each departure by how well the angle is defined in its frame
      // and at the better-defined of the two starting postures.
      let reached = scored.measure.excursion(
        take, range, origin: takeOrigin, conditioning: shadows.map { ($0.take, $0.start) })
      let referenceRange = scored.measure.excursion(
        reference, 0..<m, conditioning: shadows.map { ($0.reference, $0.start) })
      // A range is asked only of a measure the reference clearly moves (`leastRange`): a few
      // degrees of elbow bend during an arm raise are no target.
      // Nor of one the sensor lost for part of the repetition: its peak may be in the gap.
      let referenceMoves = abs(referenceRange) >= Self.leastRange && !partlyUnseen
      let deficit = referenceMoves ? max(0, abs(referenceRange) - abs(reached)) : 0
      let normalized = error / tolerance
      let rangeTolerance = Double(scored.rangeTolerance)
      var normalizedDeficit = deficit / rangeTolerance
      // Going further than the reference, where that is the fault.
      var overshoot = false
      if let limit = scored.overshootTolerance, !partlyUnseen {
        let excess = max(0, abs(reached) - abs(referenceRange)) / Double(limit)
        if excess > normalizedDeficit {
          normalizedDeficit = excess
          overshoot = true
        }
      }
      let w = Double(scored.weight)
      let term = normalized * normalized + normalizedDeficit * normalizedDeficit
      weighted += w * term
      weightSum += w
      // Reported on the patient's own side when the take was mirrored.
      let patientMeasure = mirrored ? scored.measure.mirrored : scored.measure
      results.append(
        .init(
          measure: patientMeasure.description, error: error * degrees,
          signedError: signed * degrees, tolerance: tolerance * degrees,
          normalizedError: normalized, rangeDeficit: deficit * degrees,
          rangeTolerance: rangeTolerance * degrees, normalizedRangeDeficit: normalizedDeficit,
          rangeOfMotion: reached * degrees, referenceRangeOfMotion: referenceRange * degrees,
          weight: w, noise: noise * degrees))
      // A measure the sensor lost for part of the repetition counts, but is not cued: the
      // patient cannot be told about what was not seen.
      if term > 0 && !partlyUnseen {
        let rangeShort = normalizedDeficit > normalized && !overshoot
        var cue = CueWriter.cue(
          for: patientMeasure, signedError: mirroredSign(scored.measure, signed, mirrored),
          rangeDeficit: rangeShort,
          referenceRange: mirroredSign(scored.measure, referenceRange, mirrored))
        // The exercise's own words, when it has them: "further" for a range that falls short
        // or an error in the reference's direction of motion, else "not so far".
        let further =
          !(overshoot && normalizedDeficit > normalized)
          && (rangeShort || (referenceRange >= 0 ? signed < 0 : signed > 0))
        if let words = further ? scored.more : scored.less { cue.text = words }
        if max(normalized, normalizedDeficit) > 1 {
          contributions.append((w * term, cue))
        } else {
          minor.append((w * term, cue))
        }
      }
    }
    var nSquared = weightSum > 0 ? weighted / weightSum : 0
    for index in contributions.indices { contributions[index].0 /= max(weightSum, 1e-9) }
    for index in minor.indices { minor[index].0 /= max(weightSum, 1e-9) }
    var compensations: [RepetitionResult.CompensationResult] = []
    // Read once, and only for an exercise with keep-still parts.
    lazy var wander = SegmentWander(take, range, smoothing: stillSmoothing)
    let stillParts = exercise.keepStill.filter { seen($0.measure) }
    // What each keep-still part does out of step with the movement (`UnlockedMotion`): sensor
    // noise of any frequency, allowed as noise.
    var unlocked = [Double](repeating: 0, count: stillParts.count)
    if allowsForNoise && allowsForUnlockedMotion && !stillParts.isEmpty {
      let motion = UnlockedMotion(path: path, frames: n, referenceFrames: m)
      unlocked = UnlockedMotion.allowed(
        stillParts.map { motion.spread($0.measure, take, range, smoothing: stillSmoothing) })
    }
    for (k, still) in stillParts.enumerated() {
      let (sigma, stillSigma) = stillNoiseLevels(still.measure, take, range, wander: wander)
      let movement = withoutNoise(
        abs(still.measure.excursion(take, range, origin: takeOrigin, smoothing: stillSmoothing)),
        stillSigma, unlocked: unlocked[k])
      let referenceMovement = abs(
        still.measure.excursion(reference, 0..<m, smoothing: stillSmoothing))
      let tolerance = allowing(
        max(Double(still.tolerance), Self.keepStillFloor(still.measure)), sigma)
      var allowed = referenceMovement
      if still.measure == .angle(.headFlexion) {
        // Gaze: someone leaning forward and looking ahead turns the head back against the
        // trunk by about as much as the trunk leans, so that much is allowed.
        allowed += abs(
          BodyMeasure.angle(.trunkFlexion).excursion(
            take, range, origin: takeOrigin, smoothing: stillSmoothing))
      }
      let excess = max(0, movement - allowed) / tolerance
      nSquared += excess * excess
      let patientStill = mirrored ? still.measure.mirrored : still.measure
      compensations.append(
        .init(
          measure: patientStill.description, movement: movement * degrees,
          referenceMovement: referenceMovement * degrees, tolerance: tolerance * degrees,
          normalizedExcess: excess))
      var stillCue = CueWriter.stillCue(for: patientStill)
      if let words = still.cue { stillCue.text = words }
      if excess > 1 {
        contributions.append((excess * excess, stillCue))
      } else if excess > 0 {
        minor.append((excess * excess, stillCue))
      }
    }
    var postures: [RepetitionResult.PostureResult] = []
    for posture in exercise.postures where seen(posture.measure) {
      var deviation = 0.0
      var signed = 0.0
      for f in range {
        deviation += Double(posture.deviation(take, f))
        signed += Double(posture.signedDeviation(take, f))
      }
      deviation /= Double(max(n, 1))
      signed /= Double(max(n, 1))
      let tolerance = allowing(
        Double(posture.tolerance), noiseLevel(posture.measure, take, range))
      let excess = max(0, deviation - tolerance) / (tolerance / 2)
      nSquared += excess * excess
      let patientPosture = mirrored ? posture.measure.mirrored : posture.measure
      let patientSigned = mirroredSign(posture.measure, signed, mirrored)
      postures.append(
        .init(
          measure: patientPosture.description, deviation: deviation * degrees,
          signedDeviation: patientSigned * degrees, tolerance: tolerance * degrees,
          normalizedExcess: excess))
      var cue = CueWriter.postureCue(for: patientPosture, signedDeviation: patientSigned)
      if let words = posture.cue { cue.text = words }
      if excess > 1 {
        contributions.append((excess * excess, cue))
      } else if excess > 0 {
        minor.append((excess * excess, cue))
      }
    }
    // The hold: the patient's time within every measure's hold tolerance
    // (`Exercise.holdTolerances`) of the held posture, less their approach to it and
    // return from it: the reference's own (`Exercise.holdRampSeconds`) at the patient's tempo,
    // the time spent outside the tolerance against the reference's. Counted over the
    // repetition, not through the alignment: a patient holding a little short of the posture
    // matches the reference's approach to it, which left their hold unaligned.
    var holdResult: RepetitionResult.HoldResult?
    var holdAligned = 0
    if let held = holdFrames {
      var aligned = [Bool](repeating: false, count: n)
      for (i, j) in path where held.contains(j) { aligned[i] = true }
      holdAligned = aligned.count { $0 }
      var within = 0
      for i in 0..<n where holdChecks.allSatisfy({ $0(i + range.lowerBound) }) { within += 1 }
      let outside = Double(n - within) * take.frameTime
      let referenceOutside = Double(m - exercise.holdReachFrames) * exercise.frameTime
      let pace =
        referenceOutside > 0
        ? min(
          max(outside / referenceOutside, Self.holdPaceRange.lowerBound),
          Self.holdPaceRange.upperBound) : 1
      let seconds = max(0, Double(within) * take.frameTime - exercise.holdRampSeconds * pace)
      let window = Double(held.count) * exercise.frameTime
      let share = min(1, seconds / max(exercise.holdSeconds, window))
      holdResult = .init(target: exercise.holdSeconds, held: seconds, share: share)
      let shortfall = max(0, Self.holdShareCounted - share) / Self.holdShareTolerance
      nSquared += shortfall * shortfall
      let cue = Cue(
        kind: .hold,
        text:
          "Hold the position for \(Int(exercise.holdSeconds.rounded())) seconds (you held \(String(format: "%.1f", seconds)))",
        measure: nil, severity: 0)
      // Said only when nothing else is wrong: a hold broken because the posture was never
      // reached is cued by what was off.
      if shortfall > 1 && contributions.isEmpty {
        contributions.append((shortfall * shortfall, cue))
      } else if shortfall > 0 {
        minor.append((shortfall * shortfall, cue))
      }
    }
    // A hold is not slowness: the tempo leaves out the held frames on both sides.
    let referenceMoving = m - (holdFrames?.count ?? 0)
    let tempoRatio =
      holdFrames != nil && referenceMoving > 0 && n - holdAligned > 0
      ? Double(n - holdAligned) / Double(referenceMoving) : Double(n) / Double(m)
    var tempoExcess = 0.0
    if tempoRatio > exercise.tempo.maximumRatio {
      tempoExcess = (tempoRatio / exercise.tempo.maximumRatio - 1) / 0.5
    } else if tempoRatio < exercise.tempo.minimumRatio {
      tempoExcess = (exercise.tempo.minimumRatio / tempoRatio - 1) / 0.5
    }
    nSquared += tempoExcess * tempoExcess
    if tempoExcess > 0.5 {
      contributions.append(
        (tempoExcess * tempoExcess, CueWriter.tempoCue(slow: tempoRatio > 1)))
    }
    let unmeasured = weightSum == 0 && !exercise.measures.isEmpty
    let score = unmeasured ? 0 : 100 * pow(0.7, nSquared)
    var cues = contributions.sorted { $0.0 > $1.0 }.prefix(3).map { contribution in
      var cue = contribution.1
      cue.severity = contribution.0
      return cue
    }
    if unmeasured {
      // Said first; what was measured (a keep-still part, a posture, the tempo) still speaks.
      cues =
        [
          CueWriter.unmeasured(
            exercise.measures.map { mirrored ? $0.measure.mirrored : $0.measure })
        ]
        + cues.prefix(2)
    } else if cues.isEmpty {
      // Several small errors can add up to a low score with none over its tolerance: then the
      // largest of them is still worth saying; praise is for repetitions that score well.
      if score < Self.praiseScore, let largest = minor.max(by: { $0.0 < $1.0 }) {
        var cue = largest.1
        cue.severity = largest.0
        cues = [cue]
      } else {
        cues = [CueWriter.praise(score: score)]
      }
    }
    let frameTime = take.frameTime
    let start = Double(frameOffset + range.lowerBound) * frameTime
    let end = Double(frameOffset + range.upperBound - 1) * frameTime
    return RepetitionResult(
      index: index, startTime: timeOffset + max(0, start - filterDelay),
      endTime: timeOffset + max(0, end - filterDelay), score: score,
      mirrored: mirrored, measures: results, compensations: compensations,
      postures: exercise.postures.isEmpty ? nil : postures, tempoRatio: tempoRatio,
      cues: Array(cues), alignmentCost: Double(cost) / Double(m),
      unseen: unseen.isEmpty ? nil : unseen, unmeasured: unmeasured ? true : nil,
      hold: holdResult)
  }

  /// The share of a hold that counts as all of it (a sensor's jitter may put a few frames
  /// out), and the shortfall below it that weighs as one tolerance: holding 60 % of the time
  /// costs as much as every measure one tolerance off.
  static let holdShareCounted = 0.9
  /// The patient's pace against the reference's that the hold's approach is scaled by: the
  /// tempo range a repetition is found in (0.4× to 2.5× the reference's duration).
  static let holdPaceRange = 0.4...2.5
  static let holdShareTolerance = 0.3

  /// The share of frames `range` of `take` in which a landmark `measure` needs was not seen
  /// (its noise value is NaN, `FeaturePipeline`).
  static func unseenShare(_ measure: BodyMeasure, _ take: FeatureSequence, _ range: Range<Int>)
    -> Double
  {
    guard !range.isEmpty else { return 0 }
    let c = measure.noiseColumn
    var missing = 0
    for f in range where take[f, c].isNaN { missing += 1 }
    return Double(missing) / Double(range.count)
  }

  /// The least keep-still tolerance (radians) any exercise gets for `measure`: how far two
  /// good sensors disagree on it. Joint centres are estimated differently by every sensor
  /// (a depth camera's learned skeleton, a marker model, a webcam's landmarks), so the trunk,
  /// pelvis and shoulder-girdle directions agree to about 5° between them, and the head's
  /// tilt, read from two or three points close together, to about 10°. A tighter tolerance
  /// would score the sensor rather than the patient.
  /// The least reference range (radians) a measure needs for its range to be asked of the
  /// patient: 10°, beyond what sensors disagree on.
  public static let leastRange = 10 * Double.pi / 180

  static func keepStillFloor(_ measure: BodyMeasure) -> Double {
    let degrees: Double =
      switch measure {
      case .angle(.headFlexion), .bone(.head): 10
      default: 4
      }
    return degrees * .pi / 180
  }

  /// `tolerance` widened by the noise `sigma` (radians): `√(τ² + (3σ)²)`.
  private func allowing(_ tolerance: Double, _ sigma: Double) -> Double {
    guard allowsForNoise else { return tolerance }
    return Self.widened(tolerance, by: Self.noiseAllowance * sigma)
  }

  /// A keep-still measure's movement `excursion` (read through `stillSmoothing`) less what
  /// sensor noise alone shows over a repetition, in quadrature: `√(max(0, excursion² − a²))`
  /// with `a = max(3σ_s, 2σ_u)`, `σ_s` the noise left after the moving average
  /// (`stillNoiseLevels`) and `σ_u` the part's motion out of step with the movement
  /// (`UnlockedMotion`). A still part read through jitter wanders by about 3σ_s, which is not
  /// the patient moving it.
  private func withoutNoise(_ excursion: Double, _ stillSigma: Double, unlocked: Double)
    -> Double
  {
    guard allowsForNoise else { return excursion }
    return Self.lessNoise(
      excursion, max(Self.noiseAllowance * stillSigma, UnlockedMotion.allowance * unlocked))
  }

  /// `tolerance` widened by a noise allowance `a` (3σ), in quadrature: `√(τ² + a²)`. The
  /// score and the live colours (`StreamingScorer`) both allow for noise this way.
  static func widened<T: FloatingPoint>(_ tolerance: T, by allowance: T) -> T {
    (tolerance * tolerance + allowance * allowance).squareRoot()
  }

  /// A movement `excursion` less a noise allowance `a` (3σ), in quadrature:
  /// `√(max(0, excursion² − a²))`.
  static func lessNoise<T: FloatingPoint>(_ excursion: T, _ allowance: T) -> T {
    max(0, excursion * excursion - allowance * allowance).squareRoot()
  }

  /// The sensor noise of `measure` in frames `range` of `take` and in the reference, after the
  /// landmark filter (radians): `√(σ_take² + σ_reference²)`.
  func noiseLevel(_ measure: BodyMeasure, _ take: FeatureSequence, _ range: Range<Int>)
    -> Double
  {
    let a = Self.rawNoise(measure, take, range)
    let b = Self.rawNoise(measure, exercise.reference, 0..<exercise.reference.count)
    return (a * a + b * b).squareRoot() * filterNoiseGain
  }

  /// The noise of keep-still `measure`: as `noiseLevel` gives it (`sigma`), and as the part is
  /// read, through `stillSmoothing` (`still`, radians) — the white noise times the moving
  /// average's gain, or what the segments' lengths show through the same average (`wander`),
  /// whichever is more, the reference's added in quadrature.
  func stillNoiseLevels(
    _ measure: BodyMeasure, _ take: FeatureSequence, _ range: Range<Int>,
    wander: SegmentWander
  ) -> (sigma: Double, still: Double) {
    let a = Self.rawNoise(measure, take, range) * filterNoiseGain
    let b =
      Self.rawNoise(measure, exercise.reference, 0..<exercise.reference.count) * filterNoiseGain
    let patient = max(a * stillNoiseGain, wander.noise(measure))
    let reference = b * stillNoiseGain
    return (
      (a * a + b * b).squareRoot(), (patient * patient + reference * reference).squareRoot()
    )
  }

  /// σ of white noise that explains the median second difference of `measure` over `range`
  /// (radians, before filtering). A second difference of white noise σ has standard deviation
  /// √6 σ: its absolute value has median 0.6745 · √6 σ for an angle, and (a two-dimensional
  /// Rayleigh) 1.1774 · √6 σ for a bone direction.
  static func rawNoise(_ measure: BodyMeasure, _ s: FeatureSequence, _ range: Range<Int>)
    -> Double
  {
    let frames = range.dropFirst(2)
    guard !frames.isEmpty else { return 0 }
    let c = measure.noiseColumn
    var values = frames.map { s[$0, c] }.filter { !$0.isNaN }
    guard !values.isEmpty else { return 0 }
    values.sort()
    let median = Double(values[values.count / 2])
    return median / noiseScale(measure)
  }

  /// The median absolute second difference of white noise σ = 1 for `measure`: 0.6745 · √6
  /// for an angle, 1.1774 · √6 for a bone direction (see `rawNoise`).
  static func noiseScale(_ measure: BodyMeasure) -> Double {
    6.0.squareRoot() * (measure.isBone ? 1.1774 : 0.6745)
  }

  /// For an exercise that may start on either side: the share of the reference order's
  /// alignment cost the mirrored order must come under to be taken.
  static let otherOrderShare: Float = 0.8

  /// True if frames `range` of `take` fit the *mirrored* reference better than the reference
  /// (lower DTW alignment cost): the patient works the other side, or, for an exercise that
  /// may start on either side, starts on the other. Always false for other bilateral
  /// exercises.
  public mutating func worksOtherSide(_ take: FeatureSequence, frames range: Range<Int>) -> Bool {
    guard exercise.hasSideToDecide, range.count > 1 else {
      return false
    }
    let direct = exercise.alignmentMatrix(take, frames: range)
    let mirrored = exercise.alignmentMatrix(take.mirrored(), frames: range)
    let m = referenceRows.rows
    // Both sides in one repetition: only the order tells them apart, so the frames are
    // matched, unbanded, and the alignment ends where the first of the two runs out: the
    // window against the part of the reference it fits (a slow patient's window holds only
    // the repetition's start), or the whole reference against the window's start (a fast
    // one's holds more than one repetition: matched whole, the next repetition's first side
    // would be read against the end of this one, and both orders would fit alike).
    let either = exercise.startsEitherSide
    let radius = either ? nil : bandRadius
    let a = dtw.accumulatedCost(
      direct, aRows: direct.rows, referenceRows, bRows: m, radius: radius, openEnd: either)
    let b = dtw.accumulatedCost(
      mirrored, aRows: mirrored.rows, referenceRows, bRows: m, radius: radius, openEnd: either)
    // The order is the only difference, so a movement unlike both (a fault that moves
    // something else) fits them about equally: the reference's own order stands unless the
    // other fits clearly better.
    return either ? b < Self.otherOrderShare * a : b < a
  }

  /// `value` of `measure` as seen on the patient's side (`BodyAngle.mirrorSign`).
  private func mirroredSign(_ measure: BodyMeasure, _ value: Double, _ mirrored: Bool) -> Double {
    guard mirrored, case .angle(let angle) = measure else { return value }
    return value * Double(angle.mirrorSign)
  }

  /// Angle (radians) between bone directions at take frame `i` and reference frame `j`.
  static func boneAngle(
    _ a: FeatureSequence, _ i: Int, _ b: FeatureSequence, _ j: Int, _ column: Int
  ) -> Double {
    let u = SIMD3(a[i, column], a[i, column + 1], a[i, column + 2])
    let v = SIMD3(b[j, column], b[j, column + 1], b[j, column + 2])
    return Double(angleBetween(u, v))
  }

  /// The mean of an angle over `range`.
  static func meanValue(_ s: FeatureSequence, _ range: Range<Int>, _ column: Int) -> Double {
    guard !range.isEmpty else { return 0 }
    var sum = 0.0
    for f in range { sum += Double(s[f, column]) }
    return sum / Double(range.count)
  }

  /// The mean direction of a bone over `range`, normalised.
  static func meanDirection(_ s: FeatureSequence, _ range: Range<Int>, _ column: Int)
    -> SIMD3<Float>
  {
    var sum = SIMD3<Float>.zero
    for f in range { sum += SIMD3(s[f, column], s[f, column + 1], s[f, column + 2]) }
    return normalizeOrUp(sum)
  }

  /// The share of departures from the start that counts as a measure's reach: the 90th
  /// percentile, so a single noisy frame does not make a range.
  static let excursionQuantile = 0.9

  /// Half-width, seconds, of the centred moving average a keep-still measure is read through
  /// before its movement is taken: a 0.5 s window. A compensation builds up over the
  /// repetition, slower than that; sensor jitter, even after the 4 Hz landmark filter, moves a
  /// short segment by degrees from frame to frame, and read frame by frame (the resting value
  /// a mean of three frames, the reach one frame's percentile) it hid the few degrees by which
  /// a correct and an incorrect repetition differ. Measured on UI-PRMD's Kinect repetitions
  /// fed as keypoints with 2 cm of jitter (`ontrack eval keypoints`): AUC 0.74–0.95 → 0.80–0.98.
  /// The whole repetition is known when it is scored, so the window is centred, offline and
  /// live alike.
  public static let stillSmoothingSeconds = 0.25

  /// `stillSmoothingSeconds` in frames of the exercise's rate.
  var stillSmoothing: Int { Self.smoothingFrames(exercise.frameTime) }

  static func smoothingFrames(_ frameTime: Double) -> Int {
    guard frameTime > 0 else { return 0 }
    return max(0, Int((stillSmoothingSeconds / frameTime).rounded()))
  }

  /// A bone's robust reach (radians): the `excursionQuantile` of its angles from its resting
  /// direction (the mean over `origin`).
  static func boneExcursion(
    _ s: FeatureSequence, _ range: Range<Int>, _ column: Int, origin originRange: Range<Int>,
    quantile: Double = excursionQuantile, smoothing h: Int = 0
  ) -> Double {
    guard !range.isEmpty else { return 0 }
    let directions = Self.directions(s, range, column, smoothing: h)
    var origin = SIMD3<Float>.zero
    if h > 0, range.lowerBound <= originRange.lowerBound, originRange.upperBound <= range.upperBound
    {
      for f in originRange where !directions[f - range.lowerBound].x.isNaN {
        origin += directions[f - range.lowerBound]
      }
    }
    origin = length(origin) > 0 ? normalize(origin) : meanDirection(s, originRange, column)
    var angles = directions.map { u in atan2(length(cross(u, origin)), dot(u, origin)) }
    angles.sort()
    return Double(angles[min(angles.count - 1, Int(quantile * Double(angles.count)))])
  }

  /// An angle's robust signed reach (radians) from its resting value (the mean over
  /// `origin`): the 90th or the 10th percentile of its departures, whichever is further.
  static func angleExcursion(
    _ s: FeatureSequence, _ range: Range<Int>, _ column: Int, origin originRange: Range<Int>,
    quantile: Double = excursionQuantile, smoothing h: Int = 0,
    conditioning: (frames: [Float], rest: Float)? = nil
  ) -> Double {
    guard !range.isEmpty else { return 0 }
    let values = Self.values(s, range, column, smoothing: h)
    var origin = Float(meanValue(s, originRange, column))
    if h > 0, range.lowerBound <= originRange.lowerBound, originRange.upperBound <= range.upperBound
    {
      var sum: Float = 0
      var seen: Float = 0
      for f in originRange where !values[f - range.lowerBound].isNaN {
        sum += values[f - range.lowerBound]
        seen += 1
      }
      if seen > 0 { origin = sum / seen }
    }
    var departures = values.map { $0 - origin }
    if let conditioning, conditioning.frames.count == departures.count {
      // A departure counts by how well the angle is defined there and at the rest
      // (`BodyAngle.conditioning`, as the caller read them).
      for k in departures.indices {
        departures[k] *= min(conditioning.frames[k], conditioning.rest)
      }
    }
    departures.sort()
    let count = departures.count
    let high = departures[min(count - 1, Int(quantile * Double(count)))]
    let low = departures[max(0, min(count - 1, Int((1 - quantile) * Double(count))))]
    return Double(abs(high) >= abs(low) ? high : low)
  }

  /// Column `column` over frames `range`, each frame replaced by the mean of the frames within
  /// `h` of it (inside `range`; unseen NaN values left out).
  static func values(_ s: FeatureSequence, _ range: Range<Int>, _ column: Int, smoothing h: Int)
    -> [Float]
  {
    let raw = range.map { s[$0, column] }
    guard h > 0 else { return raw }
    return raw.indices.map { k in
      var sum: Float = 0
      var seen: Float = 0
      for j in max(0, k - h)...min(raw.count - 1, k + h) where !raw[j].isNaN {
        sum += raw[j]
        seen += 1
      }
      return seen > 0 ? sum / seen : raw[k]
    }
  }

  /// The bone direction in columns `column…column+2` over frames `range`, each frame replaced
  /// by the normalised sum of the directions within `h` frames of it (inside `range`).
  static func directions(
    _ s: FeatureSequence, _ range: Range<Int>, _ column: Int, smoothing h: Int
  ) -> [SIMD3<Float>] {
    let raw = range.map { SIMD3(s[$0, column], s[$0, column + 1], s[$0, column + 2]) }
    guard h > 0 else { return raw }
    return raw.indices.map { k in
      var sum = SIMD3<Float>.zero
      for j in max(0, k - h)...min(raw.count - 1, k + h) where !raw[j].x.isNaN { sum += raw[j] }
      return length(sum) > 0 ? normalize(sum) : raw[k]
    }
  }
}

extension BodyMeasure {
  var isBone: Bool {
    if case .bone = self { return true }
    return false
  }
}
