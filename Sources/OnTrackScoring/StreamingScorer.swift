import Foundation
import OnTrackKinematics

/// Scores a live stream frame by frame: the same pipeline as `TakeScorer` (forward kinematics,
/// landmarks, resampling to the reference's rate, features, side decision, subsequence DTW,
/// repetition scoring), run incrementally over ring buffers.
///
/// Every frame updates `currentBoneErrors` (degrees, for colouring the patient's avatar) and
/// `progress`: each bone shows the largest of the terms the score is made of that involve it —
/// a measure's departure from the patient's starting posture against the reference's at the
/// tracked instant, a keep-still measure's movement, a posture's deviation — each against its
/// tolerance (widened, as the score widens it, by three σ of the measure's running noise), so
/// the body part a cue names is the one coloured; a repetition is scored a few frames after it ends and appended to
/// `repetitions`. Frames between repetitions allocate nothing; scoring a finished repetition
/// allocates its report.
///
/// The side decision needs one reference-length of motion from where the patient begins to
/// move (`RepetitionFinding.sideDecisionFrames`): until then frames are buffered, and once it
/// is made they are replayed, so the first repetition is still found whole.
///
/// An exercise done on alternating sides (`Exercise.alternates`) makes no decision: the stream
/// and its mirror image are matched side by side, a match waits a quarter of a reference
/// length for a better one on the other side, and the avatar is coloured against the side
/// expected next (`nextSide`). An exercise with a hold keeps a hold timer (`hold`): it runs
/// only while every measure is within tolerance of the held posture, and says why when not.
public struct StreamingScorer: Sendable {
  public let exercise: Exercise
  public let body: BodyModel?
  public private(set) var repetitions: [RepetitionResult] = []
  /// Per bone (`FeatureLayout.bones` order): the angle between the patient's bone direction
  /// and the reference's at the tracked instant, degrees.
  public private(set) var currentBoneErrors: [Float]
  /// `currentBoneErrors` divided by each bone's tolerance (1 = at the limit of acceptable).
  public private(set) var currentBoneSeverity: [Float]
  /// Per bone: true if a measure or keep-still check of the exercise involves it (the bones a
  /// patient should watch; the app colours only these).
  public let measuredBones: [Bool]
  /// Where in the reference the patient seems to be, 0…1.
  public private(set) var progress: Float = 0
  /// True once the side decision is made and the patient works the other side.
  public private(set) var mirrored = false
  /// Grid frames processed (at the exercise's frame rate).
  public private(set) var frameCount = 0
  /// Frames rejected for a time not after the previous one.
  public private(set) var rejectedFrames = 0
  /// The hold of the repetition in progress, while the patient is in its held part (`nil`
  /// otherwise, and for exercises without a hold).
  public private(set) var hold: HoldState?
  /// For an exercise on alternating sides: the side the next repetition is expected on.
  public var nextSide: BodyModel.Side? {
    guard exercise.alternates, let working = exercise.workingSide else { return nil }
    return nextMirrored ? working.other : working
  }

  /// What the sensor has not shown for a while of the parts the exercise measures, in words to
  /// tell the patient ("The camera does not show your right knee: turn so that it can see
  /// it"), or nil (`SightWatch`).
  public var cannotSee: String? { sight.words }

  /// The hold timer: seconds held within tolerance of the held posture.
  public struct HoldState: Sendable, Equatable {
    /// Seconds to hold.
    public var target: Double
    /// Seconds held so far (within tolerance).
    public var held: Double
    /// True while the posture is within tolerance (the timer runs).
    public var holding: Bool
    /// When the timer is paused: what is off, in words.
    public var why: String?
  }

  /// The exercise as given, before landmarks a sensor does not give were placed alike in it.
  private var givenExercise: Exercise
  /// The landmarks `exercise` places by rule (`Exercise.derivingAlike`).
  private var placed: DerivedLandmarks = []
  /// Which landmarks the sensor's solver places by rule, while undecided (`nil` once decided),
  /// and the frames pushed meanwhile, to replay if the decision differs from the first frame's
  /// (`push(landmarks:at:)`), with how many of them were refused.
  private var derivation: DerivedLandmarksDecision? = DerivedLandmarksDecision()
  private var heldForDerivation: [(frame: LandmarkFrame, time: Double)] = []
  private var refusedWhileHeld = 0
  private let finding: RepetitionFinding
  private let findingContext: FindingContext
  private var matcher: RepetitionMatcher
  private var scorer: RepetitionScorer
  private var pipeline: FeaturePipeline
  private let capacity: Int
  private var features: [Float]
  private var rows: DTWMatrix
  private var decided = false
  /// The first frame that reached the onset of the movement (`RepetitionFinding.onset(in:)`),
  /// while the side is undecided.
  private var onsetFrame: Int?
  private var onsetDetector: OnsetDetector
  private var firstTime: Double?
  /// Frames of a wait forgotten before the side was decided (`forgetWait`): the frames
  /// counted in `frameCount` come after them.
  private var forgottenFrames = 0
  private var world: [RigidTransform]
  private var landmarks = LandmarkFrame()
  private var mirrorScratch: [Float]
  /// Room to check a match's movement in (`RepetitionFinding.accepts`), for the longest
  /// repetition.
  private var movementScratch: MovementScratch
  private var trackedIndex = 0
  /// Frames since the tracker last looked at the whole reference (`searchInterval`).
  private var framesSinceSearch = 0
  /// The frame being taken was drawn across a gap in the stream (`FeaturePipeline.bridged`):
  /// the starting posture does not follow it.
  private var bridged = false
  /// The reference's frames at rest: up to `start` it has not yet begun to move, from `end` on
  /// it has stopped (`restingFrames(of:finding:)`).
  private let restingFrames: (start: Int, end: Int)
  /// The patient's starting posture (measure columns): the first frames of the stream, the
  /// end of each repetition scored, and the patient while the tracker sees the reference at
  /// rest (`followBaseline`).
  private var baseline: [Float]
  private var baselineFrames = 0
  /// Per measure, per keep-still and per posture: the bones (`FeatureLayout.bones` indices)
  /// its colour goes to.
  private let measureBones: [[Int]]
  private let stillBones: [[Int]]
  private let postureBones: [[Int]]
  /// Per measure: the words for "further" and for "not so far" (hold cues).
  private let holdWords: [(further: String, back: String)]
  /// Alternating sides: the mirrored features and rows, their matcher, matches waiting for a
  /// better one on the other side, and the side expected next.
  private var otherFeatures: [Float]
  private var otherRows: DTWMatrix
  private var otherMatcher: RepetitionMatcher
  private var pending: [(match: SubsequenceMatcher.Match, mirrored: Bool)] = []
  private var lastReported: SubsequenceMatcher.Match?
  private var nextMirrored = false
  private let sideWait: Int
  private var holdEnded = false
  /// The turn that stands the patient's rig up, decided on the first pose pushed
  /// (`BodyModel.upright(firstFrame:)`: a Z-up rig); nil before it.
  public private(set) var rigTurn: Quaternion?
  private var sight: SightWatch
  /// Seconds of the repetition in progress within hold tolerance of the held posture; the
  /// timer shows them less the reference's own approach to its hold (`holdRampSeconds` / 2).
  private var holdWithin = 0.0
  /// Per measure, keep-still and posture (in that order): a running median of the measure's
  /// unfiltered absolute second difference (`FeaturePipeline`'s noise column), the
  /// reference's noise σ (radians) and the σ of the patient's sensor noise it implies after
  /// the landmark filter. The colours allow for that noise as the score does.
  private var noiseMedians: [Float]
  private let referenceNoise: [Float]
  private let noiseScales: [Float]
  private let noiseColumns: [Int]
  private let filterNoiseGain: Float
  /// Per bone (`FeatureLayout.bones`): its length's running mean (metres, an exponential
  /// average over `SegmentWander.trendSeconds` × 2), the running mean of its absolute
  /// departures from that mean (over `spreadSeconds`), the frames it was seen in and the
  /// frames since it was last seen. The keep-still colours allow for the wander the least of
  /// those spreads shows, as the score does (`SegmentWander`).
  private var lengthMeans: [Float]
  private var lengthDepartures: [Float]
  private var lengthFrames: [Int]
  private var lengthUnseen: [Int]
  /// Per keep-still part: the bones its measure is taken from (`BodyMeasure.bones`).
  private let stillLengthBones: [[Int]]
  /// `σ_ℓ`: the least robust spread of a seen bone's length (metres), this frame.
  private var lengthSpread: Float = 0

  /// What one push did.
  public struct Update: Sendable, Equatable {
    /// Grid frames added by this push (none while a levelling's calibration holds the first
    /// frames, all of them at once when it settles; `finish` adds those of a shorter stream).
    public var newFrames: Int
    /// Repetitions completed by this push (see `repetitions`).
    public var completedRepetitions: Int
    /// False if the frame's time was not after the previous frame's.
    public var accepted: Bool
  }

  /// A scorer for frames of `skeleton` (`push(pose:at:)`), or, with `skeleton: nil`, for
  /// landmark frames (`push(landmarks:at:)`).
  public init(exercise: Exercise, skeleton: Skeleton? = nil) throws(BodyModelError) {
    self.exercise = exercise
    givenExercise = exercise
    self.body = try skeleton.map { (s) throws(BodyModelError) in try BodyModel(skeleton: s) }
    finding = RepetitionFinding(exercise: exercise)
    findingContext = FindingContext(finding: finding, exercise: exercise)
    matcher = finding.matcher()
    scorer = RepetitionScorer(exercise: exercise)
    pipeline = FeaturePipeline(for: exercise)
    capacity = finding.bufferFrames
    features = [Float](repeating: 0, count: capacity * FeatureLayout.width)
    rows = DTWMatrix(capacity: capacity, width: Exercise.alignmentWidth)
    world = [RigidTransform](repeating: .identity, count: skeleton?.count ?? 0)
    mirrorScratch = [Float](repeating: 0, count: FeatureLayout.width)
    movementScratch = MovementScratch(frames: finding.maximumLength)
    onsetDetector = OnsetDetector(frameTime: exercise.frameTime)
    restingFrames = Self.restingFrames(of: exercise.reference, finding: finding)
    let bones = FeatureLayout.bones
    currentBoneErrors = [Float](repeating: 0, count: bones.count)
    currentBoneSeverity = [Float](repeating: 0, count: bones.count)
    baseline = [Float](repeating: 0, count: FeatureLayout.measureWidth)
    func indices(_ measure: BodyMeasure) -> [Int] {
      measure.colouredBones.compactMap { bones.firstIndex(of: $0) }
    }
    measureBones = exercise.measures.map { indices($0.measure) }
    stillBones = exercise.keepStill.map { indices($0.measure) }
    postureBones = exercise.postures.map { indices($0.measure) }
    var measured = [Bool](repeating: false, count: bones.count)
    for measure in exercise.measures.map(\.measure) + exercise.keepStill.map(\.measure)
      + exercise.postures.map(\.measure)
    {
      for bone in measure.colouredBones {
        if let k = bones.firstIndex(of: bone) { measured[k] = true }
      }
    }
    measuredBones = measured
    let coloured =
      exercise.measures.map(\.measure) + exercise.keepStill.map(\.measure)
      + exercise.postures.map(\.measure)
    noiseMedians = [Float](repeating: 0, count: coloured.count)
    noiseColumns = coloured.map(\.noiseColumn)
    noiseScales = coloured.map { Float(RepetitionScorer.noiseScale($0)) }
    referenceNoise = coloured.map {
      Float(RepetitionScorer.rawNoise($0, exercise.reference, 0..<exercise.reference.count))
    }
    filterNoiseGain = Float(LandmarkFilter(rate: 1 / exercise.frameTime).noiseGain)
    lengthMeans = [Float](repeating: 0, count: bones.count)
    lengthDepartures = [Float](repeating: 0, count: bones.count)
    lengthFrames = [Int](repeating: 0, count: bones.count)
    lengthUnseen = [Int](repeating: 0, count: bones.count)
    stillLengthBones = exercise.keepStill.map {
      $0.measure.bones.compactMap { bones.firstIndex(of: $0) }
    }
    let alternating = exercise.alternates
    otherFeatures = [Float](repeating: 0, count: alternating ? capacity * FeatureLayout.width : 0)
    otherRows = DTWMatrix(capacity: alternating ? capacity : 0, width: Exercise.alignmentWidth)
    otherMatcher = finding.matcher()
    pending.reserveCapacity(8)
    sideWait = max(4, finding.referenceRows.rows / 4)
    sight = SightWatch(exercise: exercise)
    // Alternating sides are matched both ways; a bilateral exercise has no side to decide.
    if alternating || !exercise.hasSideToDecide {
      decided = true
    }
    // The words for falling short of the held posture and for going past it: short means
    // before it in the reference's own direction of motion from its start.
    let reference = exercise.reference
    let targets = exercise.holdTargets
    holdWords = exercise.measures.enumerated().map { k, scored in
      var direction = 1.0
      if case .angle = scored.measure, k < targets.count {
        direction = Double(targets[k].x - reference[0, scored.measure.column]) >= 0 ? 1 : -1
      }
      let further = CueWriter.cue(
        for: scored.measure, signedError: -direction, rangeDeficit: false,
        referenceRange: direction)
      let back = CueWriter.cue(
        for: scored.measure, signedError: direction, rangeDeficit: false,
        referenceRange: direction)
      return (scored.more ?? further.text, scored.less ?? back.text)
    }
  }

  /// Feeds one local pose of the skeleton given at `init`, at `time` seconds; `untracked`:
  /// the landmarks the sensor did not see in it (`LandmarkFrame.untracked`, from a keypoint
  /// solve).
  public mutating func push(pose: Pose, at time: Double, untracked: UInt32 = 0) -> Update {
    // A pose of another skeleton (a caller's mistake; `Pose`'s arrays are public) is refused
    // like a frame out of order, not trapped on.
    guard let body, pose.rotations.count == body.skeleton.count,
      pose.translations.count == body.skeleton.count
    else {
      rejectedFrames += 1
      return Update(newFrames: 0, completedRepetitions: 0, accepted: false)
    }
    ForwardKinematics.computeWorldTransforms(skeleton: body.skeleton, pose: pose, into: &world)
    if rigTurn == nil {
      rigTurn = body.upright(firstFrame: world, like: exercise.startPosture)
    }
    landmarks.update(body: body, world: world, turn: rigTurn ?? .identity)
    landmarks.untracked = untracked
    return push(landmarks: landmarks, at: time)
  }

  /// Feeds one frame of landmark positions (metres, Y up) at `time` seconds. The first frames
  /// tell which landmarks the sensor does not give and the solver placed by rule
  /// (`DerivedLandmarksDecision`): the reference is measured alike (`Exercise.derivingAlike`),
  /// from the first frame on what it shows; if the decision, made within the first seconds,
  /// differs, the reference is measured again and the frames so far replayed, so the scores
  /// are those of `TakeScorer` on the same frames.
  public mutating func push(landmarks frame: LandmarkFrame, at time: Double) -> Update {
    guard var decision = derivation else { return take(frame, at: time) }
    decision.observe(frame, at: time)
    if let decided = decision.decided {
      derivation = nil
      guard decided != placed else {
        forgetHeldFrames()
        return take(frame, at: time)
      }
      let replayed = replay(placing: decided)
      var update = take(frame, at: time)
      update.newFrames += replayed.newFrames
      update.completedRepetitions += replayed.completedRepetitions
      return update
    }
    if heldForDerivation.isEmpty, let first = decision.provisional, first != placed,
      var adapted = adapted(placing: first)
    {
      adapted.rejectedFrames = rejectedFrames
      self = adapted
    }
    derivation = decision
    heldForDerivation.append((frame, time))
    let update = take(frame, at: time)
    if !update.accepted { refusedWhileHeld += 1 }
    return update
  }

  /// This scorer's exercise as given, with `derived` landmarks placed alike; undecided, with
  /// nothing held (`nil` if the reference cannot be measured again).
  private func adapted(placing derived: DerivedLandmarks) -> StreamingScorer? {
    guard
      var adapted = try? StreamingScorer(
        exercise: derived.isEmpty ? givenExercise : givenExercise.derivingAlike(derived),
        skeleton: body?.skeleton)
    else { return nil }
    adapted.placed = derived
    adapted.givenExercise = givenExercise
    adapted.rigTurn = rigTurn
    return adapted
  }

  /// The decision differs from what the scorer measured so far: a scorer placing `derived`
  /// alike takes every frame held since the first. Returns what they added.
  private mutating func replay(placing derived: DerivedLandmarks) -> Update {
    defer { forgetHeldFrames() }
    guard var adapted = adapted(placing: derived) else {
      return Update(newFrames: 0, completedRepetitions: 0, accepted: true)
    }
    adapted.derivation = nil
    adapted.rejectedFrames = rejectedFrames - refusedWhileHeld
    var newFrames = 0
    for (held, heldTime) in heldForDerivation {
      newFrames += adapted.take(held, at: heldTime).newFrames
    }
    let completed = max(0, adapted.repetitions.count - repetitions.count)
    self = adapted
    return Update(newFrames: newFrames, completedRepetitions: completed, accepted: true)
  }

  /// The derivation is decided: the frames held for a replay are not needed any more.
  private mutating func forgetHeldFrames() {
    heldForDerivation = []
    refusedWhileHeld = 0
  }

  /// One landmark frame through the pipeline and the matcher, against `exercise` as it is.
  private mutating func take(_ frame: LandmarkFrame, at time: Double) -> Update {
    guard pipeline.push(frame, at: time) else {
      rejectedFrames += 1
      return Update(newFrames: 0, completedRepetitions: 0, accepted: false)
    }
    if firstTime == nil { firstTime = time }
    let before = repetitions.count
    let produced = pipeline.outputCount
    for k in 0..<produced {
      append(outputFrame: k)
    }
    return Update(
      newFrames: produced, completedRepetitions: repetitions.count - before, accepted: true)
  }

  /// The rotation that levels the patient's sensor (`SensorLevelling`), once decided: what an
  /// avatar drawn from the same frames should be turned by to stand as the scorer sees it.
  public var sensorLevelling: Quaternion? { pipeline.levellingRotation }

  /// Ends the stream: decides the side if it was still open, and reports a repetition that was
  /// still pending. Returns the number of repetitions completed.
  @discardableResult
  public mutating func finish() -> Int {
    let before = repetitions.count
    // A stream shorter than the derivation's decision: what its frames tell.
    if let decision = derivation {
      derivation = nil
      if decision.resolved != placed { _ = replay(placing: decision.resolved) }
    }
    // A stream shorter than the levelling's calibration: its frames are still held.
    pipeline.flush()
    for k in 0..<pipeline.outputCount { append(outputFrame: k) }
    if !decided {
      decide(
        frames: frameCount,
        window: finding.sideDecisionFrames(onset: onsetFrame, count: frameCount, ended: true)
          ?? 0..<0)
    }
    if exercise.alternates {
      let direct = movementCheck(otherSide: false)
      let other = movementCheck(otherSide: true)
      var sides = scorer
      withMovementScratch { me, scratch in
        me.matcher.finish(moves: {
          direct.accepts($0, scratch: &scratch) && !Self.fitsOtherSide($0, direct, &sides)
        })
        me.otherMatcher.finish(moves: {
          other.accepts($0, scratch: &scratch) && Self.fitsOtherSide($0, direct, &sides)
        })
      }
      collectPending()
      settlePending(flush: true)
    } else {
      let check = movementCheck(otherSide: false)
      withMovementScratch { me, scratch in
        me.matcher.finish { check.accepts($0, scratch: &scratch) }
      }
      while let match = matcher.next() { report(match) }
    }
    if repetitions.isEmpty, frameCount <= capacity {
      // Nothing matched: the whole stream may still be one repetition (`isOneRepetition`).
      let width = FeatureLayout.width
      let whole = FeatureSequence(
        width: width, frameTime: exercise.frameTime,
        values: Array(features[0..<(frameCount * width)]))
      if finding.isOneRepetition(whole, frames: 0..<frameCount) {
        report(SubsequenceMatcher.Match(start: 0, end: frameCount - 1, cost: .nan))
      }
    }
    return repetitions.count - before
  }

  /// Everything scored so far, as `TakeScorer` reports a recording.
  public var result: TakeResult {
    TakeResult(
      exercise: exercise, duration: Double(forgottenFrames + frameCount) * exercise.frameTime,
      mirrored: mirrored, repetitions: repetitions)
  }

  // MARK: Frames

  private mutating func append(outputFrame k: Int) {
    let width = FeatureLayout.width
    let slot = frameCount % capacity
    for c in 0..<width { features[slot * width + c] = pipeline.output[k * width + c] }
    bridged = pipeline.bridged[k]
    frameCount += 1
    let side: SightWatch.Side =
      exercise.alternates
      ? .both
      : !decided && exercise.hasSideToDecide ? .undecided : mirrored ? .mirrored : .reference
    features.withUnsafeBufferPointer { all in
      if let base = all.baseAddress { sight.observe(base + slot * width, side: side) }
    }
    if exercise.alternates {
      processAlternating(slot: slot)
    } else if decided {
      process(slot: slot, track: true)
    } else {
      // Until the side is decided, colour the avatar against the reference as it stands.
      prepare(slot: slot, mirror: false)
      track(slot: slot)
      if onsetFrame == nil { lookForOnset(slot: slot) }
      if onsetFrame == nil, frameCount >= capacity, bufferIsStill() {
        forgetWait()
      } else if let window = finding.sideDecisionFrames(
        onset: onsetFrame, count: frameCount, ended: false)
      {
        decide(frames: frameCount, window: window)
      }
    }
  }

  /// True if the full buffer (undecided, so frame k in slot k) moves nowhere beyond the
  /// sensor's noise (`RepetitionFinding.isStill`, as offline).
  private func bufferIsStill() -> Bool {
    let width = FeatureLayout.width
    return features.withUnsafeBufferPointer { all in
      guard let base = all.baseAddress else { return true }
      return finding.isStill(count: frameCount, frame: { base + $0 * width })
    }
  }

  /// A whole buffer without the patient beginning to move: forgets it and starts over, the
  /// starting posture taken again from the frames that follow
  /// (`RepetitionFinding.forgettingWaits`, as offline).
  private mutating func forgetWait() {
    forgottenFrames += frameCount
    frameCount = 0
    hold = nil
    holdEnded = false
    holdWithin = 0
    baselineFrames = 0
    for c in baseline.indices { baseline[c] = 0 }
    onsetDetector.reset()
  }

  /// Reads the frame in `slot` (the newest) for the onset of the movement
  /// (`OnsetDetector`, as `RepetitionFinding.onset(in:)` offline).
  private mutating func lookForOnset(slot: Int) {
    guard finding.referenceMovement > 0 else { return }
    let width = FeatureLayout.width
    features.withUnsafeBufferPointer { all in
      onsetDetector.push(
        UnsafeBufferPointer(rebasing: all[(slot * width)..<((slot + 1) * width)]),
        finding: finding)
    }
    onsetFrame = onsetDetector.onset
  }

  /// Makes the side decision on frames `window` of the buffered ones and replays them all.
  private mutating func decide(frames count: Int, window frames: Range<Int>) {
    decided = true
    guard count > 0 else { return }
    let width = FeatureLayout.width
    let window = FeatureSequence(
      width: width, frameTime: exercise.frameTime,
      values: Array(features[0..<(count * width)]))
    mirrored = scorer.worksOtherSide(window, frames: frames)
    for slot in 0..<count { process(slot: slot, track: false) }
    if mirrored {
      // The starting posture was taken before the frames were mirrored.
      baselineFrames = 0
      for c in baseline.indices { baseline[c] = 0 }
      for slot in 0..<min(count, RepetitionScorer.originFrames(finding.referenceRows.rows)) {
        updateBaseline(slot: slot)
      }
    }
  }

  /// Alternating sides: matches the frame in `slot` and its mirror image, tracks and colours
  /// it on the side expected next, and reports the matches that stand.
  private mutating func processAlternating(slot: Int) {
    let width = FeatureLayout.width
    let range = (slot * width)..<((slot + 1) * width)
    otherFeatures.withUnsafeMutableBufferPointer { other in
      features.withUnsafeBufferPointer { all in
        FeatureLayout.mirror(
          UnsafeBufferPointer(rebasing: all[range]),
          into: UnsafeMutableBufferPointer(rebasing: other[range]))
      }
    }
    prepare(slot: slot, mirror: false)
    otherRows.withRow(slot) { out in
      otherFeatures.withUnsafeBufferPointer { all in
        exercise.alignmentRow(UnsafeBufferPointer(rebasing: all[range]), into: out)
      }
    }
    onExpectedSide { $0.track(slot: slot) }
    let stride = rows.stride
    let direct = movementCheck(otherSide: false)
    let other = movementCheck(otherSide: true)
    // A match is taken on a side only if its frames fit that side (`fitsOtherSide`), as the
    // matcher takes it: a taken match ends every path that began before its end, so a
    // wrong-side fragment refused only afterwards took the right side's repetition with it.
    var sides = scorer
    withMovementScratch { me, scratch in
      me.rows.values.withUnsafeBufferPointer { values in
        guard let base = values.baseAddress else { return }
        me.matcher.push(
          base + slot * stride,
          moves: {
            direct.accepts($0, scratch: &scratch) && !Self.fitsOtherSide($0, direct, &sides)
          })
      }
      me.otherRows.values.withUnsafeBufferPointer { values in
        guard let base = values.baseAddress else { return }
        me.otherMatcher.push(
          base + slot * stride,
          moves: {
            other.accepts($0, scratch: &scratch) && Self.fitsOtherSide($0, direct, &sides)
          })
      }
    }
    collectPending()
    settlePending(flush: false)
  }

  /// Moves the matches both sides' matchers have made final to `pending`. Each already fits
  /// its side better than the other (the matchers take a match only then, `fitsOtherSide`),
  /// as offline (`TakeScorer`, before `SideChoice.resolve`): a fragment on the wrong side must
  /// not compete with, and knock out, the repetition on the right one.
  private mutating func collectPending() {
    while let match = matcher.next() { pending.append((match, false)) }
    while let match = otherMatcher.next() { pending.append((match, true)) }
  }

  /// True if the (unmirrored) frames of `match`, read through `direct` (the unmirrored ring
  /// buffer), fit the mirrored reference better (`RepetitionScorer.worksOtherSide`, with
  /// `sides`: a copy of the scorer, for a matcher's callback while the matcher is being fed);
  /// allocates, once per match.
  private static func fitsOtherSide(
    _ match: SubsequenceMatcher.Match, _ direct: MovementCheck, _ sides: inout RepetitionScorer
  ) -> Bool {
    guard let take = direct.frames(of: match), take.count > 1 else { return false }
    return sides.worksOtherSide(take, frames: 0..<take.count)
  }

  /// The features of `match`'s frames from the ring buffer (`otherSide`: the mirror image's),
  /// or nil if they are no longer held.
  private func frames(of match: SubsequenceMatcher.Match, otherSide: Bool) -> FeatureSequence? {
    movementCheck(otherSide: otherSide).frames(of: match)
  }

  /// What a match is checked with, apart from the scorer, so that a matcher being fed can ask
  /// it (`RepetitionMatcher.push(_:moves:)`). Holds the ring buffer and `findingContext` by
  /// reference: made every frame, it copies nothing.
  private func movementCheck(otherSide: Bool) -> MovementCheck {
    MovementCheck(
      features: otherSide ? otherFeatures : features, frameCount: frameCount,
      capacity: capacity, context: findingContext)
  }

  /// The exercise and its repetition finding, shared (one reference for the per-frame check).
  final class FindingContext: Sendable {
    let finding: RepetitionFinding
    let exercise: Exercise

    init(finding: RepetitionFinding, exercise: Exercise) {
      self.finding = finding
      self.exercise = exercise
    }
  }

  struct MovementCheck {
    let features: [Float]
    let frameCount: Int
    let capacity: Int
    let context: FindingContext

    /// True if `match` stands as a repetition (`RepetitionFinding.accepts`, as offline),
    /// read where its frames lie in the ring buffer; allocation-free over `scratch`.
    func accepts(_ match: SubsequenceMatcher.Match, scratch: inout MovementScratch) -> Bool {
      let n = match.end - match.start + 1
      guard match.start >= 0, match.start >= frameCount - capacity, n > 0 else { return false }
      let width = FeatureLayout.width
      return features.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return false }
        return context.finding.accepts(
          count: n, frame: { base + ((match.start + $0) % capacity) * width },
          loose: match.isLoose, scratch: &scratch)
      }
    }

    /// The features of `match`'s frames from the ring buffer, or nil if no longer held.
    func frames(of match: SubsequenceMatcher.Match) -> FeatureSequence? {
      let length = match.end - match.start + 1
      guard match.start >= frameCount - capacity, length > 0 else { return nil }
      let width = FeatureLayout.width
      var values = [Float](repeating: 0, count: length * width)
      for k in 0..<length {
        let slot = (match.start + k) % capacity
        for c in 0..<width { values[k * width + c] = features[slot * width + c] }
      }
      return FeatureSequence(
        width: width, frameTime: context.exercise.frameTime, values: values)
    }
  }

  /// Runs `body` with the buffers of the side expected next in place of the direct ones.
  private mutating func onExpectedSide(_ body: (inout StreamingScorer) -> Void) {
    guard nextMirrored else { return body(&self) }
    swap(&features, &otherFeatures)
    swap(&rows, &otherRows)
    body(&self)
    swap(&features, &otherFeatures)
    swap(&rows, &otherRows)
  }

  /// Drops pending matches that overlap one already reported or a better pending one on the
  /// other side, and reports those that have waited `sideWait` frames (all of them, flushing).
  private mutating func settlePending(flush: Bool) {
    guard !pending.isEmpty else { return }
    var k = 0
    while k < pending.count {
      let candidate = pending[k]
      var drop = false
      if let last = lastReported, SideChoice.overlaps(last, candidate.match) { drop = true }
      for other in pending.indices where other != k && !drop {
        if SideChoice.overlaps(pending[other].match, candidate.match),
          SideChoice.costOrder(pending[other].match, candidate.match)
        {
          drop = true
        }
      }
      if drop {
        pending.remove(at: k)
      } else {
        k += 1
      }
    }
    while let first = pending.min(by: { $0.match.start < $1.match.start }),
      flush || frameCount - 1 - first.match.end >= sideWait
    {
      pending.removeAll { $0.match == first.match && $0.mirrored == first.mirrored }
      report(first.match, mirrored: first.mirrored)
    }
  }

  /// Runs `body` with the movement scratch lent out of `self`, so that the matchers it feeds
  /// can check their matches with it (`MovementCheck.accepts`) while `self` is changed; no
  /// copy, no allocation.
  private mutating func withMovementScratch(
    _ body: (inout StreamingScorer, inout MovementScratch) -> Void
  ) {
    var scratch = MovementScratch.empty
    swap(&scratch, &movementScratch)
    body(&self, &scratch)
    swap(&scratch, &movementScratch)
  }

  /// Mirrors (if decided so) and matches the frame in `slot`.
  private mutating func process(slot: Int, track tracking: Bool) {
    prepare(slot: slot, mirror: mirrored)
    if tracking { track(slot: slot) }
    let stride = rows.stride
    let check = movementCheck(otherSide: false)
    withMovementScratch { me, scratch in
      me.rows.values.withUnsafeBufferPointer { values in
        guard let base = values.baseAddress else { return }
        me.matcher.push(base + slot * stride, moves: { check.accepts($0, scratch: &scratch) })
      }
    }
    while let match = matcher.next() { report(match) }
  }

  /// Mirrors the features in `slot` if asked and writes its alignment row.
  private mutating func prepare(slot: Int, mirror: Bool) {
    let width = FeatureLayout.width
    let range = (slot * width)..<((slot + 1) * width)
    if mirror {
      mirrorScratch.withUnsafeMutableBufferPointer { scratch in
        features.withUnsafeBufferPointer { all in
          FeatureLayout.mirror(UnsafeBufferPointer(rebasing: all[range]), into: scratch)
        }
      }
      features.withUnsafeMutableBufferPointer { all in
        for c in 0..<width { all[range.lowerBound + c] = mirrorScratch[c] }
      }
    }
    rows.withRow(slot) { out in
      features.withUnsafeBufferPointer { all in
        exercise.alignmentRow(UnsafeBufferPointer(rebasing: all[range]), into: out)
      }
    }
  }

  /// Follows the patient's position in the reference (for the live colouring): the nearest
  /// reference frame a little behind or ahead of the last, or, near the end, the start again
  /// up to four frames past the reference's own onset (`RepetitionFinding.referenceOnset`);
  /// every `searchInterval` frames, the whole reference. Where the reference rests, the
  /// starting posture follows the patient (`followBaseline`). Before, only its first four
  /// frames were tried: a reference that rests longer than that
  /// at its start (the low-back-pain exercises) kept the tracker at its end from the second
  /// repetition on, and a perfect glute bridge's legs were painted off through every hold.
  private mutating func track(slot: Int) {
    let m = finding.referenceRows.rows
    let stride = rows.stride
    framesSinceSearch += 1
    let searching = framesSinceSearch >= Self.searchInterval
    if searching { framesSinceSearch = 0 }
    var best = trackedIndex
    var bestDistance = Float.infinity
    rows.values.withUnsafeBufferPointer { values in
      finding.referenceRows.values.withUnsafeBufferPointer { reference in
        guard let row = values.baseAddress.map({ $0 + slot * stride }),
          let ref = reference.baseAddress
        else { return }
        // Where the reference is still (a rest, a hold) its frames tie: the one a frame on
        // from the last wins, so the tracker keeps the patient's pace through it.
        let expected = trackedIndex + 1
        func consider(_ j: Int) {
          let d =
            squaredDistance(row, ref + j * stride, stride: stride)
            + Self.pace * Float(abs(j - expected))
          if d < bestDistance {
            bestDistance = d
            best = j
          }
        }
        for j in max(0, trackedIndex - 2)...min(m - 1, trackedIndex + 4) { consider(j) }
        // At the end, the next repetition may begin: the reference's frames up to a little past
        // where it is under way (its own rest before that ties with its end).
        if trackedIndex >= m - 4 {
          for j in 0..<min(m, finding.referenceOnset + 4) { consider(j) }
        }
        // Lost: now and then, the whole reference; a frame far nearer than any around the
        // tracker takes it there.
        guard searching else { return }
        let around = bestDistance
        var farBest = best
        var farDistance = Float.infinity
        for j in 0..<m {
          let d = squaredDistance(row, ref + j * stride, stride: stride)
          if d < farDistance {
            farDistance = d
            farBest = j
          }
        }
        if farDistance < Self.searchShare * around { best = farBest }
      }
    }
    trackedIndex = best
    progress = m > 1 ? Float(best) / Float(m - 1) : 0
    if bridged {
      // A frame the resampler drew across a gap in the stream: nothing to follow.
    } else if best <= restingFrames.start || best >= restingFrames.end {
      followBaseline(slot: slot)
    } else {
      updateBaseline(slot: slot)
    }
    colour(slot: slot, reference: best)
  }

  /// The tie-break of the tracker per frame away from the expected one (squared alignment
  /// units: far below any real difference in pose).
  static let pace: Float = 1e-5
  /// Every so many frames the tracker looks at the whole reference, and moves to its nearest
  /// frame if that is under `searchShare` of the nearest around it (squared distances): a
  /// tracker that only looks a few frames around itself, once left behind, stays behind
  /// until the patient comes back to where it is. Through 1 cm of jitter the hiding face's
  /// arms, ill-defined while held in front of the face, left it where the forearms close for
  /// 3–4 s while the patient lowered the arms and rested. A correct performance through 1–2
  /// cm of jitter was painted off in 38–41 % of the frames there (now 20–23 %, what is left
  /// being the arms' own noise), in 17–19 % on the scaption's arm and 13–16 % on the
  /// alternating bird-dog's limbs (now under 5 %). Costs a pass over the reference every
  /// `searchInterval` frames, as one of the matcher's.
  static let searchInterval = 8
  static let searchShare: Float = 0.5

  /// Averages the stream's first frames into the starting posture.
  private mutating func updateBaseline(slot: Int) {
    let frames = RepetitionScorer.originFrames(finding.referenceRows.rows)
    guard baselineFrames < frames else { return }
    let width = FeatureLayout.width
    baselineFrames += 1
    let n = baselineFrames
    features.withUnsafeBufferPointer { all in
      baseline.withUnsafeMutableBufferPointer { rest in
        RepetitionFinding.accumulateRest(
          rest, frame: UnsafeBufferPointer(rebasing: all[(slot * width)..<((slot + 1) * width)]),
          n: n)
      }
    }
  }

  /// The share of the reference's movement (`RepetitionFinding.referenceMovement`) within
  /// which it is still at rest.
  static let restingShare = 0.05

  /// The reference's resting frames: the last frame `start` before any frame's `reach` from
  /// its first frame is `restingShare` of its movement or more, and the first frame `end`
  /// after which none is that far from its last frame (0 and `m − 1` for a reference that
  /// moves at once).
  static func restingFrames(of reference: FeatureSequence, finding: RepetitionFinding)
    -> (start: Int, end: Int)
  {
    let m = reference.count
    guard m > 1, reference.width == FeatureLayout.width else { return (0, max(0, m - 1)) }
    let width = reference.width
    let limit = restingShare * finding.referenceMovement
    return reference.values.withUnsafeBufferPointer { all in
      func frame(_ j: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: all[(j * width)..<((j + 1) * width)])
      }
      var start = 0
      while start + 1 < m, finding.reach(frame(start + 1), rest: frame(0)) < limit { start += 1 }
      var end = m - 1
      while end - 1 > start, finding.reach(frame(end - 1), rest: frame(m - 1)) < limit { end -= 1 }
      return (start, end)
    }
  }

  /// While the patient is where the reference rests (before it begins to move, or after it
  /// has stopped) and every coloured measure is seen, the starting posture follows them: the running mean of the measure columns
  /// over about the last `RepetitionScorer.originFrames` frames, `rest += (frame − rest) ÷ n`.
  /// The score compares each repetition with its own first frames; before, the live colours
  /// kept the posture the last repetition ended in, and a patient who settled differently in
  /// the rest (or a reference that ends a few degrees from where it began) was painted off
  /// through the next repetition: the shoulder rotation's pelvis in 81 % of a perfect
  /// performance's frames.
  private mutating func followBaseline(slot: Int) {
    let frames = RepetitionScorer.originFrames(finding.referenceRows.rows)
    guard baselineFrames >= frames else { return updateBaseline(slot: slot) }
    let width = FeatureLayout.width
    // A frame in which a coloured measure is unseen (its noise column NaN: its value is a
    // stale one the pipeline held) is not followed.
    for c in noiseColumns where features[slot * width + c].isNaN { return }
    let limit = Self.followShare * finding.referenceMovement
    features.withUnsafeBufferPointer { all in
      let frame = UnsafeBufferPointer(rebasing: all[(slot * width)..<((slot + 1) * width)])
      baseline.withUnsafeMutableBufferPointer { rest in
        guard finding.reach(frame, rest: UnsafeBufferPointer(rest)) < limit else { return }
        RepetitionFinding.accumulateRest(rest, frame: frame, n: frames)
      }
    }
  }

  /// How far from the starting posture (a share of the reference's movement, on either side)
  /// a frame may be for the starting posture to follow it: a patient already under way while
  /// the tracker still sees a rest (the side not yet decided, a tracker a frame behind) does
  /// not move it.
  static let followShare = 0.1

  /// Takes the frame in `slot` as the new starting posture (a repetition just ended there).
  private mutating func resetBaseline(slot: Int) {
    let width = FeatureLayout.width
    for c in 0..<FeatureLayout.measureWidth { baseline[c] = features[slot * width + c] }
    baselineFrames = RepetitionScorer.originFrames(finding.referenceRows.rows)
  }

  /// Follows the noise of every coloured measure in the frame in `slot`: a multiplicative
  /// step (2 %) towards each new absolute second difference, which settles on their median
  /// within a few seconds and is not moved by the few large ones movement makes.
  private mutating func trackNoise(slot: Int) {
    let base = slot * FeatureLayout.width
    for k in noiseMedians.indices {
      let x = features[base + noiseColumns[k]]
      guard x.isFinite, x > 0 else { continue }
      if noiseMedians[k] <= 0 {
        noiseMedians[k] = x
      } else {
        noiseMedians[k] *= x > noiseMedians[k] ? 1.02 : 1 / 1.02
      }
    }
  }

  /// Three σ of the noise of coloured measure `k` (its index in `noiseMedians`), radians:
  /// the patient's sensor and the reference's together, after the landmark filter. With
  /// `wander` (radians, after the filter), the patient's part is the larger of the white
  /// noise's and that.
  private func noiseAllowance(_ k: Int, wander: Float = 0) -> Float {
    let patient = max(noiseMedians[k] / noiseScales[k] * filterNoiseGain, wander)
    let reference = referenceNoise[k] * filterNoiseGain
    return Float(RepetitionScorer.noiseAllowance)
      * (patient * patient + reference * reference).squareRoot()
  }

  /// Time over which a bone length's mean departure is averaged (seconds).
  static let spreadSeconds = 2.0
  /// σ of a normal variable ÷ its mean absolute departure: √(π/2).
  static let meanDepartureScale: Float = 1.2533

  /// The wander of a measure taken from `bones` (radians): `σ_ℓ / L` for each, in quadrature
  /// (`SegmentWander.noise`).
  private func wanderNoise(_ bones: [Int]) -> Float {
    guard lengthSpread > 0 else { return 0 }
    var total: Float = 0
    for b in bones where lengthMeans[b] >= Float(SegmentWander.shortestBone) {
      let n = lengthSpread / lengthMeans[b]
      total += n * n
    }
    return total.squareRoot()
  }

  /// Follows every bone's length in the frame in `slot` (`FeatureLayout.lengthColumn`) and
  /// takes `σ_ℓ` as the least of their spreads (`meanDepartureScale` × the running mean
  /// absolute departure from the running mean), over bones of at least
  /// `SegmentWander.shortestBone` seen for `SegmentWander.trendSeconds` and not unseen for as
  /// long since (a bone lost keeps no stale spread in the least). The running mean follows a length that changes with the
  /// pose (as slowly as the movement) and leaves out what a sensor's wander adds, as the
  /// score's trend does; a source whose lengths never change shows none.
  private mutating func trackWander(slot: Int) {
    let base = slot * FeatureLayout.width
    let first = FeatureLayout.measureWidth + FeatureLayout.bones.count + FeatureLayout.angles.count
    let rate = Float(min(1, exercise.frameTime / (2 * SegmentWander.trendSeconds)))
    let settled = Int((SegmentWander.trendSeconds / exercise.frameTime).rounded(.up))
    let spreadRate = Float(min(1, exercise.frameTime / Self.spreadSeconds))
    var least = Float.infinity
    for k in lengthMeans.indices {
      let length = features[base + first + k]
      if length.isFinite, length > 0 {
        if lengthFrames[k] == 0 {
          lengthMeans[k] = length
        } else {
          lengthMeans[k] += rate * (length - lengthMeans[k])
          // The mean departure: over the frames so far while they are few, then over
          // `spreadSeconds` (an exponential average).
          let departure = abs(length - lengthMeans[k])
          let weight = max(spreadRate, 1 / Float(lengthFrames[k]))
          lengthDepartures[k] += weight * (departure - lengthDepartures[k])
        }
        lengthFrames[k] += 1
        lengthUnseen[k] = 0
      } else {
        lengthUnseen[k] += 1
      }
      guard lengthFrames[k] >= settled, lengthUnseen[k] < settled,
        lengthMeans[k] >= Float(SegmentWander.shortestBone)
      else { continue }
      least = min(least, Self.meanDepartureScale * lengthDepartures[k])
    }
    lengthSpread = least.isFinite ? least : 0
  }

  /// Colours the bones for the frame in `slot`, tracked at reference frame `j`. Every
  /// tolerance allows for the measure's noise as the score does (`√(τ² + (3σ)²)`), and a
  /// keep-still part's movement is counted less what that noise alone shows.
  private mutating func colour(slot: Int, reference j: Int) {
    trackNoise(slot: slot)
    trackWander(slot: slot)
    for k in currentBoneErrors.indices {
      currentBoneErrors[k] = 0
      currentBoneSeverity[k] = 0
    }
    let width = FeatureLayout.width
    let reference = exercise.reference
    let base = slot * width
    func mark(_ bones: [Int], _ error: Float, _ tolerance: Float, noise: Float) {
      let degrees = error * 180 / .pi
      let allowed = RepetitionScorer.widened(tolerance, by: noise)
      let severity = error / max(allowed, 1e-6)
      for k in bones {
        currentBoneErrors[k] = max(currentBoneErrors[k], degrees)
        currentBoneSeverity[k] = max(currentBoneSeverity[k], severity)
      }
    }
    for (k, scored) in exercise.measures.enumerated() {
      let c = scored.measure.column
      let error: Float
      switch scored.measure {
      case .angle(let angle):
        // Counted as the score counts it (`BodyAngle.conditioning`): the two frames'
        // difference by the better-defined of them, the starting postures' by theirs. (The
        // patient's frames are asked only where the reference's is not well defined.)
        let shadows = exercise.referenceConditioning(angle)
        let referenceShadow = shadows[shadows.startIndex + j]
        let shadow =
          referenceShadow >= 1
          ? 1 : max(referenceShadow, angle.conditioning { features[base + $0] })
        var start: Float = 0
        if scored.relative {
          let referenceRest = shadows[shadows.startIndex]
          let rest =
            referenceRest >= 1 ? 1 : max(referenceRest, angle.conditioning { baseline[$0] })
          start = (baseline[c] - reference[0, c]) * rest
        }
        error = abs((features[base + c] - reference[j, c]) * shadow - start)
      case .bone:
        var u = SIMD3(features[base + c], features[base + c + 1], features[base + c + 2])
        let v = SIMD3(reference[j, c], reference[j, c + 1], reference[j, c + 2])
        if scored.relative {
          let u0 = SIMD3(baseline[c], baseline[c + 1], baseline[c + 2])
          let v0 = SIMD3(reference[0, c], reference[0, c + 1], reference[0, c + 2])
          u = Quaternion.shortestArc(from: normalizeOrUp(u0), to: normalizeOrUp(v0)).act(on: u)
        }
        error = atan2(length(cross(u, v)), dot(u, v))
      }
      mark(measureBones[k], error, scored.tolerance, noise: noiseAllowance(k))
    }
    updateHold(slot: slot)
    for (k, still) in exercise.keepStill.enumerated() {
      let c = still.measure.column
      let moved: Float
      let allowed: Float
      switch still.measure {
      case .angle:
        moved = abs(features[base + c] - baseline[c])
        allowed = abs(reference[j, c] - reference[0, c])
      case .bone:
        let u = SIMD3(features[base + c], features[base + c + 1], features[base + c + 2])
        let u0 = normalizeOrUp(SIMD3(baseline[c], baseline[c + 1], baseline[c + 2]))
        let v = SIMD3(reference[j, c], reference[j, c + 1], reference[j, c + 2])
        let v0 = SIMD3(reference[0, c], reference[0, c + 1], reference[0, c + 2])
        moved = atan2(length(cross(u, u0)), dot(u, u0))
        allowed = atan2(length(cross(v, v0)), dot(v, v0))
      }
      // As the score: the movement less what the noise shows, the wander included; the
      // tolerance widened by the white noise alone. (Not the score's allowance for motion out
      // of step with the movement, `UnlockedMotion`: that needs the whole repetition.)
      let noise = noiseAllowance(exercise.measures.count + k)
      let shown = noiseAllowance(
        exercise.measures.count + k, wander: wanderNoise(stillLengthBones[k]))
      let excess = max(0, moved - allowed)
      mark(
        stillBones[k], RepetitionScorer.lessNoise(excess, shown), still.tolerance,
        noise: noise)
    }
    for (k, posture) in exercise.postures.enumerated() {
      let c = posture.measure.column
      let deviation: Float
      switch posture.measure {
      case .angle: deviation = abs(features[base + c] - posture.target)
      case .bone:
        let u = SIMD3(features[base + c], features[base + c + 1], features[base + c + 2])
        deviation = atan2(length(cross(u, posture.direction)), dot(u, posture.direction))
      }
      // Within the tolerance a posture is held (0); beyond it, one more tolerance's half per unit.
      let noise = noiseAllowance(exercise.measures.count + exercise.keepStill.count + k)
      let tolerance = RepetitionScorer.widened(posture.tolerance, by: noise)
      mark(postureBones[k], max(0, deviation - tolerance) * 2, posture.tolerance, noise: noise)
    }
  }

  /// Runs the hold timer on the frame in `slot`. Each measure is compared with the held
  /// posture (the reference's mean over its hold, both from their starting postures). The
  /// hold begins once the patient is a quarter of the way there (weighted over the measures)
  /// and ends when they are back within a sixth of it; meanwhile the timer runs while every
  /// measure is within its hold tolerance (`Exercise.holdTolerances`) of the held posture,
  /// and otherwise pauses with the words of the one furthest off.
  private mutating func updateHold(slot: Int) {
    let holdTargets = exercise.holdTargets
    guard exercise.holdSeconds > 0, !holdTargets.isEmpty else { return }
    let base = slot * FeatureLayout.width
    let reference = exercise.reference
    var worst: Float = 0
    var worstMeasure = -1
    var worstFurther = true
    var reached: Float = 0
    var weights: Float = 0
    for (k, scored) in exercise.measures.enumerated() {
      let c = scored.measure.column
      var error: Float
      var share: Float
      var further = true
      switch scored.measure {
      case .angle:
        let own = features[base + c] - (scored.relative ? baseline[c] : 0)
        let target = holdTargets[k].x - (scored.relative ? reference[0, c] : 0)
        error = abs(own - target)
        share = abs(target) > 1e-4 ? own / target : 1
        further = target >= 0 ? own < target : own > target
      case .bone:
        var u = SIMD3(features[base + c], features[base + c + 1], features[base + c + 2])
        let rest = SIMD3(reference[0, c], reference[0, c + 1], reference[0, c + 2])
        if scored.relative {
          let u0 = SIMD3(baseline[c], baseline[c + 1], baseline[c + 2])
          u = Quaternion.shortestArc(from: normalizeOrUp(u0), to: normalizeOrUp(rest)).act(on: u)
        }
        let target = holdTargets[k]
        error = atan2(length(cross(u, target)), dot(u, target))
        let span = atan2(length(cross(rest, target)), dot(rest, target))
        share = span > 1e-3 ? 1 - error / span : 1
      }
      if !error.isFinite { error = 0 }
      if !share.isFinite { share = 0 }
      reached += scored.weight * min(max(share, 0), 1.5)
      weights += scored.weight
      let tolerance = k < exercise.holdTolerances.count ? exercise.holdTolerances[k] : 0
      let severity = error / max(tolerance, 1e-6)
      if severity > worst {
        worst = severity
        worstMeasure = k
        worstFurther = further
      }
    }
    let progress = weights > 0 ? reached / weights : 0
    guard var state = hold else {
      if progress >= 0.25 {
        hold = HoldState(target: exercise.holdSeconds, held: 0, holding: false, why: nil)
        updateHold(slot: slot)
      }
      return
    }
    if holdEnded || progress < 1.0 / 6 {
      // Back towards the start: the hold is over; it shows as it ended until scored.
      holdEnded = true
      state.holding = false
      state.why = nil
      hold = state
      return
    }
    state.holding = worst <= 1
    if state.holding {
      holdWithin += exercise.frameTime
      state.held = min(state.target, max(0, holdWithin - exercise.holdRampSeconds / 2))
      state.why = nil
    } else if worstMeasure >= 0 {
      state.why = worstFurther ? holdWords[worstMeasure].further : holdWords[worstMeasure].back
    }
    hold = state
  }

  /// Scores a finished match from the ring buffer (`side`: for alternating sides, whether it
  /// is the mirror image's).
  private mutating func report(_ match: SubsequenceMatcher.Match, mirrored side: Bool? = nil) {
    let onOtherSide = side ?? false
    guard let take = frames(of: match, otherSide: onOtherSide) else { return }
    let length = take.count
    let result = scorer.score(
      take, frames: 0..<length, index: repetitions.count + 1,
      timeOffset: (firstTime ?? 0) + Double(forgottenFrames) * exercise.frameTime,
      frameOffset: match.start, mirrored: side ?? mirrored)
    repetitions.append(result)
    hold = nil
    holdEnded = false
    holdWithin = 0
    if side != nil {
      lastReported = match
      // Sides alternate: the other one is expected next.
      nextMirrored = !onOtherSide
    }
    // The next repetition starts where this one ended.
    onExpectedSide { $0.resetBaseline(slot: match.end % $0.capacity) }
  }
}
