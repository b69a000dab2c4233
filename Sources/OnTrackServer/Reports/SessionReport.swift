import Foundation
import Hummingbird
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring

/// What a therapist reads about a session: who did what and when, every repetition's score and
/// cues, the primary measures over time against the reference's, and the range of motion
/// reached. Angles in degrees, times in seconds of the stream's clock.
struct SessionReport: Codable, Sendable, ResponseEncodable {
  struct SessionInfo: Codable, Sendable {
    var id: String
    var patient: String
    var therapist: String?
    var exercise: String
    var exerciseName: String
    var exerciseVersion: Int
    var created: Double
    var finished: Double?
    var frames: Int
    var firstTime: Double?
    var lastTime: Double?
    var rejected: [String: Int]
  }

  /// One measure over time: the patient's value, and the reference's stretched over each
  /// repetition (null between repetitions). The patient's measure is on the side they worked.
  struct MeasureSeries: Codable, Sendable {
    var measure: String
    var referenceMeasure: String
    var patient: [Double]
    var reference: [Double?]
  }

  struct Series: Codable, Sendable {
    /// Time of the first sample, seconds.
    var start: Double
    /// Seconds between samples.
    var step: Double
    var measures: [MeasureSeries]
  }

  /// Range of motion of one measure, mean over the repetitions, degrees.
  struct RangeOfMotion: Codable, Sendable {
    var measure: String
    var reached: Double
    var reference: Double
  }

  var session: SessionInfo
  var result: TakeResult?
  var series: Series?
  var rangeOfMotion: [RangeOfMotion]

  /// The most samples a plotted series keeps (longer sessions are thinned evenly).
  static let maximumSamples = 1500

  static func build(_ record: SessionRecord, hub: SessionHub) async throws -> SessionReport {
    let (exercise, _) = try await hub.library.exercise(
      id: record.exercise, version: record.exerciseVersion)
    let frames = try await hub.store.frames(session: record.id, from: 0)
    let result = try await hub.result(record)
    let rejected = hub.rejectedCounts(record)
    let info = SessionInfo(
      id: record.id, patient: record.patient, therapist: record.therapist,
      exercise: record.exercise, exerciseName: exercise.definition.name,
      exerciseVersion: record.exerciseVersion, created: record.created,
      finished: record.finished, frames: frames.count, firstTime: frames.first?.time,
      lastTime: frames.last?.time, rejected: rejected)
    var rangeOfMotion: [RangeOfMotion] = []
    if let result, !result.repetitions.isEmpty {
      for (k, measure) in result.repetitions[0].measures.enumerated() {
        let reps = result.repetitions.compactMap {
          $0.measures.indices.contains(k) ? $0.measures[k] : nil
        }
        rangeOfMotion.append(
          RangeOfMotion(
            measure: measure.measure,
            reached: reps.map(\.rangeOfMotion).reduce(0, +) / Double(reps.count),
            reference: reps.map(\.referenceRangeOfMotion).reduce(0, +) / Double(reps.count)))
      }
    }
    let series = try measureSeries(
      frames: frames, record: record, exercise: exercise, result: result)
    return SessionReport(
      session: info, result: result, series: series, rangeOfMotion: rangeOfMotion)
  }

  private static func measureSeries(
    frames: [StoredFrame], record: SessionRecord, exercise: Exercise,
    result: TakeResult?
  ) throws -> Series? {
    guard frames.count >= 2 else { return nil }
    let skeleton = try SessionSkeleton.decode(record.skeleton)
    let body = try BodyModel(skeleton: skeleton)
    let decoder = ChannelDecoder(skeleton: skeleton)
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var landmarks: [LandmarkFrame] = []
    landmarks.reserveCapacity(frames.count)
    var frame = LandmarkFrame()
    let keypoints = SessionSkeleton.keypoints(record.skeleton) != nil
    var turn: Quaternion?
    for stored in frames {
      // A keypoint session's frames hold the landmarks that were scored.
      if keypoints,
        KeypointFrameBlock.read(
          stored.channels, channelCount: decoder.channelCount, into: &frame)
      {
        landmarks.append(frame)
        continue
      }
      _ = KeypointFrameBlock.decodePose(stored.channels, decoder: decoder, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      // As the live scorer did: a Z-up rig stood up from its first frame.
      if turn == nil {
        turn = body.upright(firstFrame: world, like: exercise.startPosture)
      }
      frame.update(body: body, world: world, turn: turn ?? .identity)
      frame.untracked = 0
      landmarks.append(frame)
    }
    let step = exercise.frameTime
    let features = ClipFeatures.features(
      landmarks: landmarks, times: frames.map(\.time), for: exercise)
    guard features.count > 0 else { return nil }
    let stride = max(1, (features.count + maximumSamples - 1) / maximumSamples)
    let start = frames[0].time
    let repetitions = result?.repetitions ?? []
    let mirrored = result?.mirrored ?? false
    var measures: [MeasureSeries] = []
    for scored in exercise.measures {
      let own = mirrored ? scored.measure.mirrored : scored.measure
      var patient: [Double] = []
      var reference: [Double?] = []
      for k in Swift.stride(from: 0, to: features.count, by: stride) {
        let time = start + Double(k) * step
        patient.append(own.degrees(in: features, frame: k))
        if let repetition = repetitions.first(where: { $0.startTime <= time && time <= $0.endTime })
        {
          let span = max(repetition.endTime - repetition.startTime, step)
          let u = (time - repetition.startTime) / span
          let r = min(
            max(Int((u * Double(exercise.reference.count - 1)).rounded()), 0),
            exercise.reference.count - 1)
          reference.append(scored.measure.degrees(in: exercise.reference, frame: r))
        } else {
          reference.append(nil)
        }
      }
      measures.append(
        MeasureSeries(
          measure: own.description, referenceMeasure: scored.measure.description,
          patient: patient, reference: reference))
    }
    return Series(start: start, step: step * Double(stride), measures: measures)
  }
}

extension TakeResult: ResponseEncodable {}
