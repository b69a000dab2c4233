import Foundation
import OnTrackEvaluation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

/// Metamorphic relations every bundled exercise's score must keep (`RobustnessSuite`: three
/// repetitions of its own reference by a simulated patient, one change at a time).
@Suite("Robustness of the score")
struct RobustnessTests {
  static let all: [String] = {
    ((try? FileManager.default.contentsOfDirectory(atPath: ScoringData.exercises.path)) ?? [])
      .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }()
  /// The UI-PRMD movements: every relation.
  static let ids = all.filter { !$0.hasPrefix("lbp-") }
  /// The low-back-pain library: the relations that hold for it (README, "The low-back-pain
  /// library", lists the ones that do not yet and why).
  static let backPain = all.filter { $0.hasPrefix("lbp-") }

  /// Runs the suite on exercise `id` and checks what every exercise must keep: three
  /// repetitions performed perfectly score ≥ 95; sensor noise on a correct performance keeps
  /// the count and costs at most 5 points at 1°; 1 cm of jitter from a slower sensor costs at
  /// most 20 points more than at the reference's rate; a patient who waits, still, several
  /// seconds before each repetition keeps the count and the score, on either side, and the
  /// count through 1 cm of landmark jitter; a tilted camera keeps the count and about the
  /// score.
  static func runWithCommonRelations(_ id: String) throws -> (Exercise, RobustnessSuite.Row) {
    let exercise = try ScoringData.exercise(id)
    let row = try RobustnessSuite.run(exercise)
    let n = RobustnessSuite.repetitions
    let perfect = row.perfect.meanScore
    #expect(row.perfect.repetitions == n)
    #expect(perfect >= 95)
    for (level, outcome) in row.whiteNoise {
      #expect(outcome.repetitions == n, "white noise \(level)°")
    }
    // Landmarks that wander smoothly (0.5 and 1 cm, 0.3 s) hold no repetition and lose none;
    // not the pelvis circles at 1 cm, whose 4.5 cm circle the wander splits (README, "How
    // robust the score is").
    for (level, outcome) in row.wander where level < 1 || id != "lbp-pelvis-circles" {
      #expect(outcome.repetitions == n, "wander \(level) cm: \(outcome)")
    }
    #expect(row.wander.count == RobustnessSuite.wanderLevels.count)
    #expect(try #require(row.whiteNoise[1]).meanScore >= perfect - 5)
    // A sensor slower than the reference jitters no more for it: 1 cm at 15 or 10 frames a
    // second costs about what it costs at the reference's rate (before the noise was read on
    // the input's own frames, a fifth of it was seen at 15 Hz and scores fell by up to 80).
    let jitter = try #require(row.jitter[1]).meanScore
    for (rate, outcome) in row.slowSensor {
      #expect(
        outcome.meanScore >= jitter - 20,
        "1 cm at \(rate) Hz: \(outcome) (at the reference's rate \(jitter))")
    }
    // Waiting before moving: the side is judged on the movement (before, a wait of 2 s or more
    // made the hurdle step and the scaption be judged on the other side: no repetition).
    #expect(row.wait.repetitions == n, "wait: \(row.wait)")
    #expect(row.wait.meanScore >= perfect - 5, "wait: \(row.wait)")
    #expect(row.waitOtherSide.repetitions == n, "wait, other side: \(row.waitOtherSide)")
    #expect(
      abs(row.waitOtherSide.meanScore - row.mirrored.meanScore) <= 5,
      "wait, other side: \(row.waitOtherSide), mirrored: \(row.mirrored)")
    // A rest seen through jitter holds no repetition (before 2026-12-03: a fourth to a tenth
    // found in the rests of nine exercises, the pelvis circles counting 10 of 3).
    #expect(row.waitJittered.repetitions == n, "wait, 1 cm: \(row.waitJittered)")
    // A camera looking 15° down or up (and rolled 5°) is levelled: the count and about the
    // score of 1 cm of jitter alone (before 2026-12-03, 10° of pitch found no repetition of
    // the pelvic tilt or the pelvis circles, 20° took the shoulder exercises to about 50).
    for (pitch, outcome) in row.cameraTilt {
      #expect(outcome.repetitions == n, "camera pitched \(pitch)°: \(outcome)")
      #expect(
        outcome.meanScore >= jitter - 15,
        "camera pitched \(pitch)°: \(outcome) (untilted, 1 cm: \(jitter))")
    }
    #expect(row.cameraTilt.count == RobustnessSuite.cameraTilts.count)
    // A camera on its side, for an exercise that starts standing: levelled like a tilted one
    // (before 2026-12-04 levelling stopped at 60° and no repetition was found). The count
    // within one: the jitter falls on other axes than the upright camera's, and the pelvis
    // circles' 4.5 cm circle is split by 1 cm of jitter in some patients upright too (README,
    // "How robust the score is").
    if exercise.levelling?.referenceStands == true {
      let side = try #require(row.cameraOnItsSide)
      #expect(abs(side.repetitions - n) <= 1, "camera on its side: \(side)")
      #expect(side.meanScore >= jitter - 15, "camera on its side: \(side) (upright: \(jitter))")
    } else {
      #expect(row.cameraOnItsSide == nil)
    }
    // Another sensor's joint centres (hips 5 cm up and 2 cm out, shoulders 3 cm in, knees
    // 3 cm in): the count and a fair score. Before an angle's differences were counted by how
    // well it is defined there (`BodyAngle.conditioning`, 2026-12-04), the hiding face scored
    // 13: its arms pass straight forward, where a frontal-plane abduction is undefined.
    let centres = try #require(row.jointCentres)
    #expect(centres.repetitions == n, "other joint centres: \(centres)")
    #expect(centres.meanScore >= 70, "other joint centres: \(centres)")
    return (exercise, row)
  }

  @Test(
    "the low-back-pain exercises keep their scores under noise, slow tempo and less range",
    arguments: backPain)
  func backPainRelations(id: String) throws {
    let (exercise, row) = try Self.runWithCommonRelations(id)
    let n = RobustnessSuite.repetitions
    let perfect = row.perfect.meanScore
    #expect(try #require(row.whiteNoise[3]).meanScore >= 95)
    // Landmark jitter: a still part that wanders with the noise is not a fault.
    for level in [1.0, 2.0] {
      #expect(try #require(row.jitter[level]).repetitions == n, "jitter \(level) cm")
    }
    #expect(try #require(row.jitter[1]).meanScore >= 90)
    #expect(try #require(row.jitter[2]).meanScore >= 80)
    // Slower: the same count and score (a hold held longer is no fault).
    for tempo in [1.5, 2.0, 2.5] {
      let outcome = try #require(row.tempo[tempo])
      #expect(outcome.repetitions == n, "tempo \(tempo)×")
      #expect(outcome.meanScore >= 90, "tempo \(tempo)×")
    }
    // Faster, down to 40 % of the reference's time: the same count, and the same score where
    // there is no hold; with a hold, a faster performance holds for less time and must score
    // lower.
    for tempo in [0.4, 0.6] {
      let fast = try #require(row.tempo[tempo])
      #expect(fast.repetitions == n, "tempo \(tempo)×")
      if exercise.holdSeconds > 0 {
        #expect(fast.meanScore < perfect - 15, "a hold shortened to \(tempo)×")
      } else {
        #expect(fast.meanScore >= 90, "tempo \(tempo)×")
      }
    }
    // The other side (or, for the two-sided ones, the other side first; for a circle, the
    // other way round): the same count and score.
    #expect(row.mirrored.repetitions == n)
    #expect(abs(row.mirrored.meanScore - perfect) <= 6)
    let ranges = [perfect] + RobustnessSuite.ranges.compactMap { row.range[$0]?.meanScore }
    #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0 >= $1 }, "range scores \(ranges)")
    #expect(try #require(row.range[0.4]).meanScore < perfect - 10)
  }

  @Test(
    "noise, tempo, mirroring, less range, compensation and posture move the score as they should",
    arguments: ids)
  func relations(id: String) throws {
    let (exercise, row) = try Self.runWithCommonRelations(id)
    let n = RobustnessSuite.repetitions
    let perfect = row.perfect.meanScore
    #expect(try #require(row.whiteNoise[2]).meanScore >= perfect - 15)
    #expect(try #require(row.whiteNoise[3]).meanScore >= 95)
    #expect(try #require(row.drift[1]).meanScore >= 80)
    #expect(try #require(row.drift[1]).repetitions == n)
    // Landmark jitter: a small drop only.
    for level in [1.0, 2.0] {
      #expect(try #require(row.jitter[level]).repetitions == n, "jitter \(level) cm")
    }
    #expect(try #require(row.jitter[1]).meanScore >= 90)
    #expect(try #require(row.jitter[2]).meanScore >= 85)
    #expect(try #require(row.jitter[3]).meanScore >= 70)
    // Tempo from 0.4× to 2.5×: one repetition per repetition, a bounded effect on the score
    // (at 0.4×, 2.5 times as fast as shown, "slow down" costs up to 25 points).
    for (tempo, outcome) in row.tempo {
      #expect(outcome.repetitions == n, "tempo \(tempo)×")
      #expect(outcome.meanScore >= (tempo < 0.5 ? 70 : 80), "tempo \(tempo)×")
    }
    // The other side: the same score.
    #expect(row.mirrored.repetitions == n)
    #expect(abs(row.mirrored.meanScore - perfect) <= 6)
    // Less range: lower, monotonically.
    let ranges = [perfect] + RobustnessSuite.ranges.compactMap { row.range[$0]?.meanScore }
    #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0 > $1 }, "range scores \(ranges)")
    // A compensation growing with the movement: lower, monotonically, and low when large.
    let leans = [perfect] + RobustnessSuite.leans.compactMap { row.compensation[$0]?.meanScore }
    #expect(zip(leans, leans.dropFirst()).allSatisfy { $0 > $1 }, "lean scores \(leans)")
    #expect(try #require(row.compensation[20]).meanScore <= 50)
    // A posture held wrong all along (the trunk bent 25°) is caught where posture is checked.
    if !exercise.postures.isEmpty {
      #expect(row.stooped.meanScore < 50, "stooped \(row.stooped)")
    }
  }

  /// Arms held straight forward, as the hiding face begins: a frontal-plane abduction is
  /// undefined there, and a sensor whose shoulder joints sit 3 cm further in than the
  /// reference's reads 150° instead of 180° from a 6° difference in the arm's direction. Such
  /// a sensor, on a perfect performance, costs little and is not told to open the arms (before
  /// `BodyAngle.conditioning`: 13, "Open your arms wider, out to the sides").
  @Test("another sensor's shoulder centres cost little where the arms point forward")
  func shoulderCentresArmsForward() throws {
    let exercise = try ScoringData.exercise("lbp-hiding-face")
    let take = try ScoringData.simulatedTake(of: exercise, seed: 11)
    let body = try BodyModel(skeleton: take.skeleton)
    let times = (0..<take.frameCount).map { Double($0) * take.frameTime }
    let scorer = TakeScorer(exercise: exercise)
    let own = scorer.score(landmarks: ClipFeatures.landmarks(of: take, body: body), times: times)
    var moved = ClipFeatures.landmarks(of: take, body: body)
    for f in moved.indices {
      let across = normalize(moved[f][.leftShoulder] - moved[f][.rightShoulder])
      moved[f][.leftShoulder] -= across * 0.03
      moved[f][.rightShoulder] += across * 0.03
    }
    let other = scorer.score(landmarks: moved, times: times)
    #expect(own.repetitions.count == 3 && other.repetitions.count == 3)
    let before = try #require(own.summary.meanScore)
    let after = try #require(other.summary.meanScore)
    #expect(after >= before - 10, "own \(before), another sensor's shoulders \(after)")
    let cues = other.repetitions.flatMap(\.cues).map(\.text)
    #expect(!cues.contains { $0.contains("Open your arms") }, "\(cues)")
  }

  /// A patient 2.5 times as fast as the reference (40 % of its time, 1 s rests): the primary
  /// matcher cannot see these repetitions, the fast one must, live as offline, without
  /// waiting long to report them (`RepetitionMatcher`).
  /// Not one simulated patient but six (seeds 1…6; the tables use seed 11): the changes that
  /// keep every repetition and that the scorer counts exactly for one patient must be counted
  /// exactly for each of them — perfect, 1° of noise, every tempo from 0.4× to 2.5×, the other
  /// side, 80 % of the range. (The noisier changes miscount some takes: README, "How robust
  /// the score is", `ontrack eval robustness --seeds 12`.)
  @Test("every simulated patient's repetitions are counted exactly", arguments: all)
  func countingOverPatients(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let n = RobustnessSuite.repetitions
    for seed in UInt64(1)...6 {
      let row = try RobustnessSuite.run(exercise, seed: seed)
      var outcomes = [("perfect", row.perfect), ("mirrored", row.mirrored)]
      outcomes.append(("noise 1°", try #require(row.whiteNoise[1])))
      outcomes.append(("range 80 %", try #require(row.range[0.8])))
      for tempo in RobustnessSuite.tempi {
        outcomes.append(("tempo \(tempo)×", try #require(row.tempo[tempo])))
      }
      for (change, outcome) in outcomes {
        #expect(outcome.repetitions == n, "\(id), patient \(seed), \(change)")
      }
    }
  }

  /// A patient who stands still for a while before each repetition, on the other side: the
  /// side is judged once they move, live as offline (before, it was judged on the first
  /// reference length of frames, the wait, and a wait of 2 s lost every repetition of the
  /// hurdle step and the scaption), and the repetitions start when the movement does.
  @Test(
    "a wait before moving does not decide the side, live as offline",
    arguments: [
      "uiprmd-m02-hurdle-step", "uiprmd-m10-shoulder-scaption", "lbp-lateral-tilt",
      "lbp-glute-bridge",
    ])
  func waitBeforeMoving(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let reference = try #require(exercise.referenceClip)
    for otherSide in [false, true] {
      var variation = PatientSimulator.Variation()
      variation.restSeconds = 5
      variation.otherSide = otherSide
      var simulator = PatientSimulator(reference: reference, variation: variation, seed: 3)
      let take = try simulator.take(repetitions: 3)
      let offline = try TakeScorer(exercise: exercise).score(take)
      #expect(offline.repetitions.count == 3, "\(id), other side \(otherSide)")
      #expect(
        offline.mirrored == (otherSide && exercise.hasSideToDecide),
        "\(id), other side \(otherSide)")
      for rep in offline.repetitions {
        #expect(rep.score >= 90, "\(id), other side \(otherSide): \(rep.score)")
        // Each repetition begins after its wait (5 s, then a cycle later), give or take.
        let begins = Double(rep.index - 1) * simulator.cycleSeconds + variation.restSeconds
        #expect(abs(rep.startTime - begins) < 0.5, "\(id): starts at \(rep.startTime)")
      }
      let (live, _) = try ScoringData.streamLive(take, exercise: exercise)
      #expect(live.result == offline, "\(id), other side \(otherSide)")
    }
  }

  @Test(
    "repetitions in 40 % of the reference's time are counted live as offline, promptly",
    arguments: [
      "uiprmd-m01-deep-squat", "uiprmd-m07-shoulder-abduction", "lbp-knee-to-chest",
      "lbp-bird-dog", "lbp-lateral-tilt", "lbp-cat-camel",
    ])
  func fastRepetitionsLive(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let reference = try #require(exercise.referenceClip)
    var variation = PatientSimulator.Variation()
    variation.tempo = 0.4
    var simulator = PatientSimulator(reference: reference, variation: variation, seed: 7)
    let take = try simulator.take(repetitions: 4)
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect(offline.repetitions.count == 4, "\(id): \(offline.repetitions.count)")
    let (live, frames) = try ScoringData.streamLive(take, exercise: exercise)
    let reportedAt = frames.map { Double($0) * take.frameTime }
    #expect(live.result == offline, "\(id)")
    // Reported while the next repetition or the one after is performed (a fast one waits
    // until the primary matcher's paths through it run out; the last one may wait for the
    // stream's end), or, where the side is decided one reference length after the movement
    // began, at that decision.
    let cycle = simulator.cycleSeconds
    let decision = Double(exercise.reference.count) * exercise.frameTime
    for (rep, time) in zip(live.repetitions.dropLast(), reportedAt) {
      #expect(
        time - rep.endTime <= 2 * cycle || time <= decision + 0.1,
        "\(id): repetition \(rep.index) reported \(time - rep.endTime) s after its end")
    }
  }

  /// A patient who rests several seconds between repetitions in front of a jittery camera: a
  /// warping path through the rest picks, frame by frame, the jitter that leans the
  /// reference's way, and passed the cost test as a repetition scoring 0–35 (or, on the
  /// smallest movements, 80). Every match must now move beyond what the noise alone shows
  /// (`RepetitionFinding.movesBeyondNoise`), live as offline; the real repetitions still
  /// count, each beginning at most a second before its movement or after the reference's own
  /// lead-in (where the reference starts still, jitter leaves where it begins open). (Not the
  /// pelvis circles: their 4.5 cm circle is close enough to 1 cm of jitter that some rests
  /// still pass for a circle; README, "How robust the score is".)
  @Test(
    "a rest seen through landmark jitter holds no repetition, live as offline",
    arguments: [
      "lbp-cat-camel", "lbp-knee-rolls", "lbp-glute-bridge", "lbp-press-up", "lbp-squat",
      "lbp-trunk-rotation", "uiprmd-m03-inline-lunge", "uiprmd-m09-shoulder-rotation",
    ])
  func restThroughJitter(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let reference = try #require(exercise.referenceClip)
    var variation = PatientSimulator.Variation()
    variation.restSeconds = 6
    var simulator = PatientSimulator(reference: reference, variation: variation, seed: 3)
    let take = try simulator.take(repetitions: 3)
    let (landmarks, times) = try ScoringData.landmarks(of: take, jitter: 0.01, seed: 41)
    let offline = TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times)
    #expect(
      offline.repetitions.count == 3,
      "\(id): \(offline.repetitions.map { ($0.startTime, $0.endTime, $0.score) })")
    let leadIn = Double(RepetitionFinding(exercise: exercise).referenceOnset) * exercise.frameTime
    for rep in offline.repetitions {
      let begins = Double(rep.index - 1) * simulator.cycleSeconds + variation.restSeconds
      #expect(
        rep.startTime > begins - 1 && rep.startTime < begins + leadIn + 1,
        "\(id): starts at \(rep.startTime), the movement at \(begins) (lead-in \(leadIn) s)")
    }
    let live = try ScoringData.streamLive(landmarks: landmarks, times: times, exercise: exercise)
    #expect(live.result == offline, "\(id)")
  }

  /// A patient who stands still, listening, for longer than a live stream holds (twice it and
  /// more: 17 s on the UI-PRMD exercises, 78 s on the lateral tilt and the trunk rotation)
  /// before working the other side (or starting on it): the wait is forgotten and the side
  /// judged on the movement, live as offline (before, the side was decided on the wait — the
  /// reference's — and not one repetition of the hurdle step, the leg raise or the scaption
  /// was found; and on the lateral tilt 1 cm of jitter alone began the movement).
  @Test(
    "a wait longer than the live buffer is forgotten, live as offline",
    arguments: [
      "uiprmd-m02-hurdle-step", "uiprmd-m06-straight-leg-raise", "uiprmd-m10-shoulder-scaption",
      "lbp-lateral-tilt", "lbp-trunk-rotation",
    ])
  func longWaitOtherSide(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let reference = try #require(exercise.referenceClip)
    var variation = PatientSimulator.Variation()
    variation.otherSide = true
    var simulator = PatientSimulator(reference: reference, variation: variation, seed: 3)
    let take = try simulator.take(repetitions: 3)
    let buffer = Double(RepetitionFinding(exercise: exercise).bufferFrames) * exercise.frameTime
    let wait = (2 * buffer + 5).rounded()
    let (landmarks, times) = try ScoringData.landmarks(
      of: take, waitingFirst: wait, jitter: 0.01, seed: 43)
    let offline = TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times)
    #expect(offline.mirrored, "\(id)")
    #expect(offline.repetitions.count == 3, "\(id): \(offline.repetitions.count)")
    for rep in offline.repetitions {
      #expect(rep.score >= 80, "\(id): \(rep.score)")
      let begins = wait + Double(rep.index - 1) * simulator.cycleSeconds + variation.restSeconds
      #expect(abs(rep.startTime - begins) < 1, "\(id): starts at \(rep.startTime), not \(begins)")
    }
    let live = try ScoringData.streamLive(landmarks: landmarks, times: times, exercise: exercise)
    #expect(live.result == offline, "\(id)")
  }

  /// A patient whose range is a third of the reference's never reaches the onset of the
  /// movement (`RepetitionFinding.onsetShare`): a buffer of such repetitions moved, and is
  /// not a wait to forget (`forgettingWaits`); every repetition is counted, live as offline.
  @Test(
    "repetitions with a third of the range, for longer than the live buffer, are not a wait",
    arguments: ["uiprmd-m02-hurdle-step", "uiprmd-m07-shoulder-abduction"])
  func smallRangeIsNoWait(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let reference = try #require(exercise.referenceClip)
    var variation = PatientSimulator.Variation()
    variation.range = 0.35
    var simulator = PatientSimulator(reference: reference, variation: variation, seed: 3)
    let take = try simulator.take(repetitions: 10)
    #expect(
      take.duration > 1.2 * Double(RepetitionFinding(exercise: exercise).bufferFrames)
        * exercise.frameTime)
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect(offline.repetitions.count == 10, "\(id): \(offline.repetitions.count)")
    let (live, _) = try ScoringData.streamLive(take, exercise: exercise)
    #expect(live.result == offline, "\(id)")
  }
}
