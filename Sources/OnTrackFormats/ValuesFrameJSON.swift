/// The fast path for the commonest stream frame, `{"seq": N, "t": T, "values": [v1, …, vn]}`
/// (OnTrack's frame schema, `Schemas/frame.schema.json`), read without building a JSON tree.
///
/// Strict: exactly the keys `seq`, `t` and `values`, each once, in any order, with JSON
/// whitespace; `seq` a JSON integer, `t` and the values JSON numbers. Anything else (another
/// key, a string, an escape, a malformed number) returns `nil` so the caller falls back to a
/// full JSON decoder, which gives the precise error. Values go into a caller-owned buffer.
public enum ValuesFrameJSON {
  public struct Header: Sendable, Equatable {
    public var seq: Int
    public var time: Double
    /// Numbers in the `values` array (all written to the buffer when it is large enough).
    public var count: Int

    public init(seq: Int, time: Double, count: Int) {
      self.seq = seq
      self.time = time
      self.count = count
    }
  }

  /// Parses `bytes` and writes the values into `values` (which keeps its size; numbers beyond
  /// it are counted, not stored). Returns `nil` if the text is not exactly this shape.
  ///
  /// One pass: each number is checked against JSON's grammar and read in the same pass
  /// (Clinger's fast path, `DecimalParser.fastValue`; the rare number it does not cover is read
  /// again by `DecimalParser`). The reader is a struct, so its position needs no runtime
  /// exclusivity checks (nested functions capturing a local did, at a cost of a third of the
  /// parse).
  public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into values: inout [Float])
    -> Header?
  {
    var reader = Reader(bytes: bytes)
    guard reader.take(UInt8(ascii: "{")) else { return nil }
    var seq: Int?
    var time: Double?
    var count: Int?
    for field in 0..<3 {
      if field > 0 { guard reader.take(UInt8(ascii: ",")) else { return nil } }
      guard let key = reader.key() else { return nil }
      switch key {
      case .seq:
        guard seq == nil, let (v, integer) = reader.number(), integer, abs(v) < 9e15 else {
          return nil
        }
        seq = Int(v)
      case .t:
        guard time == nil, let (v, _) = reader.number() else { return nil }
        time = v
      case .values:
        guard count == nil, reader.take(UInt8(ascii: "[")) else { return nil }
        var k = 0
        if !reader.take(UInt8(ascii: "]")) {
          while true {
            guard let (v, _) = reader.number() else { return nil }
            if k < values.count { values[k] = Float(v) }
            k += 1
            if reader.take(UInt8(ascii: ",")) { continue }
            guard reader.take(UInt8(ascii: "]")) else { return nil }
            break
          }
        }
        count = k
      }
    }
    guard reader.take(UInt8(ascii: "}")) else { return nil }
    reader.skipSpace()
    guard reader.atEnd, let seq, let time, let count else { return nil }
    return Header(seq: seq, time: time, count: count)
  }

  private enum Key {
    case seq, t, values
  }

  /// A position in the text and what can be read there.
  private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    var atEnd: Bool { i == bytes.count }

    @inline(__always)
    mutating func skipSpace() {
      while i < bytes.count {
        let b = bytes[i]
        guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
        i += 1
      }
    }

    /// Skips blanks, then `c` if it is next.
    @inline(__always)
    mutating func take(_ c: UInt8) -> Bool {
      skipSpace()
      guard i < bytes.count, bytes[i] == c else { return false }
      i += 1
      return true
    }

    /// `"seq"`, `"t"` or `"values"` and the colon after it; nil for anything else (another
    /// key, an escape).
    mutating func key() -> Key? {
      guard take(UInt8(ascii: "\"")) else { return nil }
      let start = i
      while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
        if bytes[i] == UInt8(ascii: "\\") { return nil }
        i += 1
      }
      guard i < bytes.count else { return nil }
      let word = UnsafeBufferPointer(rebasing: bytes[start..<i])
      i += 1
      guard take(UInt8(ascii: ":")) else { return nil }
      if ValuesFrameJSON.equals(word, "seq") { return .seq }
      if ValuesFrameJSON.equals(word, "t") { return .t }
      if ValuesFrameJSON.equals(word, "values") { return .values }
      return nil
    }

    /// A JSON number (after blanks), and whether it was written as an integer; nil if the
    /// text there is not one or it is not finite.
    mutating func number() -> (value: Double, integer: Bool)? {
      skipSpace()
      let start = i
      let n = bytes.count
      var negative = false
      if i < n, bytes[i] == UInt8(ascii: "-") {
        negative = true
        i += 1
      }
      guard i < n, isDigit(bytes[i]) else { return nil }
      var mantissa: UInt64 = 0
      var significant = 0
      var exponent = 0
      var exact = true
      if bytes[i] == UInt8(ascii: "0") {
        i += 1
        if i < n, isDigit(bytes[i]) { return nil }
      } else {
        while i < n, isDigit(bytes[i]) {
          DecimalParser.accumulate(
            bytes[i], &mantissa, &significant, &exponent, &exact, fraction: false)
          i += 1
        }
      }
      var integer = true
      if i < n, bytes[i] == UInt8(ascii: ".") {
        integer = false
        i += 1
        guard i < n, isDigit(bytes[i]) else { return nil }
        while i < n, isDigit(bytes[i]) {
          DecimalParser.accumulate(
            bytes[i], &mantissa, &significant, &exponent, &exact, fraction: true)
          i += 1
        }
      }
      if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        integer = false
        i += 1
        var negativeExponent = false
        if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
          negativeExponent = bytes[i] == UInt8(ascii: "-")
          i += 1
        }
        guard i < n, isDigit(bytes[i]) else { return nil }
        var e = 0
        while i < n, isDigit(bytes[i]) {
          if e < 100_000 { e = e * 10 + Int(bytes[i] - 48) }
          i += 1
        }
        exponent += negativeExponent ? -e : e
      }
      if exact, let value = DecimalParser.fastValue(mantissa: mantissa, exponent: exponent) {
        return (negative ? -value : value, integer)
      }
      guard case .value(let v) = DecimalParser.parse(bytes, start, i) else { return nil }
      return (v, integer)
    }
  }

  @inline(__always)
  fileprivate static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

  fileprivate static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool
  {
    guard bytes.count == word.utf8CodeUnitCount else { return false }
    return word.withUTF8Buffer { w in
      for k in 0..<bytes.count where bytes[k] != w[k] { return false }
      return true
    }
  }
}
