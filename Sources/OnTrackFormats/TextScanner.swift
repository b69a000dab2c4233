/// A whitespace-separated token in a byte buffer: `bytes[start..<end]`, on 1-based `line`.
struct Token {
  var start: Int
  var end: Int
  var line: Int
}

/// Splits text into whitespace-separated tokens, counting lines (LF, CRLF and lone CR all end
/// a line) and skipping a UTF-8 byte-order mark. With `bracesAreTokens`, `{` and `}` are tokens
/// of their own even when glued to a word (`Hips{`), as some BVH writers emit them.
struct TextScanner {
  let bytes: [UInt8]
  private(set) var position: Int
  private(set) var line: Int = 1
  var bracesAreTokens: Bool

  init(bytes: [UInt8], bracesAreTokens: Bool = false) {
    self.bytes = bytes
    let hasBOM = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
    self.position = hasBOM ? 3 : 0
    self.bracesAreTokens = bracesAreTokens
  }

  @inline(__always)
  private func isSpace(_ b: UInt8) -> Bool {
    b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C
  }

  @inline(__always)
  private func isBrace(_ b: UInt8) -> Bool {
    bracesAreTokens && (b == UInt8(ascii: "{") || b == UInt8(ascii: "}"))
  }

  /// The next token, or `nil` at the end of the text.
  mutating func next() -> Token? {
    let count = bytes.count
    while position < count {
      let b = bytes[position]
      if b == 0x0A {
        line += 1
      } else if b == 0x0D {
        // CRLF counts once; a lone CR ends a line too.
        if position + 1 >= count || bytes[position + 1] != 0x0A { line += 1 }
      } else if !isSpace(b) {
        break
      }
      position += 1
    }
    guard position < count else { return nil }
    let start = position
    if isBrace(bytes[position]) {
      position += 1
      return Token(start: start, end: position, line: line)
    }
    while position < count, !isSpace(bytes[position]), !isBrace(bytes[position]) {
      position += 1
    }
    return Token(start: start, end: position, line: line)
  }

  /// True if nothing but blanks separates `token` from the end of its line (or of the text).
  func lineEnds(after token: Token) -> Bool {
    var i = token.end
    while i < bytes.count {
      let b = bytes[i]
      if b == 0x0A || b == 0x0D { return true }
      if !isSpace(b) { return false }
      i += 1
    }
    return true
  }

  /// The next token without consuming it.
  func peek() -> Token? {
    var copy = self
    return copy.next()
  }

  /// The token's text (allocates only for long tokens).
  func text(_ token: Token) -> String {
    String(decoding: bytes[token.start..<token.end], as: UTF8.self)
  }

  /// The token's text shortened for an error message.
  func quoted(_ token: Token) -> String {
    let full = text(token)
    return full.count > 40 ? "'\(full.prefix(40))…'" : "'\(full)'"
  }

  /// True if the token is exactly the ASCII word `word`.
  func token(_ token: Token, is word: StaticString) -> Bool {
    let length = word.utf8CodeUnitCount
    guard token.end - token.start == length else { return false }
    return word.withUTF8Buffer { w in
      for i in 0..<length where bytes[token.start + i] != w[i] { return false }
      return true
    }
  }

  /// Parses the token as a decimal number; see `DecimalParser`.
  func number(_ token: Token) -> DecimalParser.Result {
    bytes.withUnsafeBufferPointer { DecimalParser.parse($0, token.start, token.end) }
  }
}

/// Fast, exact parsing of decimal numbers such as `-12.5`, `.0083333`, `1e-05`.
///
/// Clinger's fast path (a mantissa below 2^53 scaled by an exact power of ten up to 10^22 is
/// correctly rounded by one multiplication or division) covers motion-capture numbers; anything
/// longer falls back to the C library's `strtod` through `Double(_:)`. Only the decimal grammar
/// is accepted: no hexadecimal floats, and `nan`/`inf` are reported as non-finite.
enum DecimalParser {
  enum Result {
    case value(Double)
    case notANumber
    case nonFinite
  }

  private static let powers: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
  ]

  static func parse(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Result {
    var i = start
    guard i < end else { return .notANumber }
    var negative = false
    if b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
      negative = b[i] == UInt8(ascii: "-")
      i += 1
    }
    var mantissa: UInt64 = 0
    var significant = 0
    var exponent = 0
    var digits = 0
    var exact = true
    while i < end, b[i] >= 48, b[i] <= 57 {
      accumulate(b[i], &mantissa, &significant, &exponent, &exact, fraction: false)
      digits += 1
      i += 1
    }
    if i < end, b[i] == UInt8(ascii: ".") {
      i += 1
      while i < end, b[i] >= 48, b[i] <= 57 {
        accumulate(b[i], &mantissa, &significant, &exponent, &exact, fraction: true)
        digits += 1
        i += 1
      }
    }
    guard digits > 0 else { return nonFiniteOrNaN(b, start, end) }
    if i < end, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
      i += 1
      var expNegative = false
      if i < end, b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+") {
        expNegative = b[i] == UInt8(ascii: "-")
        i += 1
      }
      var e = 0
      var expDigits = 0
      while i < end, b[i] >= 48, b[i] <= 57 {
        if e < 100_000 { e = e * 10 + Int(b[i] - 48) }
        expDigits += 1
        i += 1
      }
      guard expDigits > 0 else { return .notANumber }
      exponent += expNegative ? -e : e
    }
    guard i == end else { return .notANumber }
    var value: Double
    if exact, let fast = fastValue(mantissa: mantissa, exponent: exponent) {
      value = fast
    } else {
      guard let slow = Double(String(decoding: b[start..<end], as: UTF8.self)) else {
        return .notANumber
      }
      value = abs(slow)
    }
    guard value.isFinite else { return .nonFinite }
    return .value(negative ? -value : value)
  }

  /// `mantissa × 10^exponent`, correctly rounded, when Clinger's fast path applies (a mantissa
  /// of at most 2^53 and |exponent| ≤ 22); nil otherwise.
  @inline(__always)
  static func fastValue(mantissa: UInt64, exponent: Int) -> Double? {
    guard mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
    let value = Double(mantissa)
    return exponent < 0 ? value / powers[-exponent] : value * powers[exponent]
  }

  /// Adds one decimal digit to `mantissa` (ignoring leading zeros, counting the digits of a
  /// fraction into `exponent`); past 19 significant digits `exact` turns false and the digit
  /// only moves the exponent.
  @inline(__always)
  static func accumulate(
    _ digit: UInt8, _ mantissa: inout UInt64, _ significant: inout Int, _ exponent: inout Int,
    _ exact: inout Bool, fraction: Bool
  ) {
    let d = UInt64(digit - 48)
    if mantissa == 0 && d == 0 {
      if fraction { exponent -= 1 }
      return
    }
    if significant < 19 {
      mantissa = mantissa * 10 + d
      significant += 1
      if fraction { exponent -= 1 }
    } else {
      // More digits than a UInt64 holds: the slow path will read the whole token.
      exact = false
      if !fraction { exponent += 1 }
    }
  }

  private static func nonFiniteOrNaN(
    _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int
  ) -> Result {
    var word = String(decoding: b[start..<end], as: UTF8.self).lowercased()
    if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
    let special = ["nan", "inf", "infinity", "nan(ind)", "1.#inf", "1.#qnan", "#nan", "qnan"]
    return special.contains(word) ? .nonFinite : .notANumber
  }
}
