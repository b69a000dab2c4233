import Foundation

/// Finds, frame by frame, where a patient begins to move: the first frame whose `reach`
/// (`RepetitionFinding.reach`) from the starting posture is at least
/// `RepetitionFinding.onsetThreshold`. Both are read through a short average, so that a still
/// patient seen through a camera's jitter does not reach the onset of a small movement: each
/// measure column goes through a causal exponential average, `s ← s + (x − s)(1 − e^(−Δt/τ))`
/// with τ = `smoothingSeconds` (an unseen value, NaN, leaves it), and the starting posture is
/// the mean of the first `restSeconds` of those averages. Measured on a still patient through
/// 1 cm of jitter (30 s): the largest reach ÷ the onset threshold fell from 1.59 to 0.96 on
/// the lateral tilt and from 1.14 to 0.80 on the trunk rotation (read frame by frame from a
/// starting posture of three frames, the jitter alone began the movement), while a repetition
/// still reaches 3.5–3.7 times the threshold. Offline (`RepetitionFinding.onset(in:)`) and
/// live (`StreamingScorer`) push the same frames through it; allocation-free after init.
public struct OnsetDetector: Sendable {
  /// Time constant of the average each frame is read through, seconds.
  public static let smoothingSeconds = 0.25
  /// The starting posture: the average over this long from the first frame, seconds.
  public static let restSeconds = 0.5

  private var smoothed: [Float]
  private var rest: [Float]
  private let gain: Float
  private let restFrames: Int
  /// Frames pushed since the start (or `reset`).
  public private(set) var count = 0
  /// The frame (counted from the start) the movement began at, once found.
  public private(set) var onset: Int?

  public init(frameTime: Double) {
    smoothed = [Float](repeating: .nan, count: FeatureLayout.measureWidth)
    rest = [Float](repeating: 0, count: FeatureLayout.measureWidth)
    gain = frameTime > 0 ? Float(1 - exp(-frameTime / Self.smoothingSeconds)) : 1
    restFrames = frameTime > 0 ? max(1, Int((Self.restSeconds / frameTime).rounded())) : 1
  }

  /// Starts again: the next frame is the first.
  public mutating func reset() {
    for c in smoothed.indices { smoothed[c] = .nan }
    for c in rest.indices { rest[c] = 0 }
    count = 0
    onset = nil
  }

  /// Reads the next feature frame (at least `FeatureLayout.measureWidth` values).
  public mutating func push(_ frame: UnsafeBufferPointer<Float>, finding: RepetitionFinding) {
    guard onset == nil else { return }
    let n = count
    count += 1
    let gain = self.gain
    let restFrames = self.restFrames
    smoothed.withUnsafeMutableBufferPointer { s in
      for c in 0..<FeatureLayout.measureWidth {
        let x = frame[c]
        if s[c].isNaN {
          s[c] = x
        } else if !x.isNaN {
          s[c] += (x - s[c]) * gain
        }
      }
      let average = UnsafeBufferPointer(s)
      rest.withUnsafeMutableBufferPointer { r in
        if n < restFrames {
          RepetitionFinding.accumulateRest(r, frame: average, n: n + 1)
        } else if finding.reach(average, rest: UnsafeBufferPointer(r)) >= finding.onsetThreshold {
          onset = n
        }
      }
    }
  }
}
