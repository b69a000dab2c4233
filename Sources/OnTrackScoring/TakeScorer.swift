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
  public let minimumLength: Int
  public let maximumLength: Int
  /// The reference's measures' weighted excursions, `Σ w_k |e_k(reference)|` (radians).
  public let referenceMovement: Double
  /// Frames watched before deciding whether the patient works the other side.
  public let decisionWindow: Int
  /// A repetition is reported at most this many frames after it ends (a third of a second at
  /// the reference's rate, at least 4 frames).
  public let maximumDelay: Int

  public init(exercise: Exercise) {
    referenceRows = exercise.referenceRows
    let m = referenceRows.rows
    minimumLength = max(3, Int((Double(m) * 0.35).rounded()))
    maximumLength = Int(Double(m) * 3)
    decisionWindow = m
    maximumDelay = 2 * m
    referenceMovement = exercise.measures.reduce(0) { total, measure in
      total + Double(measure.weight)
        * abs(measure.measure.excursion(exercise.reference, 0..<exercise.reference.count))
    }
  }

  /// True if frames `range` of `features` (already on the reference's side), in which the
  /// matcher found nothing, are still one repetition: a take cut to a single repetition, whose
  /// ends the matcher needs context around to see. It must last as long as a repetition may
  /// (`minimumLength`…`maximumLength`) and move at least half as much as the reference
  /// (`movesLikeReference`). Offline and live scoring ask the same question at the end.
  public func isOneRepetition(
    _ features: FeatureSequence, frames range: Range<Int>, exercise: Exercise
  ) -> Bool {
    guard range.count >= minimumLength, range.count <= maximumLength else { return false }
    return movesLikeReference(features, frames: range, exercise: exercise)
  }

  /// True if a match the matcher found stands as a repetition. One at most twice as fast as
  /// the reference always does (its cost against the reference already says it is the
  /// movement); a faster one only if it moves at least half as much as the reference
  /// (`movesLikeReference`): the faster a match may be, the shorter the stretch of a resting
  /// patient's noise that can pass for a quick, small repetition, and a real repetition done
  /// fast still covers its range. Offline and live scoring ask the same question.
  public func accepts(
    _ match: SubsequenceMatcher.Match, in features: FeatureSequence, exercise: Exercise
  ) -> Bool {
    let length = match.end - match.start + 1
    if 2 * length >= referenceRows.rows { return true }
    return movesLikeReference(
      features, frames: match.start..<(match.end + 1), exercise: exercise)
  }

  /// True if the measures' weighted excursions over `range` (each from its first frames, as
  /// scored: `BodyMeasure.excursion`) add up to at least half the reference's:
  /// `Σ w_k |e_k(range)| ≥ ½ Σ w_k |e_k(reference)|`.
  public func movesLikeReference(
    _ features: FeatureSequence, frames range: Range<Int>, exercise: Exercise
  ) -> Bool {
    var moved = 0.0
    for measure in exercise.measures {
      moved += Double(measure.weight) * abs(measure.measure.excursion(features, range))
    }
    return referenceMovement > 0 && moved >= 0.5 * referenceMovement
  }

  public func matcher() -> RepetitionMatcher {
    RepetitionMatcher(
      reference: referenceRows, share: RepetitionFinding.detectionShare,
      minimumLength: minimumLength,
      maximumLength: maximumLength, maximumDelay: maximumDelay)
  }
}

/// Scores a whole recording offline: repetitions found by subsequence DTW, each scored by
/// `RepetitionScorer`. Gives the same numbers as feeding the frames to a `StreamingScorer`.
public struct TakeScorer: Sendable {
  public let exercise: Exercise

  public init(exercise: Exercise) {
    self.exercise = exercise
  }

  /// Scores a clip (any rig the body model understands, any frame rate).
  public func score(_ clip: Clip) throws(BodyModelError) -> TakeResult {
    let body = try BodyModel(skeleton: clip.skeleton)
    let times = (0..<clip.frameCount).map { Double($0) * clip.frameTime }
    return score(landmarks: ClipFeatures.landmarks(of: clip, body: body), times: times)
  }

  /// Scores timestamped landmark frames (seconds).
  public func score(landmarks: [LandmarkFrame], times: [Double]) -> TakeResult {
    var features = ClipFeatures.features(
      landmarks: landmarks, times: times, step: exercise.frameTime)
    let firstTime = times.first ?? 0
    guard features.count > 0 else {
      return TakeResult(exercise: exercise, duration: 0, mirrored: false, repetitions: [])
    }
    let finding = RepetitionFinding(exercise: exercise)
    var scorer = RepetitionScorer(exercise: exercise)
    if exercise.alternates {
      return scoreAlternating(features, finding: finding, scorer: &scorer, firstTime: firstTime)
    }
    let window = 0..<min(finding.decisionWindow, features.count)
    let mirrored = scorer.worksOtherSide(features, frames: window)
    if mirrored { features = features.mirrored() }
    var matches = self.matches(in: features, finding: finding)
    if matches.isEmpty,
      finding.isOneRepetition(features, frames: 0..<features.count, exercise: exercise)
    {
      matches.append(SubsequenceMatcher.Match(start: 0, end: features.count - 1, cost: .nan))
    }
    let repetitions = matches.enumerated().map { k, match in
      scorer.score(
        features, frames: match.start..<(match.end + 1), index: k + 1, timeOffset: firstTime,
        mirrored: mirrored)
    }
    return TakeResult(
      exercise: exercise, duration: Double(features.count) * exercise.frameTime,
      mirrored: mirrored, repetitions: repetitions)
  }

  /// Every repetition the subsequence matcher finds in `features`, in order.
  private func matches(in features: FeatureSequence, finding: RepetitionFinding)
    -> [RepetitionMatcher.Match]
  {
    let rows = exercise.alignmentMatrix(features)
    var matcher = finding.matcher()
    var found: [RepetitionMatcher.Match] = []
    let moves = { (match: RepetitionMatcher.Match) in
      finding.accepts(match, in: features, exercise: exercise)
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
  /// where matches on the two sides overlap the better one (lower alignment cost) stands.
  private func scoreAlternating(
    _ features: FeatureSequence, finding: RepetitionFinding, scorer: inout RepetitionScorer,
    firstTime: Double
  ) -> TakeResult {
    let mirroredFeatures = features.mirrored()
    // A match stands on a side only if its frames fit that side's reference better than the
    // other's: noise can make a stretch of one side match the mirror image loosely too.
    let candidates =
      (matches(in: features, finding: finding).map { ($0, false) }
      + matches(in: mirroredFeatures, finding: finding).map { ($0, true) }).filter {
        match, mirrored in
        scorer.worksOtherSide(features, frames: match.start..<(match.end + 1)) == mirrored
      }
    let chosen = SideChoice.resolve(candidates)
    var repetitions = chosen.enumerated().map { k, pick in
      scorer.score(
        pick.1 ? mirroredFeatures : features, frames: pick.0.start..<(pick.0.end + 1),
        index: k + 1, timeOffset: firstTime, mirrored: pick.1)
    }
    if repetitions.isEmpty {
      for (f, mirrored) in [(features, false), (mirroredFeatures, true)]
      where finding.isOneRepetition(f, frames: 0..<f.count, exercise: exercise) {
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
/// stand: by increasing alignment cost, each match that overlaps none already chosen by more
/// than a third of the shorter one; in time order.
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

  /// Lower alignment cost first (a NaN cost last).
  static func costOrder(_ a: SubsequenceMatcher.Match, _ b: SubsequenceMatcher.Match) -> Bool {
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
