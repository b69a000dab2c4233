import Foundation
import OnTrackKinematics

/// Turns one source frame of a layout's points (any unit, any of the layouts' axes) into a
/// `KeypointFrame` of joint centres in OnTrack's frame and metres: the one conversion that
/// files and live streams share.
///
/// - Joint-centre layouts: each body point is its source point, or the mean of several
///   (`KeypointLayout`).
/// - Marker sets: joint centres estimated by `PlugInGait`. A stream measures the pelvis
///   constants (width, depth) over its first `calibrationFrames` frames and then holds their
///   median; a whole take can set them first (`calibrate`).
/// - Unit: the layout's, or guessed from the body's size on the first frame that shows a limb
///   (`guessMetresPerUnit`). A layout's own unit is checked on that frame too: a body whose
///   limbs measure `unitMismatch` times an adult's or more (or as much less) was written in
///   another unit (a Kinect's or a lab's millimetres given as metres: every point was refused
///   as an impossible bone length and nothing was scored), and the unit its size tells is
///   taken instead (`unitCorrected`). Frames of a live stream before the first that shows a
///   limb are read in the layout's unit.
/// - Up: a layout whose axes are assumed (`KeypointLayout.axesAreAssumed`, `named`: y up) is
///   checked on the first frame that shows the hips, the feet (ankles, else knees) and the
///   head (else the neck, else the shoulders) with legs and trunk both within 45° of the
///   vertical: legs pointing up and trunk down is no posture of an exercise but a camera's
///   frame (x right, y down, z away: a 3-D pose model's output) read with y up, and the points
///   are read with y down from then on (`turnedUpright`). Lying down, legs and trunk tell
///   nothing: a take that never stands, sits or kneels upright is read as given. A whole take
///   is decided before any frame is read; a live stream reads the frames before its deciding
///   frame as given (a camera-frame stream whose feet come into view late starts upside down).
///   With the posture the take should start in (`startPosture`, its exercise's), the points
///   are read with whichever axis up (±x, ±y, ±z) shows the body in that posture, if clearly
///   nearer it than y up (`checkUpright`): a lab's or a game engine's z up, a camera's y down
///   for a patient lying on the floor. Without it, a body lying along x or z is taken as
///   lying down, as before.
/// - Handedness (joint centres whose depth is measured): in a right-handed frame a real
///   body's toes point in front of its shins — the side the hips' line (right → left) crossed
///   with the shin (ankle → knee) gives — within the foot's range of motion (plantar flexion
///   50°, dorsiflexion 20°: at least cos 70° of it), and a knee bent 45° or more bends
///   backwards (the shin behind the thigh's forward, the hips' line crossed with knee → hip),
///   in any posture. Frames whose every clear cue says otherwise (`handednessVotes` of the
///   first `handednessFrames` with a cue) are a mirror image: a left-handed frame (a game
///   engine's) or a mirrored recording, and every point is read with x negated from then on
///   (`mirrored`): scored as given, a perfect squat scored 5 ("Don't bend so much at your
///   right hip"). A whole take is decided before any frame is read (on the same share of its
///   frames with a cue, if fewer); a live stream from its first frames with a cue. Straight
///   legs with the feet along the shins (a prone press-up) show no cue: read as given.
public struct KeypointConverter: Sendable {
  public private(set) var layout: KeypointLayout
  /// Metres per source unit, once known.
  public private(set) var metresPerUnit: Double?
  /// The layout's unit and the one taken instead, when the body's size showed it wrong.
  public private(set) var unitCorrected: (given: Double, taken: Double)?
  /// How many times an adult's size (or how much less) shows a layout's unit wrong.
  public static let unitMismatch = 5.0
  private var unitChecked = false
  /// The points came upside down, or standing along another axis than y where the exercise
  /// starts upright, for a layout whose axes are assumed, and are read with `upAxis` up.
  public var turnedUpright: Bool { upAxis != nil }
  /// The axes the points are read in when the body showed the assumed ones wrong.
  public private(set) var upAxis: KeypointLayout.Axes? { didSet { readingChanges += 1 } }
  /// The posture the points should start in (the exercise's reference's), when known.
  public var startPosture: BodyPosture?
  /// The points are a mirror image of a body (see the type's notes) and are read with x negated.
  public private(set) var mirrored = false { didSet { readingChanges += 1 } }
  /// How many times the reading changed (an up axis or a mirror image decided, or the up axis
  /// decided again): `readingNotes` need be read only when this moves.
  public private(set) var readingChanges = 0
  /// What was read otherwise than given, in words (the unit aside): the up axis, the mirror.
  public var readingNotes: [String] {
    var notes: [String] = []
    if let upReason { notes.append(upReason) }
    if mirrored {
      notes.append(
        "the body is a mirror image (its feet point behind its shins, its knees bend forwards: "
          + "a left-handed frame, or a mirrored image): read with x negated")
    }
    return notes
  }
  /// Whether the handedness is read: for joint centres whose depth is measured. (A marker
  /// set's centres come from its own model; a monocular pose model's depth is a guess, and it
  /// labels a mirrored image's body by how it looks, which gives a right-handed body.)
  private var readsHandedness: Bool { !layout.isMarkerSet && !layout.depthIsEstimated }
  /// Why the points are read with `upAxis` up, in words.
  private var upReason: String?
  private var uprightChecked = false
  /// The up axis was decided from the starting posture (which depends on the handedness).
  private var uprightByPosture = false
  /// Whether the source's axes are assumed (the layout's, as given).
  private let axesAreAssumed: Bool
  private var uprightWaits = 0
  private var handednessChecked = false
  /// Frames that showed a clear cue so far (a foot in front of or behind its shin, a bent
  /// knee), and those of them whose every clear cue was a mirror image's.
  private var footFrames = 0
  private var backwardFootFrames = 0
  /// Frames with a clear cue that decide the handedness, and how many of them must show only
  /// a mirror image's cues for the points to be one.
  public static let handednessFrames = 10
  public static let handednessVotes = 8
  /// The fewest frames with a cue a whole take is decided on.
  public static let fewestHandednessFrames = 5
  /// A foot points behind its shin when its direction's component along the shin's forward
  /// is below this (`-cos 70°`: beyond any real foot's range).
  static let backwardFoot: Float = -0.34
  /// The frame being checked for its up axis and handedness: its body points in the axes read
  /// so far, in source units (`readShape`).
  private var shape = KeypointFrame()
  /// Points with less confidence than this are not read for the body's up (the solver's
  /// threshold, `KeypointSolver.minimumConfidence`).
  static let minimumConfidence: Float = 0.5
  private var model: PlugInGait?
  /// Frames whose pelvis dimensions a stream measures before holding them.
  public static let calibrationFrames = 100
  private var calibration: [[SIMD3<Float>?]] = []

  public init(layout: KeypointLayout, startPosture: BodyPosture? = nil) {
    self.layout = layout
    self.startPosture = startPosture
    axesAreAssumed = layout.axesAreAssumed
    metresPerUnit = layout.metresPerUnit
    makeModel()
  }

  private mutating func makeModel() {
    guard layout.isMarkerSet, model == nil, let metres = metresPerUnit else { return }
    model = PlugInGait(
      names: layout.names, unitsPerMillimetre: 0.001 / metres, sourceUp: layout.sourceUp)
  }

  /// Sets the marker model's pelvis constants from a whole take (no effect for joint-centre
  /// layouts).
  public mutating func calibrate(_ frames: [[SIMD3<Float>?]]) {
    // The handedness first: the chest's sign, which tells lying on the back from the front,
    // depends on it.
    for frame in frames where !handednessChecked && readsHandedness {
      readShape(frame, confidence: nil)
      checkHandedness()
    }
    if !handednessChecked && footFrames >= Self.fewestHandednessFrames {
      // Fewer frames with a cue than a stream waits for: the same share of them decides.
      handednessChecked = true
      mirrored = backwardFootFrames * Self.handednessFrames >= footFrames * Self.handednessVotes
    }
    for frame in frames where !uprightChecked && axesAreAssumed {
      readShape(frame, confidence: nil)
      checkUpright()
    }
    for frame in frames where !unitChecked { checkUnit(frame) }
    if metresPerUnit == nil,
      let first = frames.first(where: { frame in
        Self.guessMetresPerUnit(layout: layout, frame: frame) != nil
      })
    {
      metresPerUnit = Self.guessMetresPerUnit(layout: layout, frame: first)
      makeModel()
    }
    model?.calibrate(frames)
  }

  /// Fills `frame` from one source frame: `positions[k]` in the layout's order (nil or
  /// non-finite: missing) and `confidence[k]` (1 where the source gives none). Returns false
  /// while the unit cannot be told yet (no limb seen): `frame` is then empty.
  @discardableResult
  public mutating func convert(
    positions: [SIMD3<Float>?], confidence: [Float]?, into frame: inout KeypointFrame
  ) -> Bool {
    let handedness = !handednessChecked && readsHandedness
    let upright = !uprightChecked && axesAreAssumed
    if handedness || upright { readShape(positions, confidence: confidence) }
    if handedness { checkHandedness() }
    if upright { checkUpright() }
    if !unitChecked { checkUnit(positions) }
    if metresPerUnit == nil {
      metresPerUnit = Self.guessMetresPerUnit(layout: layout, frame: positions)
      makeModel()
    }
    guard let metres = metresPerUnit else {
      frame.clear()
      return false
    }
    let scale = Float(metres)
    guard layout.isMarkerSet, var model else {
      layout.bodyPoints(
        positions: positions, confidence: confidence, scale: scale, into: &frame)
      if mirrored {
        for point in BodyPoint.allCases where frame.has(point) {
          frame.positions[point.rawValue].x = -frame.positions[point.rawValue].x
        }
      }
      return true
    }
    if model.pelvisWidth == nil {
      // A stream: the first frames, then the take constants held.
      if model.pelvisDimensions(positions).width != nil { calibration.append(positions) }
      if calibration.count >= Self.calibrationFrames {
        model.calibrate(calibration)
        calibration = []
        self.model = model
      }
    }
    frame.clear()
    let centres = model.centres(positions)
    for (point, p) in centres.points {
      frame[point] = layout.convert(SIMD3<Float>(Float(p.x), Float(p.y), Float(p.z)), scale: scale)
      frame.confidence[point.rawValue] = 1
    }
    return true
  }

  /// Reads the points with another axis up from now on if `frame` shows the body the wrong
  /// way up (see the type's notes). Points below `minimumConfidence` are not shown.
  /// - With `startPosture`: decided on the first frame that shows the hips and the head (else
  ///   the neck, else the shoulders) in that posture in some reading (`postureMatch`: trunk
  ///   and chest within about 30° of the exercise's), among y up as given, y down, and x or
  ///   z up or down; the nearest reading is taken if it is nearer than as given by
  ///   `BodyModel.turnMargin`. The chest's sign (on the back or the front) is read in the
  ///   handedness known so far (right-handed until the cues tell otherwise: a mirror image
  ///   without cues is read wrong either way).
  /// - Without: on the first frame that shows the hips, the feet and the head, legs and trunk
  ///   steep along y and opposed: read with y down if the legs point up.
  private mutating func checkUpright() {
    let points = shape
    func shown(_ p: BodyPoint) -> SIMD3<Float>? { Self.shown(p, in: points) }
    func middle(_ a: BodyPoint, _ b: BodyPoint) -> SIMD3<Float>? {
      guard let p = shown(a), let q = shown(b) else { return nil }
      return (p + q) / 2
    }
    guard let hips = middle(.leftHip, .rightHip) ?? shown(.pelvis),
      let top = shown(.head) ?? shown(.neck) ?? middle(.leftShoulder, .rightShoulder)
    else { return }
    let trunk = top - hips
    if let startPosture, layout.axes == .yUp {
      guard let left = shown(.leftHip), let right = shown(.rightHip) else { return }
      /// The reading nearest the starting posture with the points mirrored or not, and the
      /// distance as given.
      func nearest(mirrored: Bool) -> (axes: KeypointLayout.Axes, distance: Float, given: Float) {
        func distance(_ axes: KeypointLayout.Axes) -> Float {
          Self.posture(trunk: trunk, hipLine: left - right, axes: axes, mirrored: mirrored)
            .signedDistance(to: startPosture)
        }
        let given = distance(.yUp)
        var best = (axes: KeypointLayout.Axes.yUp, distance: given, given: given)
        for axes in Self.otherAxes {
          let d = distance(axes)
          if d < best.distance { best = (axes, d, given) }
        }
        return best
      }
      let best = nearest(mirrored: mirrored)
      guard best.distance < Self.postureMatch else { return }
      // Lying on the back or the front depends on the handedness: while it is not told, and
      // the two would be read differently, wait for it (a while).
      if !handednessChecked && readsHandedness && nearest(mirrored: !mirrored).axes != best.axes
        && uprightWaits < Self.handednessWait
      {
        uprightWaits += 1
        return
      }
      uprightChecked = true
      uprightByPosture = true
      let given = best.given
      guard best.axes != .yUp, best.distance + BodyModel.turnMargin < given else { return }
      let asGiven = Self.posture(
        trunk: trunk, hipLine: left - right, axes: .yUp, mirrored: mirrored)
      layout = layout.with(metresPerUnit: layout.metresPerUnit, axes: best.axes)
      upAxis = best.axes
      upReason =
        "read with y up, the body is \(Self.words(asGiven)) where "
        + "the exercise starts \(Self.words(startPosture)): read with "
        + "\(best.axes.upName) up"
      return
    }
    guard let feet = middle(.leftAnkle, .rightAnkle) ?? middle(.leftKnee, .rightKnee) else {
      return
    }
    let legs = feet - hips
    // Decided on the first frame whose legs and trunk are both steep and point opposite ways,
    // either way up (lying down, or folded forward standing, they tell nothing).
    let steep = Float(0.5).squareRoot()
    guard abs(legs.y) > steep * length(legs), abs(trunk.y) > steep * length(trunk),
      legs.y * trunk.y < 0
    else { return }
    uprightChecked = true
    guard legs.y > 0, trunk.y < 0 else { return }
    layout = layout.with(metresPerUnit: layout.metresPerUnit, axes: .yDown)
    upAxis = .yDown
    upReason =
      "read with y up, the body stands on its head (feet above the hips, head below): read "
      + "with y down, as a camera's frame"
  }

  /// A posture in words: upright, upside down, lying on the back, facing the floor, on a side.
  static func words(_ posture: BodyPosture) -> String {
    let steep = Float(0.5).squareRoot()
    if posture.trunkRise > steep { return "upright" }
    if posture.trunkRise < -steep { return "upside down" }
    if posture.chestUp > steep {
      return posture.chestRise > 0 ? "lying on the back" : "facing the floor"
    }
    return "on a side"
  }

  /// The posture of a trunk and hip line given in the source's frame, read with `axes` and
  /// then, if `mirrored`, with x negated (as `convert` reads points).
  static func posture(
    trunk: SIMD3<Float>, hipLine: SIMD3<Float>, axes: KeypointLayout.Axes, mirrored: Bool
  ) -> BodyPosture {
    var t = axes.apply(trunk)
    var h = axes.apply(hipLine)
    if mirrored {
      t.x = -t.x
      h.x = -h.x
    }
    return BodyPosture(trunk: t, hipLine: h)
  }

  /// Fills `shape` from one source frame, once for both checks.
  private mutating func readShape(_ frame: [SIMD3<Float>?], confidence: [Float]?) {
    layout.bodyPoints(positions: frame, confidence: confidence, scale: 1, into: &shape)
  }

  /// Point `p` of `frame` if shown with at least `minimumConfidence`.
  static func shown(_ p: BodyPoint, in frame: KeypointFrame) -> SIMD3<Float>? {
    frame.confidence[p.rawValue] >= minimumConfidence ? frame[p] : nil
  }

  /// How near the exercise's starting posture (`BodyPosture.signedDistance`) a frame must be
  /// in some reading to decide the points' up: trunk and chest each within about 30°.
  static let postureMatch: Float = 0.5
  /// Frames in the starting posture a stream waits for the handedness when it decides
  /// between lying on the back and the front.
  static let handednessWait = 30
  /// The readings tried besides y up.
  static let otherAxes: [KeypointLayout.Axes] = [.yDown, .zUp, .zDown, .xUp, .xDown]

  /// Counts `frame` towards the handedness if it shows both feet (hips, knees, ankles and
  /// toes, in the axes the points are read in) and decides once `handednessFrames` have (see
  /// the type's notes).
  private mutating func checkHandedness() {
    let points = shape
    func shown(_ p: BodyPoint) -> SIMD3<Float>? { Self.shown(p, in: points) }
    guard let leftHip = shown(.leftHip), let rightHip = shown(.rightHip) else { return }
    let hipLine = leftHip - rightHip
    /// The foot's direction along its shin's forward (−1…1), nil if not shown or degenerate.
    func along(_ knee: BodyPoint, _ ankle: BodyPoint, _ toe: BodyPoint) -> Float? {
      guard let k = shown(knee), let a = shown(ankle), let t = shown(toe) else { return nil }
      let shin = k - a
      let forward = cross(hipLine, shin)
      let foot = t - a
      // A shin within 30° of the hips' line has no forward to tell.
      guard length(forward) >= 0.5 * length(hipLine) * length(shin) else { return nil }
      let size = length(forward) * length(foot)
      guard size > 0, size.isFinite else { return nil }
      return dot(forward, foot) / size
    }
    /// A bent knee's shin along its thigh's forward (−1…1): a knee bends backwards, so a real
    /// body's is negative. Nil unless the knee is bent 45° or more.
    func bend(_ hip: BodyPoint, _ knee: BodyPoint, _ ankle: BodyPoint) -> Float? {
      guard let h = shown(hip), let k = shown(knee), let a = shown(ankle) else { return nil }
      let thigh = k - h
      let shin = a - k
      let forward = cross(hipLine, -thigh)
      guard length(forward) >= 0.5 * length(hipLine) * length(thigh),
        dot(thigh, shin) <= Float(0.5).squareRoot() * length(thigh) * length(shin)
      else { return nil }
      let size = length(forward) * length(shin)
      guard size > 0, size.isFinite else { return nil }
      return dot(forward, shin) / size
    }
    // Each clear cue says real (+1) or mirror image (−1): a foot pointing in front of its
    // shin or behind it, a knee bending backwards or forwards.
    var real = 0
    var mirror = 0
    func count(_ value: Float?) {
      guard let value else { return }
      if value > -Self.backwardFoot { real += 1 }
      if value < Self.backwardFoot { mirror += 1 }
    }
    count(along(.leftKnee, .leftAnkle, .leftToe))
    count(along(.rightKnee, .rightAnkle, .rightToe))
    count(bend(.leftHip, .leftKnee, .leftAnkle).map { -$0 })
    count(bend(.rightHip, .rightKnee, .rightAnkle).map { -$0 })
    guard real + mirror > 0 else { return }
    footFrames += 1
    if mirror > 0 && real == 0 { backwardFootFrames += 1 }
    guard footFrames >= Self.handednessFrames else { return }
    handednessChecked = true
    mirrored = backwardFootFrames >= Self.handednessVotes
    if mirrored && uprightByPosture {
      // The up axis was taken as for a right-handed body (the stream waited for the cues no
      // longer): decided again, as a mirror image.
      if upAxis != nil { layout = layout.with(metresPerUnit: layout.metresPerUnit, axes: .yUp) }
      upAxis = nil
      upReason = nil
      uprightChecked = false
      uprightByPosture = false
    }
  }

  /// Checks the layout's unit against the body's size on the first frame that shows a limb
  /// (`unitMismatch`); a layout without a unit is guessed later, as before.
  private mutating func checkUnit(_ frame: [SIMD3<Float>?]) {
    guard let given = metresPerUnit else {
      unitChecked = true
      return
    }
    guard let told = Self.guessMetresPerUnit(layout: layout, frame: frame) else { return }
    unitChecked = true
    let ratio = told / given
    guard ratio.isFinite, ratio >= Self.unitMismatch || ratio <= 1 / Self.unitMismatch else {
      return
    }
    unitCorrected = (given, told)
    metresPerUnit = told
    model = nil
    makeModel()
  }

  /// Metres per unit such that the body's limbs have an adult's proportions: the median
  /// distance along the arms and legs in one frame compared with the canonical skeleton's,
  /// snapped to metres, centimetres, millimetres or inches. `nil` if no limb is seen.
  public static func guessMetresPerUnit(layout: KeypointLayout, frame: [SIMD3<Float>?])
    -> Double?
  {
    if layout.isMarkerSet {
      // Markers: the pelvis width (about 0.25 m between the ASIS markers).
      let model = PlugInGait(names: layout.names, unitsPerMillimetre: 1, sourceUp: layout.sourceUp)
      guard let width = model.pelvisDimensions(frame).width, width > 0 else { return nil }
      return snap(0.25 / width)
    }
    var points = KeypointFrame()
    layout.bodyPoints(positions: frame, confidence: nil, scale: 1, into: &points)
    let segments: [(BodyPoint, BodyPoint, Float)] = [
      (.leftShoulder, .leftElbow, 0.28), (.rightShoulder, .rightElbow, 0.28),
      (.leftElbow, .leftWrist, 0.25), (.rightElbow, .rightWrist, 0.25),
      (.leftHip, .leftKnee, 0.42), (.rightHip, .rightKnee, 0.42),
      (.leftKnee, .leftAnkle, 0.40), (.rightKnee, .rightAnkle, 0.40),
    ]
    var ratios: [Double] = []
    for (a, b, metres) in segments {
      if let p = points[a], let q = points[b] {
        let d = length(q - p)
        if d > 0, d.isFinite { ratios.append(Double(metres / d)) }
      }
    }
    guard !ratios.isEmpty else { return nil }
    ratios.sort()
    return snap(ratios[ratios.count / 2])
  }

  /// The common unit nearest (in ratio) to `metresPerUnit`.
  static func snap(_ metresPerUnit: Double) -> Double {
    let units = [1, 0.01, 0.001, 0.0254]
    return units.min { abs(log($0 / metresPerUnit)) < abs(log($1 / metresPerUnit)) } ?? 1
  }
}
