/// Which frames of a recording keep their place in time: the rule the keypoint and
/// joint-angle readers share for a frame whose time does not advance (a frame written twice, a
/// logger's stutter, a clock's glitch). Such a frame is left out and named, not the whole file
/// refused; more than `largestShareLeftOut` of them is no stutter but a wrong time column, and
/// the reader refuses the file, naming the first.
public enum TimeOrder {
  /// The most of a recording's frames (a share) that may be left out for their times.
  public static let largestShareLeftOut = 0.05

  /// Why a frame was left out.
  enum Fault: Equatable {
    /// Its time is not a finite number.
    case notFinite
    /// Its time does not come after the last frame kept (that frame's time).
    case notAfter(Double)
    /// Its time jumps past the next two frames' (the next frame's time).
    case aheadOf(Double)
  }

  /// The frames to keep (indices into `times`, in order) and those left out, with why: a time
  /// that is not finite, does not come after the last frame kept, or jumps past the next two
  /// frames' (a clock's glitch — that frame is left out, not every frame after it).
  static func order(_ times: [Double]) -> (kept: [Int], leftOut: [(index: Int, fault: Fault)]) {
    var kept: [Int] = []
    var leftOut: [(index: Int, fault: Fault)] = []
    kept.reserveCapacity(times.count)
    for (f, time) in times.enumerated() {
      let last = kept.last.map { times[$0] } ?? -.infinity
      if !time.isFinite {
        leftOut.append((f, .notFinite))
      } else if time <= last {
        leftOut.append((f, .notAfter(last)))
      } else if f + 2 < times.count, times[f + 1] < time, times[f + 2] < time,
        times[f + 1] > last
      {
        leftOut.append((f, .aheadOf(times[f + 1])))
      } else {
        kept.append(f)
      }
    }
    return (kept, leftOut)
  }

  /// Whether `leftOut` of `count` frames is more than a stutter.
  static func tooMany(_ leftOut: Int, of count: Int) -> Bool {
    Double(leftOut) > largestShareLeftOut * Double(count)
  }

  /// What was left out, in words: "2 frames (41, 99)", at most five listed; `nil` for none.
  public static func words(_ thing: String, _ items: [Int]) -> String? {
    guard !items.isEmpty else { return nil }
    let listed = items.prefix(5).map(String.init).joined(separator: ", ")
    return
      "\(items.count) \(thing)\(items.count == 1 ? "" : "s") (\(listed)\(items.count > 5 ? ", …" : ""))"
  }
}
