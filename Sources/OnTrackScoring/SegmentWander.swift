import Foundation

/// The sensor noise a repetition's segment lengths show, smooth wander as well as white jitter.
///
/// A body's segments keep their lengths, so whatever a length does over a repetition is the
/// sensor's: the wander of a length is what the sensor adds along the segment, and, were its
/// errors alike in every direction, as much again across it, where it turns the segment by
/// `σ_ℓ / L` radians (`σ_ℓ` the length's spread, metres; `L` its length). A monocular camera's
/// depth errs more than its image plane, so this is a lower bound.
/// Unlike the second differences the per-frame noise columns hold (`RepetitionScorer.rawNoise`),
/// this sees noise that wanders smoothly over tenths of a second — what a webcam's landmarks
/// do, which a second difference barely shows and the 4 Hz landmark filter does not remove:
/// landmarks wandering 0.5 cm with a correlation time of 0.3 s took correct performances of
/// the bundled exercises to 46–98 (1 cm: 5–83; `RobustnessSuite.addWander`), mostly keep-still
/// checks reading the wander as movement.
///
/// Each bone's length (`FeatureLayout.lengthColumn`, between the low-pass-filtered landmarks)
/// is read through a centred moving average of `smoothing` frames either side, as the
/// keep-still measures are, and its spread taken robustly (1.4826 × the median absolute
/// deviation from its median: a glitch of a few frames is not noise).
///
/// Some segments really change length with the pose in some sensors (the Kinect's trunk with
/// the spine's flexion, its shoulder line with the shoulder girdle, a knee centre that slides):
/// that is no noise of the patient's measures, and read as noise it excused real compensations
/// (UI-PRMD's sit to stand, AUC 0.89 → 0.83 with every segment's own spread, 0.87 with the
/// lower quartile of them). Two guards, both from what noise is and a pose's change is not:
/// - a sensor's noise is in every segment and a pose's change only adds to it, so the sensor's
///   length spread is the *least* of the segments';
/// - a pose's change is as slow as the movement, a camera's wander faster: the spread is also
///   taken less each length's trend (its mean over `trendSeconds` either side), and the
///   sensor's `σ_ℓ` is at most `slowShare` times the least of those.
/// UI-PRMD's AUC stays within 0.003 of before on every movement, from angles, as keypoints,
/// with 2 cm of jitter and as a camera's points. Each measure is then given `σ_ℓ / L` for each
/// of its segments (`BodyMeasure.bones`), in quadrature. The least of a dozen estimates is
/// low: this takes back part of what the wander costs, not all (README, "How robust the score
/// is"; with `slowShare` 2 the bird-dog kept 8 points more through 0.5 cm of wander, and a
/// camera's sit to stand lost 0.007 of AUC). A take whose lengths never change (a pose solved
/// onto a skeleton, any joint-angle source) shows none: its noise is read from the measures
/// alone, as before.
struct SegmentWander {
  /// Per bone (`FeatureLayout.bones` order): the noise `σ_ℓ / L` its direction gets (radians),
  /// 0 where the bone was not seen enough to tell.
  private(set) var boneNoise: [Double]
  /// `σ_ℓ`, metres.
  private(set) var lengthSpread = 0.0

  /// Bones shorter than this (metres) are left out: a missing toe stands at the ankle.
  static let shortestBone = 0.05
  /// Frames a bone must be seen in, at least: this many and half the repetition's (a bone
  /// seen in a few frames would show no spread and hide every other's).
  static let fewestFrames = 5
  /// Half the window of the trend taken out of each length, seconds.
  static let trendSeconds = 0.5
  /// The most a length's spread may be of its spread less the trend.
  static let slowShare = 1.5
  /// Reads frames `range` of `take`.
  init(_ take: FeatureSequence, _ range: Range<Int>, smoothing h: Int) {
    let bones = FeatureLayout.bones
    boneNoise = [Double](repeating: 0, count: bones.count)
    guard take.width == FeatureLayout.width, range.count >= Self.fewestFrames,
      take.frameTime.isFinite, take.frameTime > 0
    else { return }
    let needed = max(Self.fewestFrames, range.count / 2)
    var lengths = [Double](repeating: 0, count: bones.count)
    var least = Double.infinity
    var leastQuick = Double.infinity
    var values: [Double] = []
    values.reserveCapacity(range.count)
    var residuals: [Double] = []
    var sums: [Double] = []
    var seens: [Int] = []
    for (k, bone) in bones.enumerated() {
      let c = FeatureLayout.lengthColumn(bone)
      var seenFrames = 0
      for f in range where take[f, c].isFinite { seenFrames += 1 }
      guard seenFrames >= needed else { continue }
      // The centred moving average, from running sums of the seen frames.
      values.removeAll(keepingCapacity: true)
      let first = range.lowerBound
      let count = range.count
      if sums.count < count + 1 {
        sums = [Double](repeating: 0, count: count + 1)
        seens = [Int](repeating: 0, count: count + 1)
      }
      for i in 0..<count {
        let v = take[first + i, c]
        sums[i + 1] = sums[i] + (v.isFinite ? Double(v) : 0)
        seens[i + 1] = seens[i] + (v.isFinite ? 1 : 0)
      }
      for i in 0..<count {
        let low = max(0, i - h)
        let high = min(count - 1, i + h) + 1
        let seen = seens[high] - seens[low]
        if seen > 0 { values.append((sums[high] - sums[low]) / Double(seen)) }
      }
      guard values.count >= Self.fewestFrames else { continue }
      // Less the length's own trend over `trendSeconds` either side: a length that changes
      // with the pose changes as slowly as the movement.
      let w = max(1, Int(min(Self.trendSeconds / take.frameTime, 1e6).rounded()))
      let n = values.count
      if residuals.count < n { residuals = [Double](repeating: 0, count: n) }
      var sum = 0.0
      var low = 0
      var high = -1
      for i in 0..<n {
        while high < min(n - 1, i + w) {
          high += 1
          sum += values[high]
        }
        while low < i - w {
          sum -= values[low]
          low += 1
        }
        residuals[i] = values[i] - sum / Double(high - low + 1)
      }
      let median = Self.median(&values)
      guard median >= Self.shortestBone else { continue }
      for i in values.indices { values[i] = abs(values[i] - median) }
      lengths[k] = median
      least = min(least, 1.4826 * Self.median(&values))
      for i in 0..<n { values[i] = residuals[i] }
      let centre = Self.median(&values)
      for i in values.indices { values[i] = abs(values[i] - centre) }
      leastQuick = min(leastQuick, 1.4826 * Self.median(&values))
    }
    guard least.isFinite, leastQuick.isFinite else { return }
    lengthSpread = min(least, Self.slowShare * leastQuick)
    for k in bones.indices where lengths[k] > 0 { boneNoise[k] = lengthSpread / lengths[k] }
  }

  /// The noise `measure` gets (radians): its segments' in quadrature.
  func noise(_ measure: BodyMeasure) -> Double {
    var total = 0.0
    for bone in measure.bones {
      let n = boneNoise[FeatureLayout.bones.firstIndex(of: bone) ?? 0]
      total += n * n
    }
    return total.squareRoot()
  }

  /// The median of `values` (not empty; the value of rank `count / 2`), which it reorders.
  private static func median(_ values: inout [Double]) -> Double {
    values.withUnsafeMutableBufferPointer {
      StretchMovement.select($0, count: $0.count, rank: $0.count / 2)
    }
  }
}
