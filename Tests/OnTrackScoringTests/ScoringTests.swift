import AllocationCounter
import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

@testable import OnTrackScoring

@Suite("Scoring takes")
struct ScoringTests {
  @Test("ten consecutive squats are found, each within a third of a second of its true bounds")
  func findsRepetitions() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let (take, starts) = try ScoringData.continuousTake(movement: 1, subject: 2, episodes: 1...10)
    let result = try TakeScorer(exercise: exercise).score(take)
    #expect(result.repetitions.count == 10)
    for (k, rep) in result.repetitions.prefix(10).enumerated() {
      #expect(abs(rep.startTime - Double(starts[k]) / 30) < 0.34, "rep \(k + 1) start")
      #expect(abs(rep.endTime - Double(starts[k + 1] - 1) / 30) < 0.34, "rep \(k + 1) end")
    }
    #expect((result.summary.meanScore ?? 0) > 60)
  }

  @Test(
    "streaming frame by frame gives exactly the offline result, reps reported promptly",
    arguments: [(1, 3), (7, 7), (9, 10)])
  func streamingEqualsOffline(movement: Int, subject: Int) throws {
    let id = try FileManager.default.contentsOfDirectory(atPath: ScoringData.exercises.path)
      .first {
        $0.hasPrefix("uiprmd-m\(UIPRMDReader.twoDigits(movement))-") && $0.hasSuffix(".json")
      }
    let exercise = try ScoringData.exercise(String(try #require(id).dropLast(5)))
    let (take, _) = try ScoringData.continuousTake(
      movement: movement, subject: subject, episodes: 1...6)
    let offline = try TakeScorer(exercise: exercise).score(take)
    let (streaming, completedAt) = try ScoringData.streamLive(take, exercise: exercise)
    #expect(streaming.result == offline)
    #expect(offline.repetitions.count >= 5)
    // The side of a unilateral exercise is decided after one reference length of motion; a
    // repetition that ends before that is reported at the decision.
    let decision = Double(exercise.reference.count) * exercise.frameTime
    for (rep, frame) in zip(streaming.repetitions, completedAt) {
      let delay = Double(frame) * take.frameTime - rep.endTime
      #expect(
        delay <= 0.5 || Double(frame) * take.frameTime <= decision + 0.1,
        "repetition \(rep.index) reported \(delay) s after its end")
    }
  }

  /// Subject 5's incorrect inline lunges are slower than the reference and unlike it: the
  /// finder's strict test (per reference frame) found three of the ten; the loose matches
  /// (`SubsequenceMatcher.looseShare`, each a whole movement out and back) find eight or more,
  /// none extra, live as offline, each reported within two reference lengths of its end.
  @Test("slow incorrect lunges are counted, live as offline")
  func slowIncorrectRepetitionsCounted() throws {
    let exercise = try ScoringData.exercise("uiprmd-m03-inline-lunge")
    let (take, _) = try ScoringData.continuousTake(
      movement: 3, subject: 5, episodes: 1...10, correct: false)
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect((8...10).contains(offline.repetitions.count), "\(offline.repetitions.count)")
    let (streaming, completedAt) = try ScoringData.streamLive(take, exercise: exercise)
    #expect(streaming.result == offline)
    let bound = 2 * Double(exercise.reference.count) * exercise.frameTime + 0.5
    for (rep, frame) in zip(streaming.repetitions, completedAt) {
      let delay = Double(frame) * take.frameTime - rep.endTime
      #expect(delay <= bound, "repetition \(rep.index) reported \(delay) s after its end")
    }
  }

  /// What keeps fragments out of the loose matches (`RepetitionFinding.accepts` with
  /// `loose`): the reference itself, out and back, is a repetition; its way out alone (to
  /// the frame where it is furthest from its start) moves as much but does not come back,
  /// and is refused.
  @Test(
    "a loose match must come back: the reference passes, its way out alone does not",
    arguments: ["uiprmd-m01-deep-squat", "uiprmd-m07-shoulder-abduction", "lbp-glute-bridge"])
  func looseMatchMustComeBack(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let finding = RepetitionFinding(exercise: exercise)
    let reference = exercise.reference
    var furthest = 0
    var reach = -1.0
    var scratch = MovementScratch(frames: reference.count)
    reference.values.withUnsafeBufferPointer { all in
      let width = reference.width
      var rest = [Float](repeating: 0, count: FeatureLayout.measureWidth)
      rest.withUnsafeMutableBufferPointer { r in
        RepetitionFinding.accumulateRest(
          r, frame: UnsafeBufferPointer(rebasing: all[0..<width]), n: 1)
        for k in 0..<reference.count {
          let d = finding.reach(
            UnsafeBufferPointer(rebasing: all[(k * width)..<((k + 1) * width)]),
            rest: UnsafeBufferPointer(r))
          if d > reach {
            reach = d
            furthest = k
          }
        }
      }
    }
    func accepts(_ count: Int, loose: Bool) -> Bool {
      reference.values.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return false }
        return finding.accepts(
          count: count, frame: { base + $0 * reference.width }, loose: loose, scratch: &scratch)
      }
    }
    #expect(accepts(reference.count, loose: true), "\(id): the whole reference")
    #expect(furthest > reference.count / 5, "\(id): furthest at \(furthest)")
    #expect(!accepts(furthest + 1, loose: true), "\(id): its way out")
    // Not loose, the same way out is judged by the matcher's cost alone (it moves).
    #expect(accepts(furthest + 1, loose: false), "\(id): its way out, strict")
  }

  /// A loose match's end seen in part (the camera sees the trunk and no legs for its last
  /// 12 frames, 0.4 s): the measures seen at both ends stand for the others
  /// (`RepetitionFinding.endGap`). The deep squat's way down, its trunk still leaning forward
  /// at the end, is refused; the whole squat, its trunk upright again, is accepted. Before,
  /// an unseen measure's stale value was read as where it ended, and the way down passed.
  @Test("a loose match seen only in part at its end is judged on what is seen")
  func looseMatchUnseenAtEnd() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let finding = RepetitionFinding(exercise: exercise)
    let reference = exercise.reference
    let width = reference.width
    var scratch = MovementScratch(frames: reference.count)
    let deepest = try #require(
      (0..<reference.count).max { a, b in
        reference.values[a * width + BodyMeasure.angle(.leftKneeFlexion).column]
          < reference.values[b * width + BodyMeasure.angle(.leftKneeFlexion).column]
      })
    func accepts(_ count: Int) -> Bool {
      var values = reference.values
      // Unseen as the pipeline marks it: the noise column NaN, the value a stale one (here
      // the starting posture's, as if the legs had never left it).
      for scored in exercise.measures where scored.measure != .angle(.trunkFlexion) {
        let c = scored.measure.column
        for k in max(0, count - 12)..<count {
          values[k * width + scored.measure.noiseColumn] = .nan
          for d in 0..<(scored.measure.isBone ? 3 : 1) { values[k * width + c + d] = values[c + d] }
        }
      }
      return values.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return false }
        return finding.accepts(
          count: count, frame: { base + $0 * width }, loose: true, scratch: &scratch)
      }
    }
    #expect(deepest > reference.count / 5 && deepest < reference.count * 4 / 5)
    #expect(!accepts(deepest + 1), "the way down")
    #expect(accepts(reference.count), "the whole squat")
  }

  @Test("a left-limbed performer is compared with the mirrored reference, a right-limbed one not")
  func automaticMirroring() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    #expect(exercise.workingSide == .right)
    let left = try TakeScorer(exercise: exercise).score(
      try ScoringData.kinect(movement: 7, subject: 10, episode: 4))
    let right = try TakeScorer(exercise: exercise).score(
      try ScoringData.kinect(movement: 7, subject: 4, episode: 4))
    #expect(left.mirrored && !right.mirrored)
    #expect(left.repetitions.first?.measures.first?.measure == "leftShoulderAbduction")
    #expect((left.repetitions.first?.score ?? 0) > 60 && (right.repetitions.first?.score ?? 0) > 60)
  }

  @Test(
    "a Kinect take scores against the canonical-skeleton reference: good high, faulty low, with cues"
  )
  func crossRigScoring() throws {
    let exercise = try ScoringData.exercise("uiprmd-m10-shoulder-scaption")
    #expect(exercise.referenceClip?.skeleton.joints[0].name == "Hips")
    var good: [Double] = []
    var faulty: [Double] = []
    var cues: [String] = []
    for episode in 1...5 {
      good += try TakeScorer(exercise: exercise).score(
        ScoringData.kinect(movement: 10, subject: 5, episode: episode)
      ).repetitions.map(\.score)
      let bad = try TakeScorer(exercise: exercise).score(
        ScoringData.kinect(movement: 10, subject: 5, episode: episode, correct: false))
      faulty += bad.repetitions.map(\.score)
      cues += bad.repetitions.flatMap(\.cues).map(\.text)
    }
    #expect(good.count == 5 && faulty.count == 5)
    #expect(good.min()! > faulty.max()!)
    #expect(cues.contains { $0.contains("arm") || $0.contains("trunk") || $0.contains("head") })
  }

  @Test("a take at another frame rate is resampled: same repetitions, scores within a few points")
  func otherFrameRate() throws {
    let exercise = try ScoringData.exercise("uiprmd-m05-sit-to-stand")
    let (take, _) = try ScoringData.continuousTake(movement: 5, subject: 6, episodes: 1...4)
    let a = try TakeScorer(exercise: exercise).score(take)
    let b = try TakeScorer(exercise: exercise).score(take.resampled(frameRate: 90))
    #expect(a.repetitions.count == b.repetitions.count && a.repetitions.count >= 3)
    for (x, y) in zip(a.repetitions, b.repetitions) {
      #expect(abs(x.score - y.score) < 8, "\(x.score) vs \(y.score)")
      #expect(abs(x.startTime - y.startTime) < 0.1)
    }
  }

  @Test("a still take, and a one-frame take, have no repetitions")
  func noMovement() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let clip = try ScoringData.kinect(movement: 1, subject: 1, episode: 1)
    let still = try Clip(
      skeleton: clip.skeleton, frameTime: clip.frameTime,
      rotations: Array(
        (0..<200).map { _ in Array(clip.rotations[0..<clip.skeleton.count]) }.joined()),
      translations: Array(
        (0..<200).map { _ in Array(clip.translations[0..<clip.skeleton.count]) }.joined()))
    #expect(try TakeScorer(exercise: exercise).score(still).repetitions.isEmpty)
    #expect(
      try TakeScorer(exercise: exercise).score(clip.trimmed(frames: 0..<1)).repetitions.isEmpty)
  }

  @Test("a take whose rig lacks limbs is refused, naming what is missing")
  func unknownRig() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let skeleton = try Skeleton(joints: [
      .init(name: "Root", parent: nil, offset: .zero, channels: [.xRotation]),
      .init(name: "Tail", parent: 0, offset: [0, 0, -1], channels: [.xRotation]),
    ])
    let clip = try Clip(
      skeleton: skeleton, frameTime: 0.1, rotations: [.identity, .identity],
      translations: [.zero, [0, 0, -1]])
    #expect(throws: BodyModelError.self) { try TakeScorer(exercise: exercise).score(clip) }
    #expect(throws: BodyModelError.self) {
      try StreamingScorer(exercise: exercise, skeleton: skeleton)
    }
  }

  @Test(
    "the streaming scorer rejects frames out of order and allocates nothing between repetitions")
  func streamingRobustness() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    let (take, _) = try ScoringData.continuousTake(movement: 7, subject: 3, episodes: 1...3)
    var streaming = try StreamingScorer(exercise: exercise, skeleton: take.skeleton)
    var pose = take.skeleton.restPose
    var allocations: UInt64 = 0
    var checkedFrames = 0
    for f in 0..<take.frameCount {
      take.copyFrame(f, into: &pose)
      let before = ontrack_thread_allocation_count()
      let update = streaming.push(pose: pose, at: Double(f) / 30)
      let after = ontrack_thread_allocation_count()
      // The decision frame replays the buffer and a finished repetition allocates its report.
      if update.completedRepetitions == 0 && f > exercise.reference.count + 2 {
        allocations += after - before
        checkedFrames += 1
      }
    }
    #expect(checkedFrames > 100)
    #expect(allocations == 0, "\(allocations) allocations over \(checkedFrames) frames")
    take.copyFrame(0, into: &pose)
    #expect(!streaming.push(pose: pose, at: 0.5).accepted)
    #expect(streaming.rejectedFrames == 1)
    #expect(streaming.currentBoneErrors.allSatisfy { $0.isFinite && $0 >= 0 })
  }
}
