import Foundation
import OnTrackKinematics

extension UIPRMDReader {
  /// Reads a UI-PRMD Vicon marker file (`vicon/{correct,incorrect}/mXX_sYY_eZZ_positions[_inc].txt[.gz]`):
  /// one frame per line at 100 Hz, the 39 Plug-in-Gait markers (`PlugInGait.markers`) × x, y, z
  /// in millimetres in the lab frame (x forward, y left, z up). An exact `0,0,0` is a marker
  /// the cameras lost.
  public static func readViconMarkers(_ url: URL) throws(MotionFormatError) -> KeypointTake {
    try readViconMarkers(bytes: FileBytes.read(url), file: url.path)
  }

  public static func readViconMarkers(bytes: [UInt8], file: String) throws(MotionFormatError)
    -> KeypointTake
  {
    let table = try CSVTable(bytes: bytes, fileName: file, hasHeader: false)
    let markers = PlugInGait.markers
    guard let first = table.rows.first else {
      throw MotionFormatError(.emptyMotion, file: file, reason: "the file has no frames")
    }
    guard table.width == 3 * markers.count else {
      throw MotionFormatError(
        .valueCount, file: file, line: first.line,
        reason:
          "\(table.width) values per frame; a UI-PRMD Vicon marker file has \(3 * markers.count) (39 Plug-in-Gait markers)"
      )
    }
    var frames: [[SIMD3<Float>?]] = []
    frames.reserveCapacity(table.rows.count)
    for row in table.rows {
      var frame: [SIMD3<Float>?] = []
      frame.reserveCapacity(markers.count)
      for m in 0..<markers.count {
        let p = SIMD3<Float>(
          Float(row.values[3 * m]), Float(row.values[3 * m + 1]), Float(row.values[3 * m + 2]))
        frame.append(p == .zero ? nil : p)
      }
      frames.append(frame)
    }
    let times = frames.indices.map { Double($0) / viconFrameRate }
    return try KeypointTake(
      layout: PlugInGait.layout, times: times, frames: frames, confidence: nil, source: file)
  }
}
