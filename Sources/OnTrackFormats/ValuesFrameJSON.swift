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
  public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, into values: inout [Float])
    -> Header?
  {
    var i = 0
    let n = bytes.count
    @inline(__always) func skipSpace() {
      while i < n, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
        i += 1
      }
    }
    @inline(__always) func expect(_ c: UInt8) -> Bool {
      skipSpace()
      guard i < n, bytes[i] == c else { return false }
      i += 1
      return true
    }
    /// A JSON number at `i`: its end, or nil.
    func number() -> (value: Double, integer: Bool)? {
      skipSpace()
      let start = i
      if i < n, bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard i < n, isDigit(bytes[i]) else { return nil }
      if bytes[i] == UInt8(ascii: "0") {
        i += 1
        if i < n, isDigit(bytes[i]) { return nil }
      } else {
        while i < n, isDigit(bytes[i]) { i += 1 }
      }
      var integer = true
      if i < n, bytes[i] == UInt8(ascii: ".") {
        integer = false
        i += 1
        guard i < n, isDigit(bytes[i]) else { return nil }
        while i < n, isDigit(bytes[i]) { i += 1 }
      }
      if i < n, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        integer = false
        i += 1
        if i < n, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, isDigit(bytes[i]) else { return nil }
        while i < n, isDigit(bytes[i]) { i += 1 }
      }
      guard case .value(let v) = DecimalParser.parse(bytes, start, i) else { return nil }
      return (v, integer)
    }
    guard expect(UInt8(ascii: "{")) else { return nil }
    var seq: Int?
    var time: Double?
    var count: Int?
    for field in 0..<3 {
      if field > 0 { guard expect(UInt8(ascii: ",")) else { return nil } }
      guard expect(UInt8(ascii: "\"")) else { return nil }
      let keyStart = i
      while i < n, bytes[i] != UInt8(ascii: "\"") {
        if bytes[i] == UInt8(ascii: "\\") { return nil }
        i += 1
      }
      guard i < n else { return nil }
      let key = UnsafeBufferPointer(rebasing: bytes[keyStart..<i])
      i += 1
      guard expect(UInt8(ascii: ":")) else { return nil }
      if equals(key, "seq") {
        guard seq == nil, let (v, integer) = number(), integer, abs(v) < 9e15 else { return nil }
        seq = Int(v)
      } else if equals(key, "t") {
        guard time == nil, let (v, _) = number() else { return nil }
        time = v
      } else if equals(key, "values") {
        guard count == nil, expect(UInt8(ascii: "[")) else { return nil }
        var k = 0
        skipSpace()
        if i < n, bytes[i] == UInt8(ascii: "]") {
          i += 1
        } else {
          while true {
            guard let (v, _) = number() else { return nil }
            if k < values.count { values[k] = Float(v) }
            k += 1
            skipSpace()
            guard i < n else { return nil }
            if bytes[i] == UInt8(ascii: ",") {
              i += 1
            } else if bytes[i] == UInt8(ascii: "]") {
              i += 1
              break
            } else {
              return nil
            }
          }
        }
        count = k
      } else {
        return nil
      }
    }
    guard expect(UInt8(ascii: "}")) else { return nil }
    skipSpace()
    guard i == n, let seq, let time, let count else { return nil }
    return Header(seq: seq, time: time, count: count)
  }

  @inline(__always)
  private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

  private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    guard bytes.count == word.utf8CodeUnitCount else { return false }
    return word.withUTF8Buffer { w in
      for k in 0..<bytes.count where bytes[k] != w[k] { return false }
      return true
    }
  }
}
