import Foundation
import OnTrackKinematics

/// Levels a sensor that is not level: a webcam on a laptop lid or a shelf looks down or up at
/// the patient, and its vertical is then not the world's. Everything the scorer reads against
/// the vertical (bone directions in the body frame, trunk lean, postures) would carry the
/// camera's tilt as if it were the patient's: pitched 5°, the pelvic tilt (a 10° movement)
/// scored 3 and at 10° no repetition was found.
///
/// The patient's vertical is found from the legs in the exercise's starting posture, which
/// stand on the floor or lie on it, compared with the reference's (which is level):
///
/// - Two lines of the legs fix a frame: the *support line* from between the ankles to between
///   the hips (standing; lying on the back or front, ankles and hips on the floor), or, when
///   the reference kneels (knees within `floorBand` of its lowest landmark while the hips are
///   higher), from between the toes to between the knees (both on the floor whether the toes
///   are tucked under or not; the ankles' height is not); and the *lateral line*, the sum of
///   the right-to-left hip, knee (kneeling) and ankle lines. Frame: `e₁` the support line,
///   `e₂` the lateral line less its `e₁` part, `e₃ = e₁ × e₂` (TRIAD). The rotation carrying
///   the patient's frame onto the reference's is `R = F_ref F_patᵀ`; the reference's vertical
///   in the patient's frame is `u = Rᵀ ŷ = F_pat F_refᵀ ŷ`. Lines, not a fit of points, so
///   that where the feet are put (apart, together, nearer the buttocks in hook lying) changes
///   little: the hips stay above the feet standing, and lying both are on the floor. A
///   reference that does neither (sitting: the feet-to-hips line leans with where the feet
///   are put and how high the chair is) levels only the roll (`levelsRollOnly`). The trunk,
///   the head and the arms are never used, so a stoop, a trunk leaning to one side or a head
///   held forward stays the patient's and is scored (`RobustnessSuite`'s "stooped 25°" and
///   "lean" columns are the same through a tilted camera).
/// - The patient's lines are read from the mean of their landmarks over the take's first
///   `calibrationSeconds`, in which the patient must be still: if the legs leave where they
///   were (their landmarks' root mean square distance from their means so far beyond
///   `largestStartMovement`, allowing four times the sensor's jitter as estimated from their
///   second differences), the take began with a movement and nothing is levelled. A posture
///   held still at the start is the only one that can be compared with the reference's; a
///   take cut at the start of a repetition (UI-PRMD's) is not levelled, where an early estimate
///   read a staggered lunge stance as a 9–22° tilt. Fewer than `fewestFrames` frames (a sensor
///   slower than about 10 frames a second) cannot tell: nothing is levelled.
/// - The levelling is the shortest rotation taking `u` to `ŷ`, by `θ = acos(u_y)`: a tilt about
///   a horizontal axis, never a turn about the vertical, so where the patient faces stays
///   theirs. Below `smallestTilt` (2°) θ is the estimate's own error (bodies stand
///   differently) and nothing is levelled; the correction grows to the whole θ at twice that.
///   More than `largestTilt` (25°) is not a camera's tilt but a patient who starts in another
///   posture than the reference, unless both knees are bent as the reference's (a knee's
///   angle does not turn with the camera): then up to `largestTiltLegsAlike` (60°), a phone on
///   the floor looking up. For a reference that stands, a turn about the camera's line of
///   sight (the turn's axis within `rollAxisLean` of z, the axis a camera's keypoints are
///   given along) with the legs alike is levelled up to `largestRoll` (120°): a phone or a
///   camera on its side. Not for a reference that lies, kneels or sits: a patient who stands
///   side-on to the camera before lying down for a prone press-up has their straight legs
///   turned 90° about that axis from the reference's, as a camera on its side would. Beyond,
///   nothing is levelled.
///
/// The decision needs the whole calibration, so `FeaturePipeline` holds the first frames
/// back until it is made (`observe` each, then `settle`, then `apply` to each held frame and
/// to every frame after): live scoring starts `calibrationSeconds` late, once, and offline and
/// live level every frame alike. Measured in `ontrack eval robustness` (columns "camera 15°
/// down / up, 1 cm": pitch 15° and roll 5° through 1 cm of jitter) and `SensorLevellingTests`.
/// Allocation-free after `init`.
public struct SensorLevelling: Sendable {
  /// How long the starting posture is averaged over, seconds.
  public static let calibrationSeconds = 0.5
  /// How long after the first frame the calibration waits for a frame that shows the legs it
  /// reads (a patient still walking into the picture), seconds; then nothing is levelled.
  public static let longestWaitForLegs = 3.0
  /// Landmarks within this height of the reference's lowest one rest on the floor, metres.
  public static let floorBand: Float = 0.15
  /// Hips lower than this above the floor: lying, metres.
  public static let lyingHipHeight: Float = 0.3
  /// The most a camera is taken to be tilted, radians (25°), unless the legs are bent as the
  /// reference's (`largestTiltLegsAlike`).
  public static let largestTilt: Float = 25 * .pi / 180
  /// The most a camera is taken to be tilted when both knees are bent as in the reference's
  /// starting posture, within `kneesAlike`, radians (60°). A knee's angle does not turn with
  /// the camera: legs shaped as the reference's, whose line is tilted, are seen by a tilted
  /// camera (a phone on the floor leaning against a wall looks up 20–40°), where legs of
  /// another shape are another posture (a patient who starts in a deep squat has the hips
  /// 30–40° behind the ankles, and knees bent 90° where the reference stands straight).
  public static let largestTiltLegsAlike: Float = 60 * .pi / 180
  /// The most a camera is taken to be rolled about its line of sight, radians (120°), for a
  /// reference that stands, the legs alike: a camera on its side is 90°, give or take how it
  /// was put down.
  public static let largestRoll: Float = 120 * .pi / 180
  /// How far the levelling's axis may lean from the line of sight (z) for a roll, radians (20°).
  public static let rollAxisLean: Float = 20 * .pi / 180
  /// How far each knee's angle may differ from the reference's for the legs to be alike,
  /// radians (15°).
  public static let kneesAlike: Double = 15 * .pi / 180
  /// Tilts found below this are the estimate's own error and left alone; the correction grows
  /// linearly to the whole tilt at twice this, radians (2°).
  public static let smallestTilt: Float = 2 * .pi / 180
  /// The patient's legs further than this from where they were (root mean square, beyond
  /// jitter) have begun to move, metres.
  public static let largestStartMovement = 0.04
  /// The frames the calibration takes before a frame can count as moved: enough second
  /// differences to know the sensor's jitter.
  static let framesBeforeMovement = 4
  /// Fewer frames than this in the calibration (a sensor slower than about 10 Hz, or a stream
  /// that ended) asked too little whether the patient was still: nothing is levelled.
  static let fewestFrames = framesBeforeMovement + 2
  /// A reference support line within this of the vertical stands on the floor, radians (20°).
  static let standingLean: Double = 20 * .pi / 180
  /// The reference's starting posture lasts while no leg landmark is further than this from
  /// where it began (at most `calibrationSeconds`), metres.
  public static let referenceStillness: Float = 0.02

  /// The legs, from the hips down: what the lines are read from.
  public static let legs: [BodyLandmark] = [
    .leftHip, .rightHip, .leftKnee, .rightKnee, .leftAnkle, .rightAnkle, .leftToe, .rightToe,
  ]

  /// The support line's ends: between the ankles to between the hips, or kneeling, between
  /// the toes to between the knees (both on the floor, whether the toes are tucked under or
  /// not; the ankles' height is not).
  private let lower: (left: BodyLandmark, right: BodyLandmark)
  private let upper: (left: BodyLandmark, right: BodyLandmark)
  /// Whether the reference kneels: the support line ends between the knees, whose line is
  /// part of the lateral line.
  private var kneeling: Bool { upper.left == .leftKnee }
  /// The landmarks the frame needs seen.
  private let needed: [BodyLandmark]
  /// Whether only the roll (about the patient's forward axis) is levelled: the reference
  /// neither stands, kneels nor lies (sitting), where the support line's pitch depends on
  /// where the patient puts their feet and how high the chair is.
  public let levelsRollOnly: Bool
  /// Whether the reference stands in its starting posture (neither lies, kneels nor sits):
  /// a camera on its side is levelled only then (`largestRoll`).
  public let referenceStands: Bool
  /// ŷ's coordinates in the reference's frame (`e₁`, `e₂`, `e₃`).
  private let referenceUp: SIMD3<Double>
  /// The reference's knee angles in its starting posture (left, right; radians).
  private let referenceKnees: (Double, Double)
  /// Per landmark, the patient's frames over the calibration: sums of positions and seen
  /// frames; sums and counts of squared second differences, and the two positions before
  /// (how many are valid in `history`).
  private var sums: [SIMD3<Double>]
  private var counts: [Int]
  private var secondSums: [Double]
  private var secondCounts: [Int]
  private var previous: [SIMD3<Double>]
  private var older: [SIMD3<Double>]
  private var history: [Int]
  private var firstTime: Double?
  /// The time of the first frame that showed the legs: the calibration's start.
  private var calibrationStart: Double?
  /// Frames taken into the calibration so far.
  public private(set) var calibrationFrames = 0
  /// The levelling (identity until settled, and when nothing is to be levelled).
  public private(set) var rotation = Quaternion(x: 0, y: 0, z: 0, w: 1)
  /// The tilt found, before the dead zone and the limit, radians (0 if none was estimated).
  public private(set) var estimatedTilt: Float = 0
  /// Whether the legs moved during the calibration (then nothing is levelled).
  public private(set) var moved = false
  /// Whether the calibration is over and `rotation` decided.
  public private(set) var settled = false
  /// Whether the calibration saw the patient still, with the legs, over enough frames, in a
  /// posture it could level onto the reference's (tilted no more than a camera is): the
  /// take's start is a posture to compare with the reference's (`BoneCalibration`).
  public private(set) var stillStart = false

  /// The lines read from the reference's landmarks (`frameTime` seconds apart) in its
  /// starting posture (`referenceStillness`); `nil` if they have no direction.
  public init?(reference landmarks: [LandmarkFrame], frameTime: Double) {
    guard let first = landmarks.first, frameTime > 0 else { return nil }
    let all = BodyLandmark.allCases
    let limit = min(landmarks.count, Int((Self.calibrationSeconds / frameTime).rounded()) + 1)
    var n = 1
    while n < limit,
      Self.legs.allSatisfy({
        let d = landmarks[n][$0] - first[$0]
        return (d * d).sum() <= Self.referenceStillness * Self.referenceStillness
      })
    {
      n += 1
    }
    var mean = [SIMD3<Double>](repeating: .zero, count: all.count)
    for f in 0..<n {
      for i in 0..<all.count { mean[i] += SIMD3<Double>(landmarks[f].positions[i]) / Double(n) }
    }
    var lowest = Double.infinity
    for i in 0..<all.count { lowest = min(lowest, mean[i].y) }
    guard lowest.isFinite else { return nil }
    func height(_ landmark: BodyLandmark) -> Double { mean[landmark.rawValue].y - lowest }
    let hips = (height(.leftHip) + height(.rightHip)) / 2
    let knees = (height(.leftKnee) + height(.rightKnee)) / 2
    let kneeling = hips > Double(Self.lyingHipHeight) && knees <= Double(Self.floorBand)
    // Toes that are only the ankles' stand-ins (a layout without feet) are no line of their
    // own: the ankles then.
    let toeToAnkle = mean[BodyLandmark.leftToe.rawValue] - mean[BodyLandmark.leftAnkle.rawValue]
    let toes = (toeToAnkle * toeToAnkle).sum().squareRoot() > 0.05
    lower = kneeling && toes ? (.leftToe, .rightToe) : (.leftAnkle, .rightAnkle)
    upper = kneeling ? (.leftKnee, .rightKnee) : (.leftHip, .rightHip)
    needed =
      [.leftHip, .rightHip, .leftAnkle, .rightAnkle, lower.left, lower.right]
      + (kneeling ? [BodyLandmark.leftKnee, .rightKnee] : [])
    guard
      let frame = Self.frame(
        lower: lower, upper: upper, kneesAcross: kneeling, { mean[$0.rawValue] })
    else { return nil }
    let lying = hips <= Double(Self.lyingHipHeight)
    levelsRollOnly = !lying && !kneeling && abs(frame.0.y) < cos(Self.standingLean)
    referenceStands = !lying && !kneeling && !levelsRollOnly
    referenceUp = SIMD3(frame.0.y, frame.1.y, frame.2.y)
    referenceKnees = Self.knees { mean[$0.rawValue] }
    sums = [SIMD3<Double>](repeating: .zero, count: all.count)
    counts = [Int](repeating: 0, count: all.count)
    secondSums = [Double](repeating: 0, count: all.count)
    secondCounts = [Int](repeating: 0, count: all.count)
    previous = [SIMD3<Double>](repeating: .zero, count: all.count)
    older = [SIMD3<Double>](repeating: .zero, count: all.count)
    history = [Int](repeating: 0, count: all.count)
  }

  /// The orthonormal frame of the support and lateral lines read through `position`; `nil`
  /// where they have no direction.
  private static func frame(
    lower: (left: BodyLandmark, right: BodyLandmark),
    upper: (left: BodyLandmark, right: BodyLandmark), kneesAcross: Bool,
    _ position: (BodyLandmark) -> SIMD3<Double>
  ) -> (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)? {
    let feet = (position(lower.left) + position(lower.right)) / 2
    let top = (position(upper.left) + position(upper.right)) / 2
    var lateral =
      position(.leftHip) - position(.rightHip) + position(.leftAnkle) - position(.rightAnkle)
    if kneesAcross { lateral += position(.leftKnee) - position(.rightKnee) }
    let support = top - feet
    let supportLength = (support * support).sum().squareRoot()
    guard supportLength > 1e-3, supportLength.isFinite else { return nil }
    let e1 = support / supportLength
    let across = lateral - (lateral * e1).sum() * e1
    let acrossLength = (across * across).sum().squareRoot()
    guard acrossLength > 1e-3, acrossLength.isFinite else { return nil }
    let e2 = across / acrossLength
    let e3 = SIMD3(
      e1.y * e2.z - e1.z * e2.y, e1.z * e2.x - e1.x * e2.z, e1.x * e2.y - e1.y * e2.x)
    return (e1, e2, e3)
  }

  /// The knees' angles (hip–knee–ankle, left and right, radians; π straight) read through
  /// `position`; `nan` where a segment has no length.
  private static func knees(_ position: (BodyLandmark) -> SIMD3<Double>) -> (Double, Double) {
    func angle(_ hip: BodyLandmark, _ knee: BodyLandmark, _ ankle: BodyLandmark) -> Double {
      let a = position(hip) - position(knee)
      let b = position(ankle) - position(knee)
      let la = (a * a).sum().squareRoot()
      let lb = (b * b).sum().squareRoot()
      guard la > 1e-3, lb > 1e-3, la.isFinite, lb.isFinite else { return .nan }
      return acos(max(-1, min(1, (a * b).sum() / (la * lb))))
    }
    return (
      angle(.leftHip, .leftKnee, .leftAnkle), angle(.rightHip, .rightKnee, .rightAnkle)
    )
  }

  /// Starts again: the next frame begins a new calibration.
  public mutating func reset() {
    for i in sums.indices {
      sums[i] = .zero
      counts[i] = 0
      secondSums[i] = 0
      secondCounts[i] = 0
      history[i] = 0
    }
    firstTime = nil
    calibrationStart = nil
    calibrationFrames = 0
    rotation = Quaternion(x: 0, y: 0, z: 0, w: 1)
    estimatedTilt = 0
    moved = false
    settled = false
    stillStart = false
  }

  /// Takes the frame seen at `time` seconds into the calibration, which starts with the first
  /// frame that shows the legs it reads (within `longestWaitForLegs` of the first frame: a
  /// patient walking into the picture, a camera that sees the legs a moment late); the first
  /// frame after `calibrationSeconds`, or one in which the legs moved, settles it. Nothing once
  /// settled; a frame at a time that is not finite is ignored.
  public mutating func observe(_ frame: LandmarkFrame, at time: Double) {
    guard !settled, time.isFinite else { return }
    let first = firstTime ?? time
    firstTime = first
    if calibrationStart == nil {
      guard needed.allSatisfy({ frame.shows($0) }) else {
        if time - first > Self.longestWaitForLegs { settle() }
        return
      }
      calibrationStart = time
    }
    let start = calibrationStart ?? time
    guard time - start <= Self.calibrationSeconds else {
      settle()
      return
    }
    // Moved: the mean square distance of the legs' landmarks from their means so far beyond
    // `largestStartMovement`² plus four times what white jitter gives them (3σ² a landmark,
    // a sixth of its mean square second difference), asked once `framesBeforeMovement`
    // frames have shown the jitter.
    var distance = 0.0
    var jitter = 0.0
    var seen = 0
    for landmark in Self.legs {
      let i = landmark.rawValue
      guard counts[i] > 0, frame.shows(landmark) else { continue }
      let d = SIMD3<Double>(frame.positions[i]) - sums[i] / Double(counts[i])
      distance += (d * d).sum()
      jitter += secondCounts[i] > 0 ? secondSums[i] / Double(secondCounts[i]) / 6 : 0
      seen += 1
    }
    if seen > 0, calibrationFrames >= Self.framesBeforeMovement {
      let limit = Self.largestStartMovement * Self.largestStartMovement
      if distance / Double(seen) > limit + 4 * jitter / Double(seen) {
        moved = true
        settle()
        return
      }
    }
    calibrationFrames += 1
    for landmark in Self.legs {
      let i = landmark.rawValue
      guard frame.shows(landmark) else {
        history[i] = 0
        continue
      }
      let q = SIMD3<Double>(frame.positions[i])
      sums[i] += q
      counts[i] += 1
      if history[i] == 2 {
        let d = q - 2 * previous[i] + older[i]
        secondSums[i] += (d * d).sum()
        secondCounts[i] += 1
      }
      older[i] = previous[i]
      previous[i] = q
      history[i] = min(history[i] + 1, 2)
    }
  }

  /// The patient's mean position of `landmark` over the calibration (NaN if never seen).
  private func patientMean(_ landmark: BodyLandmark) -> SIMD3<Double> {
    let i = landmark.rawValue
    return counts[i] > 0 ? sums[i] / Double(counts[i]) : SIMD3<Double>(repeating: .nan)
  }

  /// Ends the calibration (also early: a stream that ends, or a full buffer of held frames)
  /// and decides the levelling from the frames observed.
  public mutating func settle() {
    guard !settled else { return }
    settled = true
    guard !moved, calibrationFrames >= Self.fewestFrames,
      needed.allSatisfy({ counts[$0.rawValue] > 0 }),
      let patient = Self.frame(
        lower: lower, upper: upper, kneesAcross: kneeling,
        { patientMean($0) })
    else { return }
    // u = F_pat F_refᵀ ŷ: ŷ's coordinates in the reference's frame, on the patient's axes.
    var up = patient.0 * referenceUp.x + patient.1 * referenceUp.y + patient.2 * referenceUp.z
    up /= max(1e-12, (up * up).sum().squareRoot())
    // The shortest rotation taking u to ŷ: about u × ŷ = (−u_z, 0, u_x), by acos(u_y).
    let tilt = Float(acos(max(-1, min(1, up.y))))
    estimatedTilt = tilt
    var axis = SIMD3<Float>(Float(-up.z), 0, Float(up.x))
    var length = (axis * axis).sum().squareRoot()
    let knees = Self.knees { patientMean($0) }
    let legsAlike =
      abs(knees.0 - referenceKnees.0) <= Self.kneesAlike
      && abs(knees.1 - referenceKnees.1) <= Self.kneesAlike
    guard length >= 1e-7 else {
      // Level already (or upside down: no tilt a camera has).
      stillStart = tilt < Self.smallestTilt
      return
    }
    axis /= length
    let rolled = referenceStands && abs(axis.z) >= cos(Self.rollAxisLean)
    let largest =
      legsAlike ? (rolled ? Self.largestRoll : Self.largestTiltLegsAlike) : Self.largestTilt
    guard tilt <= largest else { return }
    stillStart = true
    var angle = tilt
    if levelsRollOnly {
      // The rotation vector's part about the patient's forward axis (e₃, made horizontal).
      let forward = SIMD3<Float>(Float(patient.2.x), 0, Float(patient.2.z))
      length = (forward * forward).sum().squareRoot()
      guard length >= 1e-7 else { return }
      angle = tilt * (axis * forward / length).sum()
      axis = forward / length
      if angle < 0 {
        angle = -angle
        axis = -axis
      }
    }
    let share = min(1, max(0, (angle - Self.smallestTilt) / Self.smallestTilt))
    guard share > 0 else { return }
    rotation = Quaternion(angle: angle * share, axis: axis)
  }

  /// Turns `frame` by the levelling (nothing before it is settled, or when there is none).
  public func apply(_ frame: inout LandmarkFrame) {
    guard settled, rotation.w < 1 else { return }
    let q = rotation
    frame.positions.withUnsafeMutableBufferPointer { p in
      for i in 0..<p.count { p[i] = q.act(on: p[i]) }
    }
  }
}
