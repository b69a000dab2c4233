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
/// The scorers compare like with like instead: the first landmark frame tells which landmarks
/// are placed by rule (`LandmarkFrame.derivedLandmarks`), and the reference is measured with
/// the same rules (`Exercise.derivingAlike`), offline and live. A sensor that gives a landmark
/// is compared with the reference's own. The first frame decides for the whole take: a sensor
/// that gives a neck but did not see it in its first frame (the solver then derives it too) is
/// compared with a derived reference neck throughout, and a camera that saw only one shoulder
/// in its first frame with the reference's own (review, 2026-12-04; not solved).
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

extension LandmarkFrame {
  /// How near its rule's place a landmark must be to count as placed by it, metres: far below
  /// any real landmark's distance from it, above rounding.
  public static let derivedTolerance: Float = 0.001
  /// The least distance between the shoulders of a frame that can tell a derived neck
  /// (metres): a child's shoulders are 25 cm apart, a placeholder's 0.
  public static let leastShoulderWidth: Float = 0.1

  /// The landmarks of this frame that sit where the solver's rules put a landmark a sensor does
  /// not give (`DerivedLandmarks`): the neck at the mid-shoulder point (neck and shoulders
  /// seen); a toe the sensor did not see (`untracked`) at `KeypointSolver.guessedToe` of its
  /// ankle, in the trunk's frame from the mid-hip point to the neck.
  public var derivedLandmarks: DerivedLandmarks {
    var found: DerivedLandmarks = []
    let seen = { (l: BodyLandmark) in self.untracked & (1 << UInt32(l.rawValue)) == 0 }
    guard positions.count == BodyLandmark.allCases.count else { return found }
    func near(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Bool {
      let gap = length(a - b)
      return gap.isFinite && gap <= Self.derivedTolerance
    }
    // Shoulders at one place (a detector's placeholder frame) say nothing.
    if seen(.neck), seen(.leftShoulder), seen(.rightShoulder),
      length(self[.leftShoulder] - self[.rightShoulder]) >= Self.leastShoulderWidth,
      near(self[.neck], (self[.leftShoulder] + self[.rightShoulder]) * 0.5)
    {
      found.insert(.neck)
    }
    let (up, forward) = trunkAxes
    for (toe, ankle, flag) in [
      (BodyLandmark.leftToe, BodyLandmark.leftAnkle, DerivedLandmarks.leftToe),
      (.rightToe, .rightAnkle, .rightToe),
    ] where !seen(toe) {
      if near(self[toe], KeypointSolver.guessedToe(ankle: self[ankle], up: up, forward: forward)) {
        found.insert(flag)
      }
    }
    return found
  }

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
    for k in measures.indices {
      seen.measures[k].tolerance = measures[k].tolerance
      seen.measures[k].rangeTolerance = measures[k].rangeTolerance
      seen.measures[k].weight = measures[k].weight
      seen.measures[k].overshootTolerance = measures[k].overshootTolerance
    }
    for k in keepStill.indices { seen.keepStill[k].tolerance = keepStill[k].tolerance }
    for k in postures.indices { seen.postures[k].tolerance = postures[k].tolerance }
    if levelling == nil { seen.levelling = nil }
    return seen
  }
}
