import Foundation
import OnTrackKinematics

/// A recorded stream of keypoints (a camera's landmarks, a depth sensor's joints, optical
/// markers): per frame a time and a position per named point, maybe a confidence; missing
/// points are `nil`. `solved()` turns it into a `Clip` on the canonical skeleton, so scoring,
/// reports, recording and the avatar treat it like any motion capture.
public struct KeypointTake: Sendable {
  public let layout: KeypointLayout
  /// Seconds, strictly increasing.
  public let times: [Double]
  /// `frames[f][k]`: point `layout.names[k]` in frame f, in the source's frame and unit.
  public let frames: [[SIMD3<Float>?]]
  /// `confidence[f][k]` (0…1) where the source gives one.
  public let confidence: [[Float]]?
  /// The file (or stream) it came from, for messages.
  public let source: String
  /// The source's frames left out (their indices as given): a time that was not a finite
  /// number, did not come after the last frame kept (a frame written twice, a logger's
  /// stutter), or jumped past the next two frames' (a clock's glitch). A live stream refuses such a frame and goes on; a file keeps the rest as well.
  public let framesLeftOut: [Int]
  /// The posture the take should start in (its exercise's reference's), when known: lets the
  /// points' up axis be told for a body given standing along another axis
  /// (`KeypointConverter.startPosture`).
  public var startPosture: BodyPosture?

  /// A take from points in the layout's own order.
  ///
  /// A frame whose time does not advance is left out (`framesLeftOut`, `TimeOrder`).
  ///
  /// - Throws: `MotionFormatError` if there is no frame, a frame's width differs from the
  ///   layout's, or more than `TimeOrder.largestShareLeftOut` of the frames have such times
  ///   (the first is named).
  public init(
    layout: KeypointLayout, times: [Double], frames: [[SIMD3<Float>?]], confidence: [[Float]]?,
    source: String
  ) throws(MotionFormatError) {
    guard !frames.isEmpty else {
      throw MotionFormatError(.emptyMotion, file: source, reason: "no keypoint frames")
    }
    guard times.count == frames.count, confidence.map({ $0.count == frames.count }) ?? true
    else {
      throw MotionFormatError(
        .valueCount, file: source,
        reason: "\(times.count) times for \(frames.count) frames of keypoints")
    }
    let width = layout.names.count
    for (f, frame) in frames.enumerated() where frame.count != width {
      throw MotionFormatError(
        .valueCount, file: source,
        reason: "frame \(f) has \(frame.count) points; the \(layout.id) layout has \(width)")
    }
    let (kept, faults) = TimeOrder.order(times)
    if let (f, fault) = faults.first,
      kept.isEmpty || TimeOrder.tooMany(faults.count, of: times.count)
    {
      let (kind, reason): (MotionFormatError.Kind, String) =
        switch fault {
        case .notFinite: (.nonFinite, "frame \(f): the time is not a finite number")
        case .notAfter(let last):
          (
            .invalidData,
            "frame \(f): time \(times[f]) s does not come after \(last) s (times must increase)"
          )
        case .aheadOf(let next):
          (
            .invalidData,
            "frame \(f): time \(times[f]) s comes after the next frame's \(next) s (times must increase)"
          )
        }
      throw MotionFormatError(
        kind, file: source,
        reason: reason
          + "; \(faults.count) of \(times.count) frames have such times: are these the frames' times?"
      )
    }
    let leftOut = faults.map(\.index)
    try self.init(
      layout: layout, times: leftOut.isEmpty ? times : kept.map { times[$0] },
      frames: leftOut.isEmpty ? frames : kept.map { frames[$0] },
      confidence: leftOut.isEmpty ? confidence : confidence.map { c in kept.map { c[$0] } },
      source: source, leftOut: leftOut)
  }

  /// A take whose times are finite and increasing, `leftOut` frames of its source left out.
  private init(
    layout: KeypointLayout, times: [Double], frames: [[SIMD3<Float>?]], confidence: [[Float]]?,
    source: String, leftOut: [Int]
  ) throws(MotionFormatError) {
    if times.count > 1 {
      // The clip it is solved into runs at the median step's rate on a regular grid: the rate
      // must be one a clip can have, and the grid no more than ten times the frames given
      // (gaps of a few seconds in a camera's stream are fine; two frames a day apart are not).
      let rate = Self.medianRate(times)
      guard rate <= Clip.maximumFrameRate, rate >= Clip.minimumFrameRate else {
        // Times written in a smaller unit than seconds make a body move a thousand times too
        // slowly: say which unit would give a sensor's rate.
        let step = 1 / rate
        let hint =
          switch step {
          case 1..<1e3: " (times in milliseconds? give them in seconds, or name the column time_ms)"
          case 1e3..<1e6:
            " (times in microseconds? give them in seconds, or name the column time_us)"
          case 1e6..<1e9:
            " (times in nanoseconds? give them in seconds, or name the column time_ns)"
          default: ""
          }
        throw MotionFormatError(
          .invalidFrameTime, file: source,
          reason:
            "frames come \(Self.formatted(step)) s apart (median), \(Self.formatted(rate)) frames a second: outside 0.1 to 10,000\(hint)"
        )
      }
      let span = (times[times.count - 1] - times[0]) * rate
      let limit = 10 * Double(times.count) + 1_000
      guard span.isFinite, span <= limit else {
        throw MotionFormatError(
          .invalidData, file: source,
          reason:
            "the times span \(Self.formatted(times[times.count - 1] - times[0])) s, \(Self.formatted(span)) frames at the take's \(Self.formatted(rate)) frames a second, for \(times.count) frames given: gaps that long cannot be filled"
        )
      }
    }
    self.layout = layout
    self.times = times
    self.frames = frames
    self.confidence = confidence
    self.source = source
    self.framesLeftOut = leftOut
  }

  /// Frames per second: the median step's.
  public var frameRate: Double {
    guard times.count > 1 else { return 30 }
    return Self.medianRate(times)
  }

  /// 1 / the median step of increasing `times` (at least two).
  static func medianRate(_ times: [Double]) -> Double {
    var steps = zip(times.dropFirst(), times).map { $0 - $1 }
    steps.sort()
    return 1 / steps[steps.count / 2]
  }

  static func formatted(_ value: Double) -> String { String(format: "%.4g", value) }

  /// How many points of the layout the source gives in at least one frame.
  public var pointsPresent: Int {
    var seen = [Bool](repeating: false, count: layout.names.count)
    for frame in frames { for (k, p) in frame.enumerated() where p != nil { seen[k] = true } }
    return seen.filter { $0 }.count
  }

  /// Gaps of at most `maximumGapSeconds` filled (`MarkerGapFilling`): interpolated, and for a
  /// marker set, rigid clusters completed. Offline only: it looks ahead.
  public func gapsFilled(maximumGapSeconds: Double = 0.1) -> [[SIMD3<Float>?]] {
    var filled = frames
    // A point below the solver's confidence threshold counts as missing here too.
    if let confidence {
      for f in filled.indices {
        for k in filled[f].indices where k < confidence[f].count && confidence[f][k] < 0.5 {
          filled[f][k] = nil
        }
      }
    }
    let gap = max(1, Int((maximumGapSeconds * frameRate).rounded()))
    MarkerGapFilling.interpolate(&filled, maximumGap: gap)
    if layout.isMarkerSet {
      let model = PlugInGait(names: layout.names, unitsPerMillimetre: 1, sourceUp: layout.sourceUp)
      for cluster in model.rigidClusters {
        MarkerGapFilling.rigidFill(&filled, cluster: cluster)
      }
    }
    return filled
  }

  /// The joint centres of every frame (OnTrack's frame, metres), after gap filling.
  ///
  /// - Throws: `MotionFormatError` if the unit cannot be told (no limb in any frame).
  public func bodyFrames() throws(MotionFormatError) -> [KeypointFrame] {
    try converted().frames
  }

  /// `bodyFrames()`, and the layout's unit and the one the points were read in instead when
  /// the body's size showed the layout's wrong (`KeypointConverter.unitCorrected`), and what
  /// else was read otherwise than given (`KeypointConverter.readingNotes`).
  func converted() throws(MotionFormatError) -> (
    frames: [KeypointFrame], unitCorrected: (given: Double, taken: Double)?,
    turnedUpright: Bool, readingNotes: [String]
  ) {
    let filled = gapsFilled()
    var converter = KeypointConverter(layout: layout, startPosture: startPosture)
    converter.calibrate(filled)
    var out: [KeypointFrame] = []
    out.reserveCapacity(filled.count)
    var frame = KeypointFrame()
    for (f, positions) in filled.enumerated() {
      let scores: [Float]? = confidence.map { c in
        // Interpolated points have no confidence of their own: they count as seen.
        c[f].enumerated().map { k, value in
          positions[k] != nil && frames[f][k] == nil ? 1 : value
        }
      }
      converter.convert(positions: positions, confidence: scores, into: &frame)
      out.append(frame)
    }
    guard converter.metresPerUnit != nil else {
      throw MotionFormatError(
        .invalidData, file: source,
        reason: "no frame shows a whole limb, so the unit of the \(layout.id) points cannot be told"
      )
    }
    return (out, converter.unitCorrected, converter.turnedUpright, converter.readingNotes)
  }

  /// The take on the canonical skeleton.
  public struct Solved: Sendable {
    /// The motion, with per-frame untracked landmarks (`Clip.untracked`).
    public var clip: Clip
    /// Per body point the source gives: the share of frames in which it was seen (0…1).
    public var tracking: [BodyPoint: Double]
    /// Points refused for an impossible bone length.
    public var implausible: Int
    /// Frames in which nothing could be solved (no hips or shoulders yet).
    public var unsolvedFrames: Int
    /// Metres per unit: the layout's, and the one the points were read in instead when the
    /// body's size showed the layout's wrong (`KeypointConverter.unitCorrected`).
    public var unitCorrected: (given: Double, taken: Double)?
    /// The source's frames left out for their times (`KeypointTake.framesLeftOut`).
    public var framesLeftOut: [Int] = []
    /// The points came the wrong way up for a layout whose axes are assumed and were read with
    /// another axis up (`KeypointConverter.turnedUpright`).
    public var turnedUpright = false
    /// What was read otherwise than given, in words: the up axis, a mirror image
    /// (`KeypointConverter.readingNotes`).
    public var readingNotes: [String] = []
    /// The scale of the source's depth the solver ended with (`DepthScale`; 1 for a layout
    /// whose depth is measured, or when the body did not tell one).
    public var depthScale: Float = 1
    /// The take's own times (seconds from its first frame) and, per time, every
    /// `BodyLandmark`'s position (metres, `landmarks[f * BodyLandmark.allCases.count + l]`)
    /// as the solver placed it from the keypoints (`KeypointSolver.landmarks`), and which
    /// were unseen. Scoring reads these: they do not depend on the skeleton's proportions,
    /// and a live stream of the same keypoints gives the same.
    public var times: [Double]
    public var landmarks: [SIMD3<Float>]
    public var untracked: [UInt32]
  }

  /// Solves every frame (`KeypointSolver`) onto `skeleton`, or onto the canonical skeleton
  /// with bone lengths measured over the first two seconds, at the take's own frame rate
  /// (frames at irregular times are resampled onto a regular grid).
  ///
  /// - Throws: `MotionFormatError` if the take lacks the points a skeleton needs (both hips or
  ///   both shoulders, and the limbs), naming what it found.
  public func solved(skeleton given: Skeleton? = nil) throws(MotionFormatError) -> Solved {
    let (body, unitCorrected, turnedUpright, readingNotes) = try converted()
    var seenAnywhere: UInt32 = 0
    for frame in body { seenAnywhere |= frame.present }
    let needed = BodyPoint.essential.filter { seenAnywhere & $0.bit == 0 }
    if needed.count > BodyPoint.essential.count / 2 {
      let found = BodyPoint.allCases.filter { seenAnywhere & $0.bit != 0 }.map { "\($0)" }
      throw MotionFormatError(
        .invalidData, file: source,
        reason:
          "too few body points to solve a skeleton: found \(found.isEmpty ? "none" : found.joined(separator: ", ")); missing \(needed.map { "\($0)" }.joined(separator: ", "))"
      )
    }
    let skeleton: Skeleton
    if let given {
      skeleton = given
    } else {
      let start = times[0]
      let first = body.indices.filter { times[$0] - start <= 2 }.map { body[$0] }
      skeleton = KeypointSolver.fittedSkeleton(first)
    }
    var solver = KeypointSolver(skeleton: skeleton)
    solver.correctsDepthScale = layout.depthIsEstimated
    var pose = skeleton.restPose
    let n = skeleton.count
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    rotations.reserveCapacity(body.count * n)
    translations.reserveCapacity(body.count * n)
    var untracked: [UInt32] = []
    untracked.reserveCapacity(body.count)
    var seenCounts = [Int](repeating: 0, count: BodyPoint.allCases.count)
    var unsolved = 0
    var landmarks: [SIMD3<Float>] = []
    landmarks.reserveCapacity(body.count * BodyLandmark.allCases.count)
    let everyLandmark = UInt32((1 << BodyLandmark.allCases.count) - 1)
    for (f, frame) in body.enumerated() {
      if solver.solve(frame, at: times[f], into: &pose) {
        untracked.append(solver.untrackedLandmarks)
      } else {
        unsolved += 1
        untracked.append(everyLandmark)
      }
      for point in BodyPoint.allCases where solver.tracked & point.bit != 0 {
        seenCounts[point.rawValue] += 1
      }
      rotations.append(contentsOf: pose.rotations)
      translations.append(contentsOf: pose.translations)
      landmarks.append(contentsOf: solver.landmarks)
    }
    var tracking: [BodyPoint: Double] = [:]
    for point in BodyPoint.allCases where seenAnywhere & point.bit != 0 {
      tracking[point] = Double(seenCounts[point.rawValue]) / Double(body.count)
    }
    let clip = try regularClip(
      skeleton: skeleton, rotations: rotations, translations: translations, untracked: untracked)
    var result = Solved(
      clip: clip, tracking: tracking, implausible: solver.implausible, unsolvedFrames: unsolved,
      times: times.map { $0 - times[0] }, landmarks: landmarks, untracked: untracked)
    result.depthScale = solver.depthScale.scale
    result.unitCorrected = unitCorrected
    result.framesLeftOut = framesLeftOut
    result.turnedUpright = turnedUpright
    result.readingNotes = readingNotes
    return result
  }

  /// A clip at the median frame rate from poses at `times` (resampled when a time is more than
  /// a quarter frame off the regular grid).
  private func regularClip(
    skeleton: Skeleton, rotations: [Quaternion], translations: [SIMD3<Float>],
    untracked: [UInt32]
  ) throws(MotionFormatError) -> Clip {
    let step = 1 / frameRate
    let n = skeleton.count
    let count = times.count
    let regular = times.indices.allSatisfy { f in
      abs((times[f] - times[0]) - Double(f) * step) <= 0.25 * step
    }
    var outRotations = rotations
    var outTranslations = translations
    var outUntracked = untracked
    if !regular, let last = times.last {
      let frames = Int(((last - times[0]) / step).rounded(.down)) + 1
      outRotations = []
      outTranslations = []
      outUntracked = []
      outRotations.reserveCapacity(frames * n)
      outTranslations.reserveCapacity(frames * n)
      var i = 0
      for k in 0..<frames {
        let t = times[0] + Double(k) * step
        while i + 1 < count - 1, times[i + 1] <= t { i += 1 }
        let j = min(i + 1, count - 1)
        let span = times[j] - times[i]
        let u = Float(span > 0 ? min(max((t - times[i]) / span, 0), 1) : 0)
        for joint in 0..<n {
          outRotations.append(
            Quaternion.slerp(rotations[i * n + joint], rotations[j * n + joint], t: u))
          let a = translations[i * n + joint]
          outTranslations.append(a + (translations[j * n + joint] - a) * u)
        }
        outUntracked.append(u == 0 ? untracked[i] : untracked[i] | untracked[j])
      }
    }
    do {
      var clip = try Clip(
        skeleton: skeleton, frameTime: step, rotations: outRotations,
        translations: outTranslations)
      clip.untracked = outUntracked
      return clip
    } catch {
      throw MotionFormatError(.invalidData, file: source, reason: "\(error)")
    }
  }
}
