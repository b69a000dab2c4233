import OnTrackKinematics
import Testing

/// The left–right decision the keypoint solver and the scorer's landmark gate share, on a
/// chain of three pairs (hip, knee, ankle) whose sides sit 0.3 m apart.
@Suite("Left and right swapped")
struct SideSwapTrackerTests {
  /// Pair k's (s_k, c_k) for a chain whose pairs from `swappedFrom` on arrive exchanged, the
  /// sides `apart` metres apart, each point also moved by `step` metres.
  static func distances(swappedFrom: Int, apart: Float = 0.3, step: Float = 0)
    -> (Int) -> (straight: Float, crossed: Float)?
  {
    { k in
      let moved = 2 * step * step
      let across = 2 * (apart * apart + step * step)
      return k >= swappedFrom ? (across, moved) : (moved, across)
    }
  }

  static func noBones(_: Int) -> SideSwapTracker.Junction? { nil }

  @Test("the end of a limb swapped for two frames is exchanged back from where it swapped")
  func endOfLimb() {
    var tracker = SideSwapTracker(slack: 0.08)
    tracker.begin(at: 0)
    for f in 1...30 {
      let d = tracker.decide(
        chain: 1, pairs: 3, at: Double(f) / 30, distances: Self.distances(swappedFrom: 3),
        junction: Self.noBones)
      #expect(d == .keep)
    }
    for f in 31...32 {
      let d = tracker.decide(
        chain: 1, pairs: 3, at: Double(f) / 30, distances: Self.distances(swappedFrom: 1),
        junction: Self.noBones)
      #expect(d == .exchange(from: 1), "frame \(f)")
    }
    // A small real movement (2 cm a point) is no swap.
    let d = tracker.decide(
      chain: 1, pairs: 3, at: 33.0 / 30, distances: Self.distances(swappedFrom: 3, step: 0.02),
      junction: Self.noBones)
    #expect(d == .keep)
  }

  @Test("labels wrong in the first two frames are defended two frames, not a second")
  func wrongFirstFrames() {
    var tracker = SideSwapTracker(slack: 0.08)
    tracker.begin(at: 0)
    _ = tracker.decide(
      chain: 0, pairs: 3, at: 1.0 / 30, distances: Self.distances(swappedFrom: 3),
      junction: Self.noBones)
    var decisions: [SideSwapTracker.Decision] = []
    // From frame 2 the detector is right: against what was taken, every pair jumped.
    var exchanged = false
    for f in 2..<40 {
      let d = tracker.decide(
        chain: 0, pairs: 3, at: Double(f) / 30,
        distances: Self.distances(swappedFrom: exchanged ? 3 : 0), junction: Self.noBones)
      decisions.append(d)
      if case .remember = d { exchanged = true }
    }
    let defended = decisions.prefix { $0 == .exchange(from: 0) }.count
    #expect(defended >= 1 && defended <= 3, "\(decisions.prefix(6))")
    #expect(decisions.dropFirst(defended).first == .remember(from: 0))
    #expect(decisions.dropFirst(defended + 1).allSatisfy { $0 == .keep })
  }

  @Test("the bones joining an end to its limb tell a swap no jump shows, and overrule one")
  func byTheBones() {
    // Knees 0.5 m apart, shins 0.42 m, the right one raised forward: labelled the wrong way
    // round both shins are 0.23 m too long, exchanged both fit.
    let (leftKnee, rightKnee) = (SIMD3<Float>(0.25, 0.5, 0), SIMD3<Float>(-0.25, 0.5, 0))
    let (leftAnkle, rightAnkle) = (SIMD3<Float>(0.25, 0.08, 0), SIMD3<Float>(-0.25, 0.5, 0.42))
    let crossedShins = SideSwapTracker.Junction(
      leftParent: leftKnee, leftChild: rightAnkle, rightParent: rightKnee, rightChild: leftAnkle,
      leftLength: 0.42, rightLength: 0.42)
    #expect(crossedShins.straightOff && !crossedShins.crossedOff)
    var tracker = SideSwapTracker(slack: 0.08)
    tracker.begin(at: 0)
    let quiet = tracker.decide(
      chain: 1, pairs: 3, at: 0.5, distances: Self.distances(swappedFrom: 3),
      junction: { $0 == 2 ? crossedShins : nil })
    #expect(quiet == .exchange(from: 2))
    // A jump that the joining bones contradict is the detector coming right.
    let rightShins = SideSwapTracker.Junction(
      leftParent: leftKnee, leftChild: leftAnkle, rightParent: rightKnee, rightChild: rightAnkle,
      leftLength: 0.42, rightLength: 0.42)
    #expect(!rightShins.straightOff && rightShins.crossedOff)
    let jump = tracker.decide(
      chain: 1, pairs: 3, at: 0.6, distances: Self.distances(swappedFrom: 2),
      junction: { $0 == 2 ? rightShins : nil })
    #expect(jump == .remember(from: 2))
  }
}
