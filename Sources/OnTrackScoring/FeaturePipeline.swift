import Foundation
import OnTrackKinematics

/// Landmark frames in, feature frames out, at a fixed rate: the one pipeline that whole
/// recordings (`ClipFeatures`) and live streams (`StreamingScorer`) share, which is what makes
/// their scores equal.
///
/// ```
/// landmarks (any rate) ─LandmarkGate─▶ SensorLevelling─▶ GridResampler─▶ grid (the reference's rate) ─LandmarkFilter─▶ FeatureExtractor ─▶ measures
///                                                           └──────────── FeatureExtractor ─▶ |Δ²| ─▶ noise columns
///                                                  filtered landmarks ─▶ bone lengths ─▶ length columns
/// ```
///
/// Landmarks no body could have produced (not finite, far away, too fast, left and right
/// swapped) are refused first (`LandmarkGate`): held, and marked not seen.
///
/// On the frames the levelling held, if the patient was still, the short pelvis-to-lumbar-spine
/// segment's direction is calibrated against the reference's start (`BoneCalibration`) in
/// every frame that follows.
///
/// Given the exercise's `SensorLevelling`, a tilted sensor is levelled next: the frames of
/// its calibration (the take's first `SensorLevelling.calibrationSeconds`) are held until it
/// settles, then let through levelled, as is every frame after.
///
/// The measures come from low-pass-filtered landmarks; the noise columns hold, per measure, the
/// size of the second difference of the *unfiltered* measure over the frames *as they came*
/// (`|x[k] − 2x[k−1] + x[k−2]|`, radians; the norm of the vector difference for bone
/// directions). Smooth movement contributes little to a second difference and white sensor
/// noise of σ contributes √6 σ, so the median over a repetition estimates the sensor's own
/// noise (`RepetitionScorer`). Taken on the grid instead, a sensor slower than the grid would
/// hide its noise: a grid frame interpolated halfway between two samples makes the second
/// difference there zero (at 15 Hz, 1 cm of jitter was read as a fifth of itself and scores
/// fell by up to 80 points). The scorer turns σ into noise after the filter with the filter's
/// gain at the grid's rate; fewer samples a second leave more noise after the filter (about
/// √(grid rate ÷ sensor rate) times as much, the filter's bandwidth being the same), so each
/// value is scaled by that, from a running mean of the sensor's frame interval, at most to no
/// filtering at all. A measure whose landmarks the sensor did not see in a frame
/// (`LandmarkFrame.untracked`) has NaN there instead, which the scorer counts to leave the
/// measure out. Each bone's length between the filtered landmarks follows (NaN where unseen):
/// what it wanders by is the sensor's (`SegmentWander`). Nothing is allocated per frame.
public struct FeaturePipeline: Sendable {
  public let step: Double
  private var resampler: GridResampler
  /// `nil`: measures from the landmarks as they are (for tests that compare rigs).
  private var filter: LandmarkFilter?
  private var filteredExtractor: FeatureExtractor
  private var rawExtractor: FeatureExtractor
  private var frame = LandmarkFrame()
  /// Refuses impossible landmarks before anything reads them.
  private var gate = LandmarkGate()
  /// Levels a tilted sensor before anything is read (`SensorLevelling`), into `levelled`;
  /// until its calibration settles, the frames are held (`held`, `heldTimes`, `heldCount`).
  private var levelling: SensorLevelling?
  private var levelled = LandmarkFrame()
  private var held: [LandmarkFrame] = []
  private var heldTimes: [Double] = []
  private var heldCount = 0
  /// Turns out what the sensor's joint centres add to the short segments' directions,
  /// decided on the held frames when the patient was still (`BoneCalibration`).
  private var calibration: BoneCalibration?
  /// Most frames held: a faster sensor settles the calibration early.
  public static let heldCapacity = 256
  /// The two previous unfiltered measure frames (input frames, not grid frames), and how many
  /// are valid (0…2).
  private var previous: [Float]
  private var older: [Float]
  private var history = 0
  private var raw: [Float]
  private var filtered: [Float]
  private var noise: [Float]
  /// Per noise column: the landmarks its measure needs (`BodyMeasure.landmarkMask`).
  private let noiseMasks: [UInt32]
  private var produced = 0
  /// The time of the previous input frame.
  private var lastInputTime = 0.0
  /// Running mean of the input frame interval, seconds (0 before the second frame).
  private var inputInterval = 0.0
  /// The most `slowSensorGain` can be: no filtering at all (1 ÷ the filter's noise gain).
  private let largestSlowSensorGain: Double
  /// Unseen limbs placed as the other side's mirror image, after the gate
  /// (`UnseenLimbMirroring`), and the frame they are placed in.
  private var unseenLimbs: UnseenLimbMirroring
  private var placed = LandmarkFrame()
  /// The frames the last `push` produced: `output[k * width ..< (k + 1) * width]`.
  public private(set) var output: [Float]
  public private(set) var outputCount = 0
  /// `bridged[k]`: output frame `k` lies inside a gap in the stream — strictly between two
  /// input frames more than `gapShare` times the sensor's usual interval apart (and more than
  /// two grid steps): the resampler's straight line across a time the sensor saw nothing
  /// (frames lost on the network, a camera that lost the patient for a moment). Its values
  /// are a guess, not an observation; the last grid frame of such a push, at most a step
  /// before the frame that ends the gap, is not counted as bridged.
  public private(set) var bridged: [Bool]
  /// An input interval longer than this many times the running mean interval is a gap.
  public static let gapShare = 3.0

  public init(
    step: Double, headingTimeConstant: Double = 2, cutoff: Double? = LandmarkFilter.defaultCutoff,
    levelling: SensorLevelling? = nil, trunkTurnIsBodyTurn: Bool = false,
    unseenLimbs: UnseenLimbMirroring = .none
  ) {
    self.step = step
    self.levelling = levelling
    // Its own record of when each landmark was last seen (not the exercise's, shared).
    self.unseenLimbs = UnseenLimbMirroring(arms: unseenLimbs.arms, legs: unseenLimbs.legs)
    resampler = GridResampler(step: step)
    filter = cutoff.map { LandmarkFilter(cutoff: $0, rate: 1 / step) }
    largestSlowSensorGain = 1 / max(filter?.noiseGain ?? 1, 1e-6)
    filteredExtractor = FeatureExtractor(
      headingTimeConstant: headingTimeConstant, trunkTurnIsBodyTurn: trunkTurnIsBodyTurn)
    rawExtractor = FeatureExtractor(
      headingTimeConstant: headingTimeConstant, trunkTurnIsBodyTurn: trunkTurnIsBodyTurn)
    let measures = FeatureLayout.measureWidth
    previous = [Float](repeating: 0, count: measures)
    older = [Float](repeating: 0, count: measures)
    raw = [Float](repeating: 0, count: measures)
    filtered = [Float](repeating: 0, count: measures)
    noise = [Float](repeating: 0, count: FeatureLayout.bones.count + FeatureLayout.angles.count)
    noiseMasks =
      FeatureLayout.bones.map { BodyMeasure.bone($0).landmarkMask }
      + FeatureLayout.angles.map { BodyMeasure.angle($0).landmarkMask }
    var frames = resampler.output.count
    // The exercise's levelling shares its buffers with this one: copied here, not on the
    // first frame.
    self.levelling?.reset()
    if levelling != nil {
      held = (0..<Self.heldCapacity).map { _ in LandmarkFrame() }
      heldTimes = [Double](repeating: 0, count: Self.heldCapacity)
      frames += Int((SensorLevelling.calibrationSeconds / step).rounded(.up)) + 2
    }
    output = [Float](repeating: 0, count: frames * FeatureLayout.width)
    bridged = [Bool](repeating: false, count: frames)
  }

  /// The pipeline `exercise`'s takes go through, offline and live: at its frame time, with its
  /// levelling, its whole-body turn and its unseen-limb rules.
  /// With a levelling, the short segments' directions are calibrated on the same held
  /// frames (`BoneCalibration`).
  public init(for exercise: Exercise) {
    self.init(
      step: exercise.frameTime, levelling: exercise.levelling,
      trunkTurnIsBodyTurn: exercise.trunkTurnIsBodyTurn, unseenLimbs: exercise.unseenLimbs)
    if exercise.levelling != nil { calibration = BoneCalibration(reference: exercise.reference) }
  }

  /// The rotation that levels the sensor, once decided (identity for a level one); `nil`
  /// without a levelling or before its calibration settles.
  public var levellingRotation: Quaternion? {
    guard let levelling, levelling.settled else { return nil }
    return levelling.rotation
  }

  /// The ratio of noise after the landmark filter to noise before it.
  public var filterNoiseGain: Double { filter?.noiseGain ?? 1 }

  /// Feeds one landmark frame at `time` seconds; afterwards `output` holds every grid frame in
  /// (previous time, time] — with a levelling, the first frames are held until its calibration
  /// settles (`SensorLevelling.calibrationSeconds`, or `heldCapacity` frames): those pushes
  /// output nothing, and the one that settles it outputs every grid frame from the first held
  /// frame to `time`, levelled (`flush` does the same at the end of a shorter stream). A frame
  /// whose time is not after the previous one (or not finite) is ignored and `false` returned.
  @discardableResult
  public mutating func push(_ landmarks: LandmarkFrame, at time: Double) -> Bool {
    outputCount = 0
    gate.apply(landmarks, at: time)
    if unseenLimbs.isActive {
      placed.copy(from: gate.frame)
      unseenLimbs.place(&placed, at: time)
    }
    let landmarks = unseenLimbs.isActive ? placed : gate.frame
    guard let settled = levelling?.settled else { return advance(landmarks, at: time) }
    if settled {
      levelled.copy(from: landmarks)
      levelling?.apply(&levelled)
      return advance(levelled, at: time)
    }
    guard time.isFinite, heldCount == 0 || time > heldTimes[heldCount - 1] else { return false }
    held[heldCount].copy(from: landmarks)
    heldTimes[heldCount] = time
    heldCount += 1
    levelling?.observe(landmarks, at: time)
    if heldCount == held.count { levelling?.settle() }
    if levelling?.settled == true { releaseHeld() }
    return true
  }

  /// Ends the calibration of a stream that stopped before it settled: `output` holds the held
  /// frames, levelled as far as they allow. Nothing otherwise.
  public mutating func flush() {
    outputCount = 0
    guard levelling?.settled == false else { return }
    levelling?.settle()
    releaseHeld()
  }

  private mutating func releaseHeld() {
    for k in 0..<heldCount {
      levelled.copy(from: held[k])
      levelling?.apply(&levelled)
      advance(levelled, at: heldTimes[k])
    }
    heldCount = 0
    guard let levelling, levelling.stillStart, outputCount > 0, calibration != nil else {
      return
    }
    // The calibration's own frames: the last half second released (before it, a patient may
    // have been walking in with the legs unseen).
    let window = Int((SensorLevelling.calibrationSeconds / step).rounded()) + 1
    calibration?.decide(
      from: output, frames: max(0, outputCount - window)..<outputCount,
      inputFrames: levelling.calibrationFrames)
    for k in 0..<outputCount { calibration?.apply(&output, at: k * FeatureLayout.width) }
  }

  /// Runs one (levelled) input frame through the grid, the filter and the extractors,
  /// appending its grid frames to `output`.
  @discardableResult
  private mutating func advance(_ landmarks: LandmarkFrame, at time: Double) -> Bool {
    guard resampler.push(landmarks, at: time) else { return false }
    let interval: Double
    var gap = false
    if resampler.restarted {
      filter?.restart()
      history = 0
      interval = 0
      inputInterval = 0
    } else {
      interval = time - lastInputTime
      gap = inputInterval > 0 && interval > Self.gapShare * inputInterval && interval > 2 * step
      inputInterval =
        inputInterval == 0 ? interval : inputInterval + 0.1 * (interval - inputInterval)
    }
    lastInputTime = time
    let measures = FeatureLayout.measureWidth
    // The noise of this input frame, from it and the two before it.
    raw.withUnsafeMutableBufferPointer { out in
      rawExtractor.extract(landmarks, timeStep: interval, into: out)
    }
    writeNoise(untracked: landmarks.untracked)
    swap(&older, &previous)
    for c in 0..<measures { previous[c] = raw[c] }
    history = min(history + 1, 2)

    let width = FeatureLayout.width
    let needed = (outputCount + resampler.outputCount) * width
    if output.count < needed {
      output.append(contentsOf: repeatElement(0, count: needed - output.count))
    }
    if bridged.count < needed / width {
      bridged.append(contentsOf: repeatElement(false, count: needed / width - bridged.count))
    }
    for k in 0..<resampler.outputCount {
      bridged[outputCount] = gap && k < resampler.outputCount - 1
      let timeStep = produced == 0 ? 0 : step
      produced += 1
      frame.copy(from: resampler.output[k])
      filter?.filter(&frame)
      let base = outputCount * width
      let lengthStart = base + measures + noise.count
      filtered.withUnsafeMutableBufferPointer { out in
        output.withUnsafeMutableBufferPointer { o in
          filteredExtractor.extract(
            frame, timeStep: timeStep, into: out,
            lengths: .init(rebasing: o[lengthStart..<(lengthStart + FeatureLayout.bones.count)]))
        }
      }
      for c in 0..<measures { output[base + c] = filtered[c] }
      let untracked = frame.untracked
      for i in 0..<noise.count {
        output[base + measures + i] = noiseMasks[i] & untracked != 0 ? .nan : noise[i]
      }
      // A bone's length where its landmarks were unseen: NaN (its mask is its noise column's).
      for b in 0..<FeatureLayout.bones.count where noiseMasks[b] & untracked != 0 {
        output[lengthStart + b] = .nan
      }
      calibration?.apply(&output, at: base)
      outputCount += 1
    }
    return true
  }

  /// How much more noise is left after the filter on the grid than `filterNoiseGain` says,
  /// for input frames `interval` seconds apart: √(interval ÷ step) when the sensor is slower
  /// than the grid (the filter keeps the same bandwidth of fewer samples), never more than
  /// no filtering at all; 1 otherwise.
  private func slowSensorGain(interval: Double) -> Float {
    guard interval > step else { return 1 }
    return Float(min((interval / step).squareRoot(), largestSlowSensorGain))
  }

  /// The noise columns of the current input frame (`raw`), from the two input frames before
  /// it, scaled for a sensor slower than the grid; NaN for measures of an `untracked` landmark.
  private mutating func writeNoise(untracked: UInt32) {
    let gain = slowSensorGain(interval: inputInterval)
    defer {
      for i in 0..<noise.count {
        noise[i] = noiseMasks[i] & untracked != 0 ? .nan : noise[i] * gain
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
