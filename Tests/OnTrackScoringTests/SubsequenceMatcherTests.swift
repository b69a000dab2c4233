import Foundation
import OnTrackScoring
import Testing

@Suite("Subsequence matching (SPRING)")
struct SubsequenceMatcherTests {
  /// A smooth bump of `length` frames in two features.
  func bump(_ length: Int) -> [[Float]] {
    (0..<length).map { k in
      let phase = Float(k) / Float(length - 1)
      return [sin(phase * .pi), sin(phase * 2 * .pi) * 0.5]
    }
  }

  /// Bumps of the given lengths after pauses of the given lengths, then a 30-frame pause, all
  /// with uniform noise of ±0.025; and each bump's first and last frame.
  func noisyStream(_ parts: [(pause: Int, length: Int)], seed: UInt64) -> (
    [[Float]], [(Int, Int)]
  ) {
    var stream: [[Float]] = []
    var truth: [(Int, Int)] = []
    var rng = seed
    func noise() -> Float {
      rng = rng &* 6_364_136_223_846_793_005 &+ 1
      return (Float(rng >> 40) / Float(1 << 24) - 0.5) * 0.05
    }
    for (pause, length) in parts {
      stream += (0..<pause).map { _ in [noise(), noise()] }
      truth.append((stream.count, stream.count + length - 1))
      stream += bump(length).map { [$0[0] + noise(), $0[1] + noise()] }
    }
    stream += (0..<30).map { _ in [noise(), noise()] }
    return (stream, truth)
  }

  @Test("finds each occurrence, slower or faster, in a stream with pauses and noise")
  func findsOccurrences() {
    let reference = bump(40)
    let (stream, truth) = noisyStream([(15, 40), (30, 60), (5, 25), (50, 80)], seed: 42)
    let refMatrix = DTWMatrix(rows: 40, width: 2, values: reference.flatMap { $0 })
    var matcher = SubsequenceMatcher(
      reference: refMatrix, share: 0.5, minimumLength: 20, maximumLength: 120)
    let rows = DTWMatrix(rows: stream.count, width: 2, values: stream.flatMap { $0 })
    var found: [SubsequenceMatcher.Match] = []
    var reportedAt: [Int] = []
    rows.values.withUnsafeBufferPointer { values in
      for t in 0..<rows.rows {
        if let match = matcher.push(values.baseAddress! + t * rows.stride) {
          found.append(match)
          reportedAt.append(t)
        }
      }
    }
    if let last = matcher.finish() { found.append(last) }
    #expect(found.count == truth.count)
    for (match, (start, end)) in zip(found, truth) {
      #expect(abs(match.start - start) <= 3, "start \(match.start) vs \(start)")
      #expect(abs(match.end - end) <= 3, "end \(match.end) vs \(end)")
    }
    for (at, match) in zip(reportedAt, found) {
      #expect(at - match.end <= 10, "reported \(at - match.end) frames after the end")
    }
  }

  @Test("a still stream matches nothing")
  func stillStream() {
    let reference = bump(30)
    let refMatrix = DTWMatrix(rows: 30, width: 2, values: reference.flatMap { $0 })
    var matcher = SubsequenceMatcher(
      reference: refMatrix, share: 0.5, minimumLength: 10, maximumLength: 90)
    let row = [Float](repeating: 0, count: 8)
    var matches = 0
    row.withUnsafeBufferPointer { p in
      for _ in 0..<300 where matcher.push(p.baseAddress!) != nil { matches += 1 }
    }
    #expect(matches == 0 && matcher.finish() == nil)
  }

  /// Occurrences at 1×, 0.4× (2.5 times as fast) and 2× the reference's length, between
  /// noisy pauses: the two-speed matcher finds each once, in order, with its own bounds, where
  /// the twice-as-fast matcher alone stretches a fast one over the pause beside it.
  @Test("the two-speed matcher finds an occurrence 2.5 times as fast as itself, once")
  func fastOccurrence() {
    let reference = bump(50)
    let (stream, truth) = noisyStream([(20, 50), (15, 20), (15, 100), (25, 20)], seed: 7)
    let refMatrix = DTWMatrix(rows: 50, width: 2, values: reference.flatMap { $0 })
    let rows = DTWMatrix(rows: stream.count, width: 2, values: stream.flatMap { $0 })
    var twoSpeed = RepetitionMatcher(
      reference: refMatrix, share: 0.5, minimumLength: 18, maximumLength: 150)
    var primaryOnly = SubsequenceMatcher(
      reference: refMatrix, share: 0.5, minimumLength: 18, maximumLength: 150)
    var found: [RepetitionMatcher.Match] = []
    var primaryFound: [SubsequenceMatcher.Match] = []
    rows.values.withUnsafeBufferPointer { values in
      guard let base = values.baseAddress else { return }
      for t in 0..<rows.rows {
        twoSpeed.push(base + t * rows.stride)
        while let match = twoSpeed.next() { found.append(match) }
        if let match = primaryOnly.push(base + t * rows.stride) { primaryFound.append(match) }
      }
    }
    twoSpeed.finish()
    while let match = twoSpeed.next() { found.append(match) }
    if let match = primaryOnly.finish() { primaryFound.append(match) }
    // The twice-as-fast matcher alone stretches each fast one over the pause around it.
    #expect(primaryFound.count == 4)
    for k in [1, 3] where k < primaryFound.count && k < found.count {
      #expect(primaryFound[k].end - primaryFound[k].start + 1 >= 25)
      #expect(found[k].cost * 10 < primaryFound[k].cost)
    }
    #expect(found.count == truth.count)
    for (match, (start, end)) in zip(found, truth) {
      #expect(abs(match.start - start) <= 4, "start \(match.start) vs \(start)")
      #expect(abs(match.end - end) <= 4, "end \(match.end) vs \(end)")
    }
  }
}

extension SubsequenceMatcherTests {
  /// Runs `matcher` over `stream`, offering each candidate to `accepts`; the matches found.
  func matches(
    _ matcher: inout SubsequenceMatcher, _ stream: [[Float]],
    accepts: (SubsequenceMatcher.Match) -> Bool = { _ in true }
  ) -> [SubsequenceMatcher.Match] {
    let rows = DTWMatrix(rows: stream.count, width: 2, values: stream.flatMap { $0 })
    var found: [SubsequenceMatcher.Match] = []
    rows.values.withUnsafeBufferPointer { values in
      guard let base = values.baseAddress else { return }
      for t in 0..<rows.rows {
        if let match = matcher.push(base + t * rows.stride, accepts: accepts) {
          found.append(match)
        }
      }
    }
    if let last = matcher.finish(accepts: accepts) { found.append(last) }
    return found
  }

  /// A repetition done three times slower than the reference and unlike it (its second
  /// feature off by 0.3 throughout, as an incorrect repetition's trunk is): per reference
  /// frame it pays for its unlikeness three times over and fails the strict test; per frame
  /// of its own length it passes the loose one, and is offered marked loose, from where it
  /// starts. With `looseShare` equal to `share` nothing is loose.
  @Test("a slow repetition unlike the reference is offered as a loose match")
  func slowUnlikeRepetitionIsLoose() {
    let reference = bump(40)
    let refMatrix = DTWMatrix(rows: 40, width: 2, values: reference.flatMap { $0 })
    let (clean, truth) = noisyStream([(30, 120)], seed: 7)
    var stream = clean
    for k in truth[0].0...truth[0].1 { stream[k][1] += 0.3 }
    var strict = SubsequenceMatcher(
      reference: refMatrix, share: 0.2, minimumLength: 14, maximumLength: 160)
    #expect(strict.looseShare == strict.share)
    #expect(matches(&strict, stream).isEmpty)
    var loose = SubsequenceMatcher(
      reference: refMatrix, share: 0.2, looseShare: 0.9, minimumLength: 14, maximumLength: 160)
    var offered: [SubsequenceMatcher.Match] = []
    let found = matches(&loose, stream) {
      offered.append($0)
      return true
    }
    #expect(!offered.isEmpty && offered.allSatisfy(\.isLoose), "\(offered)")
    #expect(found.count == 1, "\(found)")
    if let match = found.first {
      #expect(abs(match.start - truth[0].0) <= 4, "\(match)")
      #expect(match.end - match.start + 1 >= 96, "most of the repetition: \(match)")
    }
  }
}
