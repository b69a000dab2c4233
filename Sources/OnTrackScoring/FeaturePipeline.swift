import Foundation
import OnTrackKinematics

/// Landmark frames in, feature frames out, at a fixed rate: the one pipeline that whole
/// recordings (`ClipFeatures`) and live streams (`StreamingScorer`) share, which is what makes
/// their scores equal.
///
/// ```
/// landmarks (any rate) ─GridResampler─▶ grid (the reference's rate) ─LandmarkFilter─▶ FeatureExtractor ─▶ measures
///                                                    └──────────── FeatureExtractor ─▶ |Δ²| ─▶ noise columns
/// ```
///
/// The measures come from low-pass-filtered landmarks; the noise columns hold, per measure, the
/// size of the second difference of the *unfiltered* measure (`|x[t] − 2x[t−1] + x[t−2]|`,
/// radians; the norm of the vector difference for bone directions). Smooth movement contributes
/// little to a second difference at 30 Hz and white sensor noise of σ contributes √6 σ, so the
/// median over a repetition estimates the sensor's own noise (`RepetitionScorer`). A measure
/// whose landmarks the sensor did not see in a frame (`LandmarkFrame.untracked`) has NaN there
/// instead, which the scorer counts to leave the measure out. Nothing is allocated per frame.
public struct FeaturePipeline: Sendable {
  public let step: Double
  private var resampler: GridResampler
  /// `nil`: measures from the landmarks as they are (for tests that compare rigs).
  private var filter: LandmarkFilter?
  private var filteredExtractor: FeatureExtractor
  private var rawExtractor: FeatureExtractor
  private var frame = LandmarkFrame()
  /// The two previous unfiltered measure frames, and how many are valid (0…2).
  private var previous: [Float]
  private var older: [Float]
  private var history = 0
  private var raw: [Float]
  private var filtered: [Float]
  private var noise: [Float]
  /// Per noise column: the landmarks its measure needs (`BodyMeasure.landmarkMask`).
  private let noiseMasks: [UInt32]
  private var produced = 0
  /// The frames the last `push` produced: `output[k * width ..< (k + 1) * width]`.
  public private(set) var output: [Float]
  public private(set) var outputCount = 0

  public init(
    step: Double, headingTimeConstant: Double = 2, cutoff: Double? = LandmarkFilter.defaultCutoff
  ) {
    self.step = step
    resampler = GridResampler(step: step)
    filter = cutoff.map { LandmarkFilter(cutoff: $0, rate: 1 / step) }
    filteredExtractor = FeatureExtractor(headingTimeConstant: headingTimeConstant)
    rawExtractor = FeatureExtractor(headingTimeConstant: headingTimeConstant)
    let measures = FeatureLayout.measureWidth
    previous = [Float](repeating: 0, count: measures)
    older = [Float](repeating: 0, count: measures)
    raw = [Float](repeating: 0, count: measures)
    filtered = [Float](repeating: 0, count: measures)
    noise = [Float](repeating: 0, count: FeatureLayout.width - measures)
    noiseMasks =
      FeatureLayout.bones.map { BodyMeasure.bone($0).landmarkMask }
      + FeatureLayout.angles.map { BodyMeasure.angle($0).landmarkMask }
    output = [Float](repeating: 0, count: resampler.output.count * FeatureLayout.width)
  }

  /// The ratio of noise after the landmark filter to noise before it.
  public var filterNoiseGain: Double { filter?.noiseGain ?? 1 }

  /// Feeds one landmark frame at `time` seconds; afterwards `output` holds every grid frame in
  /// (previous time, time]. A frame whose time is not after the previous one (or not finite)
  /// is ignored and `false` returned.
  @discardableResult
  public mutating func push(_ landmarks: LandmarkFrame, at time: Double) -> Bool {
    outputCount = 0
    guard resampler.push(landmarks, at: time) else { return false }
    if resampler.restarted {
      filter?.restart()
      history = 0
    }
    let width = FeatureLayout.width
    let measures = FeatureLayout.measureWidth
    for k in 0..<resampler.outputCount {
      let timeStep = produced == 0 ? 0 : step
      produced += 1
      frame.positions.withUnsafeMutableBufferPointer { target in
        for i in 0..<target.count { target[i] = resampler.output[k].positions[i] }
      }
      frame.untracked = resampler.output[k].untracked
      raw.withUnsafeMutableBufferPointer { out in
        rawExtractor.extract(frame, timeStep: timeStep, into: out)
      }
      filter?.filter(&frame)
      filtered.withUnsafeMutableBufferPointer { out in
        filteredExtractor.extract(frame, timeStep: timeStep, into: out)
      }
      writeNoise(untracked: frame.untracked)
      let base = outputCount * width
      for c in 0..<measures { output[base + c] = filtered[c] }
      for c in 0..<noise.count { output[base + measures + c] = noise[c] }
      outputCount += 1
      swap(&older, &previous)
      for c in 0..<measures { previous[c] = raw[c] }
      history = min(history + 1, 2)
    }
    return true
  }

  /// The noise columns of the current frame (`raw`), from the two frames before it; NaN for
  /// measures of an `untracked` landmark.
  private mutating func writeNoise(untracked: UInt32) {
    defer {
      if untracked != 0 {
        for i in 0..<noise.count where noiseMasks[i] & untracked != 0 { noise[i] = .nan }
      }
    }
    guard history == 2 else {
      for i in 0..<noise.count { noise[i] = 0 }
      return
    }
    var k = 0
    for b in 0..<FeatureLayout.bones.count {
      let c = 3 * b
      let d = SIMD3(
        raw[c] - 2 * previous[c] + older[c], raw[c + 1] - 2 * previous[c + 1] + older[c + 1],
        raw[c + 2] - 2 * previous[c + 2] + older[c + 2])
      noise[k] = (d * d).sum().squareRoot()
      k += 1
    }
    let base = 3 * FeatureLayout.bones.count
    for a in 0..<FeatureLayout.angles.count {
      let c = base + a
      noise[k] = abs(raw[c] - 2 * previous[c] + older[c])
      k += 1
    }
  }
}
