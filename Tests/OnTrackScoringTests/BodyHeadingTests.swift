import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackSimulation
import Testing

@testable import OnTrackScoring

/// The heading the body is measured against: a part of the body turning shows, the whole body
/// turning does not (a patient who repositions, or comes back into the picture facing
/// elsewhere).
@Suite("A patient who turns round")
struct BodyHeadingTests {
  /// A standing body facing +Z, its hips, shoulders, knees and ankles turned about the
  /// vertical by `hips`, `shoulders` and `legs` degrees, with `jitter` metres of white noise
  /// (standard deviation, per axis).
  static func body(
    hips: Float, shoulders: Float, legs: Float, jitter: Float = 0,
    random: inout SplitMix64
  ) -> LandmarkFrame {
    var frame = LandmarkFrame()
    func turned(_ p: SIMD3<Float>, _ degrees: Float) -> SIMD3<Float> {
      let a = degrees * .pi / 180
      return SIMD3(p.x * cos(a) + p.z * sin(a), p.y, -p.x * sin(a) + p.z * cos(a))
    }
    let points: [(BodyLandmark, SIMD3<Float>, Float)] = [
      (.leftHip, [0.1, 0.9, 0], hips), (.rightHip, [-0.1, 0.9, 0], hips),
      (.leftShoulder, [0.18, 1.4, 0], shoulders), (.rightShoulder, [-0.18, 1.4, 0], shoulders),
      (.leftKnee, [0.1, 0.5, 0.02], legs), (.rightKnee, [-0.1, 0.5, 0.02], legs),
      (.leftAnkle, [0.1, 0.08, 0], legs), (.rightAnkle, [-0.1, 0.08, 0], legs),
    ]
    for (landmark, p, degrees) in points {
      let noise =
        SIMD3(Float(random.gaussian()), Float(random.gaussian()), Float(random.gaussian()))
        * jitter
      frame[landmark] = turned(p, degrees) + noise
    }
    return frame
  }

  static func degrees(_ left: SIMD3<Float>?) -> Float {
    guard let left else { return .nan }
    return atan2(-left.z, left.x) * 180 / .pi
  }

  /// The slow filter alone, as the heading was before whole-body turns were told apart.
  struct SlowHeading {
    var left: SIMD3<Float>?
    mutating func update(_ frame: LandmarkFrame, timeStep: Double) {
      var raw = frame[.leftHip] - frame[.rightHip]
      raw.y = 0
      raw = normalize(raw)
      guard let previous = left else {
        left = raw
        return
      }
      let alpha = Float(1 - exp(-timeStep / 2))
      left = normalize(previous + (raw - previous) * alpha)
    }
  }

  @Test("a turn of the whole body is followed within a third of a second; a part turning is not")
  func wholeBodyAgainstParts() {
    var random = SplitMix64(seed: 7)
    let step = 1.0 / 30
    // (hips, shoulders, legs) after 1 s: the whole body; the pelvis and chest with the feet
    // planted (a trunk rotation with the hips turning along); the pelvis alone; the legs alone.
    let cases: [(String, SIMD3<Float>, Bool)] = [
      ("whole body", [30, 30, 30], true), ("whole body, the other way", [-40, -40, -40], true),
      ("hips and chest, feet planted", [25, 30, 0], false), ("pelvis alone", [20, 0, 0], false),
      ("legs alone", [0, 0, 30], false),
    ]
    for (name, turn, followed) in cases {
      var heading = BodyHeading(timeConstant: 2)
      var slow = SlowHeading()
      for f in 0..<60 {
        let t = Double(f) * step
        let k: Float = t >= 1 ? 1 : 0
        let frame = Self.body(
          hips: turn.x * k, shoulders: turn.y * k, legs: turn.z * k, random: &random)
        heading.update(frame, timeStep: f == 0 ? 0 : step)
        slow.update(frame, timeStep: f == 0 ? 0 : step)
      }
      // 1 s after the turn.
      let now = Self.degrees(heading.left)
      if followed {
        #expect(abs(now - turn.x) < 1, "\(name): \(now)°")
      } else {
        #expect(abs(now - Self.degrees(slow.left)) < 0.01, "\(name): \(now)°, slow filter")
      }
    }
    // Within a third of a second of a 30° turn.
    var heading = BodyHeading(timeConstant: 2)
    for f in 0...40 {
      let k: Float = f >= 30 ? 30 : 0
      heading.update(
        Self.body(hips: k, shoulders: k, legs: k, random: &random), timeStep: f == 0 ? 0 : step)
    }
    #expect(abs(Self.degrees(heading.left) - 30) < 2, "\(Self.degrees(heading.left))°")
  }

  @Test("jitter alone never turns the heading faster than the slow filter")
  func jitterAlone() {
    var random = SplitMix64(seed: 7)
    for jitter: Float in [0.005, 0.01, 0.02, 0.03] {
      var heading = BodyHeading(timeConstant: 2)
      var slow = SlowHeading()
      var largest: Float = 0
      for f in 0..<1800 {
        let frame = Self.body(hips: 0, shoulders: 0, legs: 0, jitter: jitter, random: &random)
        heading.update(frame, timeStep: f == 0 ? 0 : 1.0 / 30)
        slow.update(frame, timeStep: f == 0 ? 0 : 1.0 / 30)
        largest = max(largest, abs(Self.degrees(heading.left) - Self.degrees(slow.left)))
      }
      #expect(largest < 0.01, "\(jitter) m: \(largest)° from the slow filter")
    }
  }

  /// `exercise`'s reference performed four times with 5 s rests (seed 3, 30 Hz), as
  /// BlazePose's points, and when the third repetition's movement starts (seconds).
  static func fourRepetitions(_ exercise: Exercise) throws -> (
    take: KeypointTake, thirdStarts: Double
  ) {
    let clip = try ScoringData.simulatedTake(
      of: exercise, repetitions: 4, seed: 3, frameRate: 30
    ) { $0.restSeconds = 5 }
    let layout = KeypointLayout.blazePose33
    let take = try KeypointFiles.csv(
      bytes: try KeypointScoringTests.layoutCSV(clip, layout: layout), file: "p.csv",
      layout: layout.id)
    return (take, 2 * (clip.duration - 5) / 4 + 5)
  }

  /// `take`'s points with the patient turning `degrees` about the vertical through the hips'
  /// midpoint from `start` seconds, over `over` seconds (0: at once), after `away` seconds out
  /// of the picture; the points named in `unseen` never given.
  static func turning(
    _ take: KeypointTake, by degrees: Float, from start: Double, over: Double = 0,
    away: Double = 0, unseen: Set<String> = []
  ) throws -> KeypointTake {
    let names = take.layout.names
    let hips = try [
      #require(names.firstIndex(of: "left_hip")), #require(names.firstIndex(of: "right_hip")),
    ]
    var centre: SIMD3<Float>?
    var frames: [[SIMD3<Float>?]] = []
    for (f, given) in take.frames.enumerated() {
      let frame = given.enumerated().map { unseen.contains(names[$0.offset]) ? nil : $0.element }
      let t = take.times[f]
      if t >= start && t < start + away {
        frames.append(frame.map { _ in nil })
        continue
      }
      guard t >= start + away, let l = given[hips[0]], let r = given[hips[1]] else {
        frames.append(frame)
        continue
      }
      let c = centre ?? (l + r) / 2
      centre = c
      let share = over > 0 ? Float(min((t - start - away) / over, 1)) : 1
      let a = share * degrees * .pi / 180
      frames.append(
        frame.map {
          $0.map { q in
            let p = q - c
            return c + SIMD3(p.x * cos(a) + p.z * sin(a), p.y, -p.x * sin(a) + p.z * cos(a))
          }
        })
    }
    return try KeypointTake(
      layout: take.layout, times: take.times, frames: frames, confidence: nil, source: "turning")
  }

  /// Scores `take` offline and live; expects `count` repetitions of at least 95, alike.
  static func expectScoredAsPerfect(
    _ take: KeypointTake, _ exercise: Exercise, count: Int, _ context: String
  ) throws {
    let solved = try take.solved()
    let scores = TakeScorer(exercise: exercise).score(solved).repetitions.map {
      Int($0.score.rounded())
    }
    #expect(scores.count == count && scores.allSatisfy { $0 >= 95 }, "\(context): \(scores)")
    let live = try ScoringData.streamLive(
      landmarks: ClipFeatures.landmarks(of: solved), times: solved.times, exercise: exercise)
    #expect(live.repetitions.map { Int($0.score.rounded()) } == scores, "\(context) live")
  }

  /// A webcam that shows only the upper body: with the legs unseen, the hips and shoulders
  /// turning alike are the whole body for an exercise whose reference turns neither, and only
  /// the slow filter follows for one that does (a trunk rotation, whose fault is the hips
  /// turning with the chest).
  @Test(
    "with the legs unseen, a turn of the trunk is the body's only where the exercise never turns it"
  )
  func legsUnseen() throws {
    var random = SplitMix64(seed: 7)
    for trunkTells in [true, false] {
      var heading = BodyHeading(timeConstant: 2, trunkTells: trunkTells)
      var slow = SlowHeading()
      for f in 0..<60 {
        let k: Float = f >= 30 ? 30 : 0
        var frame = Self.body(hips: k, shoulders: k, legs: k, random: &random)
        for l in [BodyLandmark.leftKnee, .rightKnee, .leftAnkle, .rightAnkle] {
          frame.untracked |= 1 << UInt32(l.rawValue)
        }
        heading.update(frame, timeStep: f == 0 ? 0 : 1.0 / 30)
        slow.update(frame, timeStep: f == 0 ? 0 : 1.0 / 30)
      }
      let now = Self.degrees(heading.left)
      if trunkTells {
        #expect(abs(now - 30) < 1, "\(now)°")
      } else {
        #expect(abs(now - Self.degrees(slow.left)) < 0.01, "\(now)°")
      }
    }
    let turning = ["lbp-trunk-rotation", "lbp-torso-rotation"]
    let still = [
      "uiprmd-m07-shoulder-abduction", "uiprmd-m10-shoulder-scaption", "lbp-arms-overhead",
    ]
    for id in turning { #expect(try !ScoringData.exercise(id).trunkTurnIsBodyTurn, "\(id)") }
    for id in still { #expect(try ScoringData.exercise(id).trunkTurnIsBodyTurn, "\(id)") }
  }

  /// Shoulder exercises seen without legs, the patient turning 30° over a second in the rest
  /// before the third repetition: before, that repetition scored 31–70 (scaption 39, shoulder
  /// rotation 31, abduction 70).
  @Test(
    "an upper body that turns between repetitions scores as one that did not, live as offline",
    arguments: [
      "uiprmd-m07-shoulder-abduction", "uiprmd-m09-shoulder-rotation",
      "uiprmd-m10-shoulder-scaption",
    ])
  func upperBodyTurns(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (take, thirdStarts) = try Self.fourRepetitions(exercise)
    let legs = Set(
      take.layout.names.filter { name in
        ["knee", "ankle", "heel", "foot"].contains { name.contains($0) }
      })
    let turned = try Self.turning(
      take, by: 30, from: thirdStarts - 2.5, over: 1, unseen: legs)
    try Self.expectScoredAsPerfect(turned, exercise, count: 4, id)
  }

  /// A hip the sensor has not seen yet sits wherever a solver or the gate put it (the gate:
  /// the middle of the body's landmarks); read as the hips' line it turned the heading by
  /// tens of degrees, which the slow filter took seconds to undo.
  @Test("a hip not seen does not turn the heading")
  func unseenHip() {
    var random = SplitMix64(seed: 7)
    var heading = BodyHeading(timeConstant: 2)
    var largest: Float = 0
    for f in 0..<60 {
      var frame = Self.body(hips: 0, shoulders: 0, legs: 0, random: &random)
      // Not seen for the first 0.2 s, and again for 0.1 s later on.
      if f < 6 || (30..<33).contains(f) {
        frame[.leftHip] = [0, 1.0, 0.25]
        frame.untracked |= 1 << UInt32(BodyLandmark.leftHip.rawValue)
      }
      heading.update(frame, timeStep: f == 0 ? 0 : 1.0 / 30)
      largest = max(largest, abs(Self.degrees(heading.left)))
    }
    #expect(largest < 0.5, "\(largest)°")
  }

  /// The same through the whole chain: BlazePose's points with the left hip (or a shoulder)
  /// missing from the first 0.1 s. Before, the cat–camel's first two repetitions scored 8 and
  /// 20 ("Follow the guide with your head") and were split in three; the sit-to-stand 70.
  @Test(
    "a patient whose hip is not seen in the first frames is scored as one whose hip is",
    arguments: ["lbp-cat-camel", "uiprmd-m05-sit-to-stand", "lbp-press-up", "lbp-knee-rolls"])
  func hipUnseenAtFirst(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, repetitions: 3, seed: 2, frameRate: 30)
    let layout = KeypointLayout.blazePose33
    let base = try KeypointFiles.csv(
      bytes: try KeypointScoringTests.layoutCSV(clip, layout: layout), file: "p.csv",
      layout: layout.id)
    for missing in ["left_hip", "right_hip", "left_shoulder"] {
      let k = try #require(layout.names.firstIndex(of: missing))
      var frames = base.frames
      for f in 0..<3 { frames[f][k] = nil }
      let take = try KeypointTake(
        layout: layout, times: base.times, frames: frames, confidence: nil, source: missing)
      let solved = try take.solved()
      let offline = TakeScorer(exercise: exercise).score(solved)
      let scores = offline.repetitions.map { Int($0.score.rounded()) }
      #expect(scores.count == 3 && scores.allSatisfy { $0 >= 95 }, "\(id), \(missing): \(scores)")
      let live = try ScoringData.streamLive(
        landmarks: ClipFeatures.landmarks(of: solved), times: solved.times, exercise: exercise)
      #expect(live.repetitions.map { Int($0.score.rounded()) } == scores, "\(id), \(missing) live")
    }
  }

  /// Each exercise performed perfectly through BlazePose's points, four repetitions with 5 s
  /// of rest; before the third the patient turns 30° (at once, over a second, or out of the
  /// picture for 3 s and back turned), 1.5 s before it starts. Before the whole body's turn
  /// was told apart, that repetition scored 0–54 (sit-to-stand 8, shoulder abduction 40,
  /// press-up 35, the trunk rotation found a fifth repetition in the turn).
  @Test(
    "a patient who turns between repetitions scores as one who did not, live as offline",
    arguments: [
      "uiprmd-m05-sit-to-stand", "uiprmd-m07-shoulder-abduction", "lbp-press-up",
      "lbp-trunk-rotation", "lbp-glute-bridge",
    ])
  func turnBetweenRepetitions(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let (take, thirdStarts) = try Self.fourRepetitions(exercise)
    // The turn ends 1.5 s before the third repetition's movement starts.
    for (name, away, over) in [("at once", 0.0, 0.0), ("over 1 s", 0, 1), ("away 3 s", 3, 0)] {
      let turned = try Self.turning(
        take, by: 30, from: thirdStarts - 1.5 - away - over, over: over, away: away)
      try Self.expectScoredAsPerfect(turned, exercise, count: 4, "\(id), turned \(name)")
    }
  }
}
