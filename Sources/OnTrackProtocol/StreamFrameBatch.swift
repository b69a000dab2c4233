/// Several stream frames in one WebSocket message (`Schemas/frame.schema.json`, the batch form):
///
/// ```json
/// { "frames": [ { "seq": 12, "t": 0.4, "values": [ … ] }, { "seq": 13, "t": 0.417, "values": [ … ] } ] }
/// ```
///
/// Each frame follows every rule of a frame sent alone (order, bounds, the rate cap) and is
/// taken, stored and acknowledged on its own; a refused frame is answered by its own
/// `rejected` message. What the batch saves is the server's work per message — reading it,
/// its WebSocket framing and the answer: the scored frames of a batch are answered together,
/// by one `frame` message for the last of them (`FrameResult.taken` says how many of the
/// batch were taken), after the batch's `rejected` and `repetition` messages.
///
/// A batch is one WebSocket message, so it is bounded by the server's message size (1 MiB; a
/// larger one closes the connection, 1009) as well as by `maximumFrames`.
///
/// A client pays for it in latency: a batch of `k` frames at `r` frames a second goes out when
/// its last frame is due, so its first frame is scored `(k − 1) / r` seconds later than it
/// would be alone (at 60 Hz: 50 ms for 4 frames). Live coaching stays comfortable up to about
/// 100 ms; a recording being uploaded can use the largest batches.
public struct StreamFrameBatch: Codable, Sendable, Equatable {
  public var frames: [StreamFrame]

  public init(frames: [StreamFrame]) {
    self.frames = frames
  }

  /// The most frames one message may carry; a larger batch is refused whole (`malformed`).
  public static let maximumFrames = 64

  /// `{"frames":[…]}` around frames already written as JSON (`StreamFrame.valuesJSON`).
  public static func json(frames: some Sequence<String>) -> String {
    var out = #"{"frames":["#
    var first = true
    for frame in frames {
      if !first { out += "," }
      first = false
      out += frame
    }
    return out + "]}"
  }

  /// What a stream message is: one frame, or a batch split into its frames' texts.
  public enum Split: Sendable, Equatable {
    /// Not a batch (its only key is not `frames`): a single frame, for the frame decoder.
    case single
    /// The batch's frames, each exactly as sent (still to be decoded and checked).
    case frames([String])
    /// A batch that cannot be taken: why, naming where.
    case refused(String)
  }

  /// Splits `text` into the frames of a batch without decoding them: one pass over the bytes
  /// that finds where each `{…}` element of the `frames` array ends (brackets counted outside
  /// JSON strings, escapes skipped), so a frame's own keys and numbers are read once, by the
  /// frame decoder. A message whose first key is `frames` is a batch: it must be exactly
  /// `{"frames": [ {…}, … ]}` with 1 … `maximumFrames` objects, or it is refused whole.
  public static func split(_ text: String) -> Split {
    var text = text
    return text.withUTF8 { bytes in split(bytes) }
  }

  static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> Split {
    var reader = Reader(bytes: bytes)
    guard reader.take(UInt8(ascii: "{")) else { return .single }
    reader.skipSpace()
    guard reader.takeWord(#""frames""#) else { return .single }
    guard reader.take(UInt8(ascii: ":")), reader.take(UInt8(ascii: "[")) else {
      return .refused("a batch's \"frames\" must be an array of frames (byte \(reader.i))")
    }
    if reader.take(UInt8(ascii: "]")) { return .refused("a batch with no frames") }
    var frames: [String] = []
    while true {
      reader.skipSpace()
      let start = reader.i
      guard reader.skipObject() else {
        return reader.i == start
          ? .refused("frame \(frames.count) of the batch is not a JSON object (byte \(start))")
          : .refused(
            "frame \(frames.count) of the batch (byte \(start)) does not end, closes a bracket it did not open, or nests more than 64 deep"
          )
      }
      guard frames.count < maximumFrames else {
        return .refused("more than \(maximumFrames) frames in one message")
      }
      frames.append(
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<reader.i]), as: UTF8.self))
      if reader.take(UInt8(ascii: ",")) { continue }
      guard reader.take(UInt8(ascii: "]")) else {
        return .refused(
          "expected ',' or ']' after frame \(frames.count - 1) of the batch (byte \(reader.i))")
      }
      break
    }
    guard reader.take(UInt8(ascii: "}")) else {
      return .refused("a batch has only the key \"frames\" (byte \(reader.i))")
    }
    reader.skipSpace()
    guard reader.i == bytes.count else {
      return .refused("text after the batch (byte \(reader.i))")
    }
    return .frames(frames)
  }

  /// A position in the text (a struct: no runtime exclusivity checks on it).
  private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    mutating func skipSpace() {
      while i < bytes.count {
        let b = bytes[i]
        guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
        i += 1
      }
    }

    /// Skips blanks, then `c` if it is next.
    mutating func take(_ c: UInt8) -> Bool {
      skipSpace()
      guard i < bytes.count, bytes[i] == c else { return false }
      i += 1
      return true
    }

    /// `word` if the text goes on with it.
    mutating func takeWord(_ word: StaticString) -> Bool {
      let count = word.utf8CodeUnitCount
      guard bytes.count - i >= count else { return false }
      let matches = word.withUTF8Buffer { w in
        for k in 0..<count where bytes[i + k] != w[k] { return false }
        return true
      }
      if matches { i += count }
      return matches
    }

    /// Moves past the `{…}` that starts here — brackets matched outside strings (each `}` or
    /// `]` must close its own kind; at most 64 deep), escapes skipped, nothing else checked —
    /// and returns true; false if there is no `{` here, it does not end, a bracket closes the
    /// wrong kind or it nests deeper (then `i` is past where it was).
    mutating func skipObject() -> Bool {
      guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { return false }
      // Bit d: the bracket open at depth d is `[` (1) or `{` (0).
      var kinds: UInt64 = 0
      var depth = 0
      var inString = false
      while i < bytes.count {
        let c = bytes[i]
        i += 1
        if inString {
          if c == UInt8(ascii: "\\") {
            i += 1
          } else if c == UInt8(ascii: "\"") {
            inString = false
          }
          continue
        }
        switch c {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
          guard depth < 64 else { return false }
          let square: UInt64 = c == UInt8(ascii: "[") ? 1 : 0
          kinds = (kinds & ~(1 << UInt64(depth))) | (square << UInt64(depth))
          depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
          guard depth > 0 else { return false }
          depth -= 1
          let square: UInt64 = c == UInt8(ascii: "]") ? 1 : 0
          guard (kinds >> UInt64(depth)) & 1 == square else { return false }
          if depth == 0 { return true }
        default: break
        }
      }
      return false
    }
  }
}
