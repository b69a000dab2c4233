import Foundation
import OnTrackKinematics
import OnTrackSimulation

/// Where the patient's motion comes from: a recording, a simulated patient, a live stream, a
/// camera. `PlaySession` asks it, once per display frame, for every frame due by now.
///
/// A source gives poses of its own `skeleton` with their stream times (seconds). To add one
/// (a camera, a sensor suit), implement this protocol; nothing else in the app changes.
public protocol PatientSource: AnyObject {
  /// The skeleton of the poses the source gives.
  var skeleton: Skeleton { get }
  /// Seconds the guide rests between repetitions, when the source knows the patient's rhythm.
  var guideRest: Double? { get }
  /// Gives every frame due by `time` (stream seconds) to `take`, in order (a pose and its
  /// time; the pose is only valid during the call), and writes into `shown` what the
  /// patient's avatar shows now. Returns `.ended` once the source has no more frames.
  func advance(to time: Double, shown: inout Pose, take: (Pose, Double) -> Void)
    -> PatientSourceStatus
  /// Starts again from the beginning, where that means something.
  func restart()
}

/// Whether a source goes on.
public enum PatientSourceStatus: Equatable, Sendable {
  case running
  /// No more frames; the words say why ("Session finished", "Camera disconnected").
  case ended(String)
}

extension PatientSource {
  public var guideRest: Double? { nil }
  public func restart() {}
}

/// A recording, replayed at its own rate.
public final class RecordingSource: PatientSource {
  public let clip: Clip
  private var frame = 0
  private var pose: Pose

  public init(_ clip: Clip) {
    self.clip = clip
    pose = clip.skeleton.restPose
  }

  public var skeleton: Skeleton { clip.skeleton }

  public func advance(to time: Double, shown: inout Pose, take: (Pose, Double) -> Void)
    -> PatientSourceStatus
  {
    while frame < clip.frameCount, Double(frame) * clip.frameTime <= time {
      clip.copyFrame(frame, into: &pose)
      take(pose, Double(frame) * clip.frameTime)
      frame += 1
    }
    clip.sample(at: min(time, clip.lastFrameTime), into: &shown)
    return frame >= clip.frameCount ? .ended("Set complete") : .running
  }

  public func restart() { frame = 0 }
}

/// The reference performed by a simulated patient (`PatientSimulator`).
public final class SimulatedPatientSource: PatientSource {
  private var simulator: PatientSimulator
  private var pose: Pose

  public init(reference: Clip, variation: PatientSimulator.Variation, seed: UInt64) {
    simulator = PatientSimulator(reference: reference, variation: variation, seed: seed)
    pose = reference.skeleton.restPose
  }

  public var skeleton: Skeleton { simulator.reference.skeleton }
  public var guideRest: Double? { simulator.variation.restSeconds }

  public func advance(to time: Double, shown: inout Pose, take: (Pose, Double) -> Void)
    -> PatientSourceStatus
  {
    while simulator.nextFrameTime <= time {
      let (frameTime, dropped) = simulator.nextFrame(into: &pose)
      guard !dropped else { continue }
      take(pose, frameTime)
      shown.copy(from: pose)
    }
    return .running
  }

  public func restart() { simulator.restart() }
}

/// Frames from a live stream (`ontrack play --connect`): channel values on the stream's
/// skeleton, shown and scored as they arrive.
public final class RemoteSource: PatientSource {
  public let feed: RemoteFeed
  private let decoder: ChannelDecoder
  private var batch: [(values: [Float], time: Double)] = []
  private var pose: Pose

  public init(_ feed: RemoteFeed) {
    self.feed = feed
    decoder = ChannelDecoder(skeleton: feed.skeleton)
    pose = feed.skeleton.restPose
  }

  public var skeleton: Skeleton { feed.skeleton }

  public func advance(to time: Double, shown: inout Pose, take: (Pose, Double) -> Void)
    -> PatientSourceStatus
  {
    let (ended, status) = feed.drain(into: &batch)
    for frame in batch {
      guard decoder.decode(frame.values, into: &pose) else { continue }
      take(pose, frame.time)
      shown.copy(from: pose)
    }
    return ended ? .ended(status) : .running
  }
}

extension PatientSource where Self == RecordingSource {
  /// A recording, replayed at its own rate.
  public static func take(_ clip: Clip) -> RecordingSource { RecordingSource(clip) }
}

extension PatientSource where Self == RemoteSource {
  /// Frames from a live stream.
  public static func remote(_ feed: RemoteFeed) -> RemoteSource { RemoteSource(feed) }
}
