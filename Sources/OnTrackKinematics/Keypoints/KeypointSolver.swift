import Foundation

/// Puts OnTrack's canonical skeleton (or any skeleton with the canonical joint names) through
/// streams of keypoints: joint-centre positions in, local joint rotations out, so a patient
/// seen by a camera, a depth sensor or markers moves a real skeleton, and recordings,
/// scoring, reports and the avatar work as for any motion capture.
///
/// Per frame, allocating nothing:
/// 0. **Left and right.** Labels a detector swapped, for a whole limb or its end (the far and
///    the near foot of a body seen side-on), are put back (`SideSwapTracker`, as the scorer's
///    landmark gate does): by continuity, defended no longer than the labels before had held
///    (two wrong first frames must not mirror the take), and, once segment lengths are
///    measured, by the segments joining the end to its limb.
/// 1. **Gaps.** A point missing (or below `minimumConfidence`) holds its last seen position
///    for up to `maximumHold` seconds, relative to its parent joint, so it moves with the body;
///    it is *not tracked* meanwhile (`tracked`), and stays untracked after that until seen
///    again: scoring then leaves out the measures that depend on it, instead of reading a
///    hand out of frame as an elbow that will not bend.
/// 2. **Impossible lengths.** Segment lengths are measured over the first `calibrationTime`
///    seconds (the median of each segment seen; a point more than 3× off the skeleton's own
///    proportions meanwhile is refused) and then held. After that, a limb point whose distance
///    to its parent differs from its segment's length by more than `lengthTolerance` (a share
///    of it) is treated as missing for that frame and counted (`implausible`), and its
///    children are then checked against where it is held. The trunk's points (hips and
///    shoulders) and the midline points below the head (pelvis, spine, neck), which have no
///    parent, are checked on the links between them (the hip width, the shoulder width, each
///    side from shoulder to hip, the pelvis to each hip and to the spine, the spine to the neck,
///    the neck to each shoulder; where the layout gives both ends), measured alike (never
///    assumed: while calibrating, against the median of the lengths so far, once there are
///    five): a point most of whose links stray is refused and moves with the rest of the
///    trunk (a detector's outlier on one hip moved the whole trunk, and floor exercises,
///    scored mostly on the trunk and pelvis, fell to 20–45). No trunk link is refused under
///    `smallestTolerance` (8 cm).
/// 3. **Derived points.** The pelvis is the mid-hip point when not given, the neck the
///    mid-shoulder point, the spine and chest lie on the line between them, the head top, hand
///    tips and toe tips continue their segments.
/// 4. **Limits.** Elbows and knees flex at most `maximumFlexion` (165°): a point past it is
///    turned back in the limb's plane.
/// 5. **Smoothing.** Each point follows its measurement through a first-order filter with time
///    constant `smoothing` (30 ms by default: the documented latency, for the avatar; the
///    scorer filters again on its own grid).
/// 6. **Rotations.** `PositionSolver`: each bone along its target, the least rotation from rest
///    (no invented twist on limbs); the pelvis and chest take their twist from the hips and the
///    shoulders. Bone lengths and the trunk's shape are the skeleton's: fit them to the body
///    from its first seconds (`fittedSkeleton`) so the joints land on the keypoints.
///
/// Latency: the smoothing's time constant (30 ms) for the avatar; `landmarks` carry the same.
public struct KeypointSolver: Sendable {
  public let skeleton: Skeleton
  /// Points with less confidence than this count as missing.
  public var minimumConfidence: Float = 0.5
  /// Seconds a missing point is held.
  public var maximumHold = 0.5
  /// Accepted departure of a segment's length from the skeleton's, as a share of it.
  public var lengthTolerance: Float = 0.5
  /// Largest elbow and knee flexion, radians.
  public var maximumFlexion: Float = 165 * .pi / 180
  /// Time constant of the smoothing, seconds (0: none).
  public var smoothing = 0.03
  /// Seconds from the first frame over which segment lengths are measured.
  public var calibrationTime = 2.0
  /// Whether the source's depth (z, along the camera's axis) is a monocular pose model's guess,
  /// whose scale is then estimated from the body's rigid segments and undone (`DepthScale`).
  public var correctsDepthScale = false
  /// The depth scale estimated so far (1 unless `correctsDepthScale`).
  public private(set) var depthScale = DepthScale()

  /// Bit `point.rawValue`: the point was seen in the last frame solved (not held or derived).
  public private(set) var tracked: UInt32 = 0
  /// Points refused for an impossible segment length, counted since the start.
  public private(set) var implausible = 0
  /// Bit `landmark.rawValue`: a scoring landmark (`BodyLandmark`) the last frame did not
  /// measure: not seen, held, or guessed (a toe the source does not give; a neck derived from
  /// shoulders counts as measured when both were seen).
  public private(set) var untrackedLandmarks: UInt32 = 0
  /// Whether segment lengths have been measured (`calibrationTime` has passed).
  public internal(set) var isCalibrated = false

  private let solver: PositionSolver
  /// Per canonical joint index: the skeleton's joint index (−1 if it has none).
  private let jointOf: [Int]
  var current: KeypointFrame
  private var lastSeen: [Double]
  private var smoothed: [SIMD3<Float>]
  var smoothedValid: [Bool]
  private var lastTime: Double?
  private var targets: [SIMD3<Float>]
  private var world: [RigidTransform]
  /// Per canonical joint: its target in the last frame solved (metres).
  public private(set) var jointTargets: [SIMD3<Float>]
  /// Per `BodyLandmark`: its position in the last frame solved (metres), the keypoint itself
  /// (smoothed, held or derived) rather than where the skeleton's bones put it. Scoring a
  /// keypoint stream reads these, so the skeleton's proportions cannot bias the score.
  public private(set) var landmarks: [SIMD3<Float>]
  /// Per point: the length (metres) of the segment from its parent point; 0 = unknown.
  private var segment: [Float]
  /// Length samples during calibration: `samples[point * sampleCapacity + k]`.
  private var samples: [Float]
  private var sampleCounts: [Int]
  private static let sampleCapacity = 256
  /// Per trunk link (`trunkLinks`): its length (metres; 0 = not measured yet), and its
  /// samples during calibration.
  private var trunkLength: [Float]
  private var trunkSamples: [Float]
  private var trunkSampleCounts: [Int]
  /// Room to sort a copy of one entry's samples (`medianLength`).
  private var medianScratch = [Float](repeating: 0, count: sampleCapacity)
  private var firstTime: Double?
  private var input = KeypointFrame()
  private var previous = KeypointFrame()
  /// Frames whose left and right labels were swapped back (`exchangeSwappedLabels`).
  public private(set) var swaps = 0
  /// Whether the limbs' labels were swapped (chain 0 the arms, 1 the legs: `sideChains`).
  private var swapTracker = SideSwapTracker()

  /// - Parameter skeleton: a skeleton with the canonical joint names (`CanonicalSkeleton`).
  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    solver = PositionSolver(skeleton: skeleton)
    jointOf = CanonicalSkeleton.joints.map { skeleton.index(of: $0.name) ?? -1 }
    let count = BodyPoint.allCases.count
    current = KeypointFrame()
    lastSeen = [Double](repeating: -.infinity, count: count)
    smoothed = [SIMD3<Float>](repeating: .zero, count: count)
    smoothedValid = [Bool](repeating: false, count: count)
    targets = [SIMD3<Float>](repeating: .zero, count: skeleton.count)
    world = [RigidTransform](repeating: .identity, count: skeleton.count)
    jointTargets = [SIMD3<Float>](repeating: .zero, count: CanonicalSkeleton.joints.count)
    landmarks = [SIMD3<Float>](repeating: .zero, count: BodyLandmark.allCases.count)
    segment = [Float](repeating: 0, count: count)
    samples = [Float](repeating: 0, count: count * Self.sampleCapacity)
    sampleCounts = [Int](repeating: 0, count: count)
    trunkLength = [Float](repeating: 0, count: Self.trunkLinks.count)
    trunkSamples = [Float](repeating: 0, count: Self.trunkLinks.count * Self.sampleCapacity)
    trunkSampleCounts = [Int](repeating: 0, count: Self.trunkLinks.count)
    // Until measured, the canonical proportions (not the skeleton's, so every skeleton
    // judges the same keypoints alike).
    for point in BodyPoint.allCases {
      guard let spec = CanonicalSkeleton.joints.first(where: { $0.point == point }),
        spec.length > 0.02
      else { continue }
      segment[point.rawValue] = spec.length
    }
  }

  /// The segment lengths in use (metres, from each point's parent point; 0 where unknown).
  public func segmentLength(_ point: BodyPoint) -> Float { segment[point.rawValue] }

  /// The parent point a point is held relative to, and the segment its length is checked on.
  static func parent(of point: BodyPoint) -> BodyPoint? {
    switch point {
    case .leftElbow: .leftShoulder
    case .leftWrist: .leftElbow
    case .leftHand: .leftWrist
    case .rightElbow: .rightShoulder
    case .rightWrist: .rightElbow
    case .rightHand: .rightWrist
    case .leftKnee: .leftHip
    case .leftAnkle: .leftKnee
    case .leftToe: .leftAnkle
    case .rightKnee: .rightHip
    case .rightAnkle: .rightKnee
    case .rightToe: .rightAnkle
    case .head, .headTop: .neck
    default: nil
    }
  }

  /// Solves one frame at `time` seconds into `pose` (sized for `skeleton`). Returns false if
  /// the frame could not be solved at all (neither hips nor shoulders ever seen): `pose` is
  /// then left as it was.
  @discardableResult
  public mutating func solve(_ frame: KeypointFrame, at time: Double, into pose: inout Pose)
    -> Bool
  {
    let dt = lastTime.map { max(0, time - $0) } ?? 0
    lastTime = time
    if firstTime == nil { firstTime = time }
    let calibrating = !isCalibrated && time - (firstTime ?? time) < calibrationTime
    tracked = 0
    // Scratch copies (no allocation): the frame as given, and the last frame's points.
    Self.copy(frame, into: &input)
    Self.copy(current, into: &previous)
    // A monocular model's depth, on the scale estimated so far (before the swaps, whose bones
    // are measured on the corrected scale).
    if correctsDepthScale { undoDepthScale() }
    // 0: a detector that swapped left and right (a body seen from an ambiguous angle), for a
    // whole limb or its end.
    exchangeSwappedLabels(at: time)
    // 1–2: take what was seen, refuse impossible lengths, hold what is missing.
    let strayTrunk = strayTrunkPoints(calibrating: calibrating)
    for point in BodyPoint.allCases {
      let k = point.rawValue
      guard usable(point) else { continue }
      if strayTrunk & point.bit != 0 {
        implausible += 1
        continue
      }
      // A parent refused in this frame anchors its children where it is held.
      if let parent = Self.parent(of: point), segment[k] > 0,
        let anchor = tracked & parent.bit != 0
          ? input.positions[parent.rawValue] : previous[parent]
      {
        let d = length(input.positions[k] - anchor)
        let expected = segment[k]
        let plausible =
          calibrating
          ? d > expected / 3 && d < expected * 3
          : abs(d - expected) <= lengthTolerance * expected
        guard plausible else {
          implausible += 1
          continue
        }
        if calibrating, tracked & parent.bit != 0, sampleCounts[k] < Self.sampleCapacity {
          samples[k * Self.sampleCapacity + sampleCounts[k]] = d
          sampleCounts[k] += 1
        }
      }
      tracked |= point.bit
      lastSeen[k] = time
    }
    if !isCalibrated && !calibrating { finishCalibration() }
    if correctsDepthScale {
      depthScale.observe(input.positions, seen: tracked, applied: depthScale.scale, at: time)
    }
    // How far the trunk points seen in this frame and the last moved, on average: a refused
    // trunk point moves with them (a hip held still while the patient squats would be wrong
    // by more than the outlier).
    var trunkShift = SIMD3<Float>.zero
    var trunkSeen: Float = 0
    for (point, _) in Self.trunkPointLinks where tracked & point.bit != 0 && previous.has(point) {
      trunkShift += input.positions[point.rawValue] - previous.positions[point.rawValue]
      trunkSeen += 1
    }
    if trunkSeen > 0 { trunkShift /= trunkSeen }
    for point in BodyPoint.allCases {
      let k = point.rawValue
      if tracked & point.bit != 0 {
        current[point] = input.positions[k]
      } else if previous.has(point) {
        // Held: moves with its parent, stays where it was relative to it.
        if let parent = Self.parent(of: point), tracked & parent.bit != 0,
          let oldParent = previous[parent]
        {
          current[point] = input.positions[parent.rawValue] + (previous.positions[k] - oldParent)
        } else if strayTrunk & point.bit != 0 {
          current[point] = previous.positions[k] + trunkShift
        }
      }
    }
    untrackedLandmarks = 0
    for point in BodyPoint.allCases {
      guard let landmark = point.landmark else { continue }
      var measured = tracked & point.bit != 0
      if !measured && !current.has(point) {
        // Derived from points that were seen.
        switch point {
        case .neck:
          measured =
            tracked & BodyPoint.leftShoulder.bit != 0 && tracked & BodyPoint.rightShoulder.bit != 0
        default: break
        }
      }
      if !measured { untrackedLandmarks |= 1 << UInt32(landmark.rawValue) }
    }
    guard
      (current.has(.leftHip) && current.has(.rightHip)) || current.has(.pelvis)
        || (current.has(.leftShoulder) && current.has(.rightShoulder))
    else { return false }
    // 5: smooth.
    let alpha: Float = smoothing > 0 && dt > 0 ? Float(1 - exp(-dt / smoothing)) : 1
    for point in BodyPoint.allCases where current.has(point) {
      let k = point.rawValue
      if smoothedValid[k] {
        smoothed[k] += (current.positions[k] - smoothed[k]) * alpha
      } else {
        smoothed[k] = current.positions[k]
        smoothedValid[k] = true
      }
    }
    // 3–4: every canonical joint's target.
    writeTargets()
    solver.solve(targets: targets, into: &pose, world: &world)
    return true
  }

  /// Divides the depth of `input`'s points by `depthScale.scale`, about the depth of the
  /// hips' midpoint (of the points', if a hip is missing), so the body is deepened in place.
  private mutating func undoDepthScale() {
    let scale = depthScale.scale
    guard scale != 1, scale > 0 else { return }
    var centre: Float = 0
    if usable(.leftHip), usable(.rightHip) {
      centre =
        (input.positions[BodyPoint.leftHip.rawValue].z
          + input.positions[BodyPoint.rightHip.rawValue].z) / 2
    } else {
      var n: Float = 0
      for point in BodyPoint.allCases where usable(point) {
        centre += input.positions[point.rawValue].z
        n += 1
      }
      guard n > 0 else { return }
      centre /= n
    }
    for point in BodyPoint.allCases where usable(point) {
      let k = point.rawValue
      input.positions[k].z = centre + (input.positions[k].z - centre) / scale
    }
  }

  /// The median of the lengths sampled (so far) for entry `k` of `samples` (`sampleCapacity`
  /// each), once there are five; nil before. Sorts a copy in `medianScratch`.
  private mutating func medianLength(_ k: Int, in samples: [Float], counts: [Int]) -> Float? {
    let n = counts[k]
    guard n >= 5 else { return nil }
    let base = k * Self.sampleCapacity
    for i in 0..<n { medianScratch[i] = samples[base + i] }
    medianScratch.withUnsafeMutableBufferPointer { buffer in
      var slice = UnsafeMutableBufferPointer(rebasing: buffer[0..<n])
      slice.sort()
    }
    return medianScratch[n / 2]
  }

  /// True if `point` is in the frame being solved, confident enough and finite.
  private func usable(_ point: BodyPoint) -> Bool {
    let k = point.rawValue
    return input.has(point) && input.confidence[k] >= minimumConfidence
      && input.positions[k].x.isFinite && input.positions[k].y.isFinite
      && input.positions[k].z.isFinite
  }

  /// The links between the trunk's points whose lengths are checked: the hip width, the
  /// shoulder width, each side from shoulder to hip, the pelvis to each hip and to the spine,
  /// the spine to the neck, the neck to each shoulder.
  static let trunkLinks: [(BodyPoint, BodyPoint)] = [
    (.leftHip, .rightHip), (.leftShoulder, .rightShoulder), (.leftShoulder, .leftHip),
    (.rightShoulder, .rightHip), (.pelvis, .leftHip), (.pelvis, .rightHip), (.pelvis, .spine),
    (.spine, .neck), (.neck, .leftShoulder), (.neck, .rightShoulder),
  ]
  /// Per trunk point: the `trunkLinks` it is an end of (bits).
  static let trunkPointLinks: [(BodyPoint, UInt32)] = [
    (.leftHip, 0b00_0001_0101), (.rightHip, 0b00_0010_1001), (.leftShoulder, 0b01_0000_0110),
    (.rightShoulder, 0b10_0000_1010), (.pelvis, 0b00_0111_0000), (.spine, 0b00_1100_0000),
    (.neck, 0b11_1000_0000),
  ]
  /// The least departure from a trunk link's length that is refused, metres: a short link
  /// (the pelvis to a hip) is not refused for a sensor's jitter.
  static let smallestTolerance: Float = 0.08

  /// The trunk points (bits of `BodyPoint`) to refuse in this frame: those most of whose
  /// links (at least two) differ from their measured lengths by more than `lengthTolerance`
  /// of them (at least `smallestTolerance`). While
  /// `calibrating`, the links are sampled instead (their medians become the lengths).
  /// Allocates nothing.
  private mutating func strayTrunkPoints(calibrating: Bool) -> UInt32 {
    var stray: UInt32 = 0
    for (j, (a, b)) in Self.trunkLinks.enumerated() where usable(a) && usable(b) {
      let d = length(input.positions[a.rawValue] - input.positions[b.rawValue])
      let expected =
        calibrating
        ? medianLength(j, in: trunkSamples, counts: trunkSampleCounts) ?? 0
        : trunkLength[j]
      if expected > 0,
        abs(d - expected) > max(lengthTolerance * expected, Self.smallestTolerance)
      {
        stray |= 1 << UInt32(j)
      } else if calibrating, trunkSampleCounts[j] < Self.sampleCapacity {
        trunkSamples[j * Self.sampleCapacity + trunkSampleCounts[j]] = d
        trunkSampleCounts[j] += 1
      }
    }
    // A point is refused when at least two of its links stray and more than half of them:
    // one outlier strays every link it is an end of, its neighbours only the one they share.
    var refused: UInt32 = 0
    for (point, links) in Self.trunkPointLinks {
      let strayed = (stray & links).nonzeroBitCount
      if strayed >= 2 && 2 * strayed > links.nonzeroBitCount { refused |= point.bit }
    }
    return refused
  }

  /// The limbs' left–right pairs of points, each from the trunk outwards.
  static let sideChains: [[(BodyPoint, BodyPoint)]] = [
    [
      (.leftShoulder, .rightShoulder), (.leftElbow, .rightElbow), (.leftWrist, .rightWrist),
      (.leftHand, .rightHand),
    ],
    [
      (.leftHip, .rightHip), (.leftKnee, .rightKnee), (.leftAnkle, .rightAnkle),
      (.leftToe, .rightToe),
    ],
  ]

  /// Puts back, in `input`, the labels of a limb or its end that the detector swapped
  /// (`SideSwapTracker`, over `sideChains`): a frame's points move a few centimetres at most
  /// (a limb's points are compared once they moved 8 cm each on average), a swap moves each by
  /// the distance between the sides; and,
  /// once the segment lengths are measured, the bones joining an end to its limb tell a swap
  /// that no jump shows. Where the detector's labels stand after all, what the solver
  /// remembers of the chain (the last frame's points, their smoothing) is exchanged.
  private mutating func exchangeSwappedLabels(at time: Double) {
    var exchanged = false
    defer { if exchanged { swaps += 1 } }
    for (c, chain) in Self.sideChains.enumerated() {
      var tracker = swapTracker
      let decision = tracker.decide(
        chain: c, pairs: chain.count, at: time,
        distances: { k in sideDistances(chain[k]) },
        junction: { j, ifOff in junction(chain, j, ifOff: ifOff) })
      swapTracker = tracker
      switch decision {
      case .keep: break
      case .exchange(let from):
        for (l, r) in chain[from...] { Self.exchange(l, r, in: &input) }
        exchanged = true
      case .remember(let from):
        for (l, r) in chain[from...] {
          Self.exchange(l, r, in: &previous)
          Self.exchange(l, r, in: &current)
          smoothed.swapAt(l.rawValue, r.rawValue)
          smoothedValid.swapAt(l.rawValue, r.rawValue)
          lastSeen.swapAt(l.rawValue, r.rawValue)
        }
      }
    }
  }

  /// How far the two points of `pair` are (summed squared distances, metres²) from where each
  /// was in the last frame and from where the other was; nil if either is not usable or was
  /// not there. (`mutating` though it changes nothing, as `junction`: called from the swap
  /// decision's closures, which hold `self` in place, a non-mutating call would copy the
  /// whole solver each time.)
  private mutating func sideDistances(_ pair: (BodyPoint, BodyPoint))
    -> (straight: Float, crossed: Float)?
  {
    let (l, r) = pair
    guard usable(l), usable(r), previous.has(l), previous.has(r) else { return nil }
    let a = input.positions[l.rawValue]
    let b = input.positions[r.rawValue]
    let pa = previous.positions[l.rawValue]
    let pb = previous.positions[r.rawValue]
    return (dot(a - pa, a - pa) + dot(b - pb, b - pb), dot(a - pb, a - pb) + dot(b - pa, b - pa))
  }

  /// How the two segments joining pair `j` of `chain` to pair `j − 1` fit their measured
  /// lengths, as labelled and exchanged; nil before the lengths are measured, when a point is
  /// not usable, when a point of pair `j − 1` moved more than `SideSwapTracker.slack` since the last
  /// frame, or, with `ifOff`, when neither segment is off as labelled.
  private mutating func junction(_ chain: [(BodyPoint, BodyPoint)], _ j: Int, ifOff: Bool)
    -> SideSwapTracker.Junction?
  {
    guard isCalibrated, j > 0, j < chain.count else { return nil }
    let (pl, pr) = chain[j - 1]
    let (cl, cr) = chain[j]
    let (ll, rl) = (segment[cl.rawValue], segment[cr.rawValue])
    guard ll > 0, rl > 0, usable(pl), usable(pr), usable(cl), usable(cr) else { return nil }
    func steady(_ p: BodyPoint) -> Bool {
      guard let before = previous[p] else { return false }
      let moved = input.positions[p.rawValue] - before
      return dot(moved, moved) <= SideSwapTracker.slack * SideSwapTracker.slack
    }
    guard steady(pl), steady(pr) else { return nil }
    return SideSwapTracker.Junction(
      leftParent: input.positions[pl.rawValue], leftChild: input.positions[cl.rawValue],
      rightParent: input.positions[pr.rawValue], rightChild: input.positions[cr.rawValue],
      leftLength: ll, rightLength: rl, onlyIfOff: ifOff)
  }

  /// Exchanges two points (position, confidence, presence) of `frame`.
  private static func exchange(_ a: BodyPoint, _ b: BodyPoint, in frame: inout KeypointFrame) {
    let i = a.rawValue
    let j = b.rawValue
    frame.positions.swapAt(i, j)
    frame.confidence.swapAt(i, j)
    let hasA = frame.has(a)
    let hasB = frame.has(b)
    frame.present &= ~(a.bit | b.bit)
    if hasA { frame.present |= b.bit }
    if hasB { frame.present |= a.bit }
  }

  /// Copies `source` into `target` element by element (no allocation once sized).
  static func copy(_ source: KeypointFrame, into target: inout KeypointFrame) {
    target.present = source.present
    for k in 0..<min(source.positions.count, target.positions.count) {
      target.positions[k] = source.positions[k]
      target.confidence[k] = source.confidence[k]
    }
  }

  /// Ends calibration: each segment's median length where enough samples were seen.
  private mutating func finishCalibration() {
    isCalibrated = true
    for k in segment.indices {
      if let length = medianLength(k, in: samples, counts: sampleCounts) { segment[k] = length }
    }
    for j in trunkLength.indices {
      if let length = medianLength(j, in: trunkSamples, counts: trunkSampleCounts) {
        trunkLength[j] = length
      }
    }
  }

  private func point(_ p: BodyPoint) -> SIMD3<Float>? {
    smoothedValid[p.rawValue] && current.has(p) ? smoothed[p.rawValue] : nil
  }

  private mutating func writeTargets() {
    let hipL = point(.leftHip)
    let hipR = point(.rightHip)
    let shL = point(.leftShoulder)
    let shR = point(.rightShoulder)
    var midHips: SIMD3<Float>?
    if let l = hipL, let r = hipR { midHips = (l + r) * 0.5 }
    var midShoulders: SIMD3<Float>?
    if let l = shL, let r = shR { midShoulders = (l + r) * 0.5 }
    let lowered: SIMD3<Float>? = midShoulders.map { $0 - SIMD3<Float>(0, 0.5, 0) }
    let pelvis: SIMD3<Float> = point(.pelvis) ?? midHips ?? lowered ?? SIMD3<Float>(0, 0, 0)
    let raised: SIMD3<Float> = pelvis + SIMD3<Float>(0, 0.5, 0)
    let neck: SIMD3<Float> = point(.neck) ?? midShoulders ?? raised
    let (up, forward) = Self.trunkAxes(
      pelvis: pelvis, neck: neck, hips: (hipL, hipR), shoulders: (shL, shR))
    let trunk: SIMD3<Float> = neck - pelvis
    let spine: SIMD3<Float> = point(.spine) ?? pelvis + trunk * Float(0.35)
    let chest: SIMD3<Float> = point(.chest) ?? pelvis + trunk * Float(0.75)
    let head: SIMD3<Float> = point(.head) ?? neck + up * Float(0.12)
    let headUp = normalizeOr(head - neck, up)
    let headTop: SIMD3<Float> = point(.headTop) ?? head + headUp * Float(0.12)
    let across = cross(up, forward)
    func limb(
      _ root: SIMD3<Float>?, _ mid: BodyPoint, _ end: BodyPoint, fallback: SIMD3<Float>
    ) -> (SIMD3<Float>, SIMD3<Float>, SIMD3<Float>) {
      let a = root ?? fallback
      let b: SIMD3<Float> = point(mid) ?? a - up * Float(0.3)
      var c: SIMD3<Float> = point(end) ?? b - up * Float(0.3)
      // Flexion limit: the angle at `b` between the two segments stays ≥ 180° − max.
      let u = normalizeOr(a - b, up)
      let v = c - b
      let lengthV = length(v)
      if lengthV > 1e-6 {
        let interior = acos(min(max(dot(u, v / lengthV), -1), 1))
        let least = Float.pi - maximumFlexion
        if interior < least {
          var normal = cross(u, v)
          if length(normal) < 1e-6 { normal = across }
          let turn = Quaternion(angle: least, axis: normalize(normal))
          c = b + turn.act(on: u) * lengthV
        }
      }
      return (a, b, c)
    }
    let side = across * Float(0.18)
    let hipSide = across * Float(0.1)
    let (lShoulder, lElbow, lWrist) = limb(shL, .leftElbow, .leftWrist, fallback: neck + side)
    let (rShoulder, rElbow, rWrist) = limb(shR, .rightElbow, .rightWrist, fallback: neck - side)
    let (lHip, lKnee, lAnkle) = limb(hipL, .leftKnee, .leftAnkle, fallback: pelvis + hipSide)
    let (rHip, rKnee, rAnkle) = limb(hipR, .rightKnee, .rightAnkle, fallback: pelvis - hipSide)
    let down = -up
    let lHandGuess: SIMD3<Float> = lWrist + normalizeOr(lWrist - lElbow, down) * Float(0.08)
    let rHandGuess: SIMD3<Float> = rWrist + normalizeOr(rWrist - rElbow, down) * Float(0.08)
    let lHand: SIMD3<Float> = point(.leftHand) ?? lHandGuess
    let rHand: SIMD3<Float> = point(.rightHand) ?? rHandGuess
    let lToe: SIMD3<Float> =
      point(.leftToe) ?? Self.guessedToe(ankle: lAnkle, up: up, forward: forward)
    let rToe: SIMD3<Float> =
      point(.rightToe) ?? Self.guessedToe(ankle: rAnkle, up: up, forward: forward)
    let lToeEnd: SIMD3<Float> = lToe + normalizeOr(lToe - lAnkle, forward) * Float(0.05)
    let rToeEnd: SIMD3<Float> = rToe + normalizeOr(rToe - rAnkle, forward) * Float(0.05)
    let lCollar: SIMD3<Float> = neck + (lShoulder - neck) * Float(0.3)
    let rCollar: SIMD3<Float> = neck + (rShoulder - neck) * Float(0.3)
    // In `CanonicalSkeleton.joints` order.
    put(0, pelvis)
    put(1, spine)
    put(2, chest)
    put(3, neck)
    put(4, head)
    put(5, headTop)
    put(6, lCollar)
    put(7, lShoulder)
    put(8, lElbow)
    put(9, lWrist)
    put(10, lHand)
    put(11, rCollar)
    put(12, rShoulder)
    put(13, rElbow)
    put(14, rWrist)
    put(15, rHand)
    put(16, lHip)
    put(17, lKnee)
    put(18, lAnkle)
    put(19, lToe)
    put(20, lToeEnd)
    put(21, rHip)
    put(22, rKnee)
    put(23, rAnkle)
    put(24, rToe)
    put(25, rToeEnd)
  }

  /// The trunk's axes as the solver takes them: `up` from the pelvis to the neck, `forward`
  /// = across × up, with across from the right hip to the left (the shoulders' if a hip is
  /// missing) made perpendicular to up. Unit vectors; Y and Z when the points are degenerate.
  public static func trunkAxes(
    pelvis: SIMD3<Float>, neck: SIMD3<Float>,
    hips: (SIMD3<Float>?, SIMD3<Float>?), shoulders: (SIMD3<Float>?, SIMD3<Float>?)
  ) -> (up: SIMD3<Float>, forward: SIMD3<Float>) {
    let up = normalizeOr(neck - pelvis, SIMD3<Float>(0, 1, 0))
    var across = SIMD3<Float>(1, 0, 0)
    if let l = hips.0, let r = hips.1 {
      across = l - r
    } else if let l = shoulders.0, let r = shoulders.1 {
      across = l - r
    }
    across = normalizeOr(across - up * dot(across, up), SIMD3<Float>(1, 0, 0))
    return (up, cross(across, up))
  }

  /// Where the solver puts a toe the source does not give: 13 cm forward of the ankle and 5 cm
  /// down, in the trunk's frame (`trunkAxes`).
  public static func guessedToe(ankle: SIMD3<Float>, up: SIMD3<Float>, forward: SIMD3<Float>)
    -> SIMD3<Float>
  {
    ankle + forward * Float(0.13) - up * Float(0.05)
  }

  /// Sets the target of canonical joint `c` (metres, converted to the skeleton's unit).
  private mutating func put(_ c: Int, _ value: SIMD3<Float>) {
    jointTargets[c] = value
    if let landmark = CanonicalSkeleton.joints[c].point?.landmark {
      landmarks[landmark.rawValue] = value
    }
    guard jointOf[c] >= 0 else { return }
    targets[jointOf[c]] = value / Float(skeleton.lengthUnit.metres)
  }

  /// The canonical skeleton fitted to a body: its rest offsets (metres) measured from
  /// keypoint `frames` (the first seconds of a take, the patient roughly upright), so that the
  /// solved skeleton puts its joints where the keypoints are.
  ///
  /// Trunk joints (hip centres, spine, chest, neck, head, clavicles, shoulders) keep the
  /// measured offset from their parent as a vector in the body frame (X across the hips to
  /// the left, Y up the trunk, Z forward), the per-component median over the frames; limb
  /// segments keep the canonical rest direction (the T-pose) with the median measured length.
  /// Segments never seen keep the canonical proportions, scaled to the body's measured size.
  public static func fittedSkeleton(_ frames: [KeypointFrame], minimumConfidence: Float = 0.5)
    -> Skeleton
  {
    let canonical = CanonicalSkeleton.joints
    var probe = KeypointSolver(skeleton: CanonicalSkeleton.make())
    probe.smoothing = 0
    probe.lengthTolerance = 1000
    probe.minimumConfidence = minimumConfidence
    probe.calibrationTime = 0
    probe.isCalibrated = true
    var pose = probe.skeleton.restPose
    // Per joint: the samples of its offset in the body frame, and of its length.
    var offsets = [[SIMD3<Float>]](repeating: [], count: canonical.count)
    var lengths = [[Float]](repeating: [], count: canonical.count)
    for (k, frame) in frames.enumerated() {
      // Only what this frame shows: no holding from earlier frames.
      probe.current.clear()
      probe.smoothedValid = probe.smoothedValid.map { _ in false }
      guard probe.solve(frame, at: Double(k), into: &pose) else { continue }
      let seen = probe.tracked
      let t = probe.jointTargets
      let pelvis = t[0]
      let up = normalizeOr(t[3] - pelvis, SIMD3(0, 1, 0))
      var across = t[16] - t[21]
      across = normalizeOr(across - up * dot(across, up), SIMD3(1, 0, 0))
      let forward = cross(across, up)
      for (j, spec) in canonical.enumerated() {
        guard let parent = spec.parent else { continue }
        // Both ends measured (or derived from measured points) in this frame.
        guard Self.measured(joint: j, seen: seen), Self.measured(joint: parent, seen: seen)
        else { continue }
        let d = t[j] - t[parent]
        lengths[j].append(length(d))
        offsets[j].append(SIMD3(dot(d, across), dot(d, up), dot(d, forward)))
      }
    }
    func median(_ values: [Float]) -> Float? {
      guard !values.isEmpty else { return nil }
      let sorted = values.sorted()
      return sorted[sorted.count / 2]
    }
    var ratios: [Float] = []
    for j in canonical.indices where canonical[j].length > 0 {
      if let m = median(lengths[j]) { ratios.append(m / canonical[j].length) }
    }
    let scale = median(ratios) ?? 1
    var result: [SIMD3<Float>] = []
    for (j, spec) in canonical.enumerated() {
      let rest = spec.rest == .zero ? spec.rest : normalize(spec.rest)
      let isTrunk = Self.trunkJoints.contains(j)
      if isTrunk, !offsets[j].isEmpty,
        let x = median(offsets[j].map(\.x)), let y = median(offsets[j].map(\.y)),
        let z = median(offsets[j].map(\.z)), length(SIMD3(x, y, z)) > 1e-4
      {
        result.append(SIMD3(x, y, z))
      } else if let l = median(lengths[j]), l > 1e-4 {
        result.append(rest * l)
      } else {
        result.append(rest * spec.length * scale)
      }
    }
    return CanonicalSkeleton.make(offsets: result)
  }

  /// Canonical joints whose offset from their parent is a fixed shape of the trunk.
  static let trunkJoints: Set<Int> = [1, 2, 3, 4, 5, 6, 7, 11, 12, 16, 21]

  /// Whether canonical joint `j`'s target came from seen points (`seen`: `tracked` bits).
  static func measured(joint j: Int, seen: UInt32) -> Bool {
    func has(_ p: BodyPoint) -> Bool { seen & p.bit != 0 }
    let hips = has(.leftHip) && has(.rightHip)
    let shoulders = has(.leftShoulder) && has(.rightShoulder)
    switch j {
    case 0: return hips || has(.pelvis)
    case 1, 2: return (hips || has(.pelvis)) && (shoulders || has(.neck))
    case 3: return has(.neck) || shoulders
    case 4: return has(.head)
    case 5: return has(.headTop)
    case 6, 11: return shoulders
    default:
      guard let point = CanonicalSkeleton.joints[j].point else { return false }
      return has(point)
    }
  }
}

@inline(__always)
func normalizeOr(_ v: SIMD3<Float>, _ fallback: SIMD3<Float>) -> SIMD3<Float> {
  let n = length(v)
  return n > 1e-6 ? v / n : fallback
}
