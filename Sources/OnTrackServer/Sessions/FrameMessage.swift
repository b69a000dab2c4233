import Foundation
import OnTrackFormats
import OnTrackKinematics

/// One incoming frame in OnTrack's JSON stream schema (`Schemas/frame.schema.json`):
///
/// ```json
/// { "seq": 12, "t": 0.4, "values": [ … ] }
/// { "seq": 13, "t": 0.433, "rotations": { "Hips": [0, 0, 0, 1], … }, "root": [0, 0.93, 0] }
/// { "seq": 14, "t": 0.466, "euler": { "order": "zxy", "degrees": { "LeftArm": [10, 80, 0] } } }
/// ```
///
/// `seq` counts frames (strictly increasing), `t` is seconds (strictly increasing). Exactly one
/// of `values` (the session skeleton's channel values, degrees and its length unit, in BVH
/// channel order), `rotations` (local quaternions x, y, z, w per joint name) or `euler` (local
/// Euler angles in degrees per joint name, intrinsic `order`). `root` (metres) moves the root
/// for the named-joint forms. Joints not named keep their rest pose.
struct FrameMessage: Decodable {
  var seq: Int
  var t: Double
  var values: [Double]?
  var rotations: [String: [Double]]?
  var euler: EulerFrame?
  var root: [Double]?

  struct EulerFrame: Decodable {
    var order: String
    var degrees: [String: [Double]]
  }
}

/// A frame rejected before scoring, with the reason to count and the words to log and send.
struct FrameRejection: Error, Sendable {
  var reason: RejectionReason
  var message: String
  var seq: Int?
}

/// Turns frame messages into poses of one skeleton, validating everything on the way.
struct FrameDecoder: Sendable {
  let skeleton: Skeleton
  let channels: ChannelDecoder
  /// Largest accepted message, bytes.
  let maximumBytes: Int

  init(skeleton: Skeleton, maximumBytes: Int) {
    self.skeleton = skeleton
    self.channels = ChannelDecoder(skeleton: skeleton)
    self.maximumBytes = maximumBytes
  }

  /// Parses `text` into `pose`; returns the frame's sequence number and time.
  ///
  /// `{"seq", "t", "values"}` frames take a fast path (`ValuesFrameJSON`) that builds no JSON
  /// tree; everything else, and anything the fast path does not accept, goes through
  /// `JSONDecoder`, with the same checks and the same reasons either way.
  func decode(_ text: String, into pose: inout Pose, scratch: inout [Float]) throws(FrameRejection)
    -> (seq: Int, time: Double)
  {
    guard text.utf8.count <= maximumBytes else {
      throw FrameRejection(
        reason: .oversized, message: "frame of \(text.utf8.count) bytes; at most \(maximumBytes)")
    }
    if scratch.count != channels.channelCount {
      scratch = [Float](repeating: 0, count: channels.channelCount)
    }
    var utf8 = text
    let header = utf8.withUTF8 { ValuesFrameJSON.parse($0, into: &scratch) }
    if let header {
      try check(seq: header.seq, time: header.time)
      do {
        try decodeValues(count: header.count, into: &pose, scratch: scratch)
      } catch var rejection {
        rejection.seq = header.seq
        throw rejection
      }
      return (header.seq, header.time)
    }
    let message: FrameMessage
    do {
      message = try JSONDecoder().decode(FrameMessage.self, from: Data(text.utf8))
    } catch {
      throw FrameRejection(reason: .malformed, message: "not a frame: \(Self.describe(error))")
    }
    try check(seq: message.seq, time: message.t)
    let forms = [message.values != nil, message.rotations != nil, message.euler != nil].filter {
      $0
    }.count
    guard forms == 1 else {
      throw FrameRejection(
        reason: .malformed, message: "a frame needs exactly one of values, rotations, euler",
        seq: message.seq)
    }
    do {
      try fill(message, into: &pose, scratch: &scratch)
    } catch var rejection {
      rejection.seq = message.seq
      throw rejection
    }
    return (message.seq, message.t)
  }

  private func check(seq: Int, time: Double) throws(FrameRejection) {
    guard seq >= 0 else {
      throw FrameRejection(reason: .malformed, message: "seq must be ≥ 0", seq: seq)
    }
    guard time.isFinite else {
      throw FrameRejection(reason: .nonFinite, message: "t is not finite", seq: seq)
    }
  }

  /// Checks and decodes `count` channel values already in `scratch`.
  private func decodeValues(count: Int, into pose: inout Pose, scratch: [Float])
    throws(FrameRejection)
  {
    guard count == channels.channelCount else {
      throw FrameRejection(
        reason: .wrongValueCount,
        message: "\(count) values; the session skeleton has \(channels.channelCount) channels")
    }
    for k in 0..<count {
      let v = scratch[k]
      guard v.isFinite, abs(v) < 1e7 else {
        throw FrameRejection(reason: .nonFinite, message: "value \(k) is \(v)")
      }
    }
    guard channels.decode(scratch, into: &pose) else {
      throw FrameRejection(reason: .nonFinite, message: "values out of range")
    }
  }

  private func fill(_ message: FrameMessage, into pose: inout Pose, scratch: inout [Float])
    throws(FrameRejection)
  {
    if let values = message.values {
      guard values.count == channels.channelCount else {
        throw FrameRejection(
          reason: .wrongValueCount,
          message:
            "\(values.count) values; the session skeleton has \(channels.channelCount) channels")
      }
      for (k, v) in values.enumerated() {
        guard v.isFinite, abs(v) < 1e7 else {
          throw FrameRejection(reason: .nonFinite, message: "value \(k) is \(v)")
        }
        scratch[k] = Float(v)
      }
      try decodeValues(count: values.count, into: &pose, scratch: scratch)
      return
    }
    // Named joints: start from the rest pose.
    for j in 0..<skeleton.count {
      pose.rotations[j] = .identity
      pose.translations[j] = skeleton.joints[j].offset
    }
    if let root = message.root {
      guard root.count == 3, root.allSatisfy({ $0.isFinite && abs($0) < 1e4 }) else {
        throw FrameRejection(reason: .nonFinite, message: "root must be 3 finite numbers (metres)")
      }
      pose.translations[0] = SIMD3(Float(root[0]), Float(root[1]), Float(root[2]))
    }
    if let rotations = message.rotations {
      for (name, q) in rotations {
        let j = try joint(name)
        guard q.count == 4, q.allSatisfy(\.isFinite) else {
          throw FrameRejection(
            reason: .nonFinite, message: "rotation of '\(name)' must be 4 finite numbers")
        }
        let quaternion = Quaternion(x: Float(q[0]), y: Float(q[1]), z: Float(q[2]), w: Float(q[3]))
        guard quaternion.length > 0.5, quaternion.length < 2 else {
          throw FrameRejection(
            reason: .malformed, message: "rotation of '\(name)' is not a unit quaternion")
        }
        pose.rotations[j] = quaternion.normalized
      }
    }
    if let euler = message.euler {
      guard let order = EulerOrder(rawValue: euler.order.lowercased()) else {
        throw FrameRejection(reason: .malformed, message: "unknown Euler order '\(euler.order)'")
      }
      for (name, angles) in euler.degrees {
        let j = try joint(name)
        guard angles.count == 3, angles.allSatisfy({ $0.isFinite && abs($0) < 1e5 }) else {
          throw FrameRejection(
            reason: .nonFinite, message: "angles of '\(name)' must be 3 finite numbers")
        }
        pose.rotations[j] = Quaternion(
          eulerAngles: SIMD3(angles[0], angles[1], angles[2]) * (.pi / 180), order: order)
      }
    }
  }

  private func joint(_ name: String) throws(FrameRejection) -> Int {
    guard let j = skeleton.index(of: name), !skeleton.joints[j].isEndSite else {
      throw FrameRejection(
        reason: .unknownJoint,
        message: "unknown joint '\(name.prefix(60))' for this session's skeleton")
    }
    return j
  }

  static func describe(_ error: any Error) -> String {
    if case DecodingError.keyNotFound(let key, _) = error { return "missing '\(key.stringValue)'" }
    if case DecodingError.typeMismatch(_, let context) = error {
      return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
    }
    if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
    return "invalid JSON"
  }
}
