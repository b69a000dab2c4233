/// A motion: a skeleton and one `Pose` per frame at a fixed frame rate.
///
/// Frame `f` is at time `f · frameTime` seconds. `duration` is `frameCount · frameTime` (the
/// span the recording covers, as BVH tools report it); sampling clamps to the last frame.
/// Storage is frame-major and flat (`rotations[f · count + j]`), so a frame is one contiguous run.
public struct Clip: Sendable {
  public let skeleton: Skeleton
  /// Seconds between frames, > 0.
  public let frameTime: Double
  /// The number of frames, ≥ 1.
  public let frameCount: Int
  /// Local rotations, frame-major: `rotations[frame * skeleton.count + joint]`.
  public let rotations: [Quaternion]
  /// Local translations in metres, frame-major like `rotations`.
  public let translations: [SIMD3<Float>]
  /// For a clip solved from keypoints: per frame, the `BodyLandmark`s the sensor did not see
  /// (bit `landmark.rawValue` set), whose positions were held or guessed. `nil`: every
  /// landmark was measured in every frame (motion capture, BVH). Scoring leaves measures of
  /// unseen landmarks out rather than reading them as the patient's faults.
  public var untracked: [UInt32]? {
    didSet {
      if let untracked, untracked.count != frameCount { self.untracked = nil }
    }
  }

  /// Builds a clip from flat frame-major arrays.
  ///
  /// - Throws: `ClipError` if there is no frame, the frame time is outside
  ///   `1 / maximumFrameRate … 1 / minimumFrameRate` (0.1 ms to 10 s), the arrays do not hold `frameCount × skeleton.count` elements, or a value is not finite
  ///   (the first bad frame and joint are named).
  public init(
    skeleton: Skeleton, frameTime: Double, rotations: [Quaternion], translations: [SIMD3<Float>]
  ) throws(ClipError) {
    guard Clip.isValidFrameTime(frameTime) else { throw .invalidFrameTime(frameTime) }
    let n = skeleton.count
    guard !rotations.isEmpty else { throw .noFrames }
    guard rotations.count % n == 0, translations.count == rotations.count else {
      throw .sizeMismatch(
        expectedMultipleOf: n, rotations: rotations.count,
        translations: translations.count)
    }
    for (i, q) in rotations.enumerated() where !q.isFinite {
      throw .nonFinite(frame: i / n, joint: skeleton.joints[i % n].name)
    }
    for (i, t) in translations.enumerated()
    where !(t.x.isFinite && t.y.isFinite && t.z.isFinite) {
      throw .nonFinite(frame: i / n, joint: skeleton.joints[i % n].name)
    }
    self.skeleton = skeleton
    self.frameTime = frameTime
    self.frameCount = rotations.count / n
    self.rotations = rotations
    self.translations = translations
  }

  /// Clips played one after another, on the first one's skeleton and frame time (the others
  /// must have the same skeleton layout).
  ///
  /// - Throws: `ClipError.noFrames` for no clips, or `sizeMismatch` if a clip's skeleton has
  ///   another joint count than the first's.
  public init(joining clips: [Clip]) throws(ClipError) {
    guard let first = clips.first else { throw .noFrames }
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    rotations.reserveCapacity(clips.reduce(0) { $0 + $1.rotations.count })
    translations.reserveCapacity(rotations.capacity)
    for clip in clips {
      guard clip.skeleton.count == first.skeleton.count else {
        throw .sizeMismatch(
          expectedMultipleOf: first.skeleton.count, rotations: clip.rotations.count,
          translations: clip.translations.count)
      }
      rotations += clip.rotations
      translations += clip.translations
    }
    try self.init(
      skeleton: first.skeleton, frameTime: first.frameTime, rotations: rotations,
      translations: translations)
    if clips.contains(where: { $0.untracked != nil }) {
      untracked = clips.flatMap { $0.untracked ?? [UInt32](repeating: 0, count: $0.frameCount) }
    }
  }

  /// The highest frame rate a clip may have (Hz); no motion sensor comes near.
  public static let maximumFrameRate: Double = 10_000

  /// The lowest frame rate a clip may have (Hz): a frame every 10 s (keyframes far apart).
  /// Together with `maximumFrameRate` this keeps every count derived from a time
  /// (`time · frameRate`) a whole number the machine can hold, whatever a file says.
  public static let minimumFrameRate: Double = 0.1

  /// Whether `frameTime` (seconds) is between `1 / maximumFrameRate` and `1 / minimumFrameRate`.
  public static func isValidFrameTime(_ frameTime: Double) -> Bool {
    frameTime >= 1 / maximumFrameRate && frameTime <= 1 / minimumFrameRate
  }

  /// Frames per second.
  public var frameRate: Double { 1 / frameTime }

  /// `frameCount · frameTime`, seconds.
  public var duration: Double { Double(frameCount) * frameTime }

  /// Time of the last frame, seconds.
  public var lastFrameTime: Double { Double(frameCount - 1) * frameTime }

  /// A new pose holding frame `frame` (allocates; use `copyFrame(_:into:)` per frame).
  public func pose(atFrame frame: Int) -> Pose {
    var pose = skeleton.restPose
    copyFrame(frame, into: &pose)
    return pose
  }

  /// Overwrites `pose` with frame `frame` (clamped to the valid range). No allocation when
  /// `pose` already has `skeleton.count` joints.
  public func copyFrame(_ frame: Int, into pose: inout Pose) {
    let n = skeleton.count
    precondition(pose.count == n, "pose size differs from the skeleton")
    let f = min(max(frame, 0), frameCount - 1)
    let base = f * n
    rotations.withUnsafeBufferPointer { source in
      pose.rotations.withUnsafeMutableBufferPointer { target in
        for j in 0..<n { target[j] = source[base + j] }
      }
    }
    translations.withUnsafeBufferPointer { source in
      pose.translations.withUnsafeMutableBufferPointer { target in
        for j in 0..<n { target[j] = source[base + j] }
      }
    }
  }

  /// Overwrites `pose` with the motion at `time` seconds: slerp of rotations and linear blend
  /// of translations between the two nearest frames; times outside the clip clamp to its ends.
  /// No allocation when `pose` already has `skeleton.count` joints.
  public func sample(at time: Double, into pose: inout Pose) {
    let n = skeleton.count
    precondition(pose.count == n, "pose size differs from the skeleton")
    var position = time.isFinite ? min(max(0, time / frameTime), Double(frameCount - 1)) : 0
    // A time computed as k · frameTime lands a hair below k; snap it onto the frame.
    let nearest = position.rounded()
    if abs(position - nearest) < 1e-6 { position = nearest }
    let f0 = min(Int(position), frameCount - 1)
    let f1 = min(f0 + 1, frameCount - 1)
    let t = Float(min(max(position - Double(f0), 0), 1))
    if f0 == f1 || t == 0 {
      copyFrame(f0, into: &pose)
      return
    }
    let a = f0 * n
    let b = f1 * n
    rotations.withUnsafeBufferPointer { source in
      pose.rotations.withUnsafeMutableBufferPointer { target in
        for j in 0..<n { target[j] = Quaternion.slerp(source[a + j], source[b + j], t: t) }
      }
    }
    translations.withUnsafeBufferPointer { source in
      pose.translations.withUnsafeMutableBufferPointer { target in
        for j in 0..<n { target[j] = source[a + j] + (source[b + j] - source[a + j]) * t }
      }
    }
  }

  /// The clip sampled at `frameRate` frames per second over the same time span
  /// (`floor(lastFrameTime · frameRate) + 1` frames).
  ///
  /// - Throws: `ClipError.invalidFrameTime` unless `minimumFrameRate ≤ frameRate ≤ maximumFrameRate`.
  public func resampled(frameRate: Double) throws(ClipError) -> Clip {
    guard frameRate >= Clip.minimumFrameRate, frameRate <= Clip.maximumFrameRate else {
      throw .invalidFrameTime(1 / frameRate)
    }
    let count = Int((lastFrameTime * frameRate + 1e-9).rounded(.down)) + 1
    var newRotations: [Quaternion] = []
    var newTranslations: [SIMD3<Float>] = []
    newRotations.reserveCapacity(count * skeleton.count)
    newTranslations.reserveCapacity(count * skeleton.count)
    var pose = skeleton.restPose
    var newUntracked: [UInt32] = []
    for k in 0..<count {
      sample(at: Double(k) / frameRate, into: &pose)
      newRotations.append(contentsOf: pose.rotations)
      newTranslations.append(contentsOf: pose.translations)
      if let untracked {
        // Unseen if either neighbouring frame was.
        let position = Double(k) / frameRate / frameTime
        let f0 = min(max(Int(position.rounded(.down)), 0), frameCount - 1)
        let f1 = min(f0 + 1, frameCount - 1)
        let exact = abs(position - Double(f0)) < 1e-6
        newUntracked.append(exact ? untracked[f0] : untracked[f0] | untracked[f1])
      }
    }
    var clip = Clip(
      validatedSkeleton: skeleton, frameTime: 1 / frameRate, rotations: newRotations,
      translations: newTranslations)
    if untracked != nil { clip.untracked = newUntracked }
    return clip
  }

  /// The frames in `range` (clamped to the clip) as a new clip starting at time zero.
  ///
  /// - Throws: `ClipError.noFrames` if the clamped range is empty.
  public func trimmed(frames range: Range<Int>) throws(ClipError) -> Clip {
    let lower = max(range.lowerBound, 0)
    let upper = min(range.upperBound, frameCount)
    guard lower < upper else { throw .noFrames }
    let n = skeleton.count
    var clip = Clip(
      validatedSkeleton: skeleton, frameTime: frameTime,
      rotations: Array(rotations[(lower * n)..<(upper * n)]),
      translations: Array(translations[(lower * n)..<(upper * n)]))
    if let untracked { clip.untracked = Array(untracked[lower..<upper]) }
    return clip
  }

  /// The frames whose times lie in `[start, end]` seconds (rounded to the nearest frames).
  public func trimmed(from start: Double, to end: Double) throws(ClipError) -> Clip {
    guard start.isFinite, end.isFinite, start <= end else { throw .noFrames }
    // Clamp before converting: Int(_:) traps on values beyond its range.
    let limit = Double(frameCount)
    let first = Int(min(max((start / frameTime).rounded(), -1), limit))
    let last = Int(min(max((end / frameTime).rounded(), -1), limit))
    return try trimmed(frames: first..<(last + 1))
  }

  /// Builds a clip from arrays derived from a valid clip (no re-validation).
  init(
    validatedSkeleton skeleton: Skeleton, frameTime: Double, rotations: [Quaternion],
    translations: [SIMD3<Float>]
  ) {
    self.skeleton = skeleton
    self.frameTime = frameTime
    self.frameCount = rotations.count / skeleton.count
    self.rotations = rotations
    self.translations = translations
  }
}

/// Why a set of frames is not a valid clip.
public enum ClipError: Error, Hashable, Sendable, CustomStringConvertible {
  case noFrames
  case invalidFrameTime(Double)
  case sizeMismatch(expectedMultipleOf: Int, rotations: Int, translations: Int)
  case nonFinite(frame: Int, joint: String)

  public var description: String {
    switch self {
    case .noFrames: "the clip has no frames"
    case .invalidFrameTime(let t):
      "frame time \(t) s is not between 0.0001 and 10 s (10,000 to 0.1 frames a second)"
    case .sizeMismatch(let n, let r, let t):
      "\(r) rotations and \(t) translations do not make whole frames of \(n) joints"
    case .nonFinite(let frame, let joint): "frame \(frame), joint '\(joint)': value is not finite"
    }
  }
}
