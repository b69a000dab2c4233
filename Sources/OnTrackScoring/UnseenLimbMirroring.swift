import OnTrackKinematics

/// Places an arm or a leg the sensor does not see as the mirror image of the other one, for an
/// exercise whose reference moves that pair of limbs left–right symmetrically.
///
/// A camera beside a patient on the floor — the view the app frames floor exercises in — sees
/// the far arm and leg badly: a pose model gives them low visibility and they count as
/// missing. Held where the solver last had them (or at rest, never seen), they told the
/// matcher that the patient's far knee stayed straight while the reference's bent: with
/// either side's limbs unseen, no repetition of a squat, a bridge, a cat–camel, a press-up or
/// a pelvic tilt was found at all.
///
/// The mirror is taken across the plane halfway between the hips (legs) or the shoulders
/// (arms), normal to their line: with `c` their midpoint and `n` the unit line from right to
/// left, `p′ = p − 2 ((p − c) · n) n`. Only a landmark unseen for longer than `shortGap` (or
/// never seen) while its counterpart and both ends of the line are seen is placed: a point
/// lost for a moment (a detector's outlier refused, a hand passing out of view) is held where
/// it was, as before — swapping a held point for its mirror image and back moved it by the
/// take's own asymmetry, and the landmark filter carried the step into the frames after (a
/// pelvic tilt through 1 % outliers lost 33 points to "keep your feet still"). A placed
/// landmark stays untracked, so the measures that need it are still left out of the score (no
/// cue about a limb nobody saw): it only keeps the body whole for finding repetitions and
/// telling the side.
///
/// Whether a pair may be mirrored is the reference's to say (`init(reference:)`): in every
/// reference frame each landmark of the pair within `largestAsymmetry` of its counterpart's
/// mirror image. A hurdle step, a lunge or a shoulder exercise moves one side, and its unseen
/// side keeps being held as before. Allocation-free after `init`.
public struct UnseenLimbMirroring: Sendable, Equatable {
  /// Elbows and wrists may be mirrored across the shoulders' plane.
  public var arms: Bool
  /// Knees, ankles and toes may be mirrored across the hips' plane.
  public var legs: Bool
  /// Per landmark, when it was last seen (seconds; −∞: not yet).
  private var lastSeen = [Double](repeating: -.infinity, count: BodyLandmark.allCases.count)

  /// Seconds a landmark may be unseen and still be held rather than mirrored.
  public static let shortGap = 0.5

  /// The most (metres) a reference's landmark may lie from its counterpart's mirror image for
  /// the pair to be mirrored.
  public static let largestAsymmetry: Float = 0.10
  /// Shortest hip or shoulder line (metres) a mirror plane is taken from.
  static let shortestLine: Float = 0.05
  static let armLandmarks: [BodyLandmark] = [.leftElbow, .leftWrist]
  static let legLandmarks: [BodyLandmark] = [.leftKnee, .leftAnkle, .leftToe]
  /// Nothing is mirrored.
  public static let none = UnseenLimbMirroring(arms: false, legs: false)

  /// True if `landmark` is placed as its counterpart's mirror image when unseen.
  public func places(_ landmark: BodyLandmark) -> Bool {
    (arms
      && (Self.armLandmarks.contains(landmark) || Self.armLandmarks.contains(landmark.mirrored)))
      || (legs
        && (Self.legLandmarks.contains(landmark) || Self.legLandmarks.contains(landmark.mirrored)))
  }

  public init(arms: Bool, legs: Bool) {
    self.arms = arms
    self.legs = legs
  }

  /// Mirrors each pair that `reference` (an exercise's reference, every landmark seen) moves
  /// symmetrically.
  public init(reference: [LandmarkFrame]) {
    func symmetric(_ landmarks: [BodyLandmark], _ a: BodyLandmark, _ b: BodyLandmark) -> Bool {
      guard !reference.isEmpty else { return false }
      for frame in reference {
        for left in landmarks {
          for (one, other) in [(left, left.mirrored), (left.mirrored, left)] {
            guard let image = Self.mirror(frame[other], frame[a], frame[b]),
              length(frame[one] - image) <= Self.largestAsymmetry
            else { return false }
          }
        }
      }
      return true
    }
    self.init(
      arms: symmetric(Self.armLandmarks, .leftShoulder, .rightShoulder),
      legs: symmetric(Self.legLandmarks, .leftHip, .rightHip))
  }

  public var isActive: Bool { arms || legs }

  /// The same rules (which pairs are mirrored), whatever each has seen.
  public static func == (a: Self, b: Self) -> Bool { a.arms == b.arms && a.legs == b.legs }

  /// Places each landmark of a mirrored pair unseen for longer than `shortGap` whose
  /// counterpart is seen, in `frame` seen at `time` seconds.
  mutating func place(_ frame: inout LandmarkFrame, at time: Double) {
    if arms { place(Self.armLandmarks, across: .leftShoulder, .rightShoulder, in: &frame, time) }
    if legs { place(Self.legLandmarks, across: .leftHip, .rightHip, in: &frame, time) }
  }

  private mutating func place(
    _ landmarks: [BodyLandmark], across a: BodyLandmark, _ b: BodyLandmark,
    in frame: inout LandmarkFrame, _ time: Double
  ) {
    for left in landmarks {
      if frame.shows(left) { lastSeen[left.rawValue] = time }
      if frame.shows(left.mirrored) { lastSeen[left.mirrored.rawValue] = time }
    }
    guard frame.shows(a), frame.shows(b) else { return }
    for left in landmarks {
      place(left, from: left.mirrored, across: a, b, in: &frame, time)
      place(left.mirrored, from: left, across: a, b, in: &frame, time)
    }
  }

  private func place(
    _ unseen: BodyLandmark, from seen: BodyLandmark, across a: BodyLandmark, _ b: BodyLandmark,
    in frame: inout LandmarkFrame, _ time: Double
  ) {
    guard !frame.shows(unseen), frame.shows(seen),
      !(time - lastSeen[unseen.rawValue] <= Self.shortGap),
      let image = Self.mirror(frame[seen], frame[a], frame[b])
    else { return }
    frame.positions[unseen.rawValue] = image
  }

  /// `p` mirrored across the plane halfway between `a` and `b`, normal to their line; `nil` if
  /// they are closer than `shortestLine` or not finite.
  static func mirror(_ p: SIMD3<Float>, _ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float>? {
    let line = a - b
    let span = length(line)
    guard span.isFinite, span >= shortestLine else { return nil }
    let n = line / span
    let c = (a + b) / 2
    return p - 2 * ((p - c) * n).sum() * n
  }
}
