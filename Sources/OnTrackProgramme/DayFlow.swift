import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring

/// Today's session of a programme, as a patient goes through it: pain on the 0–10 numeric
/// rating scale, then for each exercise one repetition shown by the guide and the prescribed
/// sets with a rest between them and a summary after each, pain again, and a summary of the
/// day. Each set is scored live (the feedback the patient sees) and recorded into a
/// `ProgrammeOutbox` for upload as a session of the programme; the day's record goes there at
/// the end.
///
/// No clock and no window of its own: the app (or a headless run) calls `advance(by:)` with
/// display time, `take(pose:at:)` with the patient's frames during a set, and `enterPain`
/// with the patient's key.
public final class DayFlow {
  /// One exercise of the day, ready to score.
  public struct Planned {
    public var item: ProgrammeItem
    public var exercise: Exercise
    public var exerciseVersion: Int?

    /// `exercise` as the item prescribes it: its repetitions per set, and its hold time (for
    /// an exercise that holds).
    public init(item: ProgrammeItem, exercise: Exercise, exerciseVersion: Int? = nil) {
      self.item = item
      self.exercise = item.prescribing(exercise)
      self.exerciseVersion = exerciseVersion
    }
  }

  public enum Stage: Equatable, Sendable {
    case painBefore
    /// The guide shows one repetition of item `item`.
    case demonstrate(item: Int)
    /// The patient does set `set` (0-based) of item `item`.
    case exercising(item: Int, set: Int)
    /// The summary of the set just done, shown for a few seconds.
    case setSummary(item: Int, set: Int)
    /// Rest before set `set` of item `item`.
    case rest(item: Int, nextSet: Int)
    case painAfter
    case summary
  }

  /// A set as done.
  public struct SetSummary: Sendable, Equatable {
    public var item: Int
    public var set: Int
    public var exercise: String
    public var exerciseName: String
    public var repetitions: Int
    public var prescribed: Int
    public var meanScore: Double?
    public var cue: String?
    public var key: String
  }

  public let plan: [Planned]
  public let programme: String?
  public let programmeVersion: Int?
  public let date: String
  public let outbox: ProgrammeOutbox
  /// Seconds a set summary stays up.
  public var summarySeconds = 4.0
  /// The skeleton the patient's poses are on, when it is not each exercise's reference (a
  /// camera's poses are solved onto the canonical skeleton): sets are scored and recorded on
  /// it, and uploaded with it.
  public var patientSkeleton: Skeleton? {
    didSet { patientSkeletonBVH = patientSkeleton.flatMap(Self.bvh) }
  }
  private var patientSkeletonBVH: String?

  public private(set) var stage: Stage = .painBefore
  public private(set) var painBefore: Int?
  public private(set) var painAfter: Int?
  public private(set) var sets: [SetSummary] = []
  /// Seconds spent in the current stage.
  public private(set) var stageTime = 0.0
  public let dayKey = ProgrammeOutbox.newKey()

  private var scorer: StreamingScorer?
  private var encoder: ChannelEncoder?
  private var values: [Float] = []
  private var times: [Double] = []
  private var frames: [[Float]] = []

  public init(
    plan: [Planned], programme: String?, programmeVersion: Int?, date: String,
    outbox: ProgrammeOutbox
  ) {
    self.plan = plan
    self.programme = programme
    self.programmeVersion = programmeVersion
    self.date = date
    self.outbox = outbox
  }

  /// True once the day's summary is shown (everything is in the outbox).
  public var isFinished: Bool { stage == .summary }

  /// The pain rating asked for now, if any.
  public var asksPain: Bool { stage == .painBefore || stage == .painAfter }

  /// The item the current stage is about.
  public var currentItem: Int? {
    switch stage {
    case .demonstrate(let i), .exercising(let i, _), .setSummary(let i, _), .rest(let i, _): i
    default: nil
    }
  }

  /// Repetitions done in the current set.
  public var repetitionsDone: Int { scorer?.repetitions.count ?? 0 }

  /// The last repetition scored in the current set.
  public var lastRepetition: RepetitionResult? { scorer?.repetitions.last }

  /// Seconds left of the rest, or of the guide's demonstration.
  public var remaining: Double? {
    switch stage {
    case .rest(let i, _): max(0, plan[i].item.restSeconds - stageTime)
    case .demonstrate(let i): max(0, demonstrationSeconds(i) - stageTime)
    default: nil
    }
  }

  /// Seconds a set may run before it ends unfinished: three times the reference's pace.
  public func setLimit(_ item: Int) -> Double {
    Double(plan[item].item.repetitions) * max(1, referenceSeconds(item)) * 3 + 15
  }

  /// The patient's rating (0–10) while one is asked for; anything else is ignored.
  public func enterPain(_ value: Int) throws {
    guard (0...10).contains(value) else { return }
    switch stage {
    case .painBefore:
      painBefore = value
      enter(plan.isEmpty ? .painAfter : .demonstrate(item: 0))
    case .painAfter:
      painAfter = value
      try finishDay()
    default: return
    }
  }

  /// Skips the pain question (the patient would rather not say).
  public func skipPain() throws {
    switch stage {
    case .painBefore: enter(plan.isEmpty ? .painAfter : .demonstrate(item: 0))
    case .painAfter: try finishDay()
    default: return
    }
  }

  /// Moves the stage clocks on; ends demonstrations, summaries and rests when their time is
  /// up, and a set that ran past its limit.
  public func advance(by seconds: Double) throws {
    guard seconds.isFinite, seconds > 0 else { return }
    stageTime += seconds
    switch stage {
    case .demonstrate(let i) where stageTime >= demonstrationSeconds(i):
      try startSet(item: i, set: 0)
    case .exercising(let i, _) where stageTime >= setLimit(i):
      try endSet()
    case .setSummary(let i, let set) where stageTime >= summarySeconds:
      if set + 1 < plan[i].item.sets {
        enter(.rest(item: i, nextSet: set + 1))
      } else if i + 1 < plan.count {
        enter(.demonstrate(item: i + 1))
      } else {
        enter(.painAfter)
      }
    case .rest(let i, let next) where stageTime >= plan[i].item.restSeconds:
      try startSet(item: i, set: next)
    default: break
    }
  }

  /// Skips what is shown now (the demonstration, a summary, a rest) or ends the set early.
  public func skip() throws {
    switch stage {
    case .demonstrate(let i): try startSet(item: i, set: 0)
    case .exercising: try endSet()
    case .setSummary: try advance(by: max(summarySeconds - stageTime, 0) + 1e-6)
    case .rest(let i, let next): try startSet(item: i, set: next)
    default: break
    }
  }

  /// A frame of the patient during a set (`time`: seconds since the set began); the set ends
  /// when its repetitions are done.
  public func take(pose: Pose, at time: Double) throws {
    guard case .exercising(let i, _) = stage, var scorer, let encoder,
      pose.count == encoder.skeleton.count
    else { return }
    _ = scorer.push(pose: pose, at: time)
    self.scorer = scorer
    encoder.encode(pose, into: &values)
    times.append(time)
    frames.append(values)
    if scorer.repetitions.count >= plan[i].item.repetitions { try endSet() }
  }

  /// Ends the current set: scores what is left, and files it for upload.
  public func endSet() throws {
    guard case .exercising(let i, let set) = stage, var scorer else { return }
    _ = scorer.finish()
    let result = scorer.result
    let planned = plan[i]
    let key = ProgrammeOutbox.newKey()
    if !frames.isEmpty {
      try outbox.add(
        ProgrammeOutbox.PendingSet(
          key: key, programme: programme, exercise: planned.exercise.id,
          exerciseVersion: planned.exerciseVersion, day: dayKey, times: times, frames: frames,
          skeletonBVH: patientSkeletonBVH))
    }
    sets.append(
      SetSummary(
        item: i, set: set, exercise: planned.exercise.id,
        exerciseName: planned.exercise.definition.name,
        repetitions: result.repetitions.count, prescribed: planned.item.repetitions,
        meanScore: result.summary.meanScore, cue: result.summary.commonCues.first,
        key: frames.isEmpty ? "" : key))
    self.scorer = nil
    frames = []
    times = []
    enter(.setSummary(item: i, set: set))
  }

  /// Ends the day before its summary (the patient closed the window): a set under way is
  /// filed, and if any set was done the day is recorded as it stands (not complete, pain after
  /// as given, if it was).
  public func stopEarly() throws {
    guard !isFinished else { return }
    if case .exercising = stage { try endSet() }
    if !sets.isEmpty { try finishDay() }
  }

  /// True if every prescribed set was done with its repetitions.
  public var isComplete: Bool {
    plan.enumerated().allSatisfy { i, planned in
      (0..<planned.item.sets).allSatisfy { set in
        sets.contains { $0.item == i && $0.set == set && $0.repetitions >= $0.prescribed }
      }
    }
  }

  /// The day's mean score over its sets.
  public var meanScore: Double? {
    let scores = sets.compactMap(\.meanScore)
    return scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count)
  }

  // MARK: Parts

  private func enter(_ next: Stage) {
    stage = next
    stageTime = 0
  }

  private func referenceSeconds(_ item: Int) -> Double {
    plan[item].exercise.referenceClip.map { Double($0.frameCount) * $0.frameTime } ?? 3
  }

  private func demonstrationSeconds(_ item: Int) -> Double { referenceSeconds(item) + 1 }

  private func startSet(item: Int, set: Int) throws {
    let exercise = plan[item].exercise
    let skeleton = patientSkeleton ?? exercise.referenceClip?.skeleton
    scorer = try StreamingScorer(exercise: exercise, skeleton: skeleton)
    encoder = skeleton.map { ChannelEncoder(skeleton: $0) }
    frames = []
    times = []
    enter(.exercising(item: item, set: set))
  }

  /// A skeleton as BVH text (its hierarchy and one rest frame), as a session declares it.
  static func bvh(_ skeleton: Skeleton) -> String? {
    let rest = skeleton.restPose
    guard
      let clip = try? Clip(
        skeleton: skeleton, frameTime: 1.0 / 30, rotations: rest.rotations,
        translations: rest.translations)
    else { return nil }
    return BVHWriter().text(for: clip)
  }

  private func finishDay() throws {
    let keys = sets.map(\.key).filter { !$0.isEmpty }
    try outbox.add(
      ProgrammeOutbox.PendingDay(
        programme: programme,
        day: ProgrammeDay(
          key: dayKey, date: date, painBefore: painBefore, painAfter: painAfter, sessions: [],
          programmeVersion: programmeVersion, complete: isComplete),
        setKeys: keys))
    enter(.summary)
  }
}
