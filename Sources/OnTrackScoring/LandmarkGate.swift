import OnTrackKinematics

/// Refuses landmark positions no body could have produced, before anything reads them: the
/// first stage of `FeaturePipeline`, so whatever gives landmarks — a clip through forward
/// kinematics, the keypoint solver, or a caller's own (`TakeScorer.score(landmarks:times:)`,
/// `StreamingScorer.push(landmarks:at:)`) — is read alike, offline and live.
///
/// Per frame, allocating nothing:
/// 1. **Not a position.** A landmark with a coordinate that is not finite or is beyond
///    `farthest` (100 m), or farther than `reach` (2.5 m) from the middle of the frame's
///    landmarks (the per-axis median, which one stray point cannot move), is refused.
/// 2. **At one place.** Two landmarks within 2 mm of each other (`coincidence`) that were
///    last accepted more than 10 cm apart (`apart`) are both refused, and so is every
///    landmark of a frame whose landmarks all lie within 5 cm (`smallest`) of their middle: a
///    detector that loses a point (or the whole body) often gives a placeholder for it, the
///    origin, and a body whose points all fell on one spot would otherwise pass for a body
///    that jumped. A point given to the bit where it was, two frames running, while its
///    parent along the limb moved and the bone between them stretched or shrank by more than
///    1 cm (which neither forward kinematics nor a sensor that measures each point afresh
///    gives; a planted foot under a bending knee keeps its shin) is one the sensor froze and
///    still calls seen, and is refused too (`frozen`).
/// 3. **Left and right swapped.** A detector that swaps the labels of a side's limbs, or of
///    their ends only (a body seen from an ambiguous angle: the far and the near foot of a
///    body seen side-on), is caught by continuity: for the arms (shoulder, elbow, wrist) and
///    the legs (hip, knee, ankle, toe) in turn, if exchanging the two sides from some joint
///    of the limb outwards leaves the points less than a quarter as far (summed squared
///    distance, relative to the body) from where they were in the last frame as they are as
///    labelled, and they moved more than `swapSlack` a point, that end of the limb is
///    exchanged back. A real movement is continuous, so its own side is always the nearer;
///    limbs that cross do so over many frames. Only points accepted within `holdSeconds` are
///    compared (after a gap the patient may have turned round), and a group is exchanged back
///    for at most `swapSeconds` (1 s) in a row, and no longer than the labels before had held:
///    labels that stay "swapped" longer are taken as they come (a wrong first frame must not
///    mirror the rest of the take). A swap that no jump shows is put back by the bones that
///    join the limb's end to it (a shin from each knee to the other ankle). The decision is
///    `SideSwapTracker`'s, which `KeypointSolver` takes too.
/// 4. **A bone's length.** Each of 18 segments a body keeps (`bodyBones`: the limbs, the head
///    on the neck, the trunk's frame) has its length learnt (a running median over every
///    frame that has both its points, refused or not: `learnBones`);
///    a segment more than `boneSlack + boneShare × length` (8 cm + 20 %) off it is off, and
///    the points that best explain the off segments are refused (`offBones`). This catches
///    a point thrown less far than the speed check allows (a 30 cm throw at 30 Hz), in any
///    direction that changes a bone by more than the allowance.
/// 5. **Too fast.** A landmark that moved, relative to the body (the per-axis median of every
///    landmark's movement), farther from where it was last accepted than
///    `jumpSlack + fastest × Δt` (15 cm plus 6 m/s, Δt since it was last accepted) is refused:
///    a rehabilitation movement stays far below 6 m/s, a glitch of a detector does not, and a
///    whole body that jumps (a sensor re-locating it) moves no landmark relative to the rest.
///    The allowance grows while a landmark is refused, so one that really moved is taken
///    again within a few frames.
///
/// A refused landmark holds where it was last accepted, relative to its parent along the limb
/// where that was taken (a toe goes where its ankle goes), else relative to the body (a glitch
/// of a frame or two is bridged so); refused for longer than `holdSeconds`, or before it was
/// ever accepted (then it sits in the middle of the frame's landmarks), it is also marked *not
/// seen* (`LandmarkFrame.untracked`): the scorer then leaves out the measures that need it
/// rather than reading a glitch as a fault. Landmarks the sensor itself marks not seen pass
/// unchanged. `refused` counts refusals; `swaps` counts exchanges.
///
/// Landmarks from forward kinematics of a skeleton with fixed bones and from `KeypointSolver`
/// (which has its own gate on keypoints) keep their bones' lengths and move smoothly: on them
/// the gate changes nothing. A clip that carries a sensor's joint positions per frame (UI-PRMD's
/// Kinect takes: every joint has position channels) keeps the sensor's own glitches, which the
/// gate refuses like any detector's.
public struct LandmarkGate: Sendable {
  /// Largest |coordinate| accepted, metres.
  public static let farthest: Float = 100
  /// Frames in a row a point is given to the bit the same while its parent moves before it
  /// is taken as frozen (`frozen`).
  public static let frozenFrames: Int32 = 2
  /// How far a still point's bone to its parent may stretch or shrink before the point is
  /// taken as frozen, metres (`frozen`): a rigid limb swinging round a still end keeps it.
  public static let frozenStretch: Float = 0.005
  /// Farthest a landmark may be from the middle of the frame's landmarks (the per-axis
  /// median), metres: no body spans more.
  public static let reach: Float = 2.5
  /// Fastest a landmark is taken to move, metres a second.
  public static let fastest: Float = 6
  /// Movement always accepted between two frames, metres (sensor jitter of a few cm included).
  public static let jumpSlack: Float = 0.15
  /// Least mean movement a point of a limb for its sides to be checked for a swap, metres.
  public static let swapSlack: Float = SideSwapTracker.slack
  /// Longest a group's labels are exchanged back in a row, seconds (`SideSwapTracker`).
  public static let swapSeconds = SideSwapTracker.longest
  /// A bone is off by more than `boneSlack + boneShare × length` (`offBones`): metres, and a
  /// share of the learnt length. Jitter of 2 cm a coordinate moves a bone's length by ~3 cm
  /// (σ); a trunk or a shoulder girdle that bends changes its segments by 10–20 %.
  public static let boneSlack: Float = SideSwapTracker.boneSlack
  public static let boneShare: Float = SideSwapTracker.boneShare
  /// Frames of a bone learnt (their median) before it is judged, and the most its learnt
  /// length moves a frame after, metres.
  public static let boneWarmUp = 15
  public static let boneStep: Float = 0.003
  /// What taking a bone out of judgment costs when choosing which point to refuse
  /// (`offBones`), metres: about the error jitter of a few centimetres gives a bone.
  public static let bonePrice: Float = 0.02
  /// A frame whose landmarks all lie within this of their middle holds no body, metres.
  public static let smallest: Float = 0.05
  /// Two landmarks nearer each other than this are at one place, metres (`coincident`).
  public static let coincidence: Float = 0.002
  /// Two landmarks last accepted farther apart than this cannot have come together since,
  /// metres (`coincident`).
  public static let apart: Float = 0.1
  /// Seconds a refused landmark is held as if seen: a glitch of a frame or two is bridged; a
  /// landmark refused for longer is marked not seen.
  public static let holdSeconds = 0.2

  /// The gated frame of the last `apply`.
  public private(set) var frame = LandmarkFrame()
  /// Where each landmark was last accepted, and when.
  private var accepted = LandmarkFrame()
  private var acceptedTime: [Double]
  /// Bit k: landmark k has been accepted at least once.
  private var seenMask: UInt32 = 0
  private var lastTime = -Double.infinity
  /// Per landmark: where the sensor last put it, and for how many frames in a row it has been
  /// given to the bit the same while its parent moved (up to `frozenFrames`). Scratch: the
  /// frame's positions as the sensor gave them (before any exchange).
  private var lastGiven: [SIMD3<Float>]
  private var sameFrames: [Int32]
  /// Per landmark: the distance from its parent when it stopped; bit k: taken as frozen.
  private var lengthWhenStill: [Float]
  private var wasFrozen: UInt32 = 0
  private var givenBefore = false
  private var givenNow: [SIMD3<Float>]
  /// Whether the side groups' labels were swapped (chain 0 the arms, 1 the legs).
  private var swapTracker = SideSwapTracker()
  /// Scratch for the per-axis medians (one value per landmark).
  private var scratch: [Float]
  /// Each bone's learnt length (`bodyBones`, `learnBones`), metres, and how many frames it
  /// has been learnt from (up to `boneWarmUp`).
  private var boneLength: [Float]
  private var boneUpdates: [Int]
  /// The lengths seen while warming up, sorted, `boneWarmUp` per bone.
  private var boneWarmUpLengths: [Float]
  /// Scratch: each bone's length and error in the frame being judged (`offBones`).
  private var boneSeen: [Float]
  private var boneError: [Float]
  public private(set) var refused = 0
  public private(set) var swaps = 0

  /// Each landmark's parent along its limb, by index (`BodyLandmark.limbParent`).
  static let parents: [Int?] = BodyLandmark.allCases.map { $0.limbParent?.rawValue }

  /// The side groups checked for swapped labels: the arms, the legs.
  static let sideGroups: [[(BodyLandmark, BodyLandmark)]] = [
    [(.leftShoulder, .rightShoulder), (.leftElbow, .rightElbow), (.leftWrist, .rightWrist)],
    [
      (.leftHip, .rightHip), (.leftKnee, .rightKnee), (.leftAnkle, .rightAnkle),
      (.leftToe, .rightToe),
    ],
  ]

  /// `sideGroups` flat, as landmark indices (group g's pairs from `chainStart[g]` to
  /// `chainStart[g + 1]`), and per pair the bones (indices into `bodyBones`) joining it to
  /// the pair before on the left and on the right ((0, 0) for a chain's first pair): read
  /// every frame without reaching into nested arrays.
  static let chainPairs: [(Int, Int)] = sideGroups.flatMap {
    $0.map { ($0.0.rawValue, $0.1.rawValue) }
  }
  static let chainStart: [Int] = sideGroups.reduce(into: [0]) {
    $0.append(($0.last ?? 0) + $1.count)
  }
  static let chainJunctions: [(Int, Int)] = chainPairs.indices.map { k in
    guard !chainStart.contains(k) else { return (0, 0) }
    func bone(_ a: Int, _ b: Int) -> Int {
      guard let e = bodyBones.firstIndex(where: { $0 == (a, b) || $0 == (b, a) }) else {
        preconditionFailure("no bone from landmark \(a) to \(b) in bodyBones")
      }
      return e
    }
    return (bone(chainPairs[k - 1].0, chainPairs[k].0), bone(chainPairs[k - 1].1, chainPairs[k].1))
  }

  public init() {
    acceptedTime = [Double](repeating: 0, count: BodyLandmark.allCases.count)
    lastGiven = [SIMD3<Float>](repeating: .zero, count: BodyLandmark.allCases.count)
    givenNow = [SIMD3<Float>](repeating: .zero, count: BodyLandmark.allCases.count)
    sameFrames = [Int32](repeating: 0, count: BodyLandmark.allCases.count)
    lengthWhenStill = [Float](repeating: 0, count: BodyLandmark.allCases.count)
    scratch = [Float](repeating: 0, count: 3 * BodyLandmark.allCases.count)
    boneLength = [Float](repeating: 0, count: Self.bodyBones.count)
    boneUpdates = [Int](repeating: 0, count: Self.bodyBones.count)
    boneWarmUpLengths = [Float](repeating: 0, count: Self.bodyBones.count * Self.boneWarmUp)
    boneSeen = [Float](repeating: 0, count: Self.bodyBones.count)
    boneError = [Float](repeating: 0, count: Self.bodyBones.count)
  }

  /// The segments whose lengths a body keeps, as pairs of landmark indices: the limbs, the
  /// head on the neck, and the trunk's frame (shoulders, hips, neck and lumbar spine).
  static let bodyBones: [(Int, Int)] = {
    let pairs: [(BodyLandmark, BodyLandmark)] = [
      (.neck, .head), (.neck, .leftShoulder), (.neck, .rightShoulder),
      (.leftShoulder, .rightShoulder), (.leftShoulder, .leftElbow), (.leftElbow, .leftWrist),
      (.rightShoulder, .rightElbow), (.rightElbow, .rightWrist), (.neck, .spine),
      (.spine, .leftHip), (.spine, .rightHip), (.leftHip, .rightHip), (.leftHip, .leftKnee),
      (.leftKnee, .leftAnkle), (.leftAnkle, .leftToe), (.rightHip, .rightKnee),
      (.rightKnee, .rightAnkle), (.rightAnkle, .rightToe),
    ]
    return pairs.map { ($0.0.rawValue, $0.1.rawValue) }
  }()

  /// Per landmark, the bones of `bodyBones` it ends (bit e: bone e).
  static let bonesOf: [UInt32] = BodyLandmark.allCases.map { landmark in
    var mask: UInt32 = 0
    for (e, bone) in bodyBones.enumerated()
    where bone.0 == landmark.rawValue || bone.1 == landmark.rawValue {
      mask |= 1 << UInt32(e)
    }
    return mask
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
    refusedNow |= coincident(excluding: refusedNow | frame.untracked, at: time)
    let given = min(count, givenNow.count)
    for k in 0..<given { givenNow[k] = frame.positions[k] }
    // Beyond any body's reach of the middle of the frame (a median: one stray point cannot
    // move it).
    let middle = middleOfFrame(excluding: refusedNow | frame.untracked)
    var spread: Float = 0
    var candidates = 0
    for k in 0..<count where (refusedNow | frame.untracked) & (1 << UInt32(k)) == 0 {
      let d = frame.positions[k] - middle
      let squared = (d * d).sum()
      if squared > Self.reach * Self.reach {
        refusedNow |= 1 << UInt32(k)
      } else {
        spread = max(spread, squared)
        candidates += 1
      }
    }
    // Three or more points all within a few centimetres are no body (a detector's placeholder
    // for one it lost), first frame included.
    if candidates >= 3, spread < Self.smallest * Self.smallest {
      refusedNow |= ~frame.untracked & (count >= 32 ? .max : (1 << UInt32(count)) - 1)
    }
    // How far the body as a whole moved since the landmarks were accepted (the per-axis median
    // of their movements): each landmark is judged by how it moved relative to the rest (a
    // whole body that jumps — a sensor that re-locates it — is not a glitch of any one).
    var shift = SIMD3<Float>.zero
    if seenMask != 0 {
      shift = movementOfBody(excluding: refusedNow | frame.untracked | ~seenMask)
      for group in 0..<(Self.chainStart.count - 1) {
        exchangeIfSwapped(group, shift: shift, at: time, refused: &refusedNow)
      }
    }
    refusedNow |= offBones(excluding: refusedNow | frame.untracked)
    for k in 0..<count where (frame.untracked | ~seenMask) & (1 << UInt32(k)) == 0 {
      let bit = UInt32(1) << UInt32(k)
      guard refusedNow & bit == 0 else { continue }
      let allowance = Self.jumpSlack + Self.fastest * Float(max(0, time - acceptedTime[k]))
      let d = frame.positions[k] - shift - accepted.positions[k]
      if (d * d).sum() > allowance * allowance { refusedNow |= bit }
    }
    refusedNow |= frozen(given, excluding: refusedNow | frame.untracked)
    if refusedNow != 0 { hold(refusedNow, shift: shift, at: time) }
    for k in 0..<count where (frame.untracked | refusedNow) & (1 << UInt32(k)) == 0 {
      accepted.positions[k] = frame.positions[k]
      acceptedTime[k] = time
      seenMask |= 1 << UInt32(k)
    }
  }

  /// The landmarks not in `excluded` that the sensor froze: given to the bit where it gave
  /// them before (`givenNow` against `lastGiven`, the first `count`) in `frozenFrames` frames
  /// running while their parent along the limb changed in each, and stretched or shrank the
  /// bone between them by more than `frozenStretch` since the point stopped. A sensor
  /// measures each point afresh and forward kinematics computes a point through its parent:
  /// neither holds a point to the bit while its parent moves away from it. A point that
  /// stays still to the bit while its parent swings round it at the bone's length is a
  /// planted foot under a bending knee, or a hand on a table (a file's rounding repeats such
  /// points to the bit), and is left alone. Once frozen, a point stays refused while it is
  /// given the same. Points with no parent (the trunk's) are not judged. A frozen point is
  /// held like any refused one (with its parent, not seen after `holdSeconds`).
  private mutating func frozen(_ count: Int, excluding excluded: UInt32) -> UInt32 {
    defer {
      for k in 0..<count { lastGiven[k] = givenNow[k] }
      givenBefore = true
    }
    guard givenBefore else { return 0 }
    var found: UInt32 = 0
    for k in 0..<count {
      let bit = UInt32(1) << UInt32(k)
      guard let parent = Self.parents[k], parent < count, givenNow[k] == lastGiven[k],
        givenNow[parent] != lastGiven[parent] || wasFrozen & bit != 0
      else {
        sameFrames[k] = 0
        wasFrozen &= ~bit
        continue
      }
      if sameFrames[k] == 0 { lengthWhenStill[k] = length(lastGiven[k] - lastGiven[parent]) }
      sameFrames[k] = min(sameFrames[k] &+ 1, Self.frozenFrames)
      if wasFrozen & bit != 0
        || (sameFrames[k] >= Self.frozenFrames
          && abs(length(givenNow[k] - givenNow[parent]) - lengthWhenStill[k])
            > Self.frozenStretch)
      {
        wasFrozen |= bit
        if excluded & bit == 0 { found |= bit }
      }
    }
    return found
  }

  /// The landmarks not in `excluded` that lie on another one (within `coincidence`) although
  /// they were last accepted apart (more than `apart`), within `holdSeconds`: two points of a
  /// body are never at one place, and a detector that loses a point often gives a placeholder
  /// (the origin) for it, or for the whole body, which would otherwise pass for a body that
  /// jumped. Points kept together longer are taken as the sensor gives them.
  private func coincident(excluding excluded: UInt32, at time: Double) -> UInt32 {
    let count = frame.positions.count
    let limit = Self.coincidence * Self.coincidence
    var found: UInt32 = 0
    for i in 0..<count where excluded & (1 << UInt32(i)) == 0 {
      for j in (i + 1)..<count where excluded & (1 << UInt32(j)) == 0 {
        let d = frame.positions[i] - frame.positions[j]
        guard (d * d).sum() < limit else { continue }
        let both = (UInt32(1) << UInt32(i)) | (UInt32(1) << UInt32(j))
        // (A rig may place two landmarks at one joint: only points seen apart are judged. A
        // sensor that keeps two points together — hands clasped, snapped to one — is taken
        // once they have been refused for `holdSeconds`.)
        guard seenMask & both == both, time - acceptedTime[i] <= Self.holdSeconds,
          time - acceptedTime[j] <= Self.holdSeconds
        else { continue }
        let before = accepted.positions[i] - accepted.positions[j]
        guard (before * before).sum() > Self.apart * Self.apart else { continue }
        found |= both
      }
    }
    return found
  }

  /// The landmarks not in `excluded` that a bone's length gives away. Each bone of
  /// `bodyBones` whose ends are both in the frame and whose length has been learnt
  /// (`learnBones`) is judged: its error is how far its length is from the learnt one, and it
  /// is *off* if that is more than `boneSlack` plus `boneShare` of the learnt length. While a
  /// bone is off, the point that best explains the errors is refused, and its bones are no
  /// longer judged: of the points that end an off bone, the one whose refusal leaves the least
  /// error in the bones still judged, plus `bonePrice` for each bone it takes out of judgment
  /// (an elbow thrown off lengthens the upper arm and changes the forearm: refusing the elbow
  /// leaves nothing, the wrist or the shoulder leave one of the two; a wrist thrown off
  /// changes the forearm only, which the wrist and the elbow both explain, and the wrist
  /// takes fewer good bones with it).
  private mutating func offBones(excluding excluded: UInt32) -> UInt32 {
    var present: UInt32 = 0
    var judged: UInt32 = 0
    var off: UInt32 = 0
    for (e, bone) in Self.bodyBones.enumerated() {
      let ends = (UInt32(1) << UInt32(bone.0)) | (UInt32(1) << UInt32(bone.1))
      guard excluded & ends == 0 else { continue }
      let d = frame.positions[bone.0] - frame.positions[bone.1]
      boneSeen[e] = (d * d).sum().squareRoot()
      present |= 1 << UInt32(e)
      guard boneUpdates[e] >= Self.boneWarmUp else { continue }
      judged |= 1 << UInt32(e)
      boneError[e] = abs(boneSeen[e] - boneLength[e])
      if boneError[e] > Self.boneSlack + Self.boneShare * boneLength[e] {
        off |= 1 << UInt32(e)
      }
    }
    defer { learnBones(present) }
    var refused: UInt32 = 0
    while off != 0 {
      var pick = -1
      var least = Float.infinity
      for k in 0..<min(frame.positions.count, Self.bonesOf.count)
      where Self.bonesOf[k] & off != 0 {
        let mine = Self.bonesOf[k] & judged
        var left = Self.bonePrice * Float(mine.nonzeroBitCount)
        for e in Self.bodyBones.indices where judged & ~mine & (1 << UInt32(e)) != 0 {
          left += boneError[e]
        }
        if left < least {
          least = left
          pick = k
        }
      }
      guard pick >= 0 else { break }
      refused |= 1 << UInt32(pick)
      judged &= ~Self.bonesOf[pick]
      off &= judged
    }
    return refused
  }

  /// Learns the length of each bone in `present` (bit e: bone e) from the length it has in
  /// this frame (`boneSeen`), whether or not its points were refused: over the first
  /// `boneWarmUp` frames the median of the lengths seen, then a running median (the estimate
  /// steps towards each length by at most `boneStep`, so a glitch moves it by that much at
  /// most, and a length that really changed — a first second seen badly, another patient, a
  /// sensor that rescales — is learnt within seconds instead of refusing the bone's points for
  /// ever).
  private mutating func learnBones(_ present: UInt32) {
    for e in Self.bodyBones.indices where present & (1 << UInt32(e)) != 0 {
      let length = boneSeen[e]
      let n = boneUpdates[e]
      if n < Self.boneWarmUp {
        // Warming up: the median of the lengths so far (one bad first frame moves it to the
        // next good one).
        let first = e * Self.boneWarmUp
        var i = n
        while i > 0, boneWarmUpLengths[first + i - 1] > length {
          boneWarmUpLengths[first + i] = boneWarmUpLengths[first + i - 1]
          i -= 1
        }
        boneWarmUpLengths[first + i] = length
        let m = n + 1
        boneLength[e] =
          m % 2 == 1
          ? boneWarmUpLengths[first + m / 2]
          : (boneWarmUpLengths[first + m / 2 - 1] + boneWarmUpLengths[first + m / 2]) / 2
      } else {
        boneLength[e] += min(Self.boneStep, max(-Self.boneStep, length - boneLength[e]))
      }
      boneUpdates[e] = min(n + 1, Self.boneWarmUp)
    }
  }

  /// The per-axis median of the frame's landmarks not in `excluded`. (The arrays are read
  /// through locals that end here, so the frame's own storage stays unshared for the changes
  /// that follow: no copy.)
  private mutating func middleOfFrame(excluding excluded: UInt32) -> SIMD3<Float> {
    let positions = frame.positions
    return Self.median(of: positions.count, &scratch, excluding: excluded) { positions[$0] }
  }

  /// The per-axis median of the landmarks' movements since they were accepted, over those not
  /// in `excluded`.
  private mutating func movementOfBody(excluding excluded: UInt32) -> SIMD3<Float> {
    let (positions, before) = (frame.positions, accepted.positions)
    return Self.median(of: positions.count, &scratch, excluding: excluded) {
      positions[$0] - before[$0]
    }
  }

  /// The per-axis median of `value(k)` over landmarks `0..<count` not in `excluded` (zero if
  /// none), sorting in `scratch` (at least `3 × count` long: one sorted prefix per axis, each
  /// value read once).
  private static func median(
    of count: Int, _ scratch: inout [Float], excluding excluded: UInt32,
    _ value: (Int) -> SIMD3<Float>
  ) -> SIMD3<Float> {
    scratch.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress, buffer.count >= 3 * count else { return .zero }
      var n = 0
      for k in 0..<count where excluded & (1 << UInt32(k)) == 0 {
        let v = value(k)
        for axis in 0..<3 {
          // Insertion into the axis's sorted prefix (17 values at most).
          let sorted = base + axis * count
          let x = v[axis]
          var i = n
          while i > 0, sorted[i - 1] > x {
            sorted[i] = sorted[i - 1]
            i -= 1
          }
          sorted[i] = x
        }
        n += 1
      }
      guard n > 0 else { return .zero }
      var result = SIMD3<Float>.zero
      for axis in 0..<3 {
        let sorted = base + axis * count
        result[axis] = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
      }
      return result
    }
  }

  /// Puts each landmark in `refusedNow` where it was last accepted, before `accepted` takes
  /// this frame.
  private mutating func hold(_ refusedNow: UInt32, shift: SIMD3<Float>, at time: Double) {
    let middle = middleOfFrame(excluding: refusedNow | frame.untracked)
    for k in 0..<frame.positions.count where refusedNow & (1 << UInt32(k)) != 0 {
      refused += 1
      guard seenMask & (1 << UInt32(k)) != 0 else {
        frame.positions[k] = middle
        frame.untracked |= 1 << UInt32(k)
        continue
      }
      // Held with its parent where that was taken (a toe goes where its ankle goes), else
      // with the body.
      if let parent = Self.parents[k], refusedNow & (1 << UInt32(parent)) == 0,
        (frame.untracked | ~seenMask) & (1 << UInt32(parent)) == 0
      {
        frame.positions[k] =
          accepted.positions[k] - accepted.positions[parent] + frame.positions[parent]
      } else {
        frame.positions[k] = accepted.positions[k] + shift
      }
      if time - acceptedTime[k] > Self.holdSeconds { frame.untracked |= 1 << UInt32(k) }
    }
  }

  /// Exchanges the two sides of the end of a limb in `frame` where the detector swapped them
  /// (`SideSwapTracker`: by continuity, for no longer than the labels before had held, or by
  /// the bones joining the end to the limb); what is refused or not seen goes with its point.
  /// `pairs` run along the limb from the trunk. Positions are compared relative to the body
  /// (`shift` is how far it moved): a whole body that jumps is not a swap. Points refused, not
  /// seen, never accepted, or last accepted longer than `holdSeconds` ago are left out (after
  /// a gap the patient may have turned round).
  private mutating func exchangeIfSwapped(
    _ group: Int, shift: SIMD3<Float>, at time: Double, refused: inout UInt32
  ) {
    let skip = refused | frame.untracked | ~seenMask
    let start = Self.chainStart[group]
    let count = Self.chainStart[group + 1] - start
    var tracker = swapTracker
    let decision = tracker.decide(
      chain: group, pairs: count, at: time,
      distances: { k in
        let (l, r) = Self.chainPairs[start + k]
        return distances(l, r, shift: shift, skip: skip, at: time)
      },
      junction: { j, ifOff in
        junction(start + j, shift: shift, skip: skip, at: time, ifOff: ifOff)
      })
    swapTracker = tracker
    switch decision {
    case .keep: break
    case .exchange(let from):
      for k in (start + from)..<(start + count) {
        let (l, r) = Self.chainPairs[k]
        frame.positions.swapAt(l, r)
        Self.exchangeBits(l, r, in: &frame.untracked)
        Self.exchangeBits(l, r, in: &refused)
      }
      swaps += 1
    case .remember(let from):
      for k in (start + from)..<(start + count) {
        let (l, r) = Self.chainPairs[k]
        accepted.positions.swapAt(l, r)
        acceptedTime.swapAt(l, r)
        Self.exchangeBits(l, r, in: &seenMask)
      }
    }
  }

  /// How the two bones that join pair `pair` of `chainPairs` to the pair before (a thigh, a
  /// shin, a foot; an upper arm, a forearm) fit their learnt lengths, as labelled and
  /// exchanged. Nil when they cannot tell: a point in `skip`, the lengths not learnt yet, a
  /// point of pair `j − 1` that moved more than `swapSlack` relative to the body (`shift`)
  /// since it was accepted (a glitch there, not the labels of the end), or, with `ifOff`,
  /// neither bone off as labelled. (`mutating` for the reason `distances` is.)
  private mutating func junction(
    _ pair: Int, shift: SIMD3<Float>, skip: UInt32, at time: Double, ifOff: Bool
  ) -> SideSwapTracker.Junction? {
    let (left, right) = Self.chainJunctions[pair]
    guard boneUpdates[left] >= Self.boneWarmUp, boneUpdates[right] >= Self.boneWarmUp else {
      return nil
    }
    let (la, lb) = Self.bodyBones[left]
    let (ra, rb) = Self.bodyBones[right]
    guard
      skip & ((1 << UInt32(la)) | (1 << UInt32(lb)) | (1 << UInt32(ra)) | (1 << UInt32(rb))) == 0
    else { return nil }
    func steady(_ k: Int) -> Bool {
      let moved = frame.positions[k] - shift - accepted.positions[k]
      return time - acceptedTime[k] <= Self.holdSeconds
        && (moved * moved).sum() <= Self.swapSlack * Self.swapSlack
    }
    let (pl, pr) = Self.chainPairs[pair - 1]
    guard steady(pl), steady(pr) else { return nil }
    // Each bone's ends as (parent, child): pair j − 1's point, pair j's.
    func ends(_ bone: Int, _ parent: Int) -> (Int, Int) {
      let (a, b) = Self.bodyBones[bone]
      return a == parent ? (a, b) : (b, a)
    }
    let (lp, lc) = ends(left, pl)
    let (rp, rc) = ends(right, pr)
    return SideSwapTracker.Junction(
      leftParent: frame.positions[lp], leftChild: frame.positions[lc],
      rightParent: frame.positions[rp], rightChild: frame.positions[rc],
      leftLength: boneLength[left], rightLength: boneLength[right], onlyIfOff: ifOff)
  }

  /// How far points `a` and `b` of `frame` are (summed squared distances, relative to the
  /// body) from where each was last accepted (`straight`) and from where the other was
  /// (`crossed`); nil if either is in `skip` or was last accepted longer than `holdSeconds`
  /// ago. (`mutating` though it changes nothing: called from the swap decision's closures,
  /// which hold `self` in place, a non-mutating call would copy the whole gate each time.)
  private mutating func distances(
    _ a: Int, _ b: Int, shift: SIMD3<Float>, skip: UInt32, at time: Double
  ) -> (straight: Float, crossed: Float)? {
    guard skip & (1 << UInt32(a)) == 0, skip & (1 << UInt32(b)) == 0,
      time - acceptedTime[a] <= Self.holdSeconds, time - acceptedTime[b] <= Self.holdSeconds
    else { return nil }
    let (pa, pb) = (frame.positions[a] - shift, frame.positions[b] - shift)
    let la = pa - accepted.positions[a]
    let rb = pb - accepted.positions[b]
    let lb = pa - accepted.positions[b]
    let ra = pb - accepted.positions[a]
    return ((la * la).sum() + (rb * rb).sum(), (lb * lb).sum() + (ra * ra).sum())
  }

  private static func exchangeBits(_ a: Int, _ b: Int, in mask: inout UInt32) {
    let bitA = (mask >> UInt32(a)) & 1
    let bitB = (mask >> UInt32(b)) & 1
    mask &= ~((1 << UInt32(a)) | (1 << UInt32(b)))
    mask |= (bitA << UInt32(b)) | (bitB << UInt32(a))
  }
}
