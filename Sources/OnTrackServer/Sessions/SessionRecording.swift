import Foundation
import OnTrackKinematics

/// A session's stored frames as a clip: decoded on the session skeleton and resampled onto an
/// even grid at the stream's own (median) frame rate, so jittered or dropped frames become a
/// regular recording. Time 0 is the first frame.
enum SessionRecording {
  static func clip(of record: Store.SessionRecord, store: Store) throws -> Clip {
    let frames = try store.frames(session: record.id)
    let skeleton = try SessionSkeleton.decode(record.skeleton)
    guard frames.count >= 2 else {
      throw APIError.badRequest(
        "session \(record.id) has \(frames.count) frames; a recording needs 2 or more")
    }
    let decoder = ChannelDecoder(skeleton: skeleton)
    var intervals = zip(frames.dropFirst(), frames).map { $0.time - $1.time }.sorted()
    let step = intervals[intervals.count / 2]
    intervals = []
    guard step > 0, step.isFinite else {
      throw APIError.badRequest("session \(record.id) frames have no usable time step")
    }
    let start = frames[0].time
    let duration = frames[frames.count - 1].time - start
    let count = min(Int((duration / step).rounded(.down)) + 1, 1_000_000)
    let n = skeleton.count
    var rotations = [Quaternion](repeating: .identity, count: count * n)
    var translations = [SIMD3<Float>](repeating: .zero, count: count * n)
    var before = skeleton.restPose
    var after = skeleton.restPose
    var k = 0
    _ = decoder.decode(frames[0].channels, into: &before)
    _ = decoder.decode(frames[min(1, frames.count - 1)].channels, into: &after)
    for f in 0..<count {
      let t = start + Double(f) * step
      while k + 1 < frames.count - 1 && frames[k + 1].time <= t {
        k += 1
        _ = decoder.decode(frames[k].channels, into: &before)
        _ = decoder.decode(frames[k + 1].channels, into: &after)
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
