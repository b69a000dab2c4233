import Foundation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

/// Landmarks given to the scorer directly (a caller's own detector) go through the same gate as
/// every other source (`LandmarkGate`, first in `FeaturePipeline`): what no body could do is
/// refused, held, and not read as the patient's fault.
@Suite("Landmark gate")
struct LandmarkGateTests {
  /// Standing arms and legs, kneeling, lying, sitting.
  static let exercises = [
    "uiprmd-m07-shoulder-abduction", "uiprmd-m01-deep-squat", "lbp-bird-dog",
    "lbp-glute-bridge", "lbp-pelvic-tilt", "uiprmd-m05-sit-to-stand",
  ]

  /// Three simulated repetitions of exercise `id` as landmarks, its scorer, and the clean
  /// take's mean score (three repetitions found).
  static func cleanTake(_ id: String) throws -> (
    scorer: TakeScorer, landmarks: [LandmarkFrame], times: [Double], cleanMean: Double
  ) {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3)
    let (landmarks, times) = try ScoringData.landmarks(of: clip, jitter: 0, seed: 1)
    let scorer = TakeScorer(exercise: exercise)
    let clean = scorer.score(landmarks: landmarks, times: times)
    #expect(clean.repetitions.count == 3, "\(id)")
    return (scorer, landmarks, times, try #require(clean.summary.meanScore))
  }

  /// The detector faults a camera pipeline shows, each in its own copy of the take.
  static func faults(_ clean: [LandmarkFrame], seed: UInt64) -> [(String, [LandmarkFrame])] {
    let sides: [BodyLandmark] = [
      .leftHip, .leftKnee, .leftAnkle, .leftToe, .rightHip, .rightKnee, .rightAnkle, .rightToe,
    ]
    func each(
      _ share: Double, lasting frames: Int = 1,
      _ change: (inout LandmarkFrame, inout SplitMix64) -> Void
    ) -> [LandmarkFrame] {
      var rng = SplitMix64(seed: seed)
      var out = clean
      var f = 0
      while f < out.count {
        guard rng.unit() < share else {
          f += 1
          continue
        }
        for g in f..<min(f + frames, out.count) { change(&out[g], &rng) }
        f += frames
      }
      return out
    }
    let count = UInt64(BodyLandmark.allCases.count)
    return [
      (
        "not a number",
        each(0.01) { frame, rng in
          frame.positions[Int(rng.next() % count)] = SIMD3(repeating: .nan)
        }
      ),
      (
        "a kilometre away",
        each(0.01) { frame, rng in
          frame.positions[Int(rng.next() % count)] = SIMD3(1e6, -1e6, 1e6)
        }
      ),
      (
        "50 cm spikes",
        each(0.05) { frame, rng in
          let k = Int(rng.next() % count)
          frame.positions[k] +=
            SIMD3(Float(rng.gaussian()), Float(rng.gaussian()), Float(rng.gaussian())) * 0.5
        }
      ),
      (
        "legs swapped for 3 frames",
        each(0.02, lasting: 3) { frame, _ in
          let before = frame
          for l in sides { frame[l] = before[l.mirrored] }
        }
      ),
      (
        "lower legs swapped for 3 frames",
        each(0.02, lasting: 3) { frame, _ in
          let before = frame
          for l in sides where l != .leftHip && l != .rightHip { frame[l] = before[l.mirrored] }
        }
      ),
      (
        "forearms swapped for 3 frames",
        each(0.02, lasting: 3) { frame, _ in
          let before = frame
          for l in [BodyLandmark.leftElbow, .leftWrist, .rightElbow, .rightWrist] {
            frame[l] = before[l.mirrored]
          }
        }
      ),
      (
        "left and right swapped in the first 2 frames",
        {
          var out = clean
          for f in 0..<min(2, out.count) {
            for l in BodyLandmark.allCases { out[f][l] = clean[f][l.mirrored] }
          }
          return out
        }()
      ),
      (
        "30 cm spikes",
        each(0.05) { frame, rng in
          let k = Int(rng.next() % count)
          let direction = SIMD3(
            Float(rng.gaussian()), Float(rng.gaussian()), Float(rng.gaussian()))
          frame.positions[k] += normalize(direction) * 0.3
        }
      ),
      (
        "lost points given as the origin",
        each(0.05, lasting: 2) { frame, rng in
          frame.positions[Int(rng.next() % count)] = .zero
          frame.positions[Int(rng.next() % count)] = .zero
        }
      ),
      (
        "the whole body lost, every point at the origin",
        each(0.05, lasting: 3) { frame, _ in
          for k in frame.positions.indices { frame.positions[k] = .zero }
        }
      ),
      (
        "left and right swapped for 5 frames",
        each(0.01, lasting: 5) { frame, _ in
          let before = frame
          for l in BodyLandmark.allCases { frame[l] = before[l.mirrored] }
        }
      ),
    ]
  }

  @Test(
    "detector glitches (NaN, far away, spikes, placeholders at the origin, left and right swapped, whole limbs or their ends, the first frames too) leave the count and cost at most 6 points (7 for lost points)",
    arguments: exercises)
  func glitches(id: String) throws {
    let (scorer, landmarks, times, cleanMean) = try Self.cleanTake(id)
    for (fault, glitched) in Self.faults(landmarks, seed: 17) {
      let result = scorer.score(landmarks: glitched, times: times)
      #expect(result.repetitions.count == 3, "\(fault)")
      let mean = try #require(result.summary.meanScore, "\(fault)")
      // A lost point given as the origin lands, on a lying patient (hips at the origin of a
      // hip-centred detector), within the speed check's allowance of where it was (15 cm plus
      // 6 m/s, ~35 cm at 30 Hz) and passes for a spike: measured 93.8 on the glute bridge
      // (30.4 before the gate refused points at one place, 76.5 on the bird-dog).
      let allowance = fault.hasPrefix("lost points") ? 7.0 : 6.0
      #expect(
        mean.isFinite && mean >= cleanMean - allowance, "\(id), \(fault): \(mean) vs \(cleanMean)")
      for repetition in result.repetitions {
        #expect(repetition.score.isFinite, "\(fault)")
      }
    }
  }

  /// Streaming the glitched landmarks scores as scoring them offline.
  @Test("live equals offline through the gate")
  func liveEqualsOffline() throws {
    let exercise = try ScoringData.exercise("lbp-bird-dog")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 4)
    let (landmarks, times) = try ScoringData.landmarks(of: clip, jitter: 0.01, seed: 2)
    for (fault, glitched) in Self.faults(landmarks, seed: 5) {
      let offline = TakeScorer(exercise: exercise).score(landmarks: glitched, times: times)
      var live = try StreamingScorer(exercise: exercise, skeleton: clip.skeleton)
      for (frame, time) in zip(glitched, times) { _ = live.push(landmarks: frame, at: time) }
      _ = live.finish()
      #expect(live.result.repetitions.count == offline.repetitions.count, "\(fault)")
      for (a, b) in zip(live.result.repetitions, offline.repetitions) {
        #expect(abs(a.score - b.score) < 1e-6, "\(fault)")
      }
    }
  }

  /// Landmarks of a real recording (forward kinematics of a UI-PRMD Kinect take), through
  /// 2 cm of jitter, and a whole body that jumps (a sensor re-locating it) pass unchanged.
  @Test("real motion, 2 cm of jitter and a body that jumps as a whole pass untouched")
  func realMotionPasses() throws {
    let take = try ScoringData.kinect(movement: 2, subject: 3, episode: 4)
    for jitter: Float in [0, 0.02] {
      var (landmarks, times) = try ScoringData.landmarks(of: take, jitter: jitter, seed: 9)
      for f in stride(from: 10, to: landmarks.count, by: 25) {
        for k in landmarks[f].positions.indices { landmarks[f].positions[k] += SIMD3(0.6, 0, -0.4) }
      }
      var gate = LandmarkGate()
      for (frame, time) in zip(landmarks, times) {
        gate.apply(frame, at: time)
        #expect(gate.frame.positions == frame.positions)
        #expect(gate.frame.untracked == frame.untracked)
      }
      #expect(gate.refused == 0 && gate.swaps == 0, "jitter \(jitter)")
    }
  }

  /// What is refused is held where it was relative to the body, and marked not seen only when
  /// it stays refused longer than `holdSeconds` (or was never seen).
  @Test("a refused landmark is held with the body; not seen only past the hold")
  func holding() {
    var gate = LandmarkGate()
    var frame = LandmarkFrame()
    for k in frame.positions.indices {
      frame.positions[k] = SIMD3(Float(k % 4) * 0.1, 0.1 * Float(k), 0)
    }
    let wrist = BodyLandmark.leftWrist.rawValue
    gate.apply(frame, at: 0)
    var moved = frame
    for k in moved.positions.indices { moved.positions[k].x += 0.05 }
    moved.positions[wrist] = SIMD3(repeating: .infinity)
    gate.apply(moved, at: 1.0 / 30)
    #expect(gate.refused == 1)
    let held = gate.frame.positions[wrist] - (frame.positions[wrist] + SIMD3(0.05, 0, 0))
    #expect((held * held).sum() < 1e-4)
    #expect(gate.frame.untracked == 0)
    for f in 2...10 { gate.apply(moved, at: Double(f) / 30) }
    #expect(gate.frame.untracked == 1 << UInt32(wrist))
    // Seen again where it belongs: taken at once.
    gate.apply(frame, at: 11.0 / 30)
    #expect(gate.frame.untracked == 0)
    #expect(gate.frame.positions == frame.positions)
  }
}

extension LandmarkGateTests {
  /// A still body at 30 Hz, landmarks spread as a body's are (about 1.7 m tall).
  static func standing() -> LandmarkFrame {
    var frame = LandmarkFrame()
    for landmark in BodyLandmark.allCases {
      let k = Float(landmark.rawValue)
      let side: Float =
        landmark.mirrored == landmark
        ? 0 : (landmark.rawValue < landmark.mirrored.rawValue ? 0.2 : -0.2)
      frame[landmark] = SIMD3(side + 0.01 * k, 1.7 - 0.1 * k, 0.02 * k)
    }
    return frame
  }

  @Test(
    "a stray point cannot move the body: far glitches are refused alone, even in the first frame")
  func strayPoints() {
    let body = Self.standing()
    let wrist = BodyLandmark.leftWrist.rawValue
    for (first, glitch): (Bool, Float) in [(false, 10), (false, 50), (true, 20)] {
      var gate = LandmarkGate()
      for f in 0..<60 {
        var frame = body
        if (first && f == 0) || (!first && f == 30) { frame.positions[wrist].x += glitch }
        gate.apply(frame, at: Double(f) / 30)
        for k in frame.positions.indices where k != wrist {
          #expect(gate.frame.positions[k] == body.positions[k], "frame \(f), landmark \(k)")
        }
      }
      #expect(gate.refused == 1, "\(glitch) m, first frame \(first)")
      // Seen where it belongs from the frame after.
      #expect(gate.frame.positions[wrist] == body.positions[wrist])
      #expect(gate.frame.untracked == 0)
    }
  }

  /// A point thrown 25 cm for a frame stays within the speed check's allowance (15 cm plus
  /// 6 m/s × Δt: 35 cm at 30 Hz); the length of its bone gives it away: an elbow thrown along
  /// its upper arm is refused and held, and its wrist (whose bone it lengthened too) and
  /// shoulder stand; then a wrist thrown away from its elbow, then a head thrown from the
  /// neck. The same throws by 5 cm (jitter) are taken as they come. A length that stays
  /// changed is learnt.
  @Test("a point a bone's length gives away is refused alone")
  func boneLengths() {
    let body = Self.standing()
    var gate = LandmarkGate()
    for f in 0..<30 { gate.apply(body, at: Double(f) / 30) }
    #expect(gate.refused == 0)
    let thrown: [(BodyLandmark, BodyLandmark)] = [
      (.leftElbow, .leftShoulder), (.leftWrist, .leftElbow), (.head, .neck),
    ]
    var f = 30
    for (point, parent) in thrown {
      for (distance, refused) in [(Float(0.05), false), (0.25, true)] {
        let before = gate.refused
        var frame = body
        let along = normalize(body[point] - body[parent])
        frame[point] += along * distance
        gate.apply(frame, at: Double(f) / 30)
        f += 1
        #expect(gate.refused == before + (refused ? 1 : 0), "\(point) by \(distance) m")
        for landmark in BodyLandmark.allCases {
          let expected = refused || landmark != point ? body[landmark] : frame[landmark]
          #expect(gate.frame[landmark] == expected, "\(point) by \(distance) m: \(landmark)")
        }
        #expect(gate.frame.untracked == 0)
        for _ in 0..<10 {
          gate.apply(body, at: Double(f) / 30)
          f += 1
        }
      }
    }
    // A length that really changed (a sensor that rescales, another patient, a first second
    // seen badly) is learnt: refused at first, the wrist is taken again within 3 s.
    var longer = body
    longer[.leftWrist] += normalize(body[.leftWrist] - body[.leftElbow]) * 0.25
    for _ in 0..<90 {
      gate.apply(longer, at: Double(f) / 30)
      f += 1
    }
    #expect(gate.frame[.leftWrist] == longer[.leftWrist])
    #expect(gate.frame.untracked == 0)
  }

  /// What the gate learns must not trap it: a first frame with a wrist 50 cm off does not set
  /// the forearm's length (the median of the first frames does), and two points a sensor keeps
  /// together (hands clasped, snapped to one) are refused at first and taken after
  /// `holdSeconds`.
  @Test("a bad first frame and points kept together do not leave points refused")
  func recovers() {
    let body = Self.standing()
    var first = body
    first[.leftWrist] += normalize(body[.leftWrist] - body[.leftElbow]) * 0.5
    var gate = LandmarkGate()
    gate.apply(first, at: 0)
    for f in 1..<60 { gate.apply(body, at: Double(f) / 30) }
    // The wrist's way back from 50 cm is too fast for one frame (the speed check), no more.
    #expect(gate.refused <= 1)
    #expect(gate.frame.positions == body.positions && gate.frame.untracked == 0)
    // Arms side by side, hands 12 cm apart; then the sensor puts both hands on one point.
    var apart = body
    apart[.rightElbow] = body[.leftElbow] + SIMD3(0.12, 0, 0)
    apart[.rightWrist] = body[.leftWrist] + SIMD3(0.12, 0, 0)
    gate = LandmarkGate()
    for f in 0..<60 { gate.apply(apart, at: Double(f) / 30) }
    #expect(gate.refused == 0)
    var clasped = apart
    clasped[.rightWrist] = apart[.leftWrist]
    gate.apply(clasped, at: 2)
    #expect(gate.refused == 2)
    for f in 1...30 { gate.apply(clasped, at: 2 + Double(f) / 30) }
    #expect(gate.frame.positions == clasped.positions)
    #expect(gate.frame.untracked == 0)
  }

  /// `LandmarkFrame.positions` is public: a caller may hand over a frame with too few (or
  /// too many) of them. The missing landmarks are not seen; nothing traps. Likewise a pose of
  /// another skeleton given to a live scorer is refused.
  @Test("a frame with too few or too many positions is read, the missing ones not seen")
  func shortFrames() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3)
    let (landmarks, times) = try ScoringData.landmarks(of: clip, jitter: 0, seed: 1)
    var odd = landmarks
    for f in odd.indices where f % 7 == 3 {
      switch f % 3 {
      case 0: odd[f].positions = []
      case 1: odd[f].positions = Array(odd[f].positions.prefix(5))
      default: odd[f].positions += Array(repeating: SIMD3(1, 2, 3), count: 40)
      }
    }
    let offline = TakeScorer(exercise: exercise).score(landmarks: odd, times: times)
    #expect(offline.repetitions.count == 3)
    var live = try StreamingScorer(exercise: exercise)
    for (frame, time) in zip(odd, times) { _ = live.push(landmarks: frame, at: time) }
    live.finish()
    #expect(live.result == offline)
    // A pose of another skeleton is refused, not trapped on.
    var posed = try StreamingScorer(exercise: exercise, skeleton: clip.skeleton)
    var pose = clip.skeleton.restPose
    pose.rotations.removeLast()
    #expect(!posed.push(pose: pose, at: 0).accepted)
    #expect(posed.push(pose: clip.skeleton.restPose, at: 0).accepted)
    var gate = LandmarkGate()
    var empty = LandmarkFrame()
    empty.positions = []
    gate.apply(empty, at: 0)
    #expect(gate.frame.positions.count == BodyLandmark.allCases.count)
    #expect(gate.frame.untracked == (1 << UInt32(BodyLandmark.allCases.count)) - 1)
  }

  /// A detector that swaps the feet's labels (ankles and toes) while the feet are together
  /// (nothing jumps: continuity cannot tell) and keeps them swapped as one leg rises: the
  /// shins then join each knee to the other ankle, which their lengths give away, and the gate
  /// exchanges them back; when the detector's labels come right again they are taken, not
  /// "swapped back". (Knees swapped with the feet leave the thighs' lengths nearly as they
  /// were: that the gate does not see, README.)
  @Test("feet whose labels swapped while together are put back by the shins' lengths")
  func swapsByBones() throws {
    let exercise = try ScoringData.exercise("uiprmd-m06-straight-leg-raise")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3)
    let (clean, times) = try ScoringData.landmarks(of: clip, jitter: 0, seed: 1)
    func apart(_ f: Int) -> Float { length(clean[f][.leftAnkle] - clean[f][.rightAnkle]) }
    // Feet together, and one foot 40 cm from the other within the next 20 frames.
    let start = try #require(
      (30..<(clean.count - 40)).first { f in apart(f) < 0.12 && apart(f + 20) > 0.4 })
    let lower: [BodyLandmark] = [.leftAnkle, .leftToe, .rightAnkle, .rightToe]
    var gate = LandmarkGate()
    var wrong = 0
    for f in 0..<(start + 40) {
      var frame = clean[f]
      if f >= start && f < start + 20 {
        for l in lower { frame[l] = clean[f][l.mirrored] }
      }
      gate.apply(frame, at: times[f])
      guard apart(f) > 0.4 else { continue }
      for l in lower where length(gate.frame[l] - clean[f][l]) > 0.01 {
        wrong += 1
        Issue.record(
          "frame \(f) (swap from \(start)): \(l) \(length(gate.frame[l] - clean[f][l])) m off")
      }
    }
    #expect(wrong == 0)
  }

  /// A sensor that stops measuring a point and keeps giving it, to the bit, where it last was
  /// (for 1.5 s of every 3 s here). Before, a frozen wrist scored the arms overhead 69 and a
  /// frozen head the leg raise 27 and the shoulder extension 42 ("Keep your head still"):
  /// read as the patient. A point repeated while its parent moved is now refused, held with
  /// its parent and then not seen, and its measures left out. A planted foot, still to the
  /// bit under a still knee, is not frozen: every exercise's clean take passes untouched.
  @Test(
    "a point the sensor froze while the limb moved is refused, not read as the patient",
    arguments: [
      ("lbp-arms-overhead", BodyLandmark.leftWrist), ("uiprmd-m06-straight-leg-raise", .head),
      ("uiprmd-m08-shoulder-extension", .head), ("uiprmd-m04-side-lunge", .head),
    ])
  func frozenPoints(id: String, point: BodyLandmark) throws {
    let (scorer, landmarks, times, cleanMean) = try Self.cleanTake(id)
    var frozen = landmarks
    var held: SIMD3<Float>?
    for f in frozen.indices {
      if times[f].truncatingRemainder(dividingBy: 3) >= 1.5 {
        held = held ?? frozen[f][point]
        frozen[f][point] = held ?? frozen[f][point]
      } else {
        held = nil
      }
    }
    let result = scorer.score(landmarks: frozen, times: times)
    #expect(result.repetitions.count == 3, "\(id), \(point)")
    let mean = try #require(result.summary.meanScore)
    #expect(mean >= cleanMean - 6, "\(id), \(point) frozen: \(mean) vs \(cleanMean)")
    // The clean take (planted feet, still parts) has nothing refused.
    var gate = LandmarkGate()
    for (frame, time) in zip(landmarks, times) { gate.apply(frame, at: time) }
    #expect(gate.refused == 0, "\(id): \(gate.refused) refused in the clean take")
  }

  @Test("a wrong first frame does not mirror the take, and a turn during a gap is not a swap")
  func swapsEnd() {
    let body = Self.standing()
    var mirrored = body
    for l in BodyLandmark.allCases { mirrored[l] = body[l.mirrored] }
    // The first frame's labels swapped, then 2 s of the body as it is.
    var gate = LandmarkGate()
    gate.apply(mirrored, at: 0)
    for f in 1...60 { gate.apply(body, at: Double(f) / 30) }
    #expect(gate.swaps <= 2 * 31, "swapped back \(gate.swaps) times")
    #expect(gate.frame.positions == body.positions)
    // Two first frames swapped: exchanged back no longer than they had held, not a second.
    var early = LandmarkGate()
    early.apply(mirrored, at: 0)
    early.apply(mirrored, at: 1.0 / 30)
    for f in 2..<60 {
      early.apply(body, at: Double(f) / 30)
      if f >= 5 { #expect(early.frame.positions == body.positions, "frame \(f)") }
    }
    // Seen, then 2 s unseen during which the patient turned round: taken as it comes.
    var turned = LandmarkGate()
    for f in 0..<30 { turned.apply(body, at: Double(f) / 30) }
    for f in 90..<120 { turned.apply(mirrored, at: Double(f) / 30) }
    #expect(turned.swaps == 0)
    #expect(turned.frame.positions == mirrored.positions)
  }
}
