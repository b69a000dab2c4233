/// Feature frames at a fixed rate, frame-major (`values[f * width + c]`).
public struct FeatureSequence: Sendable {
  public var values: [Float]
  public let width: Int
  /// Seconds between frames.
  public let frameTime: Double

  public init(width: Int = FeatureLayout.width, frameTime: Double, values: [Float] = []) {
    precondition(width > 0)
    self.width = width
    self.frameTime = frameTime
    self.values = values
  }

  public var count: Int { values.count / width }

  public subscript(frame: Int, column: Int) -> Float {
    values[frame * width + column]
  }

  /// Frames `range` as a new sequence.
  public func slice(_ range: Range<Int>) -> FeatureSequence {
    FeatureSequence(
      width: width, frameTime: frameTime,
      values: Array(values[(range.lowerBound * width)..<(range.upperBound * width)]))
  }

  /// The mirror image (left and right swapped), for full-body feature sequences.
  public func mirrored() -> FeatureSequence {
    precondition(width == FeatureLayout.width, "only body features can be mirrored")
    var out = values
    values.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { target in
        for f in 0..<count {
          FeatureLayout.mirror(
            UnsafeBufferPointer(rebasing: source[(f * width)..<((f + 1) * width)]),
            into: UnsafeMutableBufferPointer(rebasing: target[(f * width)..<((f + 1) * width)]))
        }
      }
    }
    return FeatureSequence(width: width, frameTime: frameTime, values: out)
  }
}

/// Resamples a stream of timestamped landmark frames onto a fixed grid (the reference's frame
/// rate) by linear interpolation, so streams at any rate, with jitter or dropped frames, are
/// compared at the reference's rate. The grid starts at the first frame's time.
///
/// The same object serves whole recordings and live streams, which is what makes offline and
/// streaming scores identical. Output goes into a buffer the resampler owns (`output`), so a
/// push allocates nothing.
public struct GridResampler: Sendable {
  public let step: Double
  /// Longest gap (seconds) bridged by interpolation; after a longer one the grid restarts.
  public let maximumGap: Double
  /// The grid frames produced by the last `push`: `output[0..<outputCount]`.
  public private(set) var output: [LandmarkFrame]
  public private(set) var outputCount = 0
  /// True if the last `push` started a new grid (the first frame, or after a gap longer than
  /// `maximumGap`): what follows does not continue what came before.
  public private(set) var restarted = false
  private var previous = LandmarkFrame()
  private var previousTime: Double?
  private var gridStart = 0.0
  private var gridIndex = 0

  public init(step: Double, maximumGap: Double = 1) {
    precondition(step > 0)
    self.step = step
    self.maximumGap = max(maximumGap, step)
    output = Array(repeating: LandmarkFrame(), count: Int(self.maximumGap / step) + 2)
  }

  /// Feeds one frame at `time` seconds; afterwards `output[0..<outputCount]` holds every grid
  /// instant in (previous time, time], in order. A frame whose time is not after the previous
  /// one (or not finite) is ignored and `false` returned.
  @discardableResult
  public mutating func push(_ frame: LandmarkFrame, at time: Double) -> Bool {
    outputCount = 0
    restarted = false
    guard time.isFinite else { return false }
    guard let last = previousTime, time - last <= maximumGap else {
      // The first frame, or a gap too long to interpolate: a grid starts here.
      previous.copy(from: frame)
      previousTime = time
      gridStart = time
      gridIndex = 1
      output[0].blend(frame, frame, 0)
      outputCount = 1
      restarted = true
      return true
    }
    guard time > last else { return false }
    // Grid instants are start + k·step (no accumulated drift); one within 1e-6 steps of
    // `time` counts as on it.
    while gridStart + Double(gridIndex) * step <= time + step * 1e-6, outputCount < output.count {
      let gridTime = gridStart + Double(gridIndex) * step
      let t = Float(min(max((gridTime - last) / (time - last), 0), 1))
      output[outputCount].blend(previous, frame, t)
      outputCount += 1
      gridIndex += 1
    }
    previous.copy(from: frame)
    previousTime = time
    return true
  }
}
