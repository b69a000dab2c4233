/// Finds repetitions from any amount slower than the reference to 2.5 times as fast: two
/// `SubsequenceMatcher`s over the same stream, one at most twice as fast as the reference (the
/// *primary*) and one that also takes steps of three reference frames but only reports
/// matches shorter than half the reference and at least `fastestTempo` of it long (the
/// *fast* one, which sees what the primary cannot).
///
/// Where the two overlap, the primary match stands unless a fast one fits the reference much
/// better. A primary match *claims* a fast one it overlaps by more than a tenth of the fast
/// one's frames (`claimedShare`); a fast match *replaces* a primary one that claims it if it
/// starts in the primary's first quarter and costs less than `replacingShare` (half) of it.
/// A claimed fast match stands only if each of its claimants is replaced (by it or by another
/// fast match), and keeps only the frames no standing primary match took, if those are still
/// `minimumLength` long. So:
/// - a patient who does a repetition in 40 % of the reference's time is counted once: the
///   primary, which must take at least half the reference's length, either misses it or
///   covers it with rest and part of the next repetition at a far higher cost;
/// - under noise, a fragment of a movement the primary counted (a fast match of part of it,
///   at a cost like the primary's) never splits or replaces it.
/// (Steps of three in the one matcher were measured: they cut slow cyclic movements into
/// fragments under noise.)
///
/// Decisions wait only for what could change them: a fast match until the primary can no
/// longer report a match that starts within it, a primary match until the fast matcher can
/// no longer report one that would replace it (`SubsequenceMatcher.mayStillMatch`). `next()`
/// gives the matches in time order. Every match must also move like a repetition (the
/// caller's `moves`, `RepetitionFinding.accepts`) to count, or to claim or replace anything:
/// each matcher asks it of a candidate as it becomes final, and drops one that does not,
/// clearing only the paths that start in its first half (`SubsequenceMatcher.push(_:accepts:)`).
///
/// `push` and `next` allocate nothing; the lists of waiting matches are reserved at init.
public struct RepetitionMatcher: Sendable {
  public typealias Match = SubsequenceMatcher.Match

  struct Waiting: Sendable {
    var match: Match
    var isFast: Bool
    var settled = false
  }

  private var primary: SubsequenceMatcher
  private var fast: SubsequenceMatcher
  /// Shortest repetition, frames: what a fast match keeps must still be this long.
  private let minimumLength: Int
  /// Matches not decided yet, in time order.
  private var waiting: [Waiting] = []
  /// The last few primary matches that stood (fast matches found later are checked against
  /// them).
  private var standing: [Match] = []
  private static let standingKept = 4
  /// Matches decided, waiting behind an earlier undecided one.
  private var ready: [Match] = []

  /// The shortest fast match, as a share of the reference's length: 2.5 times as fast as the
  /// reference, the fastest tempo the scorer is held to (README, "How robust the score is").
  static let fastestTempo = 0.4
  /// Share of a fast match's frames a primary match may overlap before it claims the match.
  static let claimedShare = 0.1
  /// A claimed fast match replaces its claimants only below this share of their cost.
  static let replacingShare: Float = 0.5

  public init(
    reference: DTWMatrix, share: Float, looseShare: Float? = nil, minimumLength: Int,
    maximumLength: Int, maximumDelay: Int = .max
  ) {
    let m = reference.rows
    self.minimumLength = minimumLength
    primary = SubsequenceMatcher(
      reference: reference, share: share, looseShare: looseShare, minimumLength: minimumLength,
      maximumLength: maximumLength, maximumDelay: maximumDelay, maximumStep: 2)
    // Only what the primary cannot find: shorter than half the reference.
    fast = SubsequenceMatcher(
      reference: reference, share: share,
      minimumLength: max(minimumLength, Int((Double(m) * Self.fastestTempo).rounded(.up))),
      maximumLength: min(maximumLength, max((m - 1) / 2, 0)), maximumDelay: maximumDelay,
      maximumStep: 3)
    waiting.reserveCapacity(16)
    standing.reserveCapacity(Self.standingKept)
    ready.reserveCapacity(16)
  }

  /// Feeds the next stream frame (a padded row of the reference's stride). Matches now final
  /// are then taken with `next()`. `moves` says whether a match's frames move like a
  /// repetition (`RepetitionFinding.accepts`); one that does not neither counts nor claims or
  /// replaces another. It is asked of each match as it becomes final (and of what a standing
  /// fast match keeps, `unclaimed`).
  public mutating func push(
    _ row: UnsafePointer<Float>, moves: (Match) -> Bool = { _ in true }
  ) {
    let p = primary.push(row, accepts: moves)
    let f = fast.minimumLength <= fast.maximumLength ? fast.push(row, accepts: moves) : nil
    settle(primary: p, fast: f, finishing: false, moves: moves)
  }

  /// Ends the stream: every pending match is final (take them with `next()`).
  public mutating func finish(moves: (Match) -> Bool = { _ in true }) {
    let p = primary.finish(accepts: moves)
    let f = fast.finish(accepts: moves)
    settle(primary: p, fast: f, finishing: true, moves: moves)
  }

  /// The earliest decided match that no undecided one precedes, or nil.
  public mutating func next() -> Match? {
    let barrier = waiting.first?.match.start ?? .max
    guard let first = ready.indices.min(by: { ready[$0].start < ready[$1].start }),
      ready[first].start < barrier
    else { return nil }
    return ready.remove(at: first)
  }

  /// True if primary match `p` overlaps fast match `f` by more than `claimedShare` of `f`.
  static func claims(_ p: Match, _ f: Match) -> Bool {
    let shared = min(p.end, f.end) - max(p.start, f.start) + 1
    return Double(shared) > claimedShare * Double(f.end - f.start + 1)
  }

  /// True if fast match `f` may take the place of primary match `p`: `p` claims it, it starts
  /// in `p`'s first quarter (the same repetition, which the primary stretched over rest and
  /// part of the next one), and it fits the reference clearly better (`replacingShare`).
  static func replaces(_ f: Match, _ p: Match) -> Bool {
    claims(p, f) && f.start <= latestReplacingStart(p) && f.cost < replacingShare * p.cost
  }

  /// The last frame a fast match that replaces `p` may start on.
  static func latestReplacingStart(_ p: Match) -> Int {
    p.start + (p.end - p.start + 1) / 4
  }

  private mutating func settle(
    primary p: Match?, fast f: Match?, finishing: Bool, moves: (Match) -> Bool
  ) {
    if let p { insert(Waiting(match: p, isFast: false)) }
    // A fast match that a primary match already standing claims cannot beat it (that primary
    // was decided only once no such fast match could come).
    if let f, !standing.contains(where: { Self.claims($0, f) }) {
      insert(Waiting(match: f, isFast: true))
    }
    for k in waiting.indices where !waiting[k].settled {
      let match = waiting[k].match
      waiting[k].settled =
        finishing
        || (waiting[k].isFast
          ? !primary.mayStillMatch(startingBy: match.end)
          : !fast.mayStillMatch(
            startingBy: Self.latestReplacingStart(match),
            costBelow: Self.replacingShare * match.cost))
    }
    // Decide, from the earliest, each run of overlapping matches once all of it is settled.
    while !waiting.isEmpty {
      var count = 1
      var end = waiting[0].match.end
      while count < waiting.count, waiting[count].match.start <= end {
        end = max(end, waiting[count].match.end)
        count += 1
      }
      guard (0..<count).allSatisfy({ waiting[$0].settled }) else { break }
      decide(count, moves: moves)
      waiting.removeFirst(count)
    }
  }

  /// Keeps `waiting` in time order.
  private mutating func insert(_ item: Waiting) {
    let at = waiting.firstIndex { $0.match.start > item.match.start } ?? waiting.count
    waiting.insert(item, at: at)
  }

  /// Decides the first `count` waiting matches (a run of overlapping ones, all settled, each
  /// already found to move like a repetition). A fast match stands if every primary match
  /// that claims it is replaced — by it or by another fast match that stands — and a primary
  /// match stands unless replaced; found by growing the set of replaced primary matches until
  /// it no longer changes. What a standing fast match keeps (`unclaimed`) must move like one
  /// too.
  private mutating func decide(_ count: Int, moves: (Match) -> Bool) {
    var replaced: UInt64 = 0  // bit k: waiting[k] (a primary match) is replaced
    func stands(_ f: Int) -> Bool {
      let fast = waiting[f].match
      for k in 0..<count where !waiting[k].isFast && Self.claims(waiting[k].match, fast) {
        if replaced & (1 << UInt64(k)) == 0 && !Self.replaces(fast, waiting[k].match) {
          return false
        }
      }
      return true
    }
    let tracked = min(count, 64)
    var changed = true
    while changed {
      changed = false
      for f in 0..<tracked where waiting[f].isFast && stands(f) {
        for k in 0..<tracked where !waiting[k].isFast && replaced & (1 << UInt64(k)) == 0 {
          if Self.claims(waiting[k].match, waiting[f].match) {
            replaced |= 1 << UInt64(k)
            changed = true
          }
        }
      }
    }
    for k in 0..<count where !waiting[k].isFast && (k >= 64 || replaced & (1 << UInt64(k)) == 0) {
      let p = waiting[k].match
      if standing.count == Self.standingKept { standing.removeFirst() }
      standing.append(p)
      ready.append(p)
    }
    for f in 0..<count where waiting[f].isFast && f < 64 && stands(f) {
      if let rest = unclaimed(waiting[f].match), moves(rest) { ready.append(rest) }
    }
  }

  /// `match` without the frames at either end that a standing primary match took, or nil if
  /// one lies inside it or what is left is shorter than `minimumLength`.
  private func unclaimed(_ match: Match) -> Match? {
    var rest = match
    for p in standing where p.end >= rest.start && p.start <= rest.end {
      if p.start <= rest.start {
        rest.start = p.end + 1
      } else if p.end >= rest.end {
        rest.end = p.start - 1
      } else {
        return nil
      }
    }
    return rest.end - rest.start + 1 >= minimumLength ? rest : nil
  }
}
