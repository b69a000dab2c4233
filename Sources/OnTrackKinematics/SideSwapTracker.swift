/// Tells, frame by frame, whether a pose detector swapped the left and right labels of a limb,
/// or of its end only, and for how long a swap is put right: the one decision that
/// `KeypointSolver` (keypoints) and the landmark gate (landmarks) both take, each over its own
/// points.
///
/// A *chain* is a limb's left–right pairs from the trunk outwards (shoulders, elbows, wrists;
/// hips, knees, ankles, toes). A detector confuses the two sides of a whole limb or of its end
/// (the far and the near foot of a body seen side-on), most often at the start, before it has
/// locked on, and while the two sides are close together.
///
/// **By continuity.** With `s_k` and `c_k` the summed squared distances (metres²) of pair
/// k's two points from where they were last taken, as labelled and exchanged, exchanging the
/// pairs from `j` on costs
///
///     C_j = Σ_{k<j} s_k + Σ_{k≥j} c_k,    C_n = Σ s_k (nothing exchanged).
///
/// The cheapest `j` is exchanged if `C_j < ¼ C_n` and the points moved more than `slack` each
/// on average as labelled (`C_n > 2 m · slack²` over m pairs seen). A real movement is
/// continuous, so its own labelling is the nearer; limbs that cross do so over many frames.
///
/// **For how long.** A chain is exchanged back for at most `longest` (1 s) in a row, and for
/// no more frames than the labels before the swap had been compared in (a chain compared
/// from its first frame on, wrong in its first two, is defended for one frame, not a second;
/// so is a limb that comes back into view wrong); labels that stay "swapped" longer are the
/// detector's word, and what was taken of the chain is then its mirror image
/// (`Decision.remember`). A frame whose other labelling was the nearer, though not by far
/// enough to exchange, or in which the chain could not be compared, restarts that count: the
/// labels may have changed there unseen.
///
/// **By the bones.** A swap that no jump shows (the feet swapped while together, then apart)
/// is exchanged back when the two bones joining the end to the limb (a shin from each knee to
/// the other ankle) are off as labelled (`Junction.isOff`) and not exchanged, for as long as
/// they say so; and a jump the joining bones contradict (exchanged, they would be more than
/// `boneSlack` further from their lengths) is the detector coming right, not a swap
/// (`remember`).
///
/// Holds no arrays (up to four chains): allocation-free, and free to copy.
public struct SideSwapTracker: Sendable {
  /// What to do with a chain's labels in this frame.
  public enum Decision: Equatable, Sendable {
    /// Take them as they are.
    case keep
    /// Exchange the two sides of the chain's pairs from `from` on.
    case exchange(from: Int)
    /// Take them as they are, and exchange what was remembered of the pairs from `from` on:
    /// it was their mirror image.
    case remember(from: Int)
  }

  /// How the two bones that join pair `j` of a chain to pair `j − 1` (a thigh, a shin; an
  /// upper arm, a forearm) fit their lengths.
  public struct Junction: Sendable {
    /// Summed distance of the two bones from their lengths (metres), as labelled and with
    /// the sides from pair `j` on exchanged.
    public var straight: Float
    public var crossed: Float
    /// Whether a bone is off (`isOff`) as labelled, and exchanged.
    public var straightOff: Bool
    public var crossedOff: Bool

    /// The junction of bones from `leftParent` to `leftChild` and from `rightParent` to
    /// `rightChild`, of lengths `leftLength` and `rightLength` (metres); nil with
    /// `onlyIfOff` when neither bone is off as labelled (a check made every frame then costs
    /// two lengths).
    public init?(
      leftParent: SIMD3<Float>, leftChild: SIMD3<Float>, rightParent: SIMD3<Float>,
      rightChild: SIMD3<Float>, leftLength: Float, rightLength: Float, onlyIfOff: Bool = false
    ) {
      let ls = abs(length(leftParent - leftChild) - leftLength)
      let rs = abs(length(rightParent - rightChild) - rightLength)
      straightOff = Self.isOff(ls, length: leftLength) || Self.isOff(rs, length: rightLength)
      if onlyIfOff && !straightOff { return nil }
      let lc = abs(length(leftParent - rightChild) - leftLength)
      let rc = abs(length(rightParent - leftChild) - rightLength)
      straight = ls + rs
      crossed = lc + rc
      crossedOff = Self.isOff(lc, length: leftLength) || Self.isOff(rc, length: rightLength)
    }

    /// A bone `error` metres from its `length` is off past `boneSlack + boneShare × length`
    /// (8 cm + 20 %: jitter of 2 cm a coordinate moves a bone's length by ~3 cm (σ)).
    public static func isOff(_ error: Float, length: Float) -> Bool {
      error > SideSwapTracker.boneSlack + SideSwapTracker.boneShare * length
    }
  }

  /// Longest a chain's labels are exchanged back in a row, seconds.
  public static let longest = 1.0
  /// A bone is off past `boneSlack + boneShare × length` (metres, and a share).
  public static let boneSlack: Float = 0.08
  public static let boneShare: Float = 0.2
  /// Least mean movement a point (metres) for a chain's sides to be compared; also the most a
  /// joint may have moved since the last frame for its bones to tell a junction (a joint that
  /// moved more is a glitch of its own, not the labels of the limb's end).
  public static let slack: Float = 0.08
  /// Chains a tracker follows at most.
  public static let chains = 4
  /// Per chain: when its labels began to be exchanged back (−∞: they are not), for how many
  /// frames so far, and in how many frames before that the labels had been compared as they
  /// were taken.
  private var swappingSince = SIMD4<Double>(repeating: -.infinity)
  private var swappedFrames = SIMD4<Int32>(repeating: 0)
  private var heldFrames = SIMD4<Int32>(repeating: 0)

  public init() {}

  /// Decides chain `chain` (0 ..< `chains`) of `pairs` pairs at `time` seconds. `distances(k)` gives
  /// pair k's (s_k, c_k), nil if either point cannot be compared (not seen, or not taken
  /// lately); `junction(j, ifOff)`, for j ≥ 1, how the bones joining pair j to pair j − 1
  /// fit, nil when they cannot tell (a point missing, lengths not known, a point of pair j − 1
  /// that itself jumped) or, with `ifOff`, when neither bone is off as labelled (so that the
  /// check made every frame costs two lengths).
  public mutating func decide(
    chain: Int, pairs: Int, at time: Double,
    distances: (Int) -> (straight: Float, crossed: Float)?,
    junction: (_ j: Int, _ ifOff: Bool) -> Junction?
  ) -> Decision {
    precondition(chain >= 0 && chain < Self.chains, "chain \(chain) of \(Self.chains)")
    let c = chain
    var straight: Float = 0
    var points = 0
    for k in 0..<max(pairs, 0) {
      guard let d = distances(k) else { continue }
      straight += d.straight
      points += 2
    }
    var from = pairs
    var cheapest = straight
    if points > 0, straight > Float(points) * Self.slack * Self.slack {
      var endStraight: Float = 0
      var endCrossed: Float = 0
      for k in stride(from: pairs - 1, through: 0, by: -1) {
        guard let d = distances(k) else { continue }
        endStraight += d.straight
        endCrossed += d.crossed
        let cost = straight - endStraight + endCrossed
        if cost < cheapest {
          cheapest = cost
          from = k
        }
      }
    }
    /// Whether the bones joining pair j to the limb fit only with the sides exchanged.
    func bonesCross(_ j: Int) -> Bool {
      guard j > 0, let bones = junction(j, true) else { return false }
      return bones.straightOff && !bones.crossedOff && bones.crossed < bones.straight
    }
    guard from < pairs, cheapest < 0.25 * straight else {
      swappingSince[c] = -.infinity
      // Not compared, or the points jumped and the other labelling was the nearer though not
      // by far enough: the labels may have changed here unseen.
      heldFrames[c] = points == 0 || from < pairs ? 0 : heldFrames[c] &+ 1
      // No jump, but a limb's end joined to the wrong side.
      for j in stride(from: 1, to: pairs, by: 1) where bonesCross(j) {
        return .exchange(from: j)
      }
      return .keep
    }
    if from > 0, let bones = junction(from, false), !bones.straightOff,
      bones.crossed > bones.straight + Self.boneSlack
    {
      // The labels jumped, but the bones joining the end to the limb say they are right now.
      heldFrames[c] = 0
      swappingSince[c] = -.infinity
      return .remember(from: from)
    }
    // The bones say the end is crossed as labelled: exchanged for as long as they say so.
    if bonesCross(from) {
      swappingSince[c] = -.infinity
      return .exchange(from: from)
    }
    if swappingSince[c] == -.infinity {
      swappingSince[c] = time
      swappedFrames[c] = 0
    }
    swappedFrames[c] &+= 1
    guard swappedFrames[c] <= heldFrames[c], time - swappingSince[c] <= Self.longest else {
      heldFrames[c] = swappedFrames[c] &- 1
      swappingSince[c] = -.infinity
      return .remember(from: from)
    }
    return .exchange(from: from)
  }
}
