import Foundation
import OnTrackKinematics

/// Reads marker trajectories in the TRC format (Motion Analysis; OpenSim's marker files):
///
/// ```
/// PathFileType  4  (X/Y/Z)  walk.trc
/// DataRate  CameraRate  NumFrames  NumMarkers  Units  OrigDataRate  OrigDataStartFrame  OrigNumFrames
/// 60.00     60.00       151        41          mm     60.00         1                   151
/// Frame#  Time  R.ASIS       L.ASIS       …
///               X1  Y1  Z1   X2  Y2  Z2   …
/// 1       0.000 617.2 1055.3 170.8  639.6 …
/// ```
///
/// Tab-separated; a missing marker is an empty field (or `NaN`). Units `mm`, `cm` or `m`.
/// OpenSim's frame is right-handed with Y up (X forward in gait trials), which is OnTrack's
/// convention, so coordinates are only scaled. Markers are matched to Plug-in-Gait roles by
/// name (`PlugInGait.role(of:)`: `R.ASIS`, `V.Sacral`, `L.Knee.Lat`, `R.Acromium`, …) and
/// joint centres estimated; a TRC of joint centres with skeleton-like names is read as such.
public enum TRCReader {
  public static func read(bytes: [UInt8], file: String, layout id: String? = nil)
    throws(MotionFormatError) -> KeypointTake
  {
    let text = String(decoding: bytes, as: UTF8.self)
    var lines: [(Int, Substring)] = []
    for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
      lines.append((k + 1, trimmed))
    }
    func words(_ line: Substring) -> [Substring] {
      line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    }
    guard lines.count >= 5, words(lines[0].1).first == "PathFileType" else {
      throw MotionFormatError(
        .syntax, file: file, line: 1,
        reason: "not a TRC file (the first line starts 'PathFileType')")
    }
    let keys = words(lines[1].1).map { String($0) }
    let values = words(lines[2].1).map { String($0) }
    guard keys.count == values.count, let rateIndex = keys.firstIndex(of: "DataRate"),
      let rate = Double(values[rateIndex]), rate > 0, rate.isFinite
    else {
      throw MotionFormatError(
        .invalidFrameTime, file: file, line: 3, reason: "no positive DataRate in the header")
    }
    let unit = keys.firstIndex(of: "Units").map { values[$0].lowercased() } ?? "mm"
    let metresPerUnit: Double
    switch unit {
    case "mm": metresPerUnit = 0.001
    case "cm": metresPerUnit = 0.01
    case "m": metresPerUnit = 1
    default:
      throw MotionFormatError(
        .invalidData, file: file, line: 3, reason: "unknown Units '\(unit)' (mm, cm or m)")
    }
    let nameWords = words(lines[3].1).map { String($0) }
    guard nameWords.count > 2, nameWords[0].hasPrefix("Frame"), nameWords[1] == "Time" else {
      throw MotionFormatError(
        .syntax, file: file, line: 4, reason: "expected 'Frame#  Time  <marker> …'")
    }
    let names = Array(nameWords.dropFirst(2))
    let width = 2 + 3 * names.count
    var times: [Double] = []
    var frames: [[SIMD3<Float>?]] = []
    for (number, line) in lines.dropFirst(5) {
      guard line.contains(where: { !$0.isWhitespace }) else { continue }
      // Positional fields (an empty field is a missing value); trailing tabs dropped.
      var fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      while fields.count > width, fields.last?.allSatisfy(\.isWhitespace) == true {
        fields.removeLast()
      }
      if fields.count != width {
        let packed = words(line)
        guard packed.count == width else {
          throw MotionFormatError(
            .valueCount, file: file, line: number,
            reason:
              "\(packed.count) values, expected \(width) (frame, time, 3 × \(names.count) markers)")
        }
        fields = packed
      }
      let timeText = fields[1].trimmingCharacters(in: .whitespaces)
      guard let t = Double(timeText), t.isFinite else {
        throw MotionFormatError(
          .nonNumeric, file: file, line: number, reason: "time '\(timeText)' is not a number")
      }
      times.append(t)
      var frame: [SIMD3<Float>?] = []
      frame.reserveCapacity(names.count)
      for m in 0..<names.count {
        var xyz = SIMD3<Float>.zero
        var present = true
        for a in 0..<3 {
          let cell = fields[2 + 3 * m + a].trimmingCharacters(in: .whitespaces)
          if cell.isEmpty || cell.lowercased() == "nan" {
            present = false
            continue
          }
          guard let v = Float(cell), v.isFinite else {
            throw MotionFormatError(
              .nonNumeric, file: file, line: number,
              reason: "marker '\(names[m])': '\(cell)' is not a number")
          }
          xyz[a] = v
        }
        frame.append(present ? xyz : nil)
      }
      frames.append(frame)
    }
    let layout: KeypointLayout
    if let id {
      layout = try KeypointFiles.layout(for: names, id: id, file: file).with(
        metresPerUnit: metresPerUnit, axes: .yUp)
    } else if PlugInGait.recognises(names) {
      layout = PlugInGait.layout(names: names, axes: .yUp, metresPerUnit: metresPerUnit)
    } else {
      layout = try KeypointFiles.layout(for: names, id: nil, file: file).with(
        metresPerUnit: metresPerUnit, axes: .yUp)
    }
    return try KeypointFiles.take(
      layout: layout, sourceNames: names, times: times, frames: frames, confidence: nil,
      file: file)
  }
}
