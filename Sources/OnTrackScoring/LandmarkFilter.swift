import Foundation
import OnTrackKinematics

/// The causal low-pass the scorer runs on landmark positions (`PointFilter`, a second-order
/// Butterworth at `defaultCutoff`) before measuring anything, the same offline and live.
public struct LandmarkFilter: Sendable {
  private var filter: PointFilter

  /// The cut-off OnTrack uses: human movement in rehabilitation exercises sits well below it,
  /// sensor noise mostly above.
  public static let defaultCutoff = 4.0

  public init(cutoff: Double = defaultCutoff, rate: Double) {
    filter = PointFilter(cutoff: cutoff, rate: rate, count: BodyLandmark.allCases.count)
  }

  public var cutoff: Double { filter.cutoff }

  /// Forgets the past: the next frame starts the filter again at rest.
  public mutating func restart() { filter.restart() }

  /// Filters one frame in place.
  public mutating func filter(_ frame: inout LandmarkFrame) {
    for k in 0..<frame.positions.count {
      frame.positions[k] = filter.filter(frame.positions[k], point: k)
    }
  }

  /// How late slow movement comes out, seconds.
  public var delay: Double { filter.delay }

  /// Output noise ÷ input noise, for white noise.
  public var noiseGain: Double { filter.noiseGain }

  /// Output noise ÷ input noise when the output is then averaged over `window` frames.
  public func noiseGain(averagingOver window: Int) -> Double {
    filter.noiseGain(averagingOver: window)
  }
}
