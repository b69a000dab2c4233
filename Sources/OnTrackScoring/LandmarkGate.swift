import OnTrackKinematics

/// Refuses landmark positions no body could have produced, before anything reads them: the
/// first stage of `FeaturePipeline`, so whatever gives landmarks — a clip through forward
/// kinematics, the keypoint solver, or a caller's own (`TakeScorer.score(landmarks:times:)`,
/// `StreamingScorer.push(landmarks:at:)`) — is read alike, offline and live.
///
/// Per frame, allocating nothing:
/// 1. **Not a position.** A landmark with a coordinate that is not finite or is beyond
///    `farthest` (100 m) is refused.
/// 2. **Left and right swapped.** A detector that swaps the labels of a side's limbs (a body
///    seen from an ambiguous angle) is caught by continuity: for the arms (shoulder, elbow,
///    wrist) and the legs (hip, knee, ankle, toe) in turn, if the other side's points are less
///    than a quarter as far (summed squared distance) from where this side's were in the last
///    frame as this side's own, and this side's moved more than `swapSlack` a point, the two
///    sides are exchanged back. A real movement is continuous, so its own side is always the
///    nearer; limbs that cross do so over many frames.
/// 3. **Too fast.** A landmark that moved, relative to the body's centre (the mean of the
///    landmarks), farther from where it was last accepted than `jumpSlack + fastest × Δt`
///    (15 cm plus 6 m/s, Δt since it was last accepted) is refused: a rehabilitation movement
///    stays far below 6 m/s, a glitch of a detector does not, and a whole body that jumps (a
///    sensor re-locating it) moves no landmark relative to the rest. The allowance grows while
///    a landmark is refused, so one that really moved is taken again within a few frames.
///
/// A refused landmark holds where it was last accepted, relative to its parent along the limb
/// where that was taken (a toe goes where its ankle goes), else to the body's centre (a glitch
/// of a frame or two is bridged so); refused for longer than `holdSeconds`, or before it was ever accepted (then it sits in
/// the middle of the frame's good landmarks), it is also marked *not seen*
/// (`LandmarkFrame.untracked`): the scorer then leaves out the measures that need it rather
/// than reading a glitch as a fault. Landmarks the
/// sensor itself marks not seen pass unchanged. `refused` counts refusals; `swaps` counts
/// exchanges.
///
/// Landmarks from forward kinematics of a skeleton and from `KeypointSolver` (which has its own
/// gate on keypoints) keep their bones' lengths and move smoothly: on them the gate changes
/// nothing.
public struct LandmarkGate: Sendable {
  /// Largest |coordinate| accepted, metres.
  public static let farthest: Float = 100
  /// Fastest a landmark is taken to move, metres a second.
  public static let fastest: Float = 6
  /// Movement always accepted between two frames, metres (sensor jitter of a few cm included).
  public static let jumpSlack: Float = 0.15
  /// Least mean movement a point of a limb for its sides to be checked for a swap, metres.
  public static let swapSlack: Float = 0.08
  /// Seconds a refused landmark is held as if seen: a glitch of a frame or two is bridged; a
  /// landmark refused for longer is marked not seen.
  public static let holdSeconds = 0.2

  /// The gated frame of the last `apply`.
  public private(set) var frame = LandmarkFrame()
  /// Where each landmark was last accepted, and when.
  private var accepted = LandmarkFrame()
  private var acceptedTime: [Double]
  private var seen: [Bool]
  private var lastTime = -Double.infinity
  public private(set) var refused = 0
  public private(set) var swaps = 0

  /// Each landmark's parent along its limb, by index (`BodyLandmark.limbParent`).
  static let parents: [Int?] = BodyLandmark.allCases.map { $0.limbParent?.rawValue }

  static let arms: [(BodyLandmark, BodyLandmark)] = [
    (.leftShoulder, .rightShoulder), (.leftElbow, .rightElbow), (.leftWrist, .rightWrist),
  ]
  static let legs: [(BodyLandmark, BodyLandmark)] = [
    (.leftHip, .rightHip), (.leftKnee, .rightKnee), (.leftAnkle, .rightAnkle),
    (.leftToe, .rightToe),
  ]

  public init() {
    acceptedTime = [Double](repeating: 0, count: BodyLandmark.allCases.count)
    seen = [Bool](repeating: false, count: BodyLandmark.allCases.count)
  }

  /// Forgets everything seen (a new take).
  public mutating func reset() {
    for k in seen.indices { seen[k] = false }
    lastTime = -.infinity
    refused = 0
    swaps = 0
  }

  /// Gates `landmarks` seen at `time` into `frame`. A frame not after the last (which the
  /// pipeline ignores) is copied as it is and changes nothing.
  public mutating func apply(_ landmarks: LandmarkFrame, at time: Double) {
    frame.copy(from: landmarks)
    guard time.isFinite, time > lastTime else { return }
    lastTime = time
    let count = frame.positions.count
    var refusedNow: UInt32 = 0
    for k in 0..<count where frame.untracked & (1 << UInt32(k)) == 0 {
      let p = frame.positions[k]
      let finite = p.x.isFinite && p.y.isFinite && p.z.isFinite
      if !finite || max(abs(p.x), abs(p.y), abs(p.z)) > Self.farthest {
        refusedNow |= 1 << UInt32(k)
      }
    }
    // How far the body as a whole moved since the landmarks were accepted: each landmark is
    // judged by how it moved relative to the rest (a whole body that jumps — a sensor that
    // re-locates it — is not a glitch of any one landmark).
    var shift = SIMD3<Float>.zero
    if seen.contains(true) {
      let common = refusedNow | frame.untracked | ~seenMask
      shift = centre(of: frame, excluding: common) - centre(of: accepted, excluding: common)
      exchangeIfSwapped(Self.arms, shift: shift, refused: &refusedNow)
      exchangeIfSwapped(Self.legs, shift: shift, refused: &refusedNow)
    }
    for k in 0..<count where frame.untracked & (1 << UInt32(k)) == 0 && seen[k] {
      let bit = UInt32(1) << UInt32(k)
      guard refusedNow & bit == 0 else { continue }
      let allowance = Self.jumpSlack + Self.fastest * Float(max(0, time - acceptedTime[k]))
      let d = frame.positions[k] - shift - accepted.positions[k]
      if (d * d).sum() > allowance * allowance { refusedNow |= bit }
    }
    if refusedNow != 0 { hold(refusedNow, shift: shift, at: time) }
    for k in 0..<count where (frame.untracked | refusedNow) & (1 << UInt32(k)) == 0 {
      accepted.positions[k] = frame.positions[k]
      acceptedTime[k] = time
      seen[k] = true
    }
  }

  /// Puts each landmark in `refusedNow` where it was last accepted, before `accepted` takes
  /// this frame.
  private mutating func hold(_ refusedNow: UInt32, shift: SIMD3<Float>, at time: Double) {
    let middle = centre(of: frame, excluding: refusedNow)
    for k in 0..<frame.positions.count where refusedNow & (1 << UInt32(k)) != 0 {
      refused += 1
      guard seen[k] else {
        frame.positions[k] = middle
        frame.untracked |= 1 << UInt32(k)
        continue
      }
      // Held with its parent where that was taken (a toe goes where its ankle goes), else
      // with the body.
      if let parent = Self.parents[k], refusedNow & (1 << UInt32(parent)) == 0,
        frame.untracked & (1 << UInt32(parent)) == 0, seen[parent]
      {
        frame.positions[k] =
          accepted.positions[k] - accepted.positions[parent] + frame.positions[parent]
      } else {
        frame.positions[k] = accepted.positions[k] + shift
      }
      if time - acceptedTime[k] > Self.holdSeconds { frame.untracked |= 1 << UInt32(k) }
    }
  }

  /// Bit k: landmark k has been accepted at least once.
  private var seenMask: UInt32 {
    var mask: UInt32 = 0
    for k in seen.indices where seen[k] { mask |= 1 << UInt32(k) }
    return mask
  }

  /// Exchanges the two sides of `pairs` in `frame` if the other side is by far the nearer to
  /// where this side last was (points refused, not seen, or never accepted left out); what is
  /// refused or not seen goes with its point.
  /// Positions are compared relative to each frame's centre (`shift` is how far the centre
  /// moved): a whole body that jumps is not a swap.
  private mutating func exchangeIfSwapped(
    _ pairs: [(BodyLandmark, BodyLandmark)], shift: SIMD3<Float>, refused: inout UInt32
  ) {
    var straight: Float = 0
    var crossed: Float = 0
    var points = 0
    let skip = refused | frame.untracked
    for (l, r) in pairs {
      let (a, b) = (l.rawValue, r.rawValue)
      guard skip & (1 << UInt32(a)) == 0, skip & (1 << UInt32(b)) == 0, seen[a], seen[b] else {
        continue
      }
      let (pa, pb) = (frame.positions[a] - shift, frame.positions[b] - shift)
      let la = pa - accepted.positions[a]
      let rb = pb - accepted.positions[b]
      let lb = pa - accepted.positions[b]
      let ra = pb - accepted.positions[a]
      straight += (la * la).sum() + (rb * rb).sum()
      crossed += (lb * lb).sum() + (ra * ra).sum()
      points += 2
    }
    guard points > 0, straight > Float(points) * Self.swapSlack * Self.swapSlack,
      crossed < 0.25 * straight
    else { return }
    for (l, r) in pairs {
      let (a, b) = (l.rawValue, r.rawValue)
      frame.positions.swapAt(a, b)
      Self.exchangeBits(a, b, in: &frame.untracked)
      Self.exchangeBits(a, b, in: &refused)
    }
    swaps += 1
  }

  private static func exchangeBits(_ a: Int, _ b: Int, in mask: inout UInt32) {
    let bitA = (mask >> UInt32(a)) & 1
    let bitB = (mask >> UInt32(b)) & 1
    mask &= ~((1 << UInt32(a)) | (1 << UInt32(b)))
    mask |= (bitA << UInt32(b)) | (bitB << UInt32(a))
  }

  /// The mean of `landmarks`' positions that are neither in `excluded` nor unseen (the
  /// origin if none).
  private func centre(of landmarks: LandmarkFrame, excluding excluded: UInt32) -> SIMD3<Float> {
    var sum = SIMD3<Float>.zero
    var n: Float = 0
    for k in 0..<landmarks.positions.count
    where (excluded | landmarks.untracked) & (1 << UInt32(k)) == 0 {
      sum += landmarks.positions[k]
      n += 1
    }
    return n > 0 ? sum / n : .zero
  }
}
