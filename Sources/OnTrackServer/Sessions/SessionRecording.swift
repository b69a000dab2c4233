import Foundation
import OnTrackKinematics

/// A session's stored frames as a clip: decoded on the session skeleton and resampled onto an
/// even grid at the stream's own (median) frame rate, so jittered or dropped frames become a
/// regular recording. Time 0 is the first frame.
enum SessionRecording {
  /// At most this many grid frames per stored frame: a long gap in a stream's clock (a client
  /// may send any `t`) is not turned into a huge recording.
  static let maximumFramesPerStored = 4

  static func clip(of record: SessionRecord, store: any FrameStore) async throws -> Clip {
    let frames = try await store.frames(session: record.id, from: 0)
    return try clip(of: frames, record: record)
  }

  static func clip(of frames: [StoredFrame], record: SessionRecord) throws -> Clip {
    let skeleton = try SessionSkeleton.decode(record.skeleton)
    guard frames.count >= 2 else {
      throw SessionError.unusable(
        "session \(record.id) has \(frames.count) frames; a recording needs 2 or more")
    }
    let decoder = ChannelDecoder(skeleton: skeleton)
    let intervals = zip(frames.dropFirst(), frames).map { $0.time - $1.time }.sorted()
    let step = intervals[intervals.count / 2]
    let start = frames[0].time
    let duration = frames[frames.count - 1].time - start
    // Counted in Double: a hostile clock cannot overflow an Int.
    let wanted = (duration / step).rounded(.down) + 1
    let limit = Double(frames.count * maximumFramesPerStored)
    guard step > 0, step.isFinite, wanted.isFinite, wanted <= limit else {
      throw SessionError.unusable(
        "session \(record.id)'s frame times have no usable step (gaps far longer than the frame interval)"
      )
    }
    let count = Int(wanted)
    let n = skeleton.count
    var rotations = [Quaternion](repeating: .identity, count: count * n)
    var translations = [SIMD3<Float>](repeating: .zero, count: count * n)
    var before = skeleton.restPose
    var after = skeleton.restPose
    var k = 0
    _ = KeypointFrameBlock.decodePose(frames[0].channels, decoder: decoder, into: &before)
    _ = KeypointFrameBlock.decodePose(frames[1].channels, decoder: decoder, into: &after)
    for f in 0..<count {
      let t = start + Double(f) * step
      while k + 1 < frames.count - 1 && frames[k + 1].time <= t {
        k += 1
        _ = KeypointFrameBlock.decodePose(frames[k].channels, decoder: decoder, into: &before)
        _ = KeypointFrameBlock.decodePose(frames[k + 1].channels, decoder: decoder, into: &after)
      }
      let span = frames[k + 1].time - frames[k].time
      let w = Float(span > 0 ? min(max((t - frames[k].time) / span, 0), 1) : 0)
      for j in 0..<n {
        rotations[f * n + j] = Quaternion.slerp(before.rotations[j], after.rotations[j], t: w)
        translations[f * n + j] =
          before.translations[j] + (after.translations[j] - before.translations[j]) * w
      }
    }
    return try Clip(
      skeleton: skeleton, frameTime: step, rotations: rotations, translations: translations)
  }
}
