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

  static func noBones(_: Int, _: Bool) -> SideSwapTracker.Junction? { nil }

  @Test("the end of a limb swapped for two frames is exchanged back from where it swapped")
  func endOfLimb() {
    var tracker = SideSwapTracker()
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
    // A fast real movement (10 cm a point in a frame) is no swap.
    let d = tracker.decide(
      chain: 1, pairs: 3, at: 33.0 / 30, distances: Self.distances(swappedFrom: 3, step: 0.1),
      junction: Self.noBones)
    #expect(d == .keep)
  }

  /// `frames` decisions of a chain whose labels are wrong until frame `rightFrom`, right after
  /// (compared with what the tracker took, which follows its own decisions), unseen before
  /// frame `seenFrom`.
  static func run(seenFrom: Int, rightFrom: Int, frames: Int) -> [SideSwapTracker.Decision] {
    var tracker = SideSwapTracker()
    var takenWrong = true
    var decisions: [SideSwapTracker.Decision] = []
    for f in 0..<frames {
      let wrong = f < rightFrom
      let d = tracker.decide(
        chain: 0, pairs: 3, at: Double(f) / 30,
        distances: f < seenFrom
          ? { _ in nil } : Self.distances(swappedFrom: wrong == takenWrong ? 3 : 0),
        junction: Self.noBones)
      decisions.append(d)
      switch d {
      case .keep: takenWrong = wrong
      case .exchange: takenWrong = !wrong
      case .remember: takenWrong = wrong
      }
    }
    return decisions
  }

  @Test("labels wrong from the first frames are defended one frame, not a second")
  func wrongFirstFrames() {
    // Wrong in frames 0 and 1 (frame 0 compared with nothing): frame 2 defended, then taken.
    let decisions = Self.run(seenFrom: 1, rightFrom: 2, frames: 40)
    #expect(Array(decisions.prefix(4)) == [.keep, .keep, .exchange(from: 0), .remember(from: 0)])
    #expect(decisions.dropFirst(4).allSatisfy { $0 == .keep })
    // A limb that comes into view (after 2 s unseen) with wrong labels: the same.
    let late = Self.run(seenFrom: 61, rightFrom: 62, frames: 90)
    #expect(
      Array(late[60..<64]) == [.keep, .keep, .exchange(from: 0), .remember(from: 0)],
      "\(late[58..<66])")
    // Labels right for a second, then wrong for 5 frames: all 5 put back.
    var tracker = SideSwapTracker()
    for f in 0..<36 {
      let wrong = f >= 30 && f < 35
      let d = tracker.decide(
        chain: 0, pairs: 3, at: Double(f) / 30,
        distances: Self.distances(swappedFrom: wrong ? 0 : 3), junction: Self.noBones)
      #expect(d == (wrong ? .exchange(from: 0) : .keep), "frame \(f)")
    }
  }

  @Test("the bones joining an end to its limb tell a swap no jump shows, and overrule one")
  func byTheBones() throws {
    // Knees 0.5 m apart, shins 0.42 m, the right one raised forward: labelled the wrong way
    // round both shins are 0.23 m too long, exchanged both fit.
    let (leftKnee, rightKnee) = (SIMD3<Float>(0.25, 0.5, 0), SIMD3<Float>(-0.25, 0.5, 0))
    let (leftAnkle, rightAnkle) = (SIMD3<Float>(0.25, 0.08, 0), SIMD3<Float>(-0.25, 0.5, 0.42))
    let crossedShins = try #require(
      SideSwapTracker.Junction(
        leftParent: leftKnee, leftChild: rightAnkle, rightParent: rightKnee, rightChild: leftAnkle,
        leftLength: 0.42, rightLength: 0.42))
    #expect(crossedShins.straightOff && !crossedShins.crossedOff)
    var tracker = SideSwapTracker()
    let quiet = tracker.decide(
      chain: 1, pairs: 3, at: 0.5, distances: Self.distances(swappedFrom: 3),
      junction: { j, _ in j == 2 ? crossedShins : nil })
    #expect(quiet == .exchange(from: 2))
    // A jump that the joining bones contradict is the detector coming right.
    let rightShins = try #require(
      SideSwapTracker.Junction(
        leftParent: leftKnee, leftChild: leftAnkle, rightParent: rightKnee, rightChild: rightAnkle,
        leftLength: 0.42, rightLength: 0.42))
    #expect(!rightShins.straightOff && rightShins.crossedOff)
    let jump = tracker.decide(
      chain: 1, pairs: 3, at: 0.6, distances: Self.distances(swappedFrom: 2),
      junction: { j, _ in j == 2 ? rightShins : nil })
    #expect(jump == .remember(from: 2))
    // Swapped as the bones say for 3 s: put back throughout, past the 1 s of a jump alone.
    var kept = SideSwapTracker()
    for f in 0..<90 {
      let d = kept.decide(
        chain: 1, pairs: 3, at: Double(f) / 30, distances: Self.distances(swappedFrom: 2),
        junction: { j, _ in j == 2 ? crossedShins : nil })
      #expect(d == .exchange(from: 2), "frame \(f)")
    }
  }
}
