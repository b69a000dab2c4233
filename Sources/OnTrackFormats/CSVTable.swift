/// A numeric table in delimited text: an optional header row of names, then rows of numbers.
///
/// Blank lines are skipped; cells may be padded with blanks; LF, CRLF and CR line ends and a
/// UTF-8 byte-order mark are accepted. Every row must have as many cells as the first (or the
/// header); every cell must be a finite decimal number.
struct CSVTable {
  struct Row {
    /// 1-based line number in the file.
    var line: Int
    var values: [Double]
  }

  var header: [String]
  var rows: [Row]

  /// - Parameters:
  ///   - hasHeader: The first non-blank line holds column names.
  ///   - maximumColumns: Upper bound on cells per row, against hostile input.
  ///   - allowsMissing: An empty cell, `nan`, `NaN`, `null` or `None` is a missing value (NaN)
  ///     rather than an error (infinities are still refused).
  init(
    bytes: [UInt8], fileName: String, hasHeader: Bool = true, maximumColumns: Int = 100_000,
    allowsMissing: Bool = false
  ) throws(MotionFormatError) {
    var lines = LineSplitter(bytes: bytes)
    var header: [String] = []
    var rows: [Row] = []
    var width: Int?
    while let (lineNumber, range) = lines.next() {
      let cells = Self.cells(bytes, range)
      if cells.isEmpty || (cells.count == 1 && cells[0].isEmpty) { continue }
      guard cells.count <= maximumColumns else {
        throw MotionFormatError(
          .limitExceeded, file: fileName, line: lineNumber,
          reason: "\(cells.count) cells; at most \(maximumColumns) are accepted")
      }
      if hasHeader && width == nil {
        header = cells.map { String(decoding: bytes[$0], as: UTF8.self) }
        width = cells.count
        continue
      }
      if let width, cells.count != width {
        throw MotionFormatError(
          .valueCount, file: fileName, line: lineNumber,
          reason: "\(cells.count) values, expected \(width)")
      }
      width = cells.count
      var values: [Double] = []
      values.reserveCapacity(cells.count)
      for (column, cell) in cells.enumerated() {
        let result = bytes.withUnsafeBufferPointer {
          DecimalParser.parse($0, cell.lowerBound, cell.upperBound)
        }
        if allowsMissing, Self.isMissing(bytes, cell) {
          values.append(.nan)
          continue
        }
        switch result {
        case .value(let v):
          values.append(v)
        case .nonFinite:
          throw MotionFormatError(
            .nonFinite, file: fileName, line: lineNumber,
            reason: "column \(column + 1) is '\(Self.text(bytes, cell))', not a finite number")
        case .notANumber:
          throw MotionFormatError(
            .nonNumeric, file: fileName, line: lineNumber,
            reason: "column \(column + 1): expected a number, found '\(Self.text(bytes, cell))'")
        }
      }
      rows.append(Row(line: lineNumber, values: values))
    }
    self.header = header
    self.rows = rows
  }

  /// An empty cell or a spelling of "no value".
  private static func isMissing(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    guard !range.isEmpty else { return true }
    guard range.count <= 4 else { return false }
    let word = String(decoding: bytes[range], as: UTF8.self).lowercased()
    return word == "nan" || word == "null" || word == "none" || word == "-nan"
  }

  /// The column count (header width, or the rows' width).
  var width: Int { header.isEmpty ? (rows.first?.values.count ?? 0) : header.count }

  private static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String {
    let s = String(decoding: bytes[range], as: UTF8.self)
    return s.count > 40 ? String(s.prefix(40)) + "…" : s
  }

  /// Comma-separated cell ranges of one line, blanks trimmed.
  private static func cells(_ bytes: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
    func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    var result: [Range<Int>] = []
    var i = range.lowerBound
    let end = range.upperBound
    var start = i
    while i <= end {
      if i == end || bytes[i] == UInt8(ascii: ",") {
        var a = start
        var b = i
        while a < b, isBlank(bytes[a]) { a += 1 }
        while b > a, isBlank(bytes[b - 1]) { b -= 1 }
        result.append(a..<b)
        start = i + 1
      }
      i += 1
    }
    return result
  }
}

/// Splits bytes into lines (LF, CRLF or lone CR), skipping a UTF-8 byte-order mark.
struct LineSplitter {
  let bytes: [UInt8]
  var position: Int
  var line = 0

  init(bytes: [UInt8]) {
    self.bytes = bytes
    let hasBOM = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
    self.position = hasBOM ? 3 : 0
  }

  /// The next line's 1-based number and byte range (without its line end).
  mutating func next() -> (Int, Range<Int>)? {
    guard position < bytes.count else { return nil }
    let start = position
    while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D {
      position += 1
    }
    let end = position
    if position < bytes.count {
      if bytes[position] == 0x0D, position + 1 < bytes.count, bytes[position + 1] == 0x0A {
        position += 2
      } else {
        position += 1
      }
    }
    line += 1
    return (line, start..<end)
  }
}
