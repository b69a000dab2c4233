import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackKinematics
import OnTrackSimulation
import Testing

@testable import OnTrackScoring

/// The low-back-pain library: authored references that are what the code builds, lie on the
/// floor and not through it, score as a reference should, and catch the fault each exercise is
/// about with the right words.
@Suite("Low-back-pain library")
struct BackPainLibraryTests {
  static let ids = BackPainLibrary.exercises.map(\.id)

  static func world(_ clip: Clip, frame: Int) -> [SIMD3<Float>] {
    var pose = clip.skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
    clip.copyFrame(frame, into: &pose)
    ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
    return world.map(\.translation)
  }

  @Test("every exercise is bundled, and its BVH is what the authoring code builds", arguments: ids)
  func bundledAsBuilt(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let built = try library.motion().clip()
    let bundled = try BVHReader().read(
      contentsOf: ScoringData.exercises.appendingPathComponent(id + ".bvh"))
    #expect(bundled.frameCount == built.frameCount)
    var worst: Float = 0
    for f in stride(from: 0, to: min(bundled.frameCount, built.frameCount), by: 5) {
      for (a, b) in zip(Self.world(bundled, frame: f), Self.world(built, frame: f)) {
        worst = max(worst, length(a - b))
      }
    }
    #expect(
      worst < 0.002, "\(id): joints differ by \(worst) m: run ontrack exercises author-backpain")
    let exercise = try ScoringData.exercise(id)
    #expect(exercise.holdSeconds == library.hold)
    #expect(!(exercise.definition.description ?? "").isEmpty)
    #expect((exercise.definition.source ?? "").contains("Authored"))
  }

  @Test("no joint goes through the floor; lying and kneeling exercises are on it", arguments: ids)
  func onTheFloor(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let clip = try library.motion().clip()
    let skeleton = clip.skeleton
    let hips = try #require(skeleton.joints.firstIndex { $0.name == "Hips" })
    var lowest: Float = .infinity
    var highestPelvis: Float = -.infinity
    for f in 0..<clip.frameCount {
      let world = Self.world(clip, frame: f)
      lowest = min(lowest, world.map(\.y).min() ?? 0)
      highestPelvis = max(highestPelvis, world[hips].y)
    }
    #expect(lowest > -0.01, "\(id): a joint centre \(lowest) m below the floor")
    #expect(lowest < 0.08, "\(id): nothing touches the floor (lowest \(lowest) m)")
    switch library.position {
    case .supine, .prone: #expect(highestPelvis < 0.35, "\(id): pelvis up to \(highestPelvis) m")
    case .quadruped: #expect(highestPelvis < 0.6 && highestPelvis > 0.4)
    case .standing: #expect(highestPelvis > 0.7)
    }
  }

  @Test("three repetitions of the reference score at least 95 each", arguments: ids)
  func referenceScores(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try #require(exercise.referenceClip)
    let take = try Clip(joining: [clip, clip, clip])
    let result = try TakeScorer(exercise: exercise).score(take)
    #expect(result.repetitions.count == 3, "\(id): \(result.repetitions.map(\.score))")
    for repetition in result.repetitions {
      #expect(repetition.score >= 95, "\(id): \(repetition.score) \(repetition.cues)")
      if exercise.holdSeconds > 0 {
        #expect((repetition.hold?.share ?? 0) >= 0.95)
      }
    }
  }

  @Test("the fault each exercise is about scores low, with a cue that names it", arguments: ids)
  func faultCaught(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let exercise = try ScoringData.exercise(id)
    try Self.expectFaultCaught(
      try TakeScorer(exercise: exercise).score(library.motion(.fault).clip()), library, id)
  }

  /// The same faults seen through a camera's landmark jitter (1 cm per axis): what noise alone
  /// would show is discounted, the fault is still caught and named. Not the pelvis circles:
  /// their fault (the shoulders swaying a few centimetres) is within 1 cm jitter's allowance,
  /// as it was before the discount (README, "The low-back-pain library").
  @Test(
    "the fault is still caught through landmark jitter",
    arguments: ids.filter { $0 != "lbp-pelvis-circles" })
  func faultCaughtThroughJitter(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let exercise = try ScoringData.exercise(id)
    var (landmarks, times) = try Self.faultLandmarks(library)
    RobustnessSuite.addJitter(to: &landmarks, metres: 0.01, seed: 29)
    try Self.expectFaultCaught(
      TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times), library, id)
  }

  /// `library`'s fault performed once, as landmark frames with their times.
  static func faultLandmarks(_ library: BackPainLibrary.Exercise) throws -> (
    landmarks: [LandmarkFrame], times: [Double]
  ) {
    let clip = try library.motion(.fault).clip()
    let body = try BodyModel(skeleton: clip.skeleton)
    let times = (0..<clip.frameCount).map { Double($0) * clip.frameTime }
    return (ClipFeatures.landmarks(of: clip, body: body), times)
  }

  /// The first repetition of `result` scores ≤ 70 and its first cue names one of the measures
  /// `library`'s fault is about.
  static func expectFaultCaught(
    _ result: TakeResult, _ library: BackPainLibrary.Exercise, _ id: String
  ) throws {
    let repetition = try #require(result.repetitions.first, "\(id): no repetition found")
    #expect(repetition.score <= 70, "\(id) (\(library.fault)): \(repetition.score)")
    let cue = try #require(repetition.cues.first)
    #expect(
      library.faultMeasures.contains(cue.measure ?? ""),
      "\(id) (\(library.fault)): cue '\(cue.text)' on \(cue.measure ?? "nothing")")
  }

  @Test(
    "a hold released early scores low and says so",
    arguments: BackPainLibrary.exercises.filter { $0.hold > 0 }.map(\.id))
  func shortHold(id: String) throws {
    let library = try #require(BackPainLibrary.exercise(id))
    let exercise = try ScoringData.exercise(id)
    let result = try TakeScorer(exercise: exercise).score(library.motion(.shortHold).clip())
    let repetition = try #require(result.repetitions.first)
    let hold = try #require(repetition.hold)
    #expect(hold.share < 0.75, "\(id): held \(hold.held) of \(hold.target) s")
    #expect(repetition.score <= 70, "\(id): \(repetition.score)")
    #expect(repetition.cues.first?.kind == .hold, "\(id): \(repetition.cues)")
  }

  /// A hold a little short of its posture (the bridge at 80 % of its height, held still) is a
  /// range to reach, not a hold missed: it scored 1–3 and was told "you held 0.0" seconds,
  /// and the pelvic tilt at 80 % of its range scored lower than at 60 % (a hold counted
  /// through the alignment, which matched the patient's hold to the reference's approach).
  @Test(
    "a hold held short of its posture is held; the score falls with the range, the cue names it",
    arguments: BackPainLibrary.exercises.filter { $0.hold > 0 }.map(\.id))
  func holdShortOfThePosture(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    var scores: [Double] = []
    for range: Float in [1, 0.9, 0.8, 0.6] {
      let take = try ScoringData.simulatedTake(of: exercise, seed: 3) { $0.range = range }
      let result = try TakeScorer(exercise: exercise).score(take)
      #expect(result.repetitions.count == 3, "\(id) at \(range)")
      let repetition = try #require(result.repetitions.first)
      scores.append(repetition.score)
      if range == 0.8 {
        #expect(repetition.score >= 20, "\(id): \(repetition.score) \(repetition.cues)")
        #expect(!repetition.cues.contains { $0.kind == .hold }, "\(id): \(repetition.cues)")
        #expect((repetition.hold?.share ?? 0) >= 0.5, "\(id): \(repetition.hold as Any)")
      }
    }
    #expect(zip(scores, scores.dropFirst()).allSatisfy { $0 >= $1 - 1 }, "\(id): \(scores)")
  }

  /// Tolerances as wide as the movement (a therapist's own small exercise) would let the
  /// start posture count as holding: the measures that move are then narrowed so that the
  /// start stays outside the hold's band; with the tolerances changed after loading, the hold
  /// follows them.
  @Test("a hold's band never takes in the start posture, whatever the tolerances")
  func holdBandLeavesTheStart() throws {
    var exercise = try ScoringData.exercise("lbp-pelvic-tilt")
    let degree = Float.pi / 180
    func startHolds(_ e: Exercise) -> Bool {
      e.measures.indices.allSatisfy { k in
        Exercise.distance(e.measures[k].measure, e.reference, 0, from: e.holdTargets[k])
          <= e.holdTolerances[k]
      }
    }
    #expect(!startHolds(exercise))
    let before = exercise.holdReachFrames
    for k in exercise.measures.indices {
      exercise.measures[k].tolerance = 6 * degree
      exercise.measures[k].rangeTolerance = 12 * degree
    }
    #expect(!startHolds(exercise), "the start holds: tolerances \(exercise.holdTolerances)")
    #expect(exercise.holdReachFrames < exercise.reference.count)
    #expect(exercise.holdReachFrames != before || exercise.holdTolerances.allSatisfy { $0 > 0 })
  }

  /// Lying down, the patient may lie in any direction on the floor; the body frame follows
  /// the hips, so the score does not change.
  @Test(
    "lying or kneeling in another direction scores the same",
    arguments: BackPainLibrary.exercises.filter { $0.position != .standing }.map(\.id))
  func headingFree(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try #require(exercise.referenceClip)
    let turn = Quaternion(angle: .pi / 2 + 0.3, axis: [0, 1, 0])
    var rotations = clip.rotations
    var translations = clip.translations
    let n = clip.skeleton.count
    for f in 0..<clip.frameCount {
      rotations[f * n] = turn * rotations[f * n]
      translations[f * n] = turn.act(on: translations[f * n]) + SIMD3(1.5, 0, -0.7)
    }
    let turned = try Clip(
      skeleton: clip.skeleton, frameTime: clip.frameTime, rotations: rotations,
      translations: translations)
    let scorer = TakeScorer(exercise: exercise)
    let a = try scorer.score(clip)
    let b = try scorer.score(turned)
    #expect(a.repetitions.count == 1 && b.repetitions.count == 1)
    #expect(abs((a.summary.meanScore ?? 0) - (b.summary.meanScore ?? 0)) < 2)
  }

  /// A therapist replaces an authored reference with a recorded one: the definition points at
  /// the new BVH and everything else stays.
  @Test("a recorded reference replaces an authored one")
  func recordedReplacement() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-lbp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // "Recorded": the bridge performed by a simulated patient, a little slower, with sensor
    // noise, written as a recording would be.
    let authored = try ScoringData.exercise("lbp-glute-bridge")
    var variation = PatientSimulator.Variation()
    variation.tempo = 1.2
    variation.noiseDegrees = 0.5
    variation.restSeconds = 0.5
    var simulator = PatientSimulator(
      reference: try #require(authored.referenceClip), variation: variation, seed: 3)
    let recorded = try simulator.take(repetitions: 1)
    try BVHWriter().write(recorded, to: folder.appendingPathComponent("my-bridge.bvh"))
    var definition = authored.definition
    definition.id = "my-bridge"
    definition.reference = "my-bridge.bvh"
    definition.source = "Recorded by the therapist"
    let encoder = JSONEncoder()
    try encoder.encode(definition).write(to: folder.appendingPathComponent("my-bridge.json"))
    let replaced = try Exercise.load(contentsOf: folder.appendingPathComponent("my-bridge.json"))
    #expect(replaced.referenceClip?.frameCount == recorded.frameCount)
    #expect(replaced.holdFrames != nil)
    // The authored bridge, scored against the recorded one: counted and close.
    let clip = try #require(authored.referenceClip)
    let result = try TakeScorer(exercise: replaced).score(try Clip(joining: [clip, clip]))
    #expect(result.repetitions.count == 2)
    #expect(
      (result.summary.meanScore ?? 0) >= 80,
      "\(result.repetitions.map { ($0.score, $0.cues.map(\.text), $0.hold as Any) })")
  }
}

@Suite("Alternating sides and holds, live and offline")
struct AlternatingSidesTests {
  /// Right, left, right: each side counted, each repetition scored on its own side, and the
  /// stream scores as the recording does.
  @Test(
    "a bird-dog on alternating sides is counted per side, live as offline",
    arguments: ["lbp-bird-dog", "lbp-knee-to-chest", "lbp-knee-rolls", "lbp-flank-stretch"])
  func alternating(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    #expect(exercise.alternates)
    let reference = try #require(exercise.referenceClip)
    func performed(otherSide: Bool, seed: UInt64) throws -> Clip {
      var variation = PatientSimulator.Variation()
      variation.otherSide = otherSide
      variation.restSeconds = 0.6
      var simulator = PatientSimulator(reference: reference, variation: variation, seed: seed)
      return try simulator.take(repetitions: 1)
    }
    let take = try Clip(joining: [
      performed(otherSide: false, seed: 1), performed(otherSide: true, seed: 2),
      performed(otherSide: false, seed: 3),
    ])
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect(offline.repetitions.map(\.mirrored) == [false, true, false], "\(id)")
    for repetition in offline.repetitions {
      #expect(repetition.score >= 90, "\(id): \(repetition.score) \(repetition.cues)")
    }
    let working = try #require(exercise.workingSide)
    let sides = try #require(offline.sides)
    #expect(sides[working == .left ? "left" : "right"]?.repetitions == 2)
    #expect(sides[working == .left ? "right" : "left"]?.repetitions == 1)
    // Live: frame by frame, the next side alternates and the scores are the offline ones.
    var live = try StreamingScorer(exercise: exercise, skeleton: take.skeleton)
    var pose = take.skeleton.restPose
    var expected: [BodyModel.Side?] = []
    for f in 0..<take.frameCount {
      take.copyFrame(f, into: &pose)
      if live.push(pose: pose, at: Double(f) * take.frameTime).completedRepetitions > 0 {
        expected.append(live.nextSide)
      }
    }
    live.finish()
    #expect(live.repetitions.count == 3)
    #expect(live.repetitions.map(\.mirrored) == [false, true, false])
    for (a, b) in zip(live.repetitions, offline.repetitions) {
      #expect(abs(a.score - b.score) < 3, "\(id): live \(a.score) offline \(b.score)")
    }
    #expect(expected.first == working.other)
  }

  /// A simulated patient alternating sides (`PatientSimulator.Variation.alternatesSides`),
  /// seen through a camera's jitter as landmarks: right, left, right, and live as offline —
  /// the same sides and the same scores. (Measured on 2026-12-05 over four exercises, four
  /// patients and 0–2 cm: 48 of 48 takes equal, scores 69–99. Live, a match competes only
  /// once its frames are found to fit its side, as offline; before, that was asked only when
  /// it was reported.)
  @Test(
    "an alternating patient seen through jitter is scored live as offline",
    arguments: ["lbp-bird-dog", "lbp-knee-to-chest", "lbp-knee-rolls", "lbp-flank-stretch"])
  func alternatingThroughJitter(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    for (seed, jitter): (UInt64, Float) in [(3, 0.01), (7, 0.02)] {
      let take = try ScoringData.simulatedTake(of: exercise, seed: seed) {
        $0.alternatesSides = true
      }
      let body = try BodyModel(skeleton: take.skeleton)
      var landmarks = ClipFeatures.landmarks(of: take, body: body)
      RobustnessSuite.addJitter(to: &landmarks, metres: jitter, seed: seed + 40)
      let times = landmarks.indices.map { Double($0) * take.frameTime }
      let offline = TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times)
      var live = try StreamingScorer(exercise: exercise)
      for (f, frame) in landmarks.enumerated() { _ = live.push(landmarks: frame, at: times[f]) }
      live.finish()
      #expect(offline.repetitions.map(\.mirrored) == [false, true, false], "\(id) seed \(seed)")
      #expect(live.repetitions.map(\.mirrored) == offline.repetitions.map(\.mirrored))
      for (a, b) in zip(live.repetitions, offline.repetitions) {
        #expect(
          abs(a.score - b.score) < 1, "\(id) seed \(seed): live \(a.score) offline \(b.score)")
      }
    }
  }

  /// A match is taken on a side only if its frames fit that side, as the matcher takes it: a
  /// taken match ends every path that began before its end. Before, offline and live alike, the
  /// side was asked only of the matches taken, and a fragment on the wrong side (the end of one
  /// knee roll and the start of the next, read loosely in the mirror image), taken and then
  /// thrown away, took the next repetition with it: through 1.5 cm of jitter with 0.4 s lost
  /// every 2.5 s the knee rolls counted two of three.
  @Test("a wrong-side fragment does not take the right side's repetition with it")
  func wrongSideFragmentTakesNothing() throws {
    let exercise = try ScoringData.exercise("lbp-knee-rolls")
    let reference = try #require(exercise.referenceClip)
    var simulator = PatientSimulator(
      reference: reference, variation: PatientSimulator.Variation().alternating(true),
      frameRate: 1 / reference.frameTime, seed: 11)
    let take = try simulator.take(repetitions: 3)
    let body = try BodyModel(skeleton: take.skeleton)
    var landmarks = ClipFeatures.landmarks(of: take, body: body)
    RobustnessSuite.addJitter(to: &landmarks, metres: 0.015, seed: 41)
    let kept = landmarks.indices.filter {
      (Double($0) * take.frameTime).truncatingRemainder(dividingBy: 2.5) < 2.1
    }
    let times = kept.map { Double($0) * take.frameTime }
    let frames = kept.map { landmarks[$0] }
    let offline = TakeScorer(exercise: exercise).score(landmarks: frames, times: times)
    #expect(offline.repetitions.map(\.mirrored) == [false, true, false])
    var live = try StreamingScorer(exercise: exercise)
    for (frame, time) in zip(frames, times) { _ = live.push(landmarks: frame, at: time) }
    live.finish()
    #expect(live.repetitions.map(\.mirrored) == offline.repetitions.map(\.mirrored))
  }

  /// Where a match on one side and a match on the other compete for one repetition, a strict
  /// match stands before a loose one whatever their costs, as within one matcher; the
  /// offline and live choices share this order. (Before, cost alone ranked them: a slow
  /// repetition's loose match, cheaper per reference frame than a faster fragment's strict
  /// one on the other side, would have stood offline.)
  @Test("a strict match stands before a loose one on the other side")
  func strictBeforeLoose() {
    typealias Match = SubsequenceMatcher.Match
    let strict = Match(start: 10, end: 60, cost: 2.0)
    let loose = Match(start: 5, end: 80, cost: 1.0, isLoose: true)
    let cheaper = Match(start: 12, end: 58, cost: 1.5)
    let unknown = Match(start: 11, end: 61, cost: .nan)
    #expect(SideChoice.costOrder(strict, loose))
    #expect(!SideChoice.costOrder(loose, strict))
    #expect(SideChoice.costOrder(cheaper, strict))
    #expect(SideChoice.costOrder(strict, unknown) && !SideChoice.costOrder(unknown, strict))
    let chosen = SideChoice.resolve([(loose, false), (strict, true)])
    #expect(chosen.count == 1 && chosen[0].0 == strict && chosen[0].1)
    let both = SideChoice.resolve([(loose, false), (strict, true), (cheaper, false)])
    #expect(both.count == 1 && both[0].0 == cheaper && !both[0].1)
  }

  /// Side bends, trunk rotations and pelvis circles work both sides in one repetition: a
  /// patient who starts on the other side (circles the other way), at half the reference's
  /// speed or up to 2.5 times it with short rests, is compared with the mirrored reference,
  /// every repetition counted and scored as the reference is, live as offline. (A fast
  /// patient's side-decision window holds more than one repetition: matched whole against
  /// the reference, the next repetition's first side was read against this one's end, both
  /// orders fitted alike, the reference's own stood, and 2 of 3 were counted at 0.4–0.6×.)
  @Test(
    "a two-sided exercise started on the other side is scored as the reference",
    arguments: [
      "lbp-lateral-tilt", "lbp-trunk-rotation", "lbp-torso-rotation", "lbp-pelvis-circles",
    ]
  )
  func eitherSideFirst(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    #expect(exercise.startsEitherSide)
    #expect(!exercise.alternates)
    let reference = try #require(exercise.referenceClip)
    let cases = [
      (false, 1.0, 1.0), (true, 1.0, 1.0), (true, 2.0, 1.0), (true, 0.4, 0.3), (true, 0.6, 1.0),
      (false, 0.5, 0.3),
    ]
    for (otherSide, tempo, rest) in cases {
      var variation = PatientSimulator.Variation()
      variation.otherSide = otherSide
      variation.tempo = tempo
      variation.restSeconds = rest
      var simulator = PatientSimulator(reference: reference, variation: variation, seed: 5)
      let take = try simulator.take(repetitions: 3)
      let offline = try TakeScorer(exercise: exercise).score(take)
      #expect(offline.mirrored == otherSide, "\(id) other side \(otherSide) tempo \(tempo)")
      #expect(offline.repetitions.count == 3, "\(id) other side \(otherSide) tempo \(tempo)")
      for repetition in offline.repetitions {
        #expect(
          repetition.score >= 90, "\(id) tempo \(tempo): \(repetition.score) \(repetition.cues)")
      }
      var live = try StreamingScorer(exercise: exercise, skeleton: take.skeleton)
      var pose = take.skeleton.restPose
      for f in 0..<take.frameCount {
        take.copyFrame(f, into: &pose)
        _ = live.push(pose: pose, at: Double(f) * take.frameTime)
      }
      live.finish()
      #expect(live.mirrored == otherSide, "\(id) other side \(otherSide) tempo \(tempo)")
      #expect(live.repetitions.count == offline.repetitions.count, "\(id) tempo \(tempo)")
      for (a, b) in zip(live.repetitions, offline.repetitions) {
        #expect(abs(a.score - b.score) < 1, "\(id): live \(a.score) offline \(b.score)")
      }
    }
    // Without `either-first` the same exercise started on the other side is not recognised.
    var definition = exercise.definition
    definition.sides = nil
    let fixed = try Exercise(definition: definition, referenceClip: reference)
    var variation = PatientSimulator.Variation()
    variation.otherSide = true
    var simulator = PatientSimulator(reference: reference, variation: variation, seed: 5)
    let take = try simulator.take(repetitions: 3)
    let result = try TakeScorer(exercise: fixed).score(take)
    #expect(!result.mirrored)
  }

  /// The live hold timer runs while the bridge is held and pauses, naming why, when the hips
  /// sag.
  @Test("the live hold timer counts the held posture and pauses with the reason")
  func liveHold() throws {
    let exercise = try ScoringData.exercise("lbp-glute-bridge")
    let library = try #require(BackPainLibrary.exercise("lbp-glute-bridge"))
    func run(_ clip: Clip) throws -> (held: Double, whys: Set<String>) {
      var live = try StreamingScorer(exercise: exercise, skeleton: clip.skeleton)
      var pose = clip.skeleton.restPose
      var held = 0.0
      var whys = Set<String>()
      for f in 0..<clip.frameCount {
        clip.copyFrame(f, into: &pose)
        _ = live.push(pose: pose, at: Double(f) * clip.frameTime)
        if let hold = live.hold {
          held = max(held, hold.held)
          if let why = hold.why { whys.insert(why) }
        }
      }
      return (held, whys)
    }
    let good = try run(try library.motion().clip())
    #expect(good.held >= 4.5, "held \(good.held) s")
    let lower = try run(
      try ScoringData.simulatedTake(of: exercise, repetitions: 1, seed: 3) { $0.range = 0.8 })
    #expect(lower.held >= 4.5, "held \(lower.held) s at 80 % of the height")
    let sagging = try run(try library.motion(.fault).clip())
    #expect(sagging.held < 2, "held \(sagging.held) s while sagging")
    #expect(
      sagging.whys.contains { $0.contains("Lift your hips higher") },
      "\(sagging.whys) \(sagging.held)")
  }
}
