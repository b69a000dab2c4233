import Foundation
import OnTrackKinematics

/// Takes out what a sensor's own joint centres add to the direction of the body's short
/// pelvis-to-lumbar-spine segment (`calibrated`): two sensors put the hips or the lumbar spine
/// a few centimetres apart, and on a 14 cm segment that is a constant turn of its direction
/// (3 cm across it turns it 12°). The scorer compares each measure's movement from its own
/// start (`RepetitionScorer`), but the repetition finder and the time alignment compare bone
/// directions as they are; a pelvic tilt, a movement of that segment about as large, then found
/// two repetitions of three and scored 0.
///
/// Once `SensorLevelling` has found the patient still over the take's first
/// `SensorLevelling.calibrationSeconds`, in a posture it could level (the frames
/// `FeaturePipeline` holds for it anyway), the segment's mean direction over that half second,
/// `p`, is compared with the reference's starting direction, `r` (the mean over its first
/// `RepetitionScorer.originFrames`, or its mirror image's, whichever is nearer: a patient who
/// works the other side stands as its mirror image). Within `largestOffset`, the segment is
/// turned by the rotation taking `p` to `r` in every frame of the take; further, it is another
/// posture, not another sensor, and is left as it is; below a dead zone, it is noise (the
/// larger of `smallestOffset` and three standard errors of the mean direction, from the
/// segment's own noise in those frames), and the turn grows to the whole offset at twice the
/// dead zone. The long segments (trunk, limbs), whose direction a few centimetres barely turn
/// and whose posture an exercise scores (a stoop, a lean), are never turned, nor are the
/// angles, which come from the landmarks; the head (neck to head) is not either: a neck the
/// first frames placed by rule misled it (README). A take that starts with the movement, or
/// without the legs seen, is left as it is. Allocates when it decides (once).
struct BoneCalibration: Sendable {
  /// Most a segment's resting direction may differ from the reference's for the difference to
  /// be taken as the sensor's, radians (25°).
  static let largestOffset: Float = 25 * .pi / 180
  /// Offsets below this are the start's own noise and sway (1 cm of jitter on the 14 cm
  /// segment moves a half-second mean by about 2°) and left alone; the turn grows to the whole
  /// offset at twice this, radians (5°).
  static let smallestOffset: Float = 5 * .pi / 180
  /// How many standard errors of the start's mean direction (from the sensor's own noise) an
  /// offset must exceed to be the sensor's rather than noise: the dead zone is the larger of
  /// this many and `smallestOffset`.
  static let noiseAllowance: Float = 3
  /// The segments calibrated: short, between joint centres that sensors place differently, and
  /// whose starting direction no exercise scores as a posture.
  static let calibrated: [BodyBone] = [.lowerBack]

  /// The reference's starting direction of every calibrated segment, and its mirror image's.
  private let reference: [SIMD3<Float>]
  private let mirroredReference: [SIMD3<Float>]
  /// Per calibrated segment, its first feature column and the turn applied (identity until
  /// decided).
  private let columns: [Int]
  private var turns: [Quaternion]
  /// Whether some segment is turned.
  private var applies = false

  /// From the reference's features (`FeatureLayout`): its starting directions.
  init(reference s: FeatureSequence) {
    let origin = 0..<min(s.count, RepetitionScorer.originFrames(s.count))
    var start = [Float](repeating: 0, count: FeatureLayout.width)
    for b in FeatureLayout.bones {
      let c = FeatureLayout.boneColumn(b)
      var sum = SIMD3<Float>.zero
      for f in origin { sum += SIMD3(s[f, c], s[f, c + 1], s[f, c + 2]) }
      let d = normalizeOrUp(sum)
      start[c] = d.x
      start[c + 1] = d.y
      start[c + 2] = d.z
    }
    var mirrored = [Float](repeating: 0, count: FeatureLayout.width)
    start.withUnsafeBufferPointer { source in
      mirrored.withUnsafeMutableBufferPointer { FeatureLayout.mirror(source, into: $0) }
    }
    columns = Self.calibrated.map { FeatureLayout.boneColumn($0) }
    reference = columns.map { SIMD3(start[$0], start[$0 + 1], start[$0 + 2]) }
    mirroredReference = columns.map { SIMD3(mirrored[$0], mirrored[$0 + 1], mirrored[$0 + 2]) }
    turns = [Quaternion](repeating: .identity, count: columns.count)
  }

  /// Decides the turns from feature frames `frames` of `output` (the take's still start,
  /// `FeatureLayout.width` values a frame), which `inputFrames` frames of the sensor gave (the
  /// grid's frames are not independent when the sensor is slower); a segment unseen in all of
  /// them (NaN noise) is left.
  mutating func decide(from output: [Float], frames: Range<Int>, inputFrames: Int) {
    let width = FeatureLayout.width
    var means = [SIMD3<Float>](repeating: .zero, count: columns.count)
    var seen = [Bool](repeating: false, count: columns.count)
    var deadZones = [Float](repeating: Self.smallestOffset, count: columns.count)
    for k in columns.indices {
      let noise = FeatureLayout.noiseColumn(Self.calibrated[k])
      var sum = SIMD3<Float>.zero
      var noiseSum: Float = 0
      var n: Float = 0
      for f in frames where !output[f * width + noise].isNaN {
        let c = f * width + columns[k]
        sum += SIMD3(output[c], output[c + 1], output[c + 2])
        // The first frames have no second difference yet (0).
        if output[f * width + noise] > 0 {
          noiseSum += output[f * width + noise]
          n += 1
        }
      }
      guard length(sum) > 1e-6, sum.x.isFinite, sum.y.isFinite, sum.z.isFinite else { continue }
      means[k] = normalize(sum)
      seen[k] = true
      // σ per axis of the direction's white noise from the mean norm of its second
      // differences (≈ 1.25 √6 σ across the two axes a unit vector moves in); the mean over
      // n frames is off by about σ √(2 / n).
      guard n > 0 else { continue }
      let sigma = noiseSum / n / (1.25 * Float(6).squareRoot())
      let independent = max(1, min(n, Float(inputFrames)))
      deadZones[k] = max(
        Self.smallestOffset, Self.noiseAllowance * sigma * (2 / independent).squareRoot())
    }
    func distance(_ target: [SIMD3<Float>]) -> Float {
      var total: Float = 0
      for k in columns.indices where seen[k] { total += angleBetween(means[k], target[k]) }
      return total
    }
    let target =
      distance(mirroredReference) < distance(reference) ? mirroredReference : reference
    for k in columns.indices where seen[k] {
      let offset = angleBetween(means[k], target[k])
      let axis = cross(means[k], target[k])
      let share = min(1, max(0, (offset - deadZones[k]) / deadZones[k]))
      guard offset <= Self.largestOffset, share > 0, length(axis) > 1e-7 else { continue }
      turns[k] = Quaternion(angle: offset * share, axis: normalize(axis))
      applies = true
    }
  }

  /// Turns the calibrated segments' directions in the feature frame at `base` of `output`.
  func apply(_ output: inout [Float], at base: Int) {
    guard applies else { return }
    for k in columns.indices where turns[k].w < 1 {
      let c = base + columns[k]
      let d = turns[k].act(on: SIMD3(output[c], output[c + 1], output[c + 2]))
      output[c] = d.x
      output[c + 1] = d.y
      output[c + 2] = d.z
    }
  }
}
