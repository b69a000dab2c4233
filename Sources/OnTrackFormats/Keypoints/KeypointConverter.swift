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
public struct KeypointConverter: Sendable {
  public private(set) var layout: KeypointLayout
  /// Metres per source unit, once known.
  public private(set) var metresPerUnit: Double?
  /// The layout's unit and the one taken instead, when the body's size showed it wrong.
  public private(set) var unitCorrected: (given: Double, taken: Double)?
  /// How many times an adult's size (or how much less) shows a layout's unit wrong.
  public static let unitMismatch = 5.0
  private var unitChecked = false
  /// The points came upside down for a layout whose axes are assumed, and are read with y down.
  public private(set) var turnedUpright = false
  private var uprightChecked = false
  private var uprightScratch = KeypointFrame()
  /// Points with less confidence than this are not read for the body's up (the solver's
  /// threshold, `KeypointSolver.minimumConfidence`).
  static let minimumConfidence: Float = 0.5
  private var model: PlugInGait?
  /// Frames whose pelvis dimensions a stream measures before holding them.
  public static let calibrationFrames = 100
  private var calibration: [[SIMD3<Float>?]] = []

  public init(layout: KeypointLayout) {
    self.layout = layout
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
    for frame in frames where !uprightChecked && layout.axesAreAssumed {
      checkUpright(frame, confidence: nil)
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
    if !uprightChecked && layout.axesAreAssumed { checkUpright(positions, confidence: confidence) }
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

  /// Reads the points with y down from now on if `frame` shows the body upside down (see the
  /// type's notes); decided on the first frame that shows the hips, the feet and the head
  /// (points below `minimumConfidence` are not shown), legs and trunk steep and opposed.
  private mutating func checkUpright(_ frame: [SIMD3<Float>?], confidence: [Float]?) {
    layout.bodyPoints(positions: frame, confidence: confidence, scale: 1, into: &uprightScratch)
    let points = uprightScratch
    func shown(_ p: BodyPoint) -> SIMD3<Float>? {
      points.confidence[p.rawValue] >= Self.minimumConfidence ? points[p] : nil
    }
    func middle(_ a: BodyPoint, _ b: BodyPoint) -> SIMD3<Float>? {
      guard let p = shown(a), let q = shown(b) else { return nil }
      return (p + q) / 2
    }
    guard let hips = middle(.leftHip, .rightHip) ?? shown(.pelvis),
      let feet = middle(.leftAnkle, .rightAnkle) ?? middle(.leftKnee, .rightKnee),
      let top = shown(.head) ?? shown(.neck) ?? middle(.leftShoulder, .rightShoulder)
    else { return }
    let legs = feet - hips
    let trunk = top - hips
    // Decided on the first frame whose legs and trunk are both steep and point opposite ways,
    // either way up (lying down, or folded forward standing, they tell nothing).
    let steep = Float(0.5).squareRoot()
    guard abs(legs.y) > steep * length(legs), abs(trunk.y) > steep * length(trunk),
      legs.y * trunk.y < 0
    else { return }
    uprightChecked = true
    guard legs.y > 0, trunk.y < 0 else { return }
    layout = layout.with(metresPerUnit: layout.metresPerUnit, axes: .yDown)
    turnedUpright = true
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
