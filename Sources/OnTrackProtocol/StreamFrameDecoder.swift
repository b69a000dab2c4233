import Foundation
import OnTrackFormats
import OnTrackKinematics

/// Turns stream frames (JSON text, `StreamFrame`) into poses of one skeleton, validating every
/// number on the way: `seq` within 0 … 2⁵³, `t` finite and within ±2⁵³ s, values finite and
/// below 10⁷, quaternions of unit length, joints that exist. Every refusal is a `Rejection`
/// with its reason; nothing is half-applied in a way a later frame could see.
///
/// ```swift
/// let decoder = StreamFrameDecoder(skeleton: skeleton, maximumBytes: 64 * 1024)
/// var pose = skeleton.restPose, scratch: [Float] = []
/// let (seq, t, _) = try decoder.decode(text, into: &pose, scratch: &scratch)
/// ```
public struct StreamFrameDecoder: Sendable {
  public let skeleton: Skeleton
  public let channels: ChannelDecoder
  /// Largest accepted message, bytes.
  public let maximumBytes: Int

  public init(skeleton: Skeleton, maximumBytes: Int) {
    self.skeleton = skeleton
    self.channels = ChannelDecoder(skeleton: skeleton)
    self.maximumBytes = maximumBytes
  }

  /// Parses `text` into `pose`; returns the frame's sequence number and time.
  ///
  /// `{"seq", "t", "values"}` frames take a fast path (`ValuesFrameJSON`) that builds no JSON
  /// tree; everything else, and anything the fast path does not accept, goes through
  /// `JSONDecoder`, with the same checks and the same reasons either way.
  ///
  /// `channelValues` is true when the frame carried channel values (`"values"`): `scratch`
  /// then holds them, exactly as received, and `pose` is their decoding — a caller storing the
  /// frame keeps these rather than encoding the pose again.
  public func decode(_ text: String, into pose: inout Pose, scratch: inout [Float])
    throws(Rejection)
    -> (seq: Int, time: Double, channelValues: Bool)
  {
    guard text.utf8.count <= maximumBytes else {
      throw Rejection(
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
      return (header.seq, header.time, true)
    }
    let message = try Self.frame(text)
    try check(seq: message.seq, time: message.t)
    guard message.keypoints == nil else {
      throw Rejection(
        reason: .malformed,
        message:
          "this session's skeleton takes values, rotations or euler; create a session on the 'keypoints' skeleton to send keypoints",
        seq: message.seq)
    }
    let forms = [message.values != nil, message.rotations != nil, message.euler != nil].filter {
      $0
    }.count
    guard forms == 1 else {
      throw Rejection(
        reason: .malformed, message: "a frame needs exactly one of values, rotations, euler",
        seq: message.seq)
    }
    do {
      try fill(message, into: &pose, scratch: &scratch)
    } catch var rejection {
      rejection.seq = message.seq
      throw rejection
    }
    return (message.seq, message.t, message.values != nil)
  }

  /// Parses a `keypoints` frame (for a session on the `keypoints` skeleton): size, JSON, `seq`
  /// and `t` checked; the points are the caller's (`KeypointStream`).
  public func decodeKeypoints(_ text: String) throws(Rejection) -> StreamFrame {
    guard text.utf8.count <= maximumBytes else {
      throw Rejection(
        reason: .oversized, message: "frame of \(text.utf8.count) bytes; at most \(maximumBytes)")
    }
    let message = try Self.frame(text)
    try check(seq: message.seq, time: message.t)
    guard message.keypoints != nil, message.values == nil, message.rotations == nil,
      message.euler == nil
    else {
      throw Rejection(
        reason: .malformed,
        message: "this session takes keypoints frames ({\"seq\", \"t\", \"keypoints\": {…}})",
        seq: message.seq)
    }
    return message
  }

  /// `text` decoded as a `StreamFrame` by `JSONDecoder`; refused (`malformed`) if it is not
  /// one, or if an object in it repeats a name (`JSONDuplicateKeys`): decoders disagree on
  /// which of the two values counts, and the frame must mean the same to every reader.
  static func frame(_ text: String) throws(Rejection) -> StreamFrame {
    let message: StreamFrame
    do {
      message = try JSONDecoder().decode(StreamFrame.self, from: Data(text.utf8))
    } catch {
      throw Rejection(reason: .malformed, message: "not a frame: \(Self.describe(error))")
    }
    if let repeated = JSONDuplicateKeys.first(in: text) {
      throw Rejection(
        reason: .malformed, message: "not a frame: \(repeated)",
        seq: repeated.key == "seq" && repeated.path == "$" ? nil : message.seq)
    }
    return message
  }

  /// The frame's `seq`, read without parsing the rest: the first `"seq"` key followed by `:`
  /// and a whole number of at most 16 digits within 0 … 2⁵³. For answering a frame refused
  /// before it is decoded (the rate cap), so the client knows which one to send again; `nil`
  /// when no such key is found.
  public static func peekSeq(_ text: String) -> Int? {
    var text = text
    return text.withUTF8 { bytes -> Int? in
      let key = "\"seq\"".utf8
      /// The first index from `i` on that is not JSON whitespace.
      func skipSpace(_ i: Int) -> Int {
        var i = i
        while i < bytes.count {
          switch bytes[i] {
          case 0x20, 0x09, 0x0A, 0x0D: i += 1
          default: return i
          }
        }
        return i
      }
      var i = 0
      while i + key.count <= bytes.count {
        defer { i += 1 }
        guard bytes[i..<(i + key.count)].elementsEqual(key) else { continue }
        var j = skipSpace(i + key.count)
        guard j < bytes.count, bytes[j] == UInt8(ascii: ":") else { continue }
        j = skipSpace(j + 1)
        var value = 0
        var digits = 0
        while j < bytes.count, digits < 17, bytes[j] >= 0x30, bytes[j] <= 0x39 {
          value = value * 10 + Int(bytes[j] - 0x30)
          digits += 1
          j += 1
        }
        if digits > 0, digits <= 16, value <= StreamFrame.maximumSeq { return value }
      }
      return nil
    }
  }

  private func check(seq: Int, time: Double) throws(Rejection) {
    guard seq >= 0, seq <= StreamFrame.maximumSeq else {
      throw Rejection(
        reason: .malformed, message: "seq must be 0 … 2^53, not \(seq)",
        seq: seq >= 0 && seq <= StreamFrame.maximumSeq ? seq : nil)
    }
    guard time.isFinite else {
      throw Rejection(reason: .nonFinite, message: "t is not finite", seq: seq)
    }
    guard abs(time) <= Double(StreamFrame.maximumSeq) else {
      throw Rejection(reason: .malformed, message: "t must be within ±2^53 seconds", seq: seq)
    }
  }

  /// Checks and decodes `count` channel values already in `scratch`.
  private func decodeValues(count: Int, into pose: inout Pose, scratch: [Float])
    throws(Rejection)
  {
    guard count == channels.channelCount else {
      throw Rejection(
        reason: .wrongValueCount,
        message: "\(count) values; the session skeleton has \(channels.channelCount) channels")
    }
    for k in 0..<count {
      let v = scratch[k]
      guard v.isFinite, abs(v) < 1e7 else {
        throw Rejection(reason: .nonFinite, message: "value \(k) is \(v)")
      }
    }
    guard channels.decode(scratch, into: &pose) else {
      throw Rejection(reason: .nonFinite, message: "values out of range")
    }
  }

  private func fill(_ message: StreamFrame, into pose: inout Pose, scratch: inout [Float])
    throws(Rejection)
  {
    if let values = message.values {
      guard values.count == channels.channelCount else {
        throw Rejection(
          reason: .wrongValueCount,
          message:
            "\(values.count) values; the session skeleton has \(channels.channelCount) channels")
      }
      for (k, v) in values.enumerated() {
        guard v.isFinite, abs(v) < 1e7 else {
          throw Rejection(reason: .nonFinite, message: "value \(k) is \(v)")
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
        throw Rejection(reason: .nonFinite, message: "root must be 3 finite numbers (metres)")
      }
      pose.translations[0] = SIMD3(Float(root[0]), Float(root[1]), Float(root[2]))
    }
    if let rotations = message.rotations {
      for (name, q) in rotations {
        let j = try joint(name)
        guard q.count == 4, q.allSatisfy(\.isFinite) else {
          throw Rejection(
            reason: .nonFinite, message: "rotation of '\(name)' must be 4 finite numbers")
        }
        let quaternion = Quaternion(x: Float(q[0]), y: Float(q[1]), z: Float(q[2]), w: Float(q[3]))
        guard quaternion.length > 0.5, quaternion.length < 2 else {
          throw Rejection(
            reason: .malformed, message: "rotation of '\(name)' is not a unit quaternion")
        }
        pose.rotations[j] = quaternion.normalized
      }
    }
    if let euler = message.euler {
      guard let order = EulerOrder(rawValue: euler.order.lowercased()) else {
        throw Rejection(reason: .malformed, message: "unknown Euler order '\(euler.order)'")
      }
      for (name, angles) in euler.degrees {
        let j = try joint(name)
        guard angles.count == 3, angles.allSatisfy({ $0.isFinite && abs($0) < 1e5 }) else {
          throw Rejection(
            reason: .nonFinite, message: "angles of '\(name)' must be 3 finite numbers")
        }
        pose.rotations[j] = Quaternion(
          eulerAngles: SIMD3(angles[0], angles[1], angles[2]) * (.pi / 180), order: order)
      }
    }
  }

  private func joint(_ name: String) throws(Rejection) -> Int {
    guard let j = skeleton.index(of: name), !skeleton.joints[j].isEndSite else {
      throw Rejection(
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
