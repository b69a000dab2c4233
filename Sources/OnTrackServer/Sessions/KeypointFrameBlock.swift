import OnTrackKinematics
import OnTrackScoring

/// How a keypoint session stores a frame: the canonical skeleton's channel values (the solved
/// pose, for replays, recordings and the avatar) followed by the landmarks the scorer read —
/// three floats per `BodyLandmark` (metres) and the unseen-landmark bits — so a restart
/// rebuilds the live scorer exactly, and reports plot what was scored. A frame in which
/// nothing could be solved yet stores −1 for the bits.
enum KeypointFrameBlock {
  static let width = 3 * BodyLandmark.allCases.count + 1

  /// Appends the block of `landmarks` (`nil`: nothing solved) to `channels`.
  static func append(
    _ landmarks: LandmarkFrame?, to channels: inout [Float]
  ) {
    let count = BodyLandmark.allCases.count
    for l in 0..<count {
      let p = landmarks?.positions[l] ?? .zero
      channels.append(p.x)
      channels.append(p.y)
      channels.append(p.z)
    }
    channels.append(landmarks.map { Float($0.untracked) } ?? -1)
  }

  /// Reads the block after `channelCount` pose values into `frame`; false if the frame has
  /// none or nothing was solved in it.
  static func read(_ channels: [Float], channelCount: Int, into frame: inout LandmarkFrame)
    -> Bool
  {
    guard channels.count == channelCount + width, let bits = channels.last, bits >= 0,
      bits < Float(1 << 24)
    else { return false }
    let count = BodyLandmark.allCases.count
    for l in 0..<count {
      let base = channelCount + 3 * l
      let p = SIMD3(channels[base], channels[base + 1], channels[base + 2])
      guard p.x.isFinite, p.y.isFinite, p.z.isFinite else { return false }
      frame.positions[l] = p
    }
    frame.untracked = UInt32(bits)
    return true
  }

  /// Decodes the pose part of a stored frame (the first `decoder.channelCount` values).
  static func decodePose(_ channels: [Float], decoder: ChannelDecoder, into pose: inout Pose)
    -> Bool
  {
    let count = decoder.channelCount
    guard channels.count >= count else { return false }
    return channels.withUnsafeBufferPointer { buffer in
      decoder.decode(UnsafeBufferPointer(rebasing: buffer[0..<count]), into: &pose)
    }
  }
}
