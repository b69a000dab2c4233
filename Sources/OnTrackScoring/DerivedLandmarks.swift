import OnTrackKinematics

/// Landmarks a sensor does not give, which the keypoint solver places by rule
/// (`KeypointSolver`): the neck at the mid-shoulder point when there is no point on the spine
/// (BlazePose, COCO-17), a toe forward of the ankle in the trunk's frame when there are no feet
/// (COCO-17). A reference measured on a skeleton differs from such a guess, and the difference
/// moves: the mid-shoulder point moves 2–7 cm against the spine's neck joint whenever the arms
/// rise, reach or shrug, so the trunk (pelvis to neck) and the head (neck to head) turned with
/// the arms (a perfect deep squat seen through BlazePose's points scored 11, "Keep your head up
/// and still", a shoulder extension 82, a cat–camel 47); a guessed toe points the feet away
/// from the floor of a patient on hands and knees or on the back, and the matcher, which aligns
/// the feet too, found no repetition of a floor exercise through COCO-17.
///
/// The scorers compare like with like instead: a stream's first frames tell which landmarks
/// are placed by rule (`DerivedLandmarksDecision`), and the reference is measured with the same
/// rules (`Exercise.derivingAlike`), offline and live. A sensor that gives a landmark is
/// compared with the reference's own.
public struct DerivedLandmarks: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// The neck at the mid-shoulder point.
  public static let neck = DerivedLandmarks(rawValue: 1)
  /// The left toe where `KeypointSolver.guessedToe` puts it.
  public static let leftToe = DerivedLandmarks(rawValue: 2)
  /// The right toe likewise.
  public static let rightToe = DerivedLandmarks(rawValue: 4)
}

/// Which landmarks a stream's sensor does not give, decided from its first frames, the same
/// way offline (`decided(landmarks:times:)`) and live (`observe(_:at:)` frame by frame).
///
/// One frame cannot tell: a sensor that gives a neck but did not see it in a frame (the
/// solver then places it at the mid-shoulder point) looks like one that gives none, and a
/// frame that saw one shoulder, or no toe near its ankle, says nothing. Each frame gives
/// evidence per landmark (`LandmarkFrame.derivationEvidence`): *own* (the sensor gave it there)
/// or *derived* (it sits where the rule puts it). A landmark is the sensor's own as soon as one
/// frame shows it so; placed by rule once `window` seconds of frames (or `mostFrames`) have
/// shown only that; a landmark with no evidence either way waits up to `longestWait` seconds
/// (or `mostFrames`) and is then taken as the sensor's own. Before the decision the first
/// frame's evidence stands (`provisional`): a scorer that started on it and learns otherwise
/// measures the reference again and replays the frames held meanwhile (`StreamingScorer`), so
/// live equals offline.
///
/// Measured before (2026-12-04; a simulated perfect performance written as each sensor's
/// points, one point left out of the first frames): BlazePose with one shoulder unseen for
/// 0.1 s, a deep squat 11 instead of 99 and a cat–camel 47; BlazePose's toes unseen for 0.3 s,
/// no repetition of the cat–camel found; a Kinect v2 with no neck for 0.1 s, a cat–camel and a
/// shoulder extension 95 and OpenPose BODY_25 86, where a first frame with every point gives
/// 99.
public struct DerivedLandmarksDecision: Sendable, Equatable {
  /// Seconds of frames that must show a landmark placed by rule, and never the sensor's own,
  /// before it is taken as placed by rule.
  public static let window = 1.0
  /// Seconds a landmark no frame tells about waits before it is taken as the sensor's own.
  public static let longestWait = 10.0
  /// Frames after which every landmark is decided, whatever the frames' times (a bound on
  /// what a live scorer holds to replay).
  public static let mostFrames = 600

  private static let candidates: DerivedLandmarks = [.neck, .leftToe, .rightToe]
  private var firstTime: Double?
  private var latestTime: Double?
  private var frames = 0
  private var derivedSeen: DerivedLandmarks = []
  private var ownSeen: DerivedLandmarks = []
  /// What the first frame tells (its derived evidence); `nil` before a frame.
  public private(set) var provisional: DerivedLandmarks?
  /// The decision, once made.
  public private(set) var decided: DerivedLandmarks?

  public init() {}

  /// What the frames so far tell if no more come: the landmarks shown placed by rule and
  /// never shown the sensor's own.
  public var resolved: DerivedLandmarks { decided ?? derivedSeen.subtracting(ownSeen) }

  /// Takes one frame's evidence at `time` seconds (the stream's clock; a time that is not
  /// finite counts as a frame but not as time passing).
  public mutating func observe(_ frame: LandmarkFrame, at time: Double) {
    guard decided == nil else { return }
    let evidence = frame.derivationEvidence
    if provisional == nil { provisional = evidence.derived }
    derivedSeen.formUnion(evidence.derived)
    ownSeen.formUnion(evidence.own)
    frames += 1
    if time.isFinite {
      if firstTime == nil { firstTime = time }
      latestTime = max(latestTime ?? time, time)
    }
    let elapsed = (latestTime ?? 0) - (firstTime ?? 0)
    let open = Self.candidates.subtracting(ownSeen)
    let untold = open.subtracting(derivedSeen)
    let full = frames >= Self.mostFrames
    let windowPassed = full || elapsed >= Self.window
    let waitPassed = full || elapsed >= Self.longestWait
    if open.isEmpty || (windowPassed && (untold.isEmpty || waitPassed)) {
      decided = derivedSeen.subtracting(ownSeen)
    }
  }

  /// The decision for a whole take: its frames observed in order until decided, else what
  /// they tell at the end (`resolved`).
  public static func decided(landmarks: [LandmarkFrame], times: [Double]) -> DerivedLandmarks {
    var decision = DerivedLandmarksDecision()
    for (frame, time) in zip(landmarks, times) where decision.decided == nil {
      decision.observe(frame, at: time)
    }
    return decision.resolved
  }
}

extension LandmarkFrame {
  /// How near its rule's place a landmark must be to count as placed by it, metres: far below
  /// any real landmark's distance from it, above rounding.
  public static let derivedTolerance: Float = 0.001
  /// The least distance of a neck from the mid-shoulder point that shows it the sensor's own
  /// (metres): a spine's neck joint sits 2–7 cm from it; a derived neck within
  /// `derivedTolerance`, which a solved skeleton's shoulders may miss by a few millimetres.
  public static let ownNeckDistance: Float = 0.01
  /// The least distance between the shoulders of a frame that can tell a derived neck
  /// (metres): a child's shoulders are 25 cm apart, a placeholder's 0.
  public static let leastShoulderWidth: Float = 0.1

  /// What this frame tells about the landmarks a sensor may not give (`DerivedLandmarks`):
  /// `derived`, those that sit where the solver's rules put one; `own`, those the sensor
  /// shows it gives. The neck, when it and both shoulders are seen and the shoulders are at
  /// least `leastShoulderWidth` apart: derived within `derivedTolerance` of the mid-shoulder
  /// point, own `ownNeckDistance` or more from it (neither between). A toe: own when seen; derived when not seen (`untracked`), its ankle
  /// seen, and at `KeypointSolver.guessedToe` of the ankle, in the trunk's frame from the
  /// mid-hip point to the neck; neither when held elsewhere or when the ankle is not seen
  /// either (a leg out of the picture says nothing about the feet: a patient whose legs
  /// entered the picture after 2 s had the toes decided placed by rule, and the cat–camel
  /// found no repetition).
  public var derivationEvidence: (derived: DerivedLandmarks, own: DerivedLandmarks) {
    var derived: DerivedLandmarks = []
    var own: DerivedLandmarks = []
    let seen = { (l: BodyLandmark) in self.untracked & (1 << UInt32(l.rawValue)) == 0 }
    guard positions.count == BodyLandmark.allCases.count else { return (derived, own) }
    func near(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Bool {
      let gap = length(a - b)
      return gap.isFinite && gap <= Self.derivedTolerance
    }
    // Shoulders at one place (a detector's placeholder frame) say nothing.
    if seen(.neck), seen(.leftShoulder), seen(.rightShoulder),
      length(self[.leftShoulder] - self[.rightShoulder]) >= Self.leastShoulderWidth,
      self[.neck].x.isFinite, self[.neck].y.isFinite, self[.neck].z.isFinite
    {
      let gap = length(self[.neck] - (self[.leftShoulder] + self[.rightShoulder]) * 0.5)
      if gap <= Self.derivedTolerance {
        derived.insert(.neck)
      } else if gap >= Self.ownNeckDistance {
        own.insert(.neck)
      }
    }
    let (up, forward) = trunkAxes
    for (toe, ankle, flag) in [
      (BodyLandmark.leftToe, BodyLandmark.leftAnkle, DerivedLandmarks.leftToe),
      (.rightToe, .rightAnkle, .rightToe),
    ] {
      if seen(toe) {
        own.insert(flag)
      } else if seen(ankle),
        near(
          self[toe], KeypointSolver.guessedToe(ankle: self[ankle], up: up, forward: forward))
      {
        derived.insert(flag)
      }
    }
    return (derived, own)
  }

  /// The landmarks this frame alone shows placed by rule (`derivationEvidence`'s `derived`).
  public var derivedLandmarks: DerivedLandmarks { derivationEvidence.derived }

  /// The trunk's axes as the solver takes them for a sensor with no pelvis point
  /// (`KeypointSolver.trunkAxes`, the pelvis at the mid-hip point).
  var trunkAxes: (up: SIMD3<Float>, forward: SIMD3<Float>) {
    KeypointSolver.trunkAxes(
      pelvis: (self[.leftHip] + self[.rightHip]) * 0.5, neck: self[.neck],
      hips: (self[.leftHip], self[.rightHip]),
      shoulders: (self[.leftShoulder], self[.rightShoulder]))
  }

  /// Places `landmarks` by the solver's rules (the neck first: the toes' frame depends on it).
  mutating func derive(_ landmarks: DerivedLandmarks) {
    if landmarks.contains(.neck) {
      self[.neck] = (self[.leftShoulder] + self[.rightShoulder]) * 0.5
    }
    guard !landmarks.isDisjoint(with: [.leftToe, .rightToe]) else { return }
    let (up, forward) = trunkAxes
    if landmarks.contains(.leftToe) {
      self[.leftToe] = KeypointSolver.guessedToe(ankle: self[.leftAnkle], up: up, forward: forward)
    }
    if landmarks.contains(.rightToe) {
      self[.rightToe] = KeypointSolver.guessedToe(
        ankle: self[.rightAnkle], up: up, forward: forward)
    }
  }
}

extension Exercise {
  /// The exercise as a sensor that places `landmarks` by rule sees it: the reference measured
  /// again with them so placed in every frame (`init(definition:referenceClip:file:placing:)`:
  /// features, alignment rows, hold, levelling), every tolerance, weight and range tolerance
  /// (which a caller may have calibrated) kept. `self` for none, or without a reference clip to measure
  /// again.
  public func derivingAlike(_ landmarks: DerivedLandmarks) -> Exercise {
    guard !landmarks.isEmpty, let clip = referenceClip,
      var seen = try? Exercise(definition: definition, referenceClip: clip, placing: landmarks),
      seen.measures.count == measures.count, seen.keepStill.count == keepStill.count,
      seen.postures.count == postures.count
    else { return self }
    // Assigned once: the hold follows the measures (`Exercise.measures`).
    var measured = seen.measures
    for k in measures.indices {
      measured[k].tolerance = measures[k].tolerance
      measured[k].rangeTolerance = measures[k].rangeTolerance
      measured[k].weight = measures[k].weight
      measured[k].overshootTolerance = measures[k].overshootTolerance
    }
    seen.measures = measured
    for k in keepStill.indices { seen.keepStill[k].tolerance = keepStill[k].tolerance }
    for k in postures.indices { seen.postures[k].tolerance = postures[k].tolerance }
    if levelling == nil { seen.levelling = nil }
    return seen
  }
}
