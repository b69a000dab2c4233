import Foundation
import OnTrackKinematics

/// Reads keypoint takes from files, by their content:
///
/// | file | form |
/// |---|---|
/// | `.csv` with `<name>.x` columns | `frame,time,<name>.x,<name>.y,<name>.z[,<name>.c],…`, one row per frame (`ontrack fk --csv` writes it); empty or `nan` cells are missing points |
/// | `.jsonl`, `.ndjson` | one JSON object per line: `{"t": 0.033, "keypoints": {"left_knee": [x, y, z], …}, "confidence": {"left_knee": 0.98}, "layout": "blazepose33"}` (the WebSocket `keypoints` frame; `seq` and other fields ignored; a `null` point is missing) |
/// | `.trc` | OpenSim / Motion Analysis marker trajectories (`TRCReader`) |
/// | UI-PRMD Vicon `*_positions*.txt[.gz]` | 39 Plug-in-Gait markers × 3, millimetres, 100 Hz (`(0,0,0)` = missing) |
///
/// The layout is recognised from the point names, or given (`layout`, a `KeypointLayout` id).
public enum KeypointFiles {
  /// Whether `url` names a keypoint file (by extension, and for CSV by its header).
  public static func isKeypointFile(_ url: URL) -> Bool {
    let name = url.lastPathComponent.lowercased()
    if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") || name.hasSuffix(".trc") {
      return true
    }
    if name.contains("_positions") && (name.hasSuffix(".txt") || name.hasSuffix(".txt.gz")) {
      return url.path.lowercased().contains("vicon")
    }
    if name.hasSuffix(".csv") {
      guard let handle = FileHandle(forReadingAtPath: url.path) else { return false }
      defer { try? handle.close() }
      let head = String(decoding: handle.readData(ofLength: 4096), as: UTF8.self)
      let firstLine = head.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
      return firstLine.split(separator: ",").contains {
        $0.trimmingCharacters(in: .whitespaces).hasSuffix(".x")
      }
    }
    return false
  }

  /// Reads `url` as a keypoint take; `layout` forces a layout id.
  public static func read(_ url: URL, layout: String? = nil) throws(MotionFormatError)
    -> KeypointTake
  {
    let name = url.lastPathComponent.lowercased()
    let bytes = try FileBytes.read(url)
    if name.hasSuffix(".trc") {
      return try TRCReader.read(bytes: bytes, file: url.path, layout: layout)
    }
    if name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") {
      return try jsonLines(bytes: bytes, file: url.path, layout: layout)
    }
    if name.contains("_positions") && (name.hasSuffix(".txt") || name.hasSuffix(".txt.gz")) {
      return try UIPRMDReader.readViconMarkers(bytes: bytes, file: url.path)
    }
    return try csv(bytes: bytes, file: url.path, layout: layout)
  }

  /// The layout for a source with point `names`: `id` if given, else recognised.
  static func layout(for names: [String], id: String?, file: String) throws(MotionFormatError)
    -> KeypointLayout
  {
    if let id {
      guard let layout = KeypointLayout.named(id, names: names) else {
        throw MotionFormatError(
          .invalidData, file: file,
          reason:
            "unknown keypoint layout '\(id)' (known: \(KeypointLayout.ids.joined(separator: ", ")))"
        )
      }
      return layout
    }
    guard let layout = KeypointLayout.recognise(names) else {
      throw MotionFormatError(
        .invalidData, file: file,
        reason:
          "cannot tell the keypoint layout from the names (\(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", …" : "")); give one with --layout (\(KeypointLayout.ids.joined(separator: ", ")))"
      )
    }
    return layout
  }

  /// A take from frames in the source's own point order, reordered into `layout.names`.
  static func take(
    layout: KeypointLayout, sourceNames: [String], times: [Double],
    frames: [[SIMD3<Float>?]], confidence: [[Float]]?, file: String
  ) throws(MotionFormatError) -> KeypointTake {
    if layout.names == sourceNames {
      return try KeypointTake(
        layout: layout, times: times, frames: frames, confidence: confidence, source: file)
    }
    let index = Dictionary(
      sourceNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let order = layout.names.map { index[$0] }
    guard order.contains(where: { $0 != nil }) else {
      throw MotionFormatError(
        .unknownJoint, file: file,
        reason: "none of the points is one of the \(layout.id) layout's names")
    }
    let reordered = frames.map { frame in order.map { k in k.flatMap { frame[$0] } } }
    let scores = confidence.map { rows in
      rows.map { row in order.map { k in k.map { row[$0] } ?? 0 } }
    }
    return try KeypointTake(
      layout: layout, times: times, frames: reordered, confidence: scores, source: file)
  }

  // MARK: CSV

  /// Time column names (lower-cased) and seconds per unit of each.
  static let timeUnits: [String: Double] = [
    "time": 1, "t": 1, "time_s": 1, "timestamp": 1, "time_ms": 1e-3, "timestamp_ms": 1e-3,
    "t_ms": 1e-3, "time_us": 1e-6, "timestamp_us": 1e-6, "time_ns": 1e-9, "timestamp_ns": 1e-9,
  ]

  /// `frame,time,<name>.x,<name>.y,<name>.z[,<name>.c]` (column order free; `frame` optional;
  /// the time in seconds, or `time_ms`, `time_us`, `time_ns` in milli-, micro- or nanoseconds).
  public static func csv(bytes: [UInt8], file: String, layout id: String? = nil)
    throws(MotionFormatError) -> KeypointTake
  {
    let table = try CSVTable(bytes: bytes, fileName: file, allowsMissing: true)
    let header = table.header.map { $0.trimmingCharacters(in: .whitespaces) }
    guard
      let (timeColumn, secondsPerUnit) = header.enumerated().lazy.compactMap({ c, name in
        Self.timeUnits[name.lowercased()].map { (c, $0) }
      }).first
    else {
      throw MotionFormatError(
        .invalidData, file: file, line: 1,
        reason:
          "no time column in the header: 'time' or 't' (seconds), 'time_ms' (milliseconds), "
          + "'time_us' (microseconds) or 'time_ns' (nanoseconds)")
    }
    var names: [String] = []
    var columns: [String: [Character: Int]] = [:]
    for (c, cell) in header.enumerated() {
      guard let dot = cell.lastIndex(of: "."), cell.index(after: dot) < cell.endIndex else {
        continue
      }
      let axis = cell[cell.index(after: dot)...].lowercased()
      guard axis.count == 1, let letter = axis.first, "xyzc".contains(letter) else { continue }
      let name = String(cell[..<dot])
      if columns[name] == nil {
        names.append(name)
        columns[name] = [:]
      }
      columns[name]?[letter] = c
    }
    for name in names {
      for axis: Character in ["x", "y", "z"] where columns[name]?[axis] == nil {
        throw MotionFormatError(
          .valueCount, file: file, line: 1,
          reason: "point '\(name)' has no '\(name).\(axis)' column")
      }
    }
    guard !names.isEmpty else {
      throw MotionFormatError(
        .invalidData, file: file, line: 1, reason: "no '<name>.x' keypoint columns in the header")
    }
    let layout = try layout(for: names, id: id, file: file)
    let hasConfidence = names.contains { columns[$0]?["c"] != nil }
    var times: [Double] = []
    var frames: [[SIMD3<Float>?]] = []
    var confidence: [[Float]] = []
    for row in table.rows {
      // A row without a time is left out by the take (`KeypointTake.framesLeftOut`).
      times.append(row.values[timeColumn] * secondsPerUnit)
      var frame: [SIMD3<Float>?] = []
      var scores: [Float] = []
      for name in names {
        let c = columns[name] ?? [:]
        let x = row.values[c["x"] ?? 0]
        let y = row.values[c["y"] ?? 0]
        let z = row.values[c["z"] ?? 0]
        let p = SIMD3<Float>(Float(x), Float(y), Float(z))
        let finite = p.x.isFinite && p.y.isFinite && p.z.isFinite
        frame.append(finite ? p : nil)
        let score = c["c"].map { row.values[$0] } ?? 1
        scores.append(score.isFinite ? Float(min(max(score, 0), 1)) : 0)
      }
      frames.append(frame)
      confidence.append(scores)
    }
    return try take(
      layout: layout, sourceNames: names, times: times, frames: frames,
      confidence: hasConfidence ? confidence : nil, file: file)
  }

  // MARK: JSON lines

  /// One frame of keypoints as JSON: the WebSocket `keypoints` form and a JSON-lines row.
  public struct Line: Decodable, Sendable {
    public var t: Double?
    public var time: Double?
    public var layout: String?
    public var keypoints: [String: [Double]?]
    public var confidence: [String: Double]?
  }

  public static func jsonLines(bytes: [UInt8], file: String, layout id: String? = nil)
    throws(MotionFormatError) -> KeypointTake
  {
    var lines: [(Int, Line)] = []
    var lineNumber = 0
    var start = 0
    let decoder = JSONDecoder()
    while start <= bytes.count {
      let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      lineNumber += 1
      let slice = bytes[start..<end]
      start = end + 1
      guard slice.contains(where: { $0 > 0x20 }) else { continue }
      do {
        lines.append((lineNumber, try decoder.decode(Line.self, from: Data(slice))))
      } catch {
        throw MotionFormatError(
          .syntax, file: file, line: lineNumber,
          reason:
            "not a keypoint frame (expected {\"t\": …, \"keypoints\": {…}}): \(Self.describe(error))"
        )
      }
      // A point given twice would be read one way here and another by other readers.
      if let repeated = slice.withUnsafeBufferPointer({ JSONDuplicateKeys.first(in: $0) }) {
        throw MotionFormatError(.syntax, file: file, line: lineNumber, reason: "\(repeated)")
      }
    }
    guard let first = lines.first else {
      throw MotionFormatError(.emptyMotion, file: file, reason: "no keypoint frames")
    }
    var names: [String] = []
    var known = Set<String>()
    for (_, line) in lines {
      for name in line.keypoints.keys.sorted() where !known.contains(name) {
        known.insert(name)
        names.append(name)
      }
    }
    let layout = try layout(for: names, id: id ?? first.1.layout, file: file)
    let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    var times: [Double] = []
    var frames: [[SIMD3<Float>?]] = []
    var confidence: [[Float]] = []
    var hasConfidence = false
    for (number, line) in lines {
      guard let t = line.t ?? line.time else {
        throw MotionFormatError(
          .invalidData, file: file, line: number, reason: "no time 't' (seconds)")
      }
      if let given = line.layout, given != layout.id, id == nil {
        throw MotionFormatError(
          .invalidData, file: file, line: number,
          reason: "layout '\(given)' differs from the take's '\(layout.id)'")
      }
      times.append(t)
      var frame = [SIMD3<Float>?](repeating: nil, count: names.count)
      var scores = [Float](repeating: 1, count: names.count)
      for (name, value) in line.keypoints {
        guard let k = index[name] else { continue }
        guard let value else { continue }
        guard value.count == 3 else {
          throw MotionFormatError(
            .valueCount, file: file, line: number,
            reason: "point '\(name)' has \(value.count) coordinates, not 3")
        }
        let p = SIMD3<Float>(Float(value[0]), Float(value[1]), Float(value[2]))
        frame[k] = p.x.isFinite && p.y.isFinite && p.z.isFinite ? p : nil
      }
      if let given = line.confidence {
        hasConfidence = true
        for (name, c) in given {
          if let k = index[name] { scores[k] = c.isFinite ? Float(min(max(c, 0), 1)) : 0 }
        }
      }
      frames.append(frame)
      confidence.append(scores)
    }
    return try take(
      layout: layout, sourceNames: names, times: times, frames: frames,
      confidence: hasConfidence ? confidence : nil, file: file)
  }

  static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): "missing '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    case DecodingError.dataCorrupted: "not valid JSON"
    default: "\(error)"
    }
  }
}
