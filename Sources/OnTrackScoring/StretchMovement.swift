import Foundation
import OnTrackKinematics

/// Caller-owned buffers for `StretchMovement`: room for a stretch of `frames` feature frames
/// (a bone direction per frame, and one value per frame to select quantiles from). A live
/// scorer makes one at start, for the longest repetition, so that checking a match allocates
/// nothing; a longer stretch grows it.
public struct MovementScratch: Sendable {
  var series: [Float]
  var work: [Float]

  public init(frames: Int) {
    series = [Float](repeating: 0, count: 3 * max(frames, 0))
    work = [Float](repeating: 0, count: max(frames, 0))
  }

  /// Holds nothing: a placeholder to swap a scorer's scratch out with.
  static let empty = MovementScratch(frames: 0)

  mutating func reserve(frames: Int) {
    if work.count < frames { self = MovementScratch(frames: frames) }
  }
}

/// How far one measure moves over a stretch of feature frames, read frame by frame through an
/// accessor (`frame(k)` is frame k of the stretch, `FeatureLayout.width` floats), so that a
/// stretch of a live scorer's ring buffer is read where it lies. The same numbers as
/// `BodyMeasure.excursion` and `RepetitionScorer.rawNoise` give on a copied sequence, apart from
/// unseen (NaN) frames, which are left out here; allocation-free over a `MovementScratch`.
enum StretchMovement {
  /// The robust reach of `measure` over the `count` frames (radians, ≥ 0): each frame read
  /// through a centred moving average of `smoothing` frames either side (inside the stretch,
  /// unseen frames left out), the resting value the mean of the first (or, `fromEnd`, the
  /// last) `RepetitionScorer.originFrames` of them; a bone's reach the
  /// `RepetitionScorer.excursionQuantile` of its angles from its resting direction, an
  /// angle's the larger in size of that quantile of its departures and of the opposite one.
  static func reach(
    _ measure: BodyMeasure, count n: Int, frame: (Int) -> UnsafePointer<Float>,
    smoothing h: Int, fromEnd: Bool, scratch: inout MovementScratch
  ) -> Double {
    guard n > 0 else { return 0 }
    scratch.reserve(frames: n)
    let c = measure.column
    let o = RepetitionScorer.originFrames(n)
    let origin = fromEnd ? (n - o)..<n : 0..<o
    let q = RepetitionScorer.excursionQuantile
    return scratch.series.withUnsafeMutableBufferPointer { series in
      scratch.work.withUnsafeMutableBufferPointer { work in
        if measure.isBone {
          for k in 0..<n {
            var sum = SIMD3<Float>.zero
            for j in max(0, k - h)...min(n - 1, k + h) {
              let p = frame(j) + c
              if !p[0].isNaN { sum += SIMD3(p[0], p[1], p[2]) }
            }
            let p = frame(k) + c
            let u = length(sum) > 0 ? normalize(sum) : SIMD3(p[0], p[1], p[2])
            series[3 * k] = u.x
            series[3 * k + 1] = u.y
            series[3 * k + 2] = u.z
          }
          var sum = SIMD3<Float>.zero
          for k in origin where !series[3 * k].isNaN {
            sum += SIMD3(series[3 * k], series[3 * k + 1], series[3 * k + 2])
          }
          guard length(sum) > 0 else { return 0 }
          let rest = normalize(sum)
          var count = 0
          for k in 0..<n where !series[3 * k].isNaN {
            let u = SIMD3(series[3 * k], series[3 * k + 1], series[3 * k + 2])
            work[count] = atan2(length(cross(u, rest)), dot(u, rest))
            count += 1
          }
          guard count > 0 else { return 0 }
          return Double(select(work, count: count, rank: min(count - 1, Int(q * Double(count)))))
        } else {
          for k in 0..<n {
            var sum: Float = 0
            var seen: Float = 0
            for j in max(0, k - h)...min(n - 1, k + h) {
              let v = frame(j)[c]
              if !v.isNaN {
                sum += v
                seen += 1
              }
            }
            series[k] = seen > 0 ? sum / seen : frame(k)[c]
          }
          var sum: Float = 0
          var seen: Float = 0
          for k in origin where !series[k].isNaN {
            sum += series[k]
            seen += 1
          }
          guard seen > 0 else { return 0 }
          let rest = sum / seen
          var count = 0
          for k in 0..<n where !series[k].isNaN {
            work[count] = series[k] - rest
            count += 1
          }
          guard count > 0 else { return 0 }
          let high = select(work, count: count, rank: min(count - 1, Int(q * Double(count))))
          let low = select(
            work, count: count, rank: max(0, min(count - 1, Int((1 - q) * Double(count)))))
          return Double(max(abs(high), abs(low)))
        }
      }
    }
  }

  /// How far apart `measure`'s resting values at the two ends of the stretch are (radians,
  /// ≥ 0): each the mean of the values seen within `smoothing` frames of the first (last)
  /// `RepetitionScorer.originFrames` frames (a bone's, the mean of its direction vectors,
  /// not normalised frame by frame as `reach` does); an angle's the difference in size, a
  /// bone's the angle between its two resting directions. A repetition that ends where it
  /// began gives about 0; an end at which the measure was never seen gives nil (a frame's
  /// measure is unseen where its noise column is NaN, as `FeaturePipeline` marks it, or its
  /// own value is).
  static func endGap(
    _ measure: BodyMeasure, count n: Int, frame: (Int) -> UnsafePointer<Float>,
    smoothing h: Int
  ) -> Double? {
    guard n > 0 else { return nil }
    let c = measure.column
    let noise = measure.noiseColumn
    let o = RepetitionScorer.originFrames(n)
    let width = measure.isBone ? 3 : 1
    func rest(_ frames: Range<Int>) -> SIMD3<Float>? {
      var sum = SIMD3<Float>.zero
      var seen: Float = 0
      for k in frames {
        for j in max(0, k - h)...min(n - 1, k + h) {
          let p = frame(j) + c
          guard !p[0].isNaN, !frame(j)[noise].isNaN else { continue }
          sum += width == 3 ? SIMD3(p[0], p[1], p[2]) : SIMD3(p[0], 0, 0)
          seen += 1
        }
      }
      return seen > 0 ? sum / seen : nil
    }
    guard let first = rest(0..<o), let last = rest((n - o)..<n) else { return nil }
    if width == 1 { return Double(abs(last.x - first.x)) }
    guard length(first) > 0, length(last) > 0 else { return nil }
    return Double(atan2(length(cross(first, last)), dot(first, last)))
  }

  /// σ of the white noise that explains the median absolute second difference of `measure`
  /// over the stretch (its noise column, from the third frame on; radians, before filtering),
  /// as `RepetitionScorer.rawNoise`.
  static func rawNoise(
    _ measure: BodyMeasure, count n: Int, frame: (Int) -> UnsafePointer<Float>,
    scratch: inout MovementScratch
  ) -> Double {
    guard n > 2 else { return 0 }
    scratch.reserve(frames: n)
    let c = measure.noiseColumn
    return scratch.work.withUnsafeMutableBufferPointer { work in
      var count = 0
      for k in 2..<n {
        let v = frame(k)[c]
        if !v.isNaN {
          work[count] = v
          count += 1
        }
      }
      guard count > 0 else { return 0 }
      return Double(select(work, count: count, rank: count / 2))
        / RepetitionScorer.noiseScale(measure)
    }
  }

  /// The value of rank `rank` (0-based, ascending) among the first `count` of `values`,
  /// which it reorders: Hoare's selection, in place.
  static func select<T: Comparable>(
    _ values: UnsafeMutableBufferPointer<T>, count: Int, rank: Int
  ) -> T {
    var low = 0
    var high = count - 1
    while low < high {
      // Median of three as the pivot.
      let middle = low + (high - low) / 2
      if values[middle] < values[low] { values.swapAt(middle, low) }
      if values[high] < values[low] { values.swapAt(high, low) }
      if values[high] < values[middle] { values.swapAt(high, middle) }
      let pivot = values[middle]
      var i = low
      var j = high
      while i <= j {
        while values[i] < pivot { i += 1 }
        while values[j] > pivot { j -= 1 }
        if i <= j {
          values.swapAt(i, j)
          i += 1
          j -= 1
        }
      }
      if rank <= j {
        high = j
      } else if rank >= i {
        low = i
      } else {
        return values[rank]
      }
    }
    return values[rank]
  }
}
