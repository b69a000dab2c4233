import Foundation
import OnTrackEvaluation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

/// The live avatar's colours agree with the score: a correct performance read through a
/// camera's jitter is not painted as faults (what noise alone shows is allowed for, as the
/// score allows for it), and a real compensation still colours the part the cue names.
@Suite("Live colours")
struct LiveColourTests {
  /// Three repetitions of `id`'s reference by a simulated patient (`change` applied), as
  /// landmark frames with `jitter` metres of white noise per axis, streamed live. Returns the
  /// share of frames after the first repetition in which a bone the exercise watches is
  /// coloured beyond its tolerance, per bone, and the scored result.
  static func stream(
    _ id: String, jitter: Float, wander: Float = 0, gaps: (every: Double, lost: Double)? = nil,
    change: (inout PatientSimulator.Variation) -> Void = { _ in }
  ) throws -> (shares: [BodyBone: Double], result: TakeResult) {
    let exercise = try ScoringData.exercise(id)
    let take = try ScoringData.simulatedTake(of: exercise, seed: 7, change)
    let body = try BodyModel(skeleton: take.skeleton)
    var landmarks = ClipFeatures.landmarks(of: take, body: body)
    RobustnessSuite.addJitter(to: &landmarks, metres: jitter, seed: 41)
    // The frames a stream loses (the last `gaps.lost` seconds of every `gaps.every`) never
    // arrive.
    let times = landmarks.indices.map { Double($0) * take.frameTime }
    let kept = times.indices.filter { f in
      gaps.map { times[f].truncatingRemainder(dividingBy: $0.every) < $0.every - $0.lost } ?? true
    }
    if wander > 0 {
      RobustnessSuite.addWander(
        to: &landmarks, times: landmarks.indices.map { Double($0) * take.frameTime },
        metres: wander, correlationSeconds: RobustnessSuite.wanderSeconds, seed: 43)
    }
    var live = try StreamingScorer(exercise: exercise)
    var counted = 0
    var over = [Int](repeating: 0, count: FeatureLayout.bones.count)
    for f in kept {
      _ = live.push(landmarks: landmarks[f], at: times[f])
      guard !live.repetitions.isEmpty else { continue }
      counted += 1
      for (k, severity) in live.currentBoneSeverity.enumerated()
      where live.measuredBones[k] && severity > 1 {
        over[k] += 1
      }
    }
    live.finish()
    var shares: [BodyBone: Double] = [:]
    for (k, bone) in FeatureLayout.bones.enumerated() where live.measuredBones[k] {
      shares[bone] = Double(over[k]) / Double(max(counted, 1))
    }
    return (shares, live.result)
  }

  /// Every exercise but three (an alternating one on alternating sides). Left out: the hiding
  /// face, whose arms held in front of the face make the shoulders' abduction ill-defined and
  /// jitter it by about its tolerance (its arms 20 % of the frames); the pelvic tilt and the
  /// pelvis circles, which count a fourth and fifth repetition through 2 cm (README, "How
  /// robust the score is"). Before the tracker looked at the whole reference now and then
  /// (`StreamingScorer.searchInterval`), the scaption's arm was painted off in 17 % of the
  /// frames and the alternating bird-dog's limbs in 16 %.
  static let jitterColoured = RobustnessTests.all.filter {
    !["lbp-hiding-face", "lbp-pelvic-tilt", "lbp-pelvis-circles"].contains($0)
  }

  @Test(
    "a correct performance through 2 cm of jitter is not painted as faults",
    arguments: jitterColoured)
  func jitterIsNotAFault(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (shares, result) = try Self.stream(id, jitter: 0.02) {
      $0.alternatesSides = exercise.alternates
    }
    #expect(result.repetitions.count == 3)
    #expect((result.summary.meanScore ?? 0) >= 80, "\(id): \(result.summary)")
    for (bone, share) in shares {
      #expect(share <= 0.1, "\(id): \(bone) coloured off in \(Int(share * 100)) % of frames")
    }
  }

  @Test(
    "landmarks that wander 0.5 cm are not painted as keep-still faults; a trunk lean still is",
    arguments: ["uiprmd-m07-shoulder-abduction", "uiprmd-m09-shoulder-rotation"])
  func wanderIsNotAFault(id: String) throws {
    // Before the colours allowed for the wander the segments' lengths show (as the score
    // does, `SegmentWander`), the head was painted off in 71 and 63 % of the frames and the
    // pelvis in 33 and 84 %; now 43 and 28 %, 20 and 48 %. (The score scores these takes
    // 86/33/82 and 83/57/76: the least of a dozen spreads reads part of the wander.)
    let exercise = try ScoringData.exercise(id)
    let (shares, _) = try Self.stream(id, jitter: 0, wander: 0.005)
    for still in exercise.keepStill {
      for bone in still.measure.colouredBones where bone == .head || bone == .pelvis {
        let share = shares[bone] ?? 0
        #expect(share <= 0.55, "\(id): \(bone) coloured off in \(Int(share * 100)) % of frames")
      }
    }
    let (leaning, result) = try Self.stream(id, jitter: 0, wander: 0.005) {
      $0.trunkLeanDegrees = 25
    }
    // The lean tilts the trunk and the shoulder line with it: the cue names one of them,
    // and the part it names is coloured.
    let cues = result.repetitions.compactMap { $0.cues.first?.measure }
    #expect(cues.contains { $0.hasPrefix("trunk") || $0 == "shoulders" }, "\(cues)")
    let named: BodyBone = cues.contains { $0.hasPrefix("trunk") } ? .trunk : .shoulders
    #expect((leaning[named] ?? 0) >= 0.1, "\(named): \(leaning)")
  }

  @Test("a trunk lean still colours the trunk through the same jitter, and the cue names it")
  func leanIsStillCaught() throws {
    let (shares, result) = try Self.stream(
      "uiprmd-m07-shoulder-abduction", jitter: 0.02
    ) { $0.trunkLeanDegrees = 25 }
    #expect((shares[.trunk] ?? 0) >= 0.1, "\(shares)")
    let cues = result.repetitions.compactMap { $0.cues.first?.measure }
    #expect(cues.contains { $0.hasPrefix("trunk") }, "\(cues)")
  }

  /// A perfect performance of every bundled exercise (an alternating one on alternating
  /// sides), streamed live, is not painted off after its first repetition.
  /// - A reference that rests at its start for longer than the tracker's first look-ahead
  ///   (the low-back-pain exercises: up to a second) left the live tracker at its end from the
  ///   second repetition on: its moving parts painted off in 42–75 % of the frames (the glute
  ///   bridge's legs through every hold) and the progress bar full. The tracker now looks
  ///   back as far as the reference begins to move (`RepetitionFinding.referenceOnset`).
  /// - The starting posture was the frame the last repetition ended on; the shoulder rotation
  ///   and the straight leg raise end 2–5° from where they begin, so a patient who settled
  ///   back into the start during the rest had the pelvis and shoulders painted off in 81 and
  ///   42 % of the frames. It now follows the patient while the tracker sees the reference at
  ///   rest (`StreamingScorer.restingFrames`), and only while they are near it
  ///   (`followShare`): on an alternating exercise the side is decided after the next
  ///   repetition has begun, and the tracker, on the side expected until then, sees the
  ///   reference at rest while the patient is under way; without that guard the bird-dog's
  ///   arm and leg were painted off in 77 % of the frames.
  @Test("every bundled exercise is streamed in the tests below")
  func everyExerciseListed() {
    // The lists are read from the exercise folder: an empty one would run no case at all.
    #expect(RobustnessTests.all.count >= 25)
    #expect(Self.jitterColoured.count == RobustnessTests.all.count - 3)
  }

  /// A stream that loses 0.4 s of every 2.5 s (a network that stalls, a camera that loses the
  /// patient for a moment): the pipeline bridges each gap with a straight line
  /// (`GridResampler`), a guess at what the sensor did not see. Before the starting posture
  /// refused to follow those frames (`FeaturePipeline.bridged`), a bridge across the start of
  /// a repetition, which the tracker still saw as the reference's rest, moved the starting
  /// posture towards the movement, and the hurdle step's working leg was painted off through
  /// the rest of the repetition: 25 % of a perfect performance's frames.
  @Test(
    "a perfect performance through gaps in the stream is not painted off",
    arguments: RobustnessTests.all)
  func gapsAreNotFaults(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (shares, result) = try Self.stream(
      id, jitter: 0, gaps: (every: 2.5, lost: 0.4)
    ) { $0.alternatesSides = exercise.alternates }
    #expect(result.repetitions.count == 3)
    #expect((result.summary.meanScore ?? 0) >= 95, "\(id): \(result.summary)")
    for (bone, share) in shares {
      #expect(share <= 0.05, "\(id): \(bone) coloured off in \(Int(share * 100)) % of frames")
    }
  }

  @Test(
    "a perfect performance is not painted off from the second repetition on",
    arguments: RobustnessTests.all)
  func trackerFollowsEveryRepetition(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (shares, result) = try Self.stream(id, jitter: 0) {
      $0.alternatesSides = exercise.alternates
    }
    #expect(result.repetitions.count == 3)
    if exercise.alternates {
      #expect(result.repetitions.map(\.mirrored) == [false, true, false])
    }
    for (bone, share) in shares {
      #expect(share <= 0.05, "\(id): \(bone) coloured off in \(Int(share * 100)) % of frames")
    }
    // The progress runs through each repetition again (after the first and the second).
    let take = try ScoringData.simulatedTake(of: exercise, seed: 7) {
      $0.alternatesSides = exercise.alternates
    }
    let body = try BodyModel(skeleton: take.skeleton)
    var live = try StreamingScorer(exercise: exercise)
    var lowest: [Float] = []
    for (f, frame) in ClipFeatures.landmarks(of: take, body: body).enumerated() {
      _ = live.push(landmarks: frame, at: Double(f) * take.frameTime)
      let k = live.repetitions.count
      while lowest.count <= k { lowest.append(.infinity) }
      lowest[k] = min(lowest[k], live.progress)
    }
    #expect(lowest.count >= 3)
    for (k, progress) in lowest.enumerated().dropFirst().prefix(2) {
      #expect(progress <= 0.2, "\(id): after repetition \(k) the progress stays at \(progress)")
    }
  }
}
