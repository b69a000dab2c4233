import Foundation
import OnTrackKinematics

/// Streams a reference repetition the way a patient would perform it, for demos, tests and
/// load tests: repetitions separated by rests, slower than shown, with less range, some
/// tracking noise, a compensation, jittered timestamps and dropped frames.
///
/// Deterministic for a given seed. `frame(at:)` and `nextFrame()` allocate nothing once the
/// simulator exists.
public struct PatientSimulator: Sendable {
  /// How the simulated patient departs from the reference.
  public struct Variation: Sendable, Equatable {
    /// Repetition duration ÷ reference duration (1.3 = 30 % slower).
    public var tempo: Double = 1
    /// Share of the reference's range of motion reached (0.7 = 70 %).
    public var range: Float = 1
    /// Standard deviation of joint-angle noise, degrees: white, independent every frame.
    public var noiseDegrees: Float = 0
    /// Standard deviation of slow joint-angle drift, degrees: noise with a correlation time of
    /// `driftSeconds` (a sensor's slowly wandering offsets, soft-tissue motion).
    public var driftDegrees: Float = 0
    /// Correlation time of the drift, seconds.
    public var driftSeconds: Double = 1
    /// Trunk lean added at the height of each repetition, degrees (positive: to the patient's
    /// right side, a typical hip-hike/side-bend compensation).
    public var trunkLeanDegrees: Float = 0
    /// Forward trunk bend held through the whole session, degrees (a stooped posture).
    public var stoopDegrees: Float = 0
    /// Probability that a frame is lost.
    public var dropRate: Double = 0
    /// Standard deviation of timestamp jitter, seconds.
    public var jitterSeconds: Double = 0
    /// Seconds of standing still between repetitions.
    public var restSeconds: Double = 1
    /// Perform with the other side (mirror the reference).
    public var otherSide = false
    /// Change sides every repetition (an exercise done on alternating sides): the first on the
    /// side `otherSide` says, the second on the other, and so on.
    public var alternatesSides = false

    public init() {}

    /// This variation, changing sides every repetition if `alternates` (what an exercise done
    /// on alternating sides asks of a simulated patient: `Exercise.alternates`).
    public func alternating(_ alternates: Bool) -> Variation {
      var variation = self
      variation.alternatesSides = alternates
      return variation
    }

    /// The named variations `ontrack simulate` and `play --simulate` offer.
    public static func named(_ name: String) -> Variation? {
      var v = Variation()
      switch name {
      case "none", "perfect": break
      case "slow": v.tempo = 1.5
      case "shallow": v.range = 0.6
      case "noisy": v.noiseDegrees = 4
      case "compensate": v.trunkLeanDegrees = 18
      case "drop": v.dropRate = 0.15
      case "demo":
        // The app's demo patient: a little slow, not quite reaching the full range, a little
        // noisy, and leaning the trunk as the movement gets hard.
        v.tempo = 1.2
        v.range = 0.88
        v.noiseDegrees = 1
        v.trunkLeanDegrees = 7
      default: return nil
      }
      return v
    }
  }

  /// The repetition performed first (mirrored if `variation.otherSide`).
  public let reference: Clip
  /// The repetition performed every second time when `variation.alternatesSides`: the
  /// mirror image of `reference` (else `reference` itself).
  public let alternateReference: Clip
  public let variation: Variation
  /// Stream frames per second.
  public let frameRate: Double
  private let trunk: Int?
  private var source: Pose
  private var start: Pose
  private var alternateStart: Pose
  private var rng: SplitMix64
  private var frameIndex = 0
  /// Per joint: the drift's current rotation vector (radians), an Ornstein–Uhlenbeck process.
  private var drift: [SIMD3<Float>]

  /// - Parameter reference: One repetition, starting and ending at rest.
  public init(reference: Clip, variation: Variation, frameRate: Double = 30, seed: UInt64 = 1) {
    let first = variation.otherSide ? reference.mirrored() : reference
    self.reference = first
    alternateReference = variation.alternatesSides ? first.mirrored() : first
    self.variation = variation
    self.frameRate = frameRate
    // The trunk joint: the first child of the root that leads towards the head.
    let skeleton = reference.skeleton
    trunk = skeleton.children(of: 0).first { child in
      var leadsToHead = false
      for (index, joint) in skeleton.joints.enumerated()
      where joint.name.lowercased().contains("head") {
        var j: Int? = index
        while let current = j, current != child { j = skeleton.joints[current].parent }
        if j == child { leadsToHead = true }
      }
      return leadsToHead
    }
    source = skeleton.restPose
    start = skeleton.restPose
    alternateStart = skeleton.restPose
    self.reference.copyFrame(0, into: &start)
    alternateReference.copyFrame(0, into: &alternateStart)
    rng = SplitMix64(seed: seed)
    drift = [SIMD3<Float>](repeating: .zero, count: skeleton.count)
  }

  /// Seconds one repetition takes, rest included.
  public var cycleSeconds: Double {
    reference.lastFrameTime * variation.tempo + variation.restSeconds
  }

  /// The pose at `time` seconds since the start, without noise, drops or jitter. Writes into
  /// `pose` (sized for the reference skeleton). Returns the phase within the repetition (0…1,
  /// or −1 while resting).
  @discardableResult
  public mutating func pose(at time: Double, into pose: inout Pose) -> Double {
    let cycle = cycleSeconds
    // The repetition under way (counting from 0) and the time into it, read once so that
    // the side and the phase agree at a cycle's boundary.
    let index = cycle > 0 && time.isFinite ? (time / cycle).rounded(.down) : 0
    let local = cycle > 0 && time.isFinite ? time - index * cycle : 0
    let moving = reference.lastFrameTime * variation.tempo
    let phase =
      local < variation.restSeconds ? -1 : min((local - variation.restSeconds) / moving, 1)
    // Every second repetition (and the rest before it) on the other side, if alternating.
    let other = variation.alternatesSides && index.truncatingRemainder(dividingBy: 2) != 0
    let performed = other ? alternateReference : reference
    performed.sample(at: max(phase, 0) * reference.lastFrameTime, into: &source)
    let n = reference.skeleton.count
    let range = variation.range
    let start = other ? alternateStart : self.start
    for j in 0..<n {
      pose.rotations[j] = Quaternion.slerp(start.rotations[j], source.rotations[j], t: range)
      pose.translations[j] =
        start.translations[j] + (source.translations[j] - start.translations[j]) * range
    }
    if let trunk, variation.stoopDegrees != 0 {
      // Bent forward at the hips, legs as they were: the root turns forward about its left
      // axis (X in a Y-up, Z-forward rig) and the legs turn back by as much.
      let bend = Quaternion(angle: variation.stoopDegrees * .pi / 180, axis: [1, 0, 0])
      pose.rotations[0] = bend * pose.rotations[0]
      let back = bend.conjugate
      for child in reference.skeleton.children(of: 0) where child != trunk {
        // The child's rotation is in the root's frame: undo the bend in world terms.
        let root = pose.rotations[0]
        pose.rotations[child] = root.conjugate * back * root * pose.rotations[child]
      }
    }
    if let trunk, variation.trunkLeanDegrees != 0, phase >= 0 {
      let amount = Float(sin(phase * .pi)) * variation.trunkLeanDegrees * .pi / 180
      // Lean about the root's forward axis (Z in a Y-up, Z-forward rig).
      pose.rotations[trunk] = Quaternion(angle: -amount, axis: [0, 0, 1]) * pose.rotations[trunk]
    }
    return phase
  }

  /// One stream frame: its timestamp (seconds, jittered) and pose, or `nil` pose if dropped.
  /// Frames come at `frameRate`.
  public mutating func nextFrame(into pose: inout Pose) -> (time: Double, dropped: Bool) {
    let nominal = Double(frameIndex) / frameRate
    frameIndex += 1
    let dropped = variation.dropRate > 0 && rng.unit() < variation.dropRate
    self.pose(at: nominal, into: &pose)
    if variation.noiseDegrees > 0 {
      let sigma = variation.noiseDegrees * .pi / 180
      for j in 0..<pose.count where !reference.skeleton.joints[j].channels.isEmpty {
        pose.rotations[j] = rng.jointNoise(pose.rotations[j], sigma: sigma)
      }
    }
    if variation.driftDegrees > 0 {
      // x ← a·x + √(1 − a²)·σ·n keeps the stationary standard deviation at σ per axis, with
      // a = exp(−Δt / τ).
      let a = Float(exp(-1 / (frameRate * max(variation.driftSeconds, 1e-3))))
      let b = (1 - a * a).squareRoot() * variation.driftDegrees * .pi / 180 / Float(3).squareRoot()
      for j in 0..<pose.count where !reference.skeleton.joints[j].channels.isEmpty {
        let n = SIMD3(Float(rng.gaussian()), Float(rng.gaussian()), Float(rng.gaussian()))
        drift[j] = drift[j] * a + n * b
        let angle = length(drift[j])
        if angle > 1e-9 {
          pose.rotations[j] = pose.rotations[j] * Quaternion(angle: angle, axis: drift[j] / angle)
        }
      }
    }
    var time = nominal
    if variation.jitterSeconds > 0 {
      // Jitter never reorders frames: at most 40 % of a frame either way.
      time += max(-0.4, min(0.4, rng.gaussian() * variation.jitterSeconds * frameRate)) / frameRate
    }
    return (time, dropped)
  }

  /// The nominal time (seconds, before jitter) of the next frame `nextFrame` gives.
  public var nextFrameTime: Double { Double(frameIndex) / frameRate }

  /// Restarts the stream from time zero.
  public mutating func restart() {
    frameIndex = 0
  }

  /// `repetitions` repetitions with their rests, and a last rest, as a recording at
  /// `frameRate` (dropped frames are kept: a recording has no gaps; jitter is not applied).
  public mutating func take(repetitions: Int) throws -> Clip {
    restart()
    let skeleton = reference.skeleton
    let seconds = Double(repetitions) * cycleSeconds + variation.restSeconds
    let frames = max(2, Int((seconds * frameRate).rounded()))
    var pose = skeleton.restPose
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    rotations.reserveCapacity(frames * skeleton.count)
    translations.reserveCapacity(frames * skeleton.count)
    for _ in 0..<frames {
      _ = nextFrame(into: &pose)
      rotations.append(contentsOf: pose.rotations)
      translations.append(contentsOf: pose.translations)
    }
    return try Clip(
      skeleton: skeleton, frameTime: 1 / frameRate, rotations: rotations,
      translations: translations)
  }
}

/// SplitMix64 random numbers (deterministic, no allocation).
public struct SplitMix64: Sendable {
  private var state: UInt64

  public init(seed: UInt64) {
    state = seed
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1).
  public mutating func unit() -> Double {
    Double(next() >> 11) / Double(1 << 53)
  }

  /// Standard normal (Box–Muller).
  public mutating func gaussian() -> Double {
    let u = max(unit(), 1e-12)
    let v = unit()
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
  }
}
