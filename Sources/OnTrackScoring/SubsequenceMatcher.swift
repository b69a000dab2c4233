/// Finds repetitions of a reference movement in a continuous stream: subsequence DTW in the
/// style of SPRING (Sakurai, Faloutsos & Yamamuro, ICDE 2007), one column per incoming frame.
///
/// For each stream frame t and reference frame i it keeps the cost `D(t, i)` of the best
/// warping path that ends there and started anywhere (a free start before the reference's
/// first frame), and where that path started, `S(t, i)`. Steps: each stream frame advances the
/// reference by 0, 1 … `maximumStep` frames (2 unless asked), so a repetition may be any amount
/// slower than the reference but at most `maximumStep` times as fast (which also rules out
/// degenerate matches squeezed into a frame); a skipped reference frame is still charged, so
/// every reference frame costs at least once:
/// `D(t, i) = c(t, i) + min(D(t−1, i), D(t−1, i−1), D(t−1, i−2) + c(t, i−1), …)`.
/// A match ends at t when its mean cost per reference frame, `D(t, m−1) / m`, is at most
/// `share` times the cost of *not moving*: of holding, against every reference frame, the pose
/// the stream had where the match starts or where it ends, whichever explains the reference
/// better (so a patient resting between repetitions matches nothing, however the last
/// repetition ended). The test is relative, so a patient whose posture
/// differs from the reference's throughout (arms held differently, a stiffer trunk) is still
/// counted, while one who barely moves is not. Overlapping candidates compete: the best is reported once no path still
/// running (and starting before its end) can beat it, which happens a few frames after the
/// movement ends, or at the latest `maximumDelay` frames after it (a bound on feedback
/// latency; a better overlapping match found later than that is not taken); then those paths
/// are cleared. A new match that starts after the pending one ends makes the pending one
/// final at once. Matches shorter than `minimumLength` or longer than `maximumLength` frames
/// are ignored. A match that fails the test per reference frame may still pass it per frame
/// of its own length, as a *loose* one (`looseShare`), for the caller to check further.
///
/// Local cost: squared Euclidean distance of alignment rows (`DTWMatrix`), as in
/// `DynamicTimeWarping`. `push` allocates nothing (the cost of not moving from each recent
/// frame, the sum of that frame's local costs, lives in a ring of `maximumLength + 1` values
/// made at init).
public struct SubsequenceMatcher: Sendable {
  public struct Match: Hashable, Sendable {
    /// First and last stream frame (inclusive), counted from the first `push`.
    public var start: Int
    public var end: Int
    /// Accumulated cost divided by the reference length.
    public var cost: Float
    /// True if the match passed only the loose test (`looseShare`): the caller must check
    /// that it is a repetition by other means.
    public var isLoose = false
  }

  public let reference: DTWMatrix
  /// Largest accepted ratio of a match's mean cost to the cost of not moving.
  public var share: Float
  /// Largest ratio of a *loose* match's cost per frame of its own length,
  /// `D(t, m−1) / max(m, L)`, to the cost of not moving (`looseShare` ≥ `share`; equal: no
  /// loose matches). A path pays for every stream frame it spends, so a repetition done slower
  /// than the reference and a little unlike it (an incorrect one) costs, per reference frame,
  /// its unlikeness times its slowness, and the strict test refuses it while a faster fragment
  /// of it passes; per frame of its own length it is judged on its unlikeness alone. A loose
  /// match is offered to `accepts` like any other, marked `isLoose` for the caller to check
  /// further (`RepetitionFinding.accepts`). A match no longer than the reference is read per
  /// reference frame either way: loose then means a cost between `share` and `looseShare`.
  /// Where a loose and a strict candidate compete the strict one wins whatever their costs,
  /// and a loose candidate is not final while a path it overlaps may still end as a strict
  /// match.
  public var looseShare: Float
  public var minimumLength: Int
  public var maximumLength: Int
  /// Frames after a match's end by which it is reported whatever is still running.
  public var maximumDelay: Int
  /// Most reference frames one stream frame may advance (2: a repetition at most twice as
  /// fast as the reference).
  public let maximumStep: Int

  private var cost: [Float]
  private var start: [Int]
  private var previousCost: [Float]
  private var previousStart: [Int]
  private var time = 0
  private var candidate: Match?

  /// Per recent stream frame: the mean cost per reference frame of holding it still.
  private var stillCosts: [Float]

  public init(
    reference: DTWMatrix, share: Float, looseShare: Float? = nil, minimumLength: Int,
    maximumLength: Int, maximumDelay: Int = .max, maximumStep: Int = 2
  ) {
    self.maximumStep = max(1, maximumStep)
    self.reference = reference
    self.share = share
    self.looseShare = max(share, looseShare ?? share)
    self.minimumLength = minimumLength
    self.maximumLength = maximumLength
    self.maximumDelay = maximumDelay
    let m = reference.rows
    stillCosts = [Float](repeating: 0, count: maximumLength + 1)
    cost = [Float](repeating: .infinity, count: m)
    start = [Int](repeating: 0, count: m)

    previousCost = cost
    previousStart = start
  }

  /// Feeds the next stream frame (a padded row of `reference.stride` floats); returns a match
  /// if one is now final. `accepts` is asked once of each candidate as it becomes final: one
  /// it refuses is dropped and clears no paths, so a repetition that overlaps it can still
  /// be found.
  public mutating func push(
    _ row: UnsafePointer<Float>, accepts: (Match) -> Bool = { _ in true }
  ) -> Match? {
    let m = reference.rows
    let stride = reference.stride
    let t = time
    var rowTotal: Float = 0
    swap(&cost, &previousCost)
    swap(&start, &previousStart)
    reference.values.withUnsafeBufferPointer { ref in
      cost.withUnsafeMutableBufferPointer { d in
        start.withUnsafeMutableBufferPointer { s in
          previousCost.withUnsafeBufferPointer { pd in
            previousStart.withUnsafeBufferPointer { ps in
              guard let base = ref.baseAddress else { return }
              let steps = maximumStep
              // Local costs of reference frames i−1 and i−2: what a step over them is charged.
              var previousLocal: Float = 0
              var olderLocal: Float = 0
              for i in 0..<m {
                let local = squaredDistance(row, base + i * stride, stride: stride)
                rowTotal += local
                defer {
                  olderLocal = previousLocal
                  previousLocal = local
                }
                var best: Float
                var origin: Int
                if i == 0 {
                  // A path may start here for free (staying on frame 0 costs more).
                  best = 0
                  origin = t
                } else {
                  best = pd[i - 1]
                  origin = ps[i - 1]
                  // On a tie (within `tie`) the later start wins: a patient holding still as
                  // the reference starts costs (next to) nothing, and the repetition begins
                  // when they move, not when the wait began.
                  if pd[i] < best - Self.tie || (pd[i] <= best + Self.tie && ps[i] > origin) {
                    best = pd[i]
                    origin = ps[i]
                  }
                  // Skipping a reference frame still pays for it (this stream frame against
                  // it), so every reference frame counts at least once and a fast match is
                  // not cheaper for having fewer frames.
                  if steps >= 2 && i >= 2 && pd[i - 2] + previousLocal < best {
                    best = pd[i - 2] + previousLocal
                    origin = ps[i - 2]
                  }
                  if steps >= 3 && i >= 3 && pd[i - 3] + previousLocal + olderLocal < best {
                    best = pd[i - 3] + previousLocal + olderLocal
                    origin = ps[i - 3]
                  }
                }
                d[i] = local + best
                s[i] = origin
              }
            }
          }
        }
      }
    }
    stillCosts[t % stillCosts.count] = rowTotal / Float(m)
    time += 1
    var report: Match?
    if let current = candidate {
      var final = t - current.end >= maximumDelay
      if !final {
        // Final once no path still running that overlaps it — one that started in its first
        // half, so a slower performance of the same repetition, not the next repetition
        // beginning where this one ends — is cheaper (costs only grow); a loose one, once
        // none may still end as a strict match.
        final = true
        let limit = current.cost * Float(m)
        let overlap = current.start + (current.end - current.start) / 2
        for i in 0..<m where start[i] <= overlap {
          if cost[i] < limit || (current.isLoose && mayEndStrict(i)) {
            final = false
            break
          }
        }
      }
      if final { report = conclude(accepts) }
    }
    let length = t - start[m - 1] + 1
    let endCost = cost[m - 1] / Float(m)
    let still = min(stillCosts[start[m - 1] % stillCosts.count], stillCosts[t % stillCosts.count])
    let strict = endCost <= share * still
    if length >= minimumLength, length <= maximumLength,
      strict || (looseShare > share && cost[m - 1] / Float(max(m, length)) <= looseShare * still)
    {
      if let current = candidate, start[m - 1] > current.start + (current.end - current.start) / 2,
        report == nil
      {
        // A separate repetition has ended: the pending one cannot improve any more.
        report = conclude(accepts)
      }
      // Strict before loose, then the cheaper (per reference frame: per frame of its own
      // length a match would gain by taking in the rest after it).
      let better = candidate.map { strict == !$0.isLoose ? endCost < $0.cost : strict } ?? true
      if better {
        candidate = Match(start: start[m - 1], end: t, cost: endCost, isLoose: !strict)
      }
    }
    return report
  }

  /// True if a match starting at or before stream frame `frame`, and costing less than
  /// `costBelow` per reference frame, may still be reported: one is pending, or a path that
  /// started there is still cheap enough to end as one. A path's cost only grows, and a match
  /// ending at `t` must cost at most `share` times the cost of not moving from its start
  /// frame per reference frame (or `looseShare` times it per frame of a length of at most
  /// `maximumLength`), so a path at reference frame i with `D(t, i)` above that (or above
  /// `costBelow` per reference frame), or already longer than `maximumLength`, can never be
  /// reported.
  public func mayStillMatch(startingBy frame: Int, costBelow: Float = .infinity) -> Bool {
    if let current = candidate, current.start <= frame, current.cost < costBelow { return true }
    let m = reference.rows
    let ceiling = costBelow * Float(m)
    let ceilingShare =
      looseShare > share
      ? max(share * Float(m), looseShare * Float(max(m, maximumLength))) : share * Float(m)
    for i in 0..<m where start[i] <= frame && time - start[i] < maximumLength {
      if cost[i] < ceiling, cost[i] <= ceilingShare * stillCosts[start[i] % stillCosts.count] {
        return true
      }
    }
    return false
  }

  /// True if the path now at reference frame `i` may still end as a strict match: it is
  /// younger than `maximumLength` and costs at most `share` times the cost of not moving from
  /// where it started (its cost only grows).
  private func mayEndStrict(_ i: Int) -> Bool {
    let m = reference.rows
    return time - start[i] < maximumLength
      && cost[i] <= share * Float(m) * stillCosts[start[i] % stillCosts.count]
  }

  /// Accumulated costs closer than this are a tie (squared alignment units: far below any
  /// real difference in pose, above the rounding of a perfectly still stretch).
  static let tie: Float = 1e-6

  /// Takes the pending candidate as final and clears the paths that overlap it, if `accepts`
  /// takes it. Else drops it and clears only the paths that start in its first half: its own
  /// path, grown by more frames of the same stretch, would be offered again at once, and
  /// again, until it reached into the next repetition and took that repetition's start with
  /// it; a repetition that begins in its second half (the movement the refused stretch ran
  /// into) is still found whole.
  private mutating func conclude(_ accepts: (Match) -> Bool) -> Match? {
    guard let current = candidate else { return nil }
    candidate = nil
    guard accepts(current) else {
      let middle = current.start + (current.end - current.start) / 2
      for i in 0..<cost.count where start[i] <= middle { cost[i] = .infinity }
      return nil
    }
    for i in 0..<cost.count where start[i] <= current.end { cost[i] = .infinity }
    return current
  }

  /// Ends the stream: the pending candidate, if any and if `accepts` takes it, is final.
  public mutating func finish(accepts: (Match) -> Bool = { _ in true }) -> Match? {
    defer { candidate = nil }
    return candidate.flatMap { accepts($0) ? $0 : nil }
  }
}
