import Foundation
import OnTrackFormats
import OnTrackKinematics

/// The scores of a whole take (a recording, or a live session so far).
public struct TakeResult: Codable, Sendable, Equatable {
  public var exercise: String
  /// Seconds of motion analysed.
  public var duration: Double
  /// True if the take was compared with the mirrored reference (the patient worked the other
  /// side).
  public var mirrored: Bool
  public var repetitions: [RepetitionResult]
  public var summary: Summary
  /// For a keypoint take: per body point the source gives (`BodyPoint` names), the share of
  /// frames in which it was seen (0…1), so a therapist can tell when the camera could not see
  /// the knee.
  public var tracking: [String: Double]? = nil
  /// For an exercise done on alternating sides: repetitions and mean score per side
  /// (`left`, `right`), so a therapist can compare them (`nil` otherwise).
  public var sides: [String: SideSummary]? = nil

  public struct SideSummary: Codable, Sendable, Equatable {
    public var repetitions: Int
    public var meanScore: Double?
  }

  public struct Summary: Codable, Sendable, Equatable {
    public var repetitions: Int
    public var prescribed: Int
    public var meanScore: Double?
    public var bestScore: Double?
    public var worstScore: Double?
    public var meanTempoRatio: Double?
    /// The cues given most often, most frequent first.
    public var commonCues: [String]
  }

  init(exercise: Exercise, duration: Double, mirrored: Bool, repetitions: [RepetitionResult]) {
    self.exercise = exercise.id
    self.duration = duration
    self.mirrored = mirrored
    self.repetitions = repetitions
    // A repetition the sensor could not measure is counted but not averaged.
    let scores = repetitions.filter(\.isMeasured).map(\.score)
    var counts: [String: Int] = [:]
    for cue in repetitions.flatMap(\.cues) where cue.kind != .praise {
      counts[cue.text, default: 0] += 1
    }
    summary = Summary(
      repetitions: repetitions.count, prescribed: exercise.repetitions,
      meanScore: scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count),
      bestScore: scores.max(), worstScore: scores.min(),
      meanTempoRatio: repetitions.isEmpty
        ? nil : repetitions.map(\.tempoRatio).reduce(0, +) / Double(repetitions.count),
      commonCues: counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        .prefix(3).map(\.key))
    if exercise.alternates, let working = exercise.workingSide {
      var sides: [String: SideSummary] = [:]
      for side in [BodyModel.Side.left, .right] {
        let reps = repetitions.filter { ($0.mirrored ? working.other : working) == side }
        let measured = reps.filter(\.isMeasured).map(\.score)
        sides[side == .left ? "left" : "right"] = SideSummary(
          repetitions: reps.count,
          meanScore: measured.isEmpty ? nil : measured.reduce(0, +) / Double(measured.count))
      }
      self.sides = sides
    }
  }
}

extension BodyModel.Side {
  /// The other side.
  public var other: BodyModel.Side { self == .left ? .right : .left }
}

/// How repetitions are found in a take: the settings shared by `TakeScorer` and
/// `StreamingScorer`, derived from the exercise's reference.
public struct RepetitionFinding: Sendable {
  /// Alignment rows of the reference.
  public let referenceRows: DTWMatrix
  /// A repetition must match the reference at less than this share of the cost of not moving
  /// at all (see `SubsequenceMatcher`).
  public static let detectionShare: Float = 0.9
  /// A match that fails `detectionShare` but costs, per frame of its own length, at most this
  /// share of not moving (`SubsequenceMatcher.looseShare`) is still a repetition if it moves
  /// like one and comes back (`accepts(count:frame:loose:scratch:)`): an incorrect repetition,
  /// done slower than the reference, that the patient did. Measured on UI-PRMD's joined
  /// incorrect takes (README, "Validation on UI-PRMD"): 1.5 and 2.0 count within a
  /// repetition or two of 1.2; the test of coming back is what keeps fragments out.
  public static let looseDetectionShare: Float = 1.2
  /// A loose match must end within this share of the reference's movement
  /// (`referenceMovement`) of where it began, beyond the reference's own `referenceEndGap`:
  /// a whole repetition, not the way down or the way up of one. Looser (0.4, 0.6) counted a
  /// few more incorrect inline lunges but 3 and 6 fewer single ones as one.
  public static let endGapShare = 0.25
  public let minimumLength: Int
  public let maximumLength: Int
  /// The reference's measures' weighted excursions, `Σ w_k |e_k(reference)|` (radians).
  public let referenceMovement: Double
  /// Frames the side decision is made on (one reference length): whether the patient works
  /// the other side (`sideDecisionFrames`).
  public let decisionWindow: Int
  /// Frames a live stream holds (`StreamingScorer`'s ring buffer): two of the longest
  /// repetitions, the decision window and a few more. A patient who has not begun to move
  /// (`onset(in:)`) by the time this many frames have come has only waited: the wait is
  /// forgotten and the side decided on what follows (`forgettingWaits`), offline as live.
  public let bufferFrames: Int
  /// The share of the reference's movement a frame must reach from the patient's starting
  /// posture for the movement to have begun (`reach`, `onset(in:)`): well above a sensor's
  /// noise, below the reach of a repetition done with 40 % of the range.
  public static let onsetShare = 0.3
  /// The reference's own onset (`onset(in:)` on the reference): the frames it rests before it
  /// has moved `onsetShare` of its movement. The side is decided on the frames from this long
  /// before the patient's onset on.
  public private(set) var referenceOnset = 0
  /// The scored measures, as `reach` reads them: each measure's column and its mirror
  /// image's.
  private let reachTerms: [(column: Int, otherColumn: Int, weight: Double, bone: Bool)]
  /// A repetition is reported at most this many frames after it ends, whatever is still
  /// running (`SubsequenceMatcher.maximumDelay`): twice the reference's length.
  public let maximumDelay: Int
  /// Half-width of the centred moving average `movement(_:frames:of:)` reads measures
  /// through, frames: `RepetitionScorer.stillSmoothingSeconds`, or a twentieth of the
  /// reference if longer (a slow movement keeps its shape through a longer average, and noise
  /// falls with it).
  let smoothing: Int
  /// The noise of a departure so read ÷ the raw noise of the measure: of the frame and of the
  /// starting value it departs from, in quadrature (the landmark filter then the moving
  /// average, whose window at the start of a stretch is cut to `smoothing + 1` frames).
  let departureNoiseGain: Double
  /// The scored measures with their weights: what the exercise is about.
  let measureTerms: [(measure: BodyMeasure, weight: Double)]
  /// Every bone the matcher aligns, with its alignment weight (`Exercise.boneWeights`): the
  /// body as the matcher sees it.
  let bodyTerms: [(measure: BodyMeasure, weight: Double)]
  /// The reference's own `movement` in `measureTerms` and in `bodyTerms` (weighted radians).
  public private(set) var referenceMeasureMovement = 0.0
  public private(set) var referenceBodyMovement = 0.0
  /// The reference's own `endGap` (weighted radians): how far from its start it ends.
  public private(set) var referenceEndGap = 0.0

  public init(exercise: Exercise) {
    referenceRows = exercise.referenceRows
    let m = referenceRows.rows
    minimumLength = max(3, Int((Double(m) * 0.35).rounded()))
    maximumLength = Int(Double(m) * 3)
    decisionWindow = m
    maximumDelay = 2 * m
    bufferFrames = 2 * maximumLength + decisionWindow + 8
    referenceMovement = exercise.measures.reduce(0) { total, measure in
      total + Double(measure.weight)
        * abs(measure.measure.excursion(exercise.reference, 0..<exercise.reference.count))
    }
    reachTerms = exercise.measures.map { scored in
      let bone = if case .bone = scored.measure { true } else { false }
      return (scored.measure.column, scored.measure.mirrored.column, Double(scored.weight), bone)
    }
    smoothing = max(RepetitionScorer.smoothingFrames(exercise.frameTime), m / 20)
    let filter = LandmarkFilter(rate: 1 / exercise.frameTime)
    departureNoiseGain = hypot(
      filter.noiseGain(averagingOver: 2 * smoothing + 1),
      filter.noiseGain(averagingOver: smoothing + 1))
    measureTerms = exercise.measures.map { ($0.measure, Double($0.weight)) }
    bodyTerms = zip(FeatureLayout.bones, exercise.boneWeights).filter { $0.1 > 0 }.map {
      (BodyMeasure.bone($0.0), Double($0.1))
    }
    referenceOnset = onset(in: exercise.reference) ?? 0
    let whole = 0..<exercise.reference.count
    referenceMeasureMovement = movement(exercise.reference, frames: whole, of: measureTerms)
    referenceBodyMovement = movement(exercise.reference, frames: whole, of: bodyTerms)
    referenceEndGap =
      Self.reading(exercise.reference, from: 0) { frame in
        endGap(count: exercise.reference.count, frame: frame)
      } ?? 0
  }

  /// How far from where it began a stretch ends, in the scored measures:
  /// `Σ_k w_k g_k`, `g_k` the gap between measure k's resting values at its two ends
  /// (`StretchMovement.endGap`, weighted radians), over the measures seen at both ends and
  /// scaled up by `Σ w / Σ_seen w` (a measure unseen at an end — an arm out of the camera's
  /// view — is taken to have come back as far as the others did, neither all the way nor not
  /// at all); 0 if none is seen at both ends.
  func endGap(count n: Int, frame: (Int) -> UnsafePointer<Float>) -> Double {
    var gap = 0.0
    var seen = 0.0
    var total = 0.0
    for term in measureTerms {
      total += term.weight
      guard
        let g = StretchMovement.endGap(term.measure, count: n, frame: frame, smoothing: smoothing)
      else { continue }
      gap += term.weight * g
      seen += term.weight
    }
    return seen > 0 ? gap * total / seen : 0
  }

  /// How far a stretch of `count` feature frames (`frame(k)`, `StretchMovement`) moves in
  /// `terms`, beyond what the sensor's noise alone would show (weighted radians):
  /// `Σ_k w_k √max(0, e_k² − (3σ_k)²)`. `e_k` is measure k's robust reach
  /// (`StretchMovement.reach`) read through a centred moving average of `smoothing` frames
  /// either side, from its value at the start of the stretch or at its end, whichever is
  /// further (a repetition the matcher cut a little late under noise still ends at rest);
  /// `σ_k` is the noise of such a departure (the measure's raw noise times
  /// `departureNoiseGain`): jitter read through the average wanders by about 3σ_k, which is
  /// not the patient moving. Allocation-free over `scratch`.
  func movement(
    count n: Int, frame: (Int) -> UnsafePointer<Float>,
    of terms: [(measure: BodyMeasure, weight: Double)], scratch: inout MovementScratch
  ) -> Double {
    var moved = 0.0
    for term in terms {
      let excursion = max(
        StretchMovement.reach(
          term.measure, count: n, frame: frame, smoothing: smoothing, fromEnd: false,
          scratch: &scratch),
        StretchMovement.reach(
          term.measure, count: n, frame: frame, smoothing: smoothing, fromEnd: true,
          scratch: &scratch))
      let sigma =
        StretchMovement.rawNoise(term.measure, count: n, frame: frame, scratch: &scratch)
        * departureNoiseGain
      moved +=
        term.weight * RepetitionScorer.lessNoise(excursion, RepetitionScorer.noiseAllowance * sigma)
    }
    return moved
  }

  /// `movement(count:frame:of:scratch:)` of frames `range` of `features`.
  func movement(
    _ features: FeatureSequence, frames range: Range<Int>,
    of terms: [(measure: BodyMeasure, weight: Double)]
  ) -> Double {
    var scratch = MovementScratch(frames: range.count)
    return Self.reading(features, from: range.lowerBound) { frame in
      movement(count: range.count, frame: frame, of: terms, scratch: &scratch)
    } ?? 0
  }

  /// Runs `body` with an accessor of the frames of `features` from `start` on (nil for an
  /// empty sequence).
  static func reading<R>(
    _ features: FeatureSequence, from start: Int,
    _ body: ((Int) -> UnsafePointer<Float>) -> R
  ) -> R? {
    features.values.withUnsafeBufferPointer { values in
      guard let base = values.baseAddress else { return nil }
      return body { base + (start + $0) * features.width }
    }
  }

  /// How far one feature frame is from a resting posture, on whichever side moved further:
  /// `max(Σ_k w_k d_k, Σ_k w_k d'_k)` over the scored measures (radians), `d_k` an angle's
  /// absolute departure from its resting value or a bone's angle from its resting direction,
  /// `d'_k` the same for the measure's mirror image (a patient working the other side moves
  /// those). `rest` holds the measure columns (`FeatureLayout.measureWidth`) as
  /// `accumulateRest` averages them; a measure not seen in the frame (NaN) adds nothing.
  /// Allocates nothing.
  public func reach(_ frame: UnsafeBufferPointer<Float>, rest: UnsafeBufferPointer<Float>)
    -> Double
  {
    func departure(_ c: Int, bone: Bool) -> Double {
      let d: Float
      if bone {
        let u = SIMD3(frame[c], frame[c + 1], frame[c + 2])
        let r = normalizeOrUp(SIMD3(rest[c], rest[c + 1], rest[c + 2]))
        d = atan2(length(cross(u, r)), dot(u, r))
      } else {
        d = abs(frame[c] - rest[c])
      }
      return d.isNaN ? 0 : Double(d)
    }
    var direct = 0.0
    var other = 0.0
    for term in reachTerms {
      direct += term.weight * departure(term.column, bone: term.bone)
      other += term.weight * departure(term.otherColumn, bone: term.bone)
    }
    return max(direct, other)
  }

  /// Adds frame number `n` (counting from 1) of the starting posture to the running mean
  /// `rest` of the measure columns: `rest += (frame − rest) ÷ n`. Shared by the offline and
  /// the live scorer so that both see the same posture to the last bit.
  public static func accumulateRest(
    _ rest: UnsafeMutableBufferPointer<Float>, frame: UnsafeBufferPointer<Float>, n: Int
  ) {
    let weight = 1 / Float(n)
    for c in 0..<FeatureLayout.measureWidth { rest[c] += (frame[c] - rest[c]) * weight }
  }

  /// The first frame of `features`, before `bufferFrames`, at which the patient began to move
  /// (`OnsetDetector`: the frame's `reach` from the starting posture, both read through a
  /// short average, is at least `onsetShare` of the reference's movement). Nil if the frames
  /// never move that far.
  public func onset(in features: FeatureSequence) -> Int? {
    let width = features.width
    guard width == FeatureLayout.width, referenceMovement > 0 else { return nil }
    var detector = OnsetDetector(frameTime: features.frameTime)
    return features.values.withUnsafeBufferPointer { all in
      for f in 0..<min(features.count, bufferFrames) {
        detector.push(
          UnsafeBufferPointer(rebasing: all[(f * width)..<((f + 1) * width)]), finding: self)
        if let onset = detector.onset { return onset }
      }
      return nil
    }
  }

  /// `onsetShare` of the reference's movement (radians, weighted).
  public var onsetThreshold: Double { Self.onsetShare * referenceMovement }

  /// How many frames at the start of `features` are a wait to forget before the side is
  /// decided: whole buffers (`bufferFrames`) in which the patient never began to move
  /// (`onset(in:)`, each buffer against its own first frames) and nothing moved beyond the
  /// sensor's noise (`isStill`). A live stream holds no more than a buffer, and a patient who
  /// listens to the instructions for half a minute before starting on the other side must
  /// still be judged on the movement (before, the side was then decided on the wait: the
  /// reference's, and not one repetition was found). A buffer that moved without an onset is
  /// kept (a patient whose range is a fraction of the reference's is not a wait).
  public func forgettingWaits(_ features: FeatureSequence) -> Int {
    var skipped = 0
    var rest = features
    while rest.count >= bufferFrames, onset(in: rest) == nil,
      Self.reading(rest, from: 0, { isStill(count: bufferFrames, frame: $0) }) ?? true
    {
      skipped += bufferFrames
      rest = features.slice(skipped..<features.count)
    }
    return skipped
  }

  /// True if a stretch of `count` frames moves nowhere beyond the sensor's noise: less than
  /// `leastMeasureMovement` of the reference's movement in the scored measures
  /// (`movement(count:frame:of:scratch:)`). Allocates its scratch: asked once a buffer.
  func isStill(count n: Int, frame: (Int) -> UnsafePointer<Float>) -> Bool {
    var scratch = MovementScratch(frames: n)
    return movement(count: n, frame: frame, of: measureTerms, scratch: &scratch)
      < Self.leastMeasureMovement * referenceMeasureMovement
  }

  /// The frames the side is decided on, once `count` frames have come and the patient began
  /// to move at `onset` (nil: not yet): the `decisionWindow` frames that start `referenceOnset`
  /// frames before the onset, so that a patient who stands still for a while first is judged
  /// on the movement and not on the wait (a symmetric stance fits both sides alike). Nil while
  /// those frames have not all come. Without an onset: a take that `ended`, its first frames;
  /// a full buffer (one that moved, `forgettingWaits`), no frames: the reference's own side.
  /// Offline and live scoring ask the same question.
  public func sideDecisionFrames(onset: Int?, count: Int, ended: Bool) -> Range<Int>? {
    let m = decisionWindow
    let end: Int
    if let onset {
      end = min(max(0, onset - referenceOnset) + m, bufferFrames)
    } else if count >= bufferFrames {
      // A buffer that moved, but never as far as an onset (a patient whose range is a
      // fraction of the reference's): nothing to judge the side on, so the reference's own.
      return bufferFrames..<bufferFrames
    } else {
      return ended ? 0..<min(m, count) : nil
    }
    let start = max(0, end - m)
    guard count >= end || ended else { return nil }
    return start..<min(end, count)
  }

  /// True if frames `range` of `features` (already on the reference's side), in which the
  /// matcher found nothing, are still one repetition: a take cut to a single repetition, whose
  /// ends the matcher needs context around to see. It must last as long as a repetition may
  /// (`minimumLength`…`maximumLength`), move beyond the sensor's noise (`movesBeyondNoise`)
  /// and at least half as much as the reference (`movesLikeReference`). Offline and live
  /// scoring ask the same question at the end.
  public func isOneRepetition(_ features: FeatureSequence, frames range: Range<Int>) -> Bool {
    guard range.count >= minimumLength, range.count <= maximumLength else { return false }
    var scratch = MovementScratch(frames: range.count)
    return Self.reading(features, from: range.lowerBound) { frame in
      movesBeyondNoise(count: range.count, frame: frame, scratch: &scratch)
        && movesLikeReference(count: range.count, frame: frame, scratch: &scratch)
    } ?? false
  }

  /// True if a match the matcher found stands as a repetition. It must move beyond the
  /// sensor's noise (`movesBeyondNoise`): a patient resting in front of a jittery camera
  /// gives a stream in which a warping path can pick, frame by frame, the jitter that happens
  /// to lean the reference's way, and over a rest of a few seconds that passes the cost test.
  /// One at most twice as fast as the reference then stands (its cost against the reference
  /// says it is the movement); a faster one only if it also moves at least half as much as the
  /// reference (`movesLikeReference`): the faster a match may be, the shorter the stretch of a
  /// resting patient's noise that can pass for a quick, small repetition, and a real
  /// repetition done fast still covers its range. A `loose` match (one that passed only
  /// `SubsequenceMatcher.looseShare`) must also move at least half as much as the reference
  /// and end where it began, as far as the reference does (`endGap` at most `referenceEndGap`
  /// plus `endGapShare` of the reference's movement): the way down or the way up of a
  /// repetition alone is no repetition. Offline and live scoring ask the same question, of the
  /// `count` frames of the match (`frame(k)`, `StretchMovement`); allocation-free over
  /// `scratch`.
  public func accepts(
    count n: Int, frame: (Int) -> UnsafePointer<Float>, loose: Bool = false,
    scratch: inout MovementScratch
  ) -> Bool {
    guard movesBeyondNoise(count: n, frame: frame, scratch: &scratch) else { return false }
    if loose {
      return movesLikeReference(count: n, frame: frame, scratch: &scratch)
        && endGap(count: n, frame: frame)
          <= referenceEndGap + Self.endGapShare * referenceMovement
    }
    if 2 * n >= referenceRows.rows { return true }
    return movesLikeReference(count: n, frame: frame, scratch: &scratch)
  }

  /// `accepts(count:frame:scratch:)` of `match` in `features`.
  public func accepts(
    _ match: SubsequenceMatcher.Match, in features: FeatureSequence,
    scratch: inout MovementScratch
  ) -> Bool {
    let n = match.end - match.start + 1
    guard n > 0, match.start >= 0, match.end < features.count else { return false }
    return Self.reading(features, from: match.start) { frame in
      accepts(
        count: n, frame: frame, loose: match.isLoose, scratch: &scratch)
    } ?? false
  }

  /// The share of the reference's movement, in its scored measures, a repetition must move
  /// beyond the sensor's noise (`movesBeyondNoise`). Measured on simulated patients
  /// (`RobustnessSuite`): a repetition done with 40 % of the range moves 20–50 % (measures
  /// that do not shrink with the range count too); what a warping path reads as a repetition
  /// in a rest under 1 cm of landmark jitter, 0–5 %, under 2 cm 0–14 %.
  public static let leastMeasureMovement = 0.15
  /// The share of the reference's movement, in every bone the matcher aligns, that also makes
  /// a repetition (`movesBeyondNoise`): a repetition done with the fault an exercise is about
  /// may hold its scored measures still (pelvis circles with the shoulders swaying along the
  /// hips: 0 %) and still move the body as the exercise does (30–40 %). Higher than
  /// `leastMeasureMovement`: the noise left in many lightly weighted bones adds up (a rest
  /// under 1 cm of jitter: 15–25 %).
  public static let leastBodyMovement = 0.3

  /// True if the stretch moves beyond what the sensor's noise alone would show
  /// (`movement(count:frame:of:scratch:)`): at least `leastMeasureMovement` of the
  /// reference's movement in the scored measures, or at least `leastBodyMovement` of it in
  /// all the bones the matcher aligns.
  func movesBeyondNoise(
    count n: Int, frame: (Int) -> UnsafePointer<Float>, scratch: inout MovementScratch
  ) -> Bool {
    if movement(count: n, frame: frame, of: measureTerms, scratch: &scratch)
      >= Self.leastMeasureMovement * referenceMeasureMovement
    {
      return true
    }
    return movement(count: n, frame: frame, of: bodyTerms, scratch: &scratch)
      >= Self.leastBodyMovement * referenceBodyMovement
  }

  /// True if the scored measures' weighted reaches over the stretch (each from its first
  /// frames, frame by frame: `StretchMovement.reach`) add up to at least half the
  /// reference's: `Σ w_k |e_k(stretch)| ≥ ½ Σ w_k |e_k(reference)|`.
  func movesLikeReference(
    count n: Int, frame: (Int) -> UnsafePointer<Float>, scratch: inout MovementScratch
  ) -> Bool {
    var moved = 0.0
    for term in measureTerms {
      moved +=
        term.weight
        * StretchMovement.reach(
          term.measure, count: n, frame: frame, smoothing: 0, fromEnd: false, scratch: &scratch)
    }
    return referenceMovement > 0 && moved >= 0.5 * referenceMovement
  }

  public func matcher() -> RepetitionMatcher {
    RepetitionMatcher(
      reference: referenceRows, share: RepetitionFinding.detectionShare,
      looseShare: RepetitionFinding.looseDetectionShare,
      minimumLength: minimumLength,
      maximumLength: maximumLength, maximumDelay: maximumDelay)
  }
}

/// Scores a whole recording offline: repetitions found by subsequence DTW, each scored by
/// `RepetitionScorer`. Gives the same numbers as feeding the frames to a `StreamingScorer`.
public struct TakeScorer: Sendable {
  public private(set) var exercise: Exercise
  /// Allow keep-still parts what they do out of step with the movement
  /// (`RepetitionScorer.allowsForUnlockedMotion`).
  public var allowsForUnlockedMotion = true

  public init(exercise: Exercise) {
    self.exercise = exercise
  }

  /// Scores a clip (any rig the body model understands, any frame rate).
  public func score(_ clip: Clip) throws(BodyModelError) -> TakeResult {
    let body = try BodyModel(skeleton: clip.skeleton)
    let times = (0..<clip.frameCount).map { Double($0) * clip.frameTime }
    return score(
      landmarks: ClipFeatures.landmarks(
        of: clip, body: body, like: exercise.startPosture), times: times)
  }

  /// Scores timestamped landmark frames (seconds). Landmarks the sensor does not give and the
  /// solver placed by rule (its first frames tell, `DerivedLandmarksDecision`) are placed
  /// alike in the reference.
  public func score(landmarks: [LandmarkFrame], times: [Double]) -> TakeResult {
    let derived = DerivedLandmarksDecision.decided(landmarks: landmarks, times: times)
    var scorer = self
    if !derived.isEmpty { scorer.exercise = exercise.derivingAlike(derived) }
    return scorer.scoreAsGiven(landmarks: landmarks, times: times)
  }

  /// `score(landmarks:times:)` against the exercise as it is.
  private func scoreAsGiven(landmarks: [LandmarkFrame], times: [Double]) -> TakeResult {
    var features = ClipFeatures.features(landmarks: landmarks, times: times, for: exercise)
    let firstTime = times.first ?? 0
    guard features.count > 0 else {
      return TakeResult(exercise: exercise, duration: 0, mirrored: false, repetitions: [])
    }
    let finding = RepetitionFinding(exercise: exercise)
    var scorer = RepetitionScorer(exercise: exercise)
    scorer.allowsForUnlockedMotion = allowsForUnlockedMotion
    if exercise.alternates {
      return scoreAlternating(features, finding: finding, scorer: &scorer, firstTime: firstTime)
    }
    let duration = Double(features.count) * exercise.frameTime
    var timeOffset = firstTime
    if exercise.hasSideToDecide {
      // As live, a wait of a whole buffer before moving is forgotten.
      let skipped = finding.forgettingWaits(features)
      if skipped > 0 {
        features = features.slice(skipped..<features.count)
        timeOffset = firstTime + Double(skipped) * exercise.frameTime
      }
    }
    let window =
      finding.sideDecisionFrames(
        onset: finding.onset(in: features), count: features.count, ended: true) ?? 0..<0
    let mirrored = scorer.worksOtherSide(features, frames: window)
    if mirrored { features = features.mirrored() }
    var matches = self.matches(in: features, finding: finding)
    if matches.isEmpty,
      finding.isOneRepetition(features, frames: 0..<features.count)
    {
      matches.append(SubsequenceMatcher.Match(start: 0, end: features.count - 1, cost: .nan))
    }
    let repetitions = matches.enumerated().map { k, match in
      scorer.score(
        features, frames: match.start..<(match.end + 1), index: k + 1, timeOffset: timeOffset,
        mirrored: mirrored)
    }
    return TakeResult(
      exercise: exercise, duration: duration, mirrored: mirrored, repetitions: repetitions)
  }

  /// Every repetition the subsequence matcher finds in `features`, in order.
  /// The repetitions the matcher finds in `features`. With `side` (an exercise on alternating
  /// sides), a match is taken only if the take's own frames (`side.take`) fit the side
  /// searched (`side.otherSide`: the mirror image) better than the other
  /// (`RepetitionScorer.worksOtherSide`), as live (`StreamingScorer`): a match the matcher
  /// takes ends every path that began before its end, so a fragment on the wrong side, taken
  /// and thrown away only afterwards, took the right side's repetition with it (the knee
  /// rolls, 0.4 s lost every 2.5 s through 1.5 cm of jitter, lost one of three).
  private func matches(
    in features: FeatureSequence, finding: RepetitionFinding,
    side: (take: FeatureSequence, otherSide: Bool)? = nil
  ) -> [RepetitionMatcher.Match] {
    let rows = exercise.alignmentMatrix(features)
    var matcher = finding.matcher()
    var found: [RepetitionMatcher.Match] = []
    var scratch = MovementScratch(frames: finding.maximumLength)
    var sides = side.map { _ in RepetitionScorer(exercise: exercise) }
    let moves = { (match: RepetitionMatcher.Match) in
      guard finding.accepts(match, in: features, scratch: &scratch) else { return false }
      guard let side else { return true }
      return sides?.worksOtherSide(side.take, frames: match.start..<(match.end + 1))
        == side.otherSide
    }
    rows.values.withUnsafeBufferPointer { values in
      guard let base = values.baseAddress else { return }
      for f in 0..<rows.rows {
        matcher.push(base + f * rows.stride, moves: moves)
        while let match = matcher.next() { found.append(match) }
      }
    }
    matcher.finish(moves: moves)
    while let match = matcher.next() { found.append(match) }
    return found
  }

  /// Repetitions on alternating sides: the take and its mirror image are searched alike, and
  /// where matches on the two sides overlap the better one (`SideChoice`: strict before
  /// loose, then lower alignment cost) stands.
  private func scoreAlternating(
    _ features: FeatureSequence, finding: RepetitionFinding, scorer: inout RepetitionScorer,
    firstTime: Double
  ) -> TakeResult {
    let mirroredFeatures = features.mirrored()
    // A match stands on a side only if its frames fit that side's reference better than the
    // other's (asked as the matcher takes it, `matches(in:finding:side:)`): noise can make a
    // stretch of one side match the mirror image loosely too.
    let candidates =
      matches(in: features, finding: finding, side: (features, false)).map { ($0, false) }
      + matches(in: mirroredFeatures, finding: finding, side: (features, true)).map { ($0, true) }
    let chosen = SideChoice.resolve(candidates)
    var repetitions = chosen.enumerated().map { k, pick in
      scorer.score(
        pick.1 ? mirroredFeatures : features, frames: pick.0.start..<(pick.0.end + 1),
        index: k + 1, timeOffset: firstTime, mirrored: pick.1)
    }
    if repetitions.isEmpty {
      for (f, mirrored) in [(features, false), (mirroredFeatures, true)]
      where finding.isOneRepetition(f, frames: 0..<f.count) {
        repetitions = [
          scorer.score(f, frames: 0..<f.count, index: 1, timeOffset: firstTime, mirrored: mirrored)
        ]
        break
      }
    }
    return TakeResult(
      exercise: exercise, duration: Double(features.count) * exercise.frameTime,
      mirrored: false, repetitions: repetitions)
  }
}

/// Picks, among matches found on the reference's side and on its mirror image, the ones that
/// stand: strict matches before loose ones (`SubsequenceMatcher.Match.isLoose`), each by
/// increasing alignment cost, each match that overlaps none already chosen by more than a
/// third of the shorter one; in time order. Offline (`resolve`) and live
/// (`StreamingScorer`'s pending matches) rank with the same `costOrder`.
enum SideChoice {
  static func resolve(_ candidates: [(SubsequenceMatcher.Match, Bool)])
    -> [(SubsequenceMatcher.Match, Bool)]
  {
    var chosen: [(SubsequenceMatcher.Match, Bool)] = []
    for candidate in candidates.sorted(by: { costOrder($0.0, $1.0) }) {
      if !chosen.contains(where: { overlaps($0.0, candidate.0) }) { chosen.append(candidate) }
    }
    return chosen.sorted { $0.0.start < $1.0.start }
  }

  static func overlaps(_ a: SubsequenceMatcher.Match, _ b: SubsequenceMatcher.Match) -> Bool {
    let shared = min(a.end, b.end) - max(a.start, b.start) + 1
    let shorter = min(a.end - a.start, b.end - b.start) + 1
    return shared * 3 > shorter
  }

  /// Strict before loose, as within one matcher (a loose match's cost, per reference frame,
  /// is the larger for being slow, not for being less alike); then lower alignment cost first
  /// (a NaN cost last).
  static func costOrder(_ a: SubsequenceMatcher.Match, _ b: SubsequenceMatcher.Match) -> Bool {
    if a.isLoose != b.isLoose { return !a.isLoose }
    if a.cost.isNaN { return false }
    if b.cost.isNaN { return true }
    return a.cost < b.cost
  }
}

extension TakeScorer {
  /// Scores a keypoint take from the landmarks its solve placed (`KeypointTake.Solved`), with
  /// unseen landmarks left out, and reports how much of the time each body point was seen.
  public func score(_ solved: KeypointTake.Solved) -> TakeResult {
    var result = score(landmarks: ClipFeatures.landmarks(of: solved), times: solved.times)
    result.tracking = Dictionary(
      uniqueKeysWithValues: solved.tracking.map { ("\($0.key)", $0.value) })
    return result
  }
}

extension ClipFeatures {
  /// The landmark frames of a solved keypoint take.
  public static func landmarks(of solved: KeypointTake.Solved) -> [LandmarkFrame] {
    let count = BodyLandmark.allCases.count
    var frames: [LandmarkFrame] = []
    frames.reserveCapacity(solved.times.count)
    var frame = LandmarkFrame()
    for f in solved.times.indices {
      for l in 0..<count { frame.positions[l] = solved.landmarks[f * count + l] }
      frame.untracked = solved.untracked[f]
      frames.append(frame)
    }
    return frames
  }
}
