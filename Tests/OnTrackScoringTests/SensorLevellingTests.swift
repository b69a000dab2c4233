import Foundation
import OnTrackEvaluation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

/// A tilted camera is levelled against the exercise's starting posture (`SensorLevelling`),
/// from the legs and what rests on the floor, never from the trunk or the arms.
@Suite("Sensor levelling")
struct SensorLevellingTests {
  /// Standing, sitting, lying on the back, kneeling on hands and knees, lying face down.
  static let postures = [
    "lbp-squat", "uiprmd-m07-shoulder-abduction", "uiprmd-m05-sit-to-stand",
    "lbp-pelvic-tilt", "lbp-glute-bridge", "lbp-bird-dog", "lbp-press-up",
  ]

  /// Three repetitions of `exercise` by a simulated patient, as landmarks and times.
  static func take(
    _ exercise: Exercise, _ change: (inout PatientSimulator.Variation) -> Void = { _ in }
  ) throws -> (landmarks: [LandmarkFrame], times: [Double]) {
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 5, change)
    return try ScoringData.landmarks(of: clip, jitter: 0, seed: 1)
  }

  /// A camera's turn: `pitch` degrees about the left–right axis, then `roll`.
  static func turn(pitch: Float, roll: Float) -> Quaternion {
    Quaternion(angle: roll * .pi / 180, axis: SIMD3(0, 0, 1))
      * Quaternion(angle: pitch * .pi / 180, axis: SIMD3(1, 0, 0))
  }

  /// Degrees between `up` and the vertical.
  static func offVertical(_ up: SIMD3<Float>) -> Float {
    acos(min(1, up.y)) * 180 / .pi
  }

  /// Every landmark turned by `pitch` (about the left–right axis) then `roll` degrees.
  static func tilted(_ landmarks: [LandmarkFrame], pitch: Float, roll: Float) -> [LandmarkFrame] {
    let turn = Self.turn(pitch: pitch, roll: roll)
    return landmarks.map { frame in
      var turned = frame
      for k in turned.positions.indices { turned.positions[k] = turn.act(on: frame.positions[k]) }
      return turned
    }
  }

  @Test(
    "a tilted camera's vertical is found within 1.5°, also through 1 cm of jitter",
    arguments: postures)
  func findsTheVertical(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (landmarks, times) = try Self.take(exercise)
    var jittered = landmarks
    RobustnessSuite.addJitter(to: &jittered, metres: 0.01, seed: 3)
    for (pitch, roll, seen) in [
      (Float(12), Float(0), landmarks), (-8, 6, landmarks), (12, 0, jittered), (-8, 6, jittered),
      (20, -4, jittered),
    ] {
      var levelling = try #require(exercise.levelling)
      let turn = Self.turn(pitch: pitch, roll: roll)
      for (frame, time) in zip(Self.tilted(seen, pitch: pitch, roll: roll), times) {
        levelling.observe(frame, at: time)
      }
      #expect(levelling.settled && !levelling.moved)
      // Levelling after the camera's turn leaves the vertical where it was: at most a turn
      // about it (where the patient faces is theirs).
      let up = (levelling.rotation * turn).act(on: SIMD3(0, 1, 0))
      let error = Self.offVertical(up)
      #expect(error < 1.5, "\(id), pitch \(pitch)°, roll \(roll)°: \(error)° off vertical")
    }
  }

  @Test("a level sensor is left level", arguments: postures)
  func levelStaysLevel(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (landmarks, times) = try Self.take(exercise)
    var levelling = try #require(exercise.levelling)
    for (frame, time) in zip(landmarks, times) { levelling.observe(frame, at: time) }
    #expect(levelling.settled)
    #expect(levelling.estimatedTilt < SensorLevelling.smallestTilt / 2, "\(id)")
    for frame in landmarks.prefix(100) {
      var levelled = frame
      levelling.apply(&levelled)
      #expect(levelled.positions == frame.positions)
    }
  }

  @Test(
    "a stoop or a lean stays the patient's: scored alike whether the camera is tilted or not",
    arguments: [
      "lbp-squat", "uiprmd-m07-shoulder-abduction", "lbp-arms-overhead", "lbp-glute-bridge",
    ])
  func postureFaultsStay(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let scorer = TakeScorer(exercise: exercise)
    let clean = try Self.take(exercise)
    let perfect = try #require(
      scorer.score(landmarks: clean.landmarks, times: clean.times).summary.meanScore)
    for (stooped, change) in [
      (true, { (v: inout PatientSimulator.Variation) in v.stoopDegrees = 25 }),
      (false, { (v: inout PatientSimulator.Variation) in v.trunkLeanDegrees = 20 }),
    ] {
      let faulty = try Self.take(exercise, change)
      let level = scorer.score(landmarks: faulty.landmarks, times: faulty.times)
      let score = try #require(level.summary.meanScore)
      for pitch in [Float(12), -12] {
        let seen = scorer.score(
          landmarks: Self.tilted(faulty.landmarks, pitch: pitch, roll: 4), times: faulty.times)
        let tilted = seen.summary.meanScore ?? 0
        #expect(seen.repetitions.count == level.repetitions.count, "\(id), pitch \(pitch)°")
        #expect(abs(tilted - score) <= 10, "\(id), pitch \(pitch)°: \(tilted), level: \(score)")
        // A 25° stoop costs these exercises at least 20 points, tilted or not: levelling the
        // trunk would have hidden it.
        if stooped { #expect(tilted < perfect - 20, "\(id), stooped, pitch \(pitch)°: \(tilted)") }
      }
    }
  }

  @Test(
    "live and offline level alike", arguments: ["lbp-pelvic-tilt", "lbp-squat", "lbp-bird-dog"])
  func liveEqualsOffline(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (landmarks, times) = try Self.take(exercise)
    var seen = Self.tilted(landmarks, pitch: 14, roll: -5)
    RobustnessSuite.addJitter(to: &seen, metres: 0.01, seed: 8)
    let offline = TakeScorer(exercise: exercise).score(landmarks: seen, times: times)
    let live = try ScoringData.streamLive(landmarks: seen, times: times, exercise: exercise)
    #expect(offline.repetitions.count == 3)
    #expect(live.repetitions.count == offline.repetitions.count)
    for (a, b) in zip(live.repetitions, offline.repetitions) {
      #expect(abs(a.score - b.score) < 0.01, "\(id): live \(a.score), offline \(b.score)")
    }
  }

  /// A sensor whose lumbar spine point sits 3 cm further back than the reference's (a skin
  /// marker against a vertebra) turns the 14 cm pelvis-to-lumbar-spine segment 12°, about as much as
  /// the pelvic tilt moves it: two repetitions of three were found and scored 0. Calibrated on
  /// the still start (`BoneCalibration`), it counts and scores as the reference's own sensor,
  /// live as offline, also through a camera pitched 14° and 1 cm of jitter.
  @Test("another sensor's lumbar spine point: the pelvic tilt counted and scored, live as offline")
  func lumbarSpineElsewhere() throws {
    let exercise = try ScoringData.exercise("lbp-pelvic-tilt")
    let (landmarks, times) = try Self.take(exercise)
    let own = try #require(
      TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times).summary.meanScore)
    var moved = landmarks
    for f in moved.indices {
      let pelvis = (moved[f][.leftHip] + moved[f][.rightHip]) * 0.5
      let left = normalize(moved[f][.leftHip] - moved[f][.rightHip])
      let up = normalize(moved[f][.spine] - pelvis)
      moved[f][.spine] -= normalize(cross(left, up)) * 0.03
    }
    for jitter in [Float(0), 0.01] {
      var seen = jitter > 0 ? Self.tilted(moved, pitch: 14, roll: 0) : moved
      RobustnessSuite.addJitter(to: &seen, metres: jitter, seed: 8)
      let offline = TakeScorer(exercise: exercise).score(landmarks: seen, times: times)
      let live = try ScoringData.streamLive(landmarks: seen, times: times, exercise: exercise)
      #expect(offline.repetitions.count == 3, "jitter \(jitter)")
      #expect(live.repetitions.count == offline.repetitions.count)
      for (a, b) in zip(live.repetitions, offline.repetitions) {
        #expect(abs(a.score - b.score) < 0.01, "live \(a.score), offline \(b.score)")
      }
      let score = offline.summary.meanScore ?? 0
      #expect(score >= own - (jitter > 0 ? 15 : 3), "jitter \(jitter): \(score), own \(own)")
    }
  }

  /// A phone on the floor leaning against a wall looks up at the patient 20–40°, a laptop on a
  /// low table down as much. Beyond 25° nothing was levelled (a patient in another posture
  /// than the reference was feared), and BlazePose's points through a camera pitched 30°
  /// scored a perfect shoulder abduction 3 ("Keep your trunk upright"), a squat 3, the knee
  /// rolls 0, and found no repetition of the cat–camel or the glute bridge. A knee's angle
  /// does not turn with the camera: legs shaped as the reference's are levelled up to 60°.
  /// A phone or camera on its side turns the picture 90° about its line of sight: for an
  /// exercise that starts standing, that is levelled too (before, nothing beyond 60° was, and
  /// no repetition was found).
  @Test(
    "a camera pitched 30–50°, or on its side for a standing exercise, is levelled when the legs are shaped as the reference's",
    arguments: postures)
  func steepCamera(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (landmarks, times) = try Self.take(exercise)
    let scorer = TakeScorer(exercise: exercise)
    var jittered = landmarks
    RobustnessSuite.addJitter(to: &jittered, metres: 0.01, seed: 4)
    let level = try #require(scorer.score(landmarks: jittered, times: times).summary.meanScore)
    let onItsSide: [(Float, Float)] =
      exercise.levelling?.referenceStands == true ? [(0, 90), (10, -90), (-5, 100)] : []
    for (pitch, roll) in [(Float(35), Float(5)), (-40, -5), (50, 0)] + onItsSide {
      let seen = Self.tilted(jittered, pitch: pitch, roll: roll)
      var levelling = try #require(exercise.levelling)
      for (frame, time) in zip(seen, times) { levelling.observe(frame, at: time) }
      let turn = Self.turn(pitch: pitch, roll: roll)
      let up = (levelling.rotation * turn).act(on: SIMD3(0, 1, 0))
      let error = Self.offVertical(up)
      if levelling.levelsRollOnly {
        // Sitting: the pitch is the patient's (where the feet are put), the roll is levelled.
        let roll = asin(max(-1, min(1, up.x))) * 180 / .pi
        #expect(abs(roll) < 2, "\(id), pitch \(pitch)°, roll \(roll)°")
        continue
      }
      #expect(error < 2, "\(id), pitch \(pitch)°, roll \(roll)°: \(error)° off vertical")
      let result = scorer.score(landmarks: seen, times: times)
      #expect(result.repetitions.count == 3, "\(id), pitch \(pitch)°")
      let score = result.summary.meanScore ?? 0
      #expect(score >= level - 5, "\(id), pitch \(pitch)°: \(score), level \(level)")
    }
  }

  /// A camera on its side is levelled only for an exercise that starts standing
  /// (`steepCamera`), never for a floor one: a patient standing side-on to the camera before
  /// lying down for the prone press-up shows straight legs turned 90° about its line of sight
  /// from the reference's, as a camera on its side would show a patient lying.
  @Test("a patient standing side-on is not levelled onto a floor exercise")
  func standingSideOnIsNoRoll() throws {
    // The press-up's own patient, stood up (head up) and turned side-on to the camera: legs as
    // straight as the reference's, 90° about the line of sight from lying.
    let pressUp = try ScoringData.exercise("lbp-press-up")
    #expect(pressUp.levelling?.referenceStands == false)
    let (lying, times) = try Self.take(pressUp)
    let standUp = Quaternion(angle: -.pi / 2, axis: SIMD3(1, 0, 0))
    for quarter in [Float.pi / 2, -Float.pi / 2] {
      let sideOn = Quaternion(angle: quarter, axis: SIMD3(0, 1, 0)) * standUp
      let seen = lying.map { frame in
        var turned = frame
        for k in turned.positions.indices {
          turned.positions[k] = sideOn.act(on: frame.positions[k])
        }
        return turned
      }
      #expect(seen[0][.head].y > seen[0][.leftAnkle].y + 1)
      var levelling = try #require(pressUp.levelling)
      for (frame, time) in zip(seen, times) { levelling.observe(frame, at: time) }
      #expect(levelling.estimatedTilt > SensorLevelling.largestTiltLegsAlike)
      var levelled = seen[0]
      levelling.apply(&levelled)
      #expect(levelled.positions == seen[0].positions, "side-on \(quarter)")
    }
  }

  /// What the knees guard against: a patient who starts the deep squat at its bottom (hips
  /// low behind the heels, knees bent) has the legs' line 33° off the reference's standing
  /// one, as a tilted camera would; levelling that would turn the whole body by it.
  @Test("a patient who starts at the bottom of a squat is not levelled onto standing")
  func startingCrouchedIsNoTilt() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let clip = try #require(exercise.referenceClip)
    let body = try BodyModel(skeleton: clip.skeleton)
    let reference = ClipFeatures.landmarks(of: clip, body: body)
    // The deepest frame: the hips lowest.
    let deepest = reference.indices.min {
      reference[$0][.leftHip].y + reference[$0][.rightHip].y
        < reference[$1][.leftHip].y + reference[$1][.rightHip].y
    }
    let crouched = reference[try #require(deepest)]
    var levelling = try #require(exercise.levelling)
    for k in 0..<30 { levelling.observe(crouched, at: Double(k) / 30) }
    levelling.settle()
    #expect(levelling.estimatedTilt > SensorLevelling.largestTilt)
    #expect(levelling.estimatedTilt < SensorLevelling.largestTiltLegsAlike)
    #expect(levelling.rotation.w == 1, "levelled by \(levelling.estimatedTilt * 180 / .pi)°")
  }

  /// A patient walking into the picture, or a camera that sees the legs a moment late: the
  /// calibration started with the first frame, found no legs in its half second and levelled
  /// nothing (BlazePose's legs unseen for 2 s through a camera pitched 15°: the pelvis circles
  /// and the glute bridge found no repetition, the squat scored 26). It now starts with the
  /// first frame that shows the legs, within `longestWaitForLegs`.
  @Test(
    "legs that enter the picture late are levelled from when they are seen", arguments: postures)
  func legsSeenLate(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (landmarks, times) = try Self.take(exercise)
    var seen = Self.tilted(landmarks, pitch: 12, roll: -4)
    var unseenLegs: UInt32 = 0
    for landmark in SensorLevelling.legs { unseenLegs |= 1 << UInt32(landmark.rawValue) }
    for f in seen.indices where times[f] < 0.8 { seen[f].untracked |= unseenLegs }
    var levelling = try #require(exercise.levelling)
    for (frame, time) in zip(seen, times) { levelling.observe(frame, at: time) }
    #expect(levelling.settled && !levelling.moved, "\(id)")
    #expect(levelling.rotation.w < 1, "\(id): not levelled")
    let turn = Self.turn(pitch: 12, roll: -4)
    let up = (levelling.rotation * turn).act(on: SIMD3(0, 1, 0))
    if !levelling.levelsRollOnly {
      #expect(Self.offVertical(up) < 1.5, "\(id)")
    }
    // Legs never seen: settled, unlevelled, once the wait is over.
    var never = try #require(exercise.levelling)
    for (frame, time) in zip(seen, times) {
      var legless = frame
      legless.untracked |= unseenLegs
      never.observe(legless, at: time)
      if time > SensorLevelling.longestWaitForLegs + 0.1 { break }
    }
    #expect(never.settled && never.rotation.w == 1, "\(id)")
  }

  @Test("a patient who starts in another posture than the reference is not levelled onto it")
  func otherPostureIsNoTilt() throws {
    let standing = try ScoringData.exercise("lbp-squat")
    let lying = try ScoringData.exercise("lbp-pelvic-tilt")
    let (landmarks, times) = try Self.take(lying)
    var levelling = try #require(standing.levelling)
    for (frame, time) in zip(landmarks, times) { levelling.observe(frame, at: time) }
    #expect(levelling.estimatedTilt > SensorLevelling.largestTilt)
    var levelled = landmarks[0]
    levelling.apply(&levelled)
    #expect(levelled.positions == landmarks[0].positions)
  }

  /// UI-PRMD's repetitions are mostly cut where the movement starts: the first frames are no
  /// still posture to compare (an inline lunge's staggered stance read as a 9–22° tilt before
  /// this was asked), and nothing is levelled.
  @Test("a take that begins with the movement is not levelled")
  func movingStartIsNotLevelled() throws {
    let exercise = try ScoringData.exercise("uiprmd-m03-inline-lunge")
    var moved = 0
    for subject in 1...10 {
      let clip = try ScoringData.kinect(movement: 3, subject: subject, episode: 1)
      let (landmarks, times) = try ScoringData.landmarks(of: clip, jitter: 0, seed: 1)
      var levelling = try #require(exercise.levelling)
      for (frame, time) in zip(landmarks, times) { levelling.observe(frame, at: time) }
      #expect(levelling.settled)
      if levelling.moved {
        moved += 1
        // Nothing levelled: the features are those of the take as it came.
        let asIs = ClipFeatures.features(
          landmarks: landmarks, times: times, step: exercise.frameTime)
        let seen = ClipFeatures.features(
          landmarks: landmarks, times: times, step: exercise.frameTime,
          levelling: exercise.levelling)
        #expect(seen.values == asIs.values)
      }
    }
    #expect(moved >= 8, "\(moved) of 10 takes seen moving")
  }

  /// A sensor slower than about 10 frames a second gives too few frames in the calibration
  /// to tell a still start from a moving one: nothing is levelled; at 10 Hz a tilt is.
  @Test("a slow sensor is levelled only with frames enough to know the patient was still")
  func slowSensors() throws {
    let exercise = try ScoringData.exercise("lbp-squat")
    let (landmarks, times) = try Self.take(exercise)
    let seen = Self.tilted(landmarks, pitch: 12, roll: 0)
    for (rate, levels) in [(10.0, true), (6.0, false)] {
      var levelling = try #require(exercise.levelling)
      var next = 0.0
      for (frame, time) in zip(seen, times) where time >= next - 1e-9 {
        levelling.observe(frame, at: time)
        next += 1 / rate
      }
      levelling.settle()
      #expect((levelling.rotation.w < 1) == levels, "\(rate) Hz")
    }
  }

  /// A seated start: the line from the feet to the hips leans with where the feet are put and
  /// how high the chair is, so only the roll is levelled. Built from the sit-to-stand's
  /// reference, cut where it sits lowest.
  @Test("a seated reference levels the roll, not the pitch")
  func seatedLevelsRollOnly() throws {
    let standing = try ScoringData.exercise("uiprmd-m05-sit-to-stand")
    let reference = try #require(standing.referenceClip)
    let body = try BodyModel(skeleton: reference.skeleton)
    let frames = ClipFeatures.landmarks(of: reference, body: body)
    let seatedFrame = try #require(
      frames.indices.min { frames[$0][.leftHip].y < frames[$1][.leftHip].y })
    var seatedStill = [LandmarkFrame](repeating: frames[seatedFrame], count: 20)
    seatedStill += frames[seatedFrame...]
    let levelling = try #require(
      SensorLevelling(reference: seatedStill, frameTime: reference.frameTime))
    #expect(levelling.levelsRollOnly)
    #expect(standing.levelling?.levelsRollOnly == false)
    let times = seatedStill.indices.map { Double($0) * reference.frameTime }
    for (pitch, roll, levels) in [(Float(0), Float(8), true), (10, 0, false)] {
      var seen = levelling
      for (frame, time) in zip(Self.tilted(seatedStill, pitch: pitch, roll: roll), times) {
        seen.observe(frame, at: time)
      }
      seen.settle()
      #expect((seen.rotation.w < 1) == levels, "pitch \(pitch)°, roll \(roll)°")
      if levels {
        let turn = Quaternion(angle: roll * .pi / 180, axis: SIMD3(0, 0, 1))
        let up = (seen.rotation * turn).act(on: SIMD3(0, 1, 0))
        // Within 2°: the camera rolls about the world's forward axis, the patient faces a
        // little off it, and only the part about theirs is levelled.
        #expect(Self.offVertical(up) < 2, "roll \(roll)°")
      }
    }
  }

  @Test("a stream shorter than the calibration is scored whole, live as offline")
  func shortStream() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    let (landmarks, times) = try Self.take(exercise)
    let short = Array(landmarks.prefix(10))
    let offline = ClipFeatures.features(
      landmarks: short, times: Array(times.prefix(10)), step: exercise.frameTime,
      levelling: exercise.levelling)
    #expect(offline.count == 10)
    var pipeline = FeaturePipeline(step: exercise.frameTime, levelling: exercise.levelling)
    var produced = 0
    for (frame, time) in zip(short, times) {
      pipeline.push(frame, at: time)
      produced += pipeline.outputCount
    }
    #expect(produced == 0)
    pipeline.flush()
    #expect(pipeline.outputCount == 10)
    #expect(Array(pipeline.output[0..<(10 * FeatureLayout.width)]) == offline.values)
  }
}
