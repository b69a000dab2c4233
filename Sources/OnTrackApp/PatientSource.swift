import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
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
  /// Gives every frame due by `time` (stream seconds) to `take`, in order (a pose, its time,
  /// and for a keypoint source the landmarks it measured, which the scorer then reads instead
  /// of the pose's; all only valid during the call), and writes into `shown` what the
  /// patient's avatar shows now. Returns `.ended` once the source has no more frames.
  func advance(to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void)
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

  public func advance(
    to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void
  )
    -> PatientSourceStatus
  {
    while frame < clip.frameCount, Double(frame) * clip.frameTime <= time {
      clip.copyFrame(frame, into: &pose)
      take(pose, Double(frame) * clip.frameTime, nil)
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

  public func advance(
    to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void
  )
    -> PatientSourceStatus
  {
    while simulator.nextFrameTime <= time {
      let (frameTime, dropped) = simulator.nextFrame(into: &pose)
      guard !dropped else { continue }
      take(pose, frameTime, nil)
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

  public func advance(
    to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void
  )
    -> PatientSourceStatus
  {
    let (ended, status) = feed.drain(into: &batch)
    for frame in batch {
      guard decoder.decode(frame.values, into: &pose) else { continue }
      take(pose, frame.time, nil)
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

/// A keypoint recording (a camera's, a depth sensor's, markers'), solved: the avatar replays
/// the solved skeleton and the scorer reads the landmarks the solver placed, as
/// `ontrack score` does.
public final class KeypointRecordingSource: PatientSource {
  public let solved: KeypointTake.Solved
  private var frame = 0
  private var pose: Pose
  private var landmarks = LandmarkFrame()

  public init(_ solved: KeypointTake.Solved) {
    self.solved = solved
    pose = solved.clip.skeleton.restPose
  }

  public var skeleton: Skeleton { solved.clip.skeleton }

  public func advance(
    to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void
  ) -> PatientSourceStatus {
    let count = BodyLandmark.allCases.count
    let clip = solved.clip
    while frame < solved.times.count, solved.times[frame] <= time {
      let t = solved.times[frame]
      clip.sample(at: t, into: &pose)
      for l in 0..<count { landmarks.positions[l] = solved.landmarks[frame * count + l] }
      landmarks.untracked = solved.untracked[frame]
      take(pose, t, landmarks)
      frame += 1
    }
    clip.sample(at: min(time, clip.lastFrameTime), into: &shown)
    return frame >= solved.times.count ? .ended("Set complete") : .running
  }

  public func restart() { frame = 0 }
}

/// Keypoint frames arriving live (a camera helper): solved onto the canonical skeleton as
/// they come, shown, and scored from the solver's landmarks.
public final class LiveKeypointSource: PatientSource {
  /// One frame as the producer hands it over.
  public struct Frame: Sendable {
    public var time: Double
    public var points: [String: [Double]?]
    public var confidence: [String: Double]?
    public var layout: String?

    public init(
      time: Double, points: [String: [Double]?], confidence: [String: Double]?, layout: String?
    ) {
      self.time = time
      self.points = points
      self.confidence = confidence
      self.layout = layout
    }
  }

  public let skeleton: Skeleton
  private var stream: KeypointStream
  private let next: () -> (frames: [Frame], ended: String?)
  private var pose: Pose
  private var landmarks = LandmarkFrame()
  private var firstTime: Double?
  /// Frames refused (and why, the last one).
  public private(set) var refused = 0
  public private(set) var lastRefusal: String?

  /// - Parameter next: hands over the frames that arrived since the last call, and why the
  ///   producer stopped once it has.
  public init(
    layout: String?, next: @escaping () -> (frames: [Frame], ended: String?)
  ) throws {
    skeleton = CanonicalSkeleton.make()
    stream = try KeypointStream(skeleton: skeleton, layout: layout)
    self.next = next
    pose = skeleton.restPose
  }

  public func advance(
    to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void
  ) -> PatientSourceStatus {
    let (frames, ended) = next()
    for frame in frames {
      // Stream time starts with the first frame.
      let start = firstTime ?? frame.time
      firstTime = start
      let t = frame.time - start
      do {
        guard
          try stream.push(
            points: frame.points, confidence: frame.confidence, layout: frame.layout, time: t,
            into: &pose)
        else { continue }
      } catch {
        refused += 1
        lastRefusal = error.description
        continue
      }
      for l in 0..<landmarks.positions.count { landmarks.positions[l] = stream.solver.landmarks[l] }
      landmarks.untracked = stream.solver.untrackedLandmarks
      take(pose, t, landmarks)
      shown.copy(from: pose)
    }
    return ended.map { .ended($0) } ?? .running
  }
}
