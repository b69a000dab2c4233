import ArgumentParser

/// A Python-style slice `A:B` over frame indices: A inclusive, B exclusive, either may be
/// omitted, negative values count from the end (as `bvh_fk_reference.py --frames` takes it).
struct FrameRange: ExpressibleByArgument, Sendable {
  var start: Int?
  var end: Int?

  init?(argument: String) {
    let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2 else { return nil }
    func bound(_ s: Substring) -> Int?? {
      s.isEmpty ? .some(nil) : Int(s).map { .some($0) }
    }
    guard let a = bound(parts[0]), let b = bound(parts[1]) else { return nil }
    start = a
    end = b
  }

  init(start: Int?, end: Int?) {
    self.start = start
    self.end = end
  }

  /// The frames of a clip of `count` frames that the slice selects (possibly empty).
  func resolve(count: Int) -> Range<Int> {
    func clamp(_ v: Int?, _ fallback: Int) -> Int {
      guard let v else { return fallback }
      return v < 0 ? max(count + v, 0) : min(v, count)
    }
    let a = clamp(start, 0)
    let b = clamp(end, count)
    return a..<max(a, b)
  }
}
