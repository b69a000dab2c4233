import Foundation
import OnTrackKinematics

/// Joint-angle CSV: one row per frame, spreadsheet- and pandas-friendly.
///
/// ```
/// time,Hips.Xposition,Hips.Yposition,Hips.Zposition,Hips.Zrotation,Hips.Yrotation,Hips.Xrotation,...
/// 0,0.1,0.9,0.0,-2.5,10.0,0.3,...
/// ```
///
/// - `time` in seconds, increasing, evenly spaced (the frame time is their mean step).
/// - One column per channel, named `<joint>.<channel>` with BVH channel names.
/// - Rotations in degrees; a joint's rotation columns compose in the order they appear,
///   intrinsic, left to right (`Zrotation, Yrotation, Xrotation` is `R = Rz · Ry · Rx`).
/// - Positions in metres (local translation of the joint, replacing its rest offset).
///
/// Reading needs the skeleton the angles belong to (for bone lengths). Columns must name
/// joints of that skeleton; joints with no column stay at their rest rotation and offset and
/// are listed in `Reading.jointsWithoutColumns`.
public enum JointAngleCSV {
  /// Writes `clip`'s channels, one column per channel of each joint in skeleton order.
  public static func bytes(for clip: Clip, decimals: Int = 6) -> [UInt8] {
    let skeleton = clip.skeleton
    var out: [UInt8] = []
    out.append(contentsOf: "time".utf8)
    for joint in skeleton.joints {
      for channel in joint.channels {
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: "\(joint.name).\(channel.rawValue)".utf8)
      }
    }
    out.append(0x0A)
    let n = skeleton.count
    let toDegrees = 180 / Double.pi
    let orders = skeleton.joints.map(\.channels.rotationOrder)
    for f in 0..<clip.frameCount {
      NumberFormatting.appendFixed(Double(f) * clip.frameTime, decimals: 9, to: &out)
      for (j, joint) in skeleton.joints.enumerated() where !joint.channels.isEmpty {
        let angles = orders[j].map { clip.rotations[f * n + j].eulerAngles(order: $0) } ?? .zero
        var k = 0
        for channel in joint.channels {
          out.append(UInt8(ascii: ","))
          if channel.isRotation {
            NumberFormatting.appendFixed(angles[k] * toDegrees, decimals: decimals, to: &out)
            k += 1
          } else {
            let metres = Double(clip.translations[f * n + j][channel.axis])
            NumberFormatting.appendFixed(metres, decimals: max(decimals, 6), to: &out)
          }
        }
      }
      out.append(0x0A)
    }
    return out
  }

  /// What `read` found.
  public struct Reading: Sendable {
    public var clip: Clip
    /// Joints of the skeleton (not End Sites) that had no column; they stay at rest.
    public var jointsWithoutColumns: [String]
    /// Data rows left out (their lines in the file): a time that did not come after the last
    /// row kept (a row written twice, a logger's stutter).
    public var linesLeftOut: [Int] = []
  }

  /// Reads joint-angle CSV for `skeleton`.
  ///
  /// - Parameter defaultFrameTime: Used when the file has a single row (seconds).
  /// - Throws: `MotionFormatError` for a missing or non-numeric `time` column, a column that
  ///   names an unknown joint or channel (`.unknownJoint`, `.unknownChannel`), a row with the
  ///   wrong number of cells, a non-numeric or non-finite cell, more than
  ///   `TimeOrder.largestShareLeftOut` of the rows with a time that does not come after the row before
  ///   (fewer are left out, `Reading.linesLeftOut`), or no rows.
  public static func read(
    bytes: [UInt8], skeleton: Skeleton, fileName: String = "<input>",
    defaultFrameTime: Double = 1.0 / 30
  ) throws(MotionFormatError) -> Reading {
    let table = try CSVTable(bytes: bytes, fileName: fileName)
    guard table.header.first == "time" else {
      throw MotionFormatError(
        .syntax, file: fileName, line: 1,
        reason: "the first column must be 'time' (seconds), found '\(table.header.first ?? "")'")
    }
    // Map columns to (joint, channel).
    var columnsByJoint: [Int: [(Channel, Int)]] = [:]
    for (column, name) in table.header.enumerated().dropFirst() {
      guard let dot = name.lastIndex(of: ".") else {
        throw MotionFormatError(
          .syntax, file: fileName, line: 1,
          reason: "column \(column + 1) '\(name)' is not '<joint>.<channel>'")
      }
      let jointName = String(name[..<dot])
      let channelName = String(name[name.index(after: dot)...])
      guard let joint = skeleton.index(of: jointName), !skeleton.joints[joint].isEndSite else {
        throw MotionFormatError(
          .unknownJoint, file: fileName, line: 1,
          reason:
            "column \(column + 1) names joint '\(jointName)', which the skeleton does not have")
      }
      guard let channel = Channel(rawValue: channelName) else {
        throw MotionFormatError(
          .unknownChannel, file: fileName, line: 1,
          reason: "column \(column + 1) '\(name)': unknown channel '\(channelName)'")
      }
      if columnsByJoint[joint, default: []].contains(where: { $0.0 == channel }) {
        throw MotionFormatError(
          .duplicateName, file: fileName, line: 1, reason: "column '\(name)' appears twice")
      }
      columnsByJoint[joint, default: []].append((channel, column))
    }
    let given = table.rows
    guard !given.isEmpty else {
      throw MotionFormatError(.emptyMotion, file: fileName, reason: "the file has no data rows")
    }
    let (kept, faults) = TimeOrder.order(given.map { $0.values[0] })
    if let (r, fault) = faults.first,
      kept.isEmpty || TimeOrder.tooMany(faults.count, of: given.count)
    {
      let time = given[r].values[0]
      let reason =
        switch fault {
        case .notFinite: "the time is not a finite number"
        case .notAfter(let last): "time \(time) does not increase after \(last)"
        case .aheadOf(let next): "time \(time) comes after the next row's \(next)"
        }
      throw MotionFormatError(
        .invalidData, file: fileName, line: given[r].line,
        reason: reason
          + "; \(faults.count) of \(given.count) rows have such times: is 'time' the frames' time?"
      )
    }
    let rows = kept.map { given[$0] }
    let leftOut = faults.map { given[$0.index].line }
    var frameTime = defaultFrameTime
    if rows.count > 1 {
      frameTime = (rows[rows.count - 1].values[0] - rows[0].values[0]) / Double(rows.count - 1)
    }
    let n = skeleton.count
    let degrees = Double.pi / 180
    var rotations = [Quaternion](repeating: .identity, count: rows.count * n)
    var translations = [SIMD3<Float>](repeating: .zero, count: rows.count * n)
    // Per joint, once: its rotation columns in order (and the Euler order they spell) and its
    // position columns.
    let layouts = columnsByJoint.map { joint, columns in
      let rotationColumns = columns.filter { $0.0.isRotation }
      return (
        joint: joint, rotationColumns: rotationColumns.map(\.1),
        order: rotationColumns.isEmpty ? nil : EulerOrder.completing(rotationColumns.map(\.0.axis)),
        positionColumns: columns.filter { $0.0.isPosition }.map { (axis: $0.0.axis, column: $0.1) }
      )
    }
    for (f, row) in rows.enumerated() {
      for j in 0..<n { translations[f * n + j] = skeleton.joints[j].offset }
      for layout in layouts {
        for (axis, column) in layout.positionColumns {
          translations[f * n + layout.joint][axis] = Float(row.values[column])
        }
        if let order = layout.order {
          var angles = SIMD3<Double>.zero
          for (k, column) in layout.rotationColumns.enumerated() {
            angles[k] = row.values[column] * degrees
          }
          rotations[f * n + layout.joint] = Quaternion(eulerAngles: angles, order: order)
        }
      }
    }
    let missing = skeleton.joints.enumerated().filter { index, joint in
      !joint.isEndSite && !joint.channels.isEmpty && columnsByJoint[index] == nil
    }.map(\.element.name)
    do {
      let clip = try Clip(
        skeleton: skeleton, frameTime: frameTime, rotations: rotations,
        translations: translations)
      return Reading(clip: clip, jointsWithoutColumns: missing, linesLeftOut: leftOut)
    } catch {
      throw MotionFormatError(.invalidData, file: fileName, reason: "\(error)")
    }
  }

  /// Reads the joint-angle CSV file at `url` for `skeleton`.
  public static func read(contentsOf url: URL, skeleton: Skeleton) throws(MotionFormatError)
    -> Reading
  {
    try read(bytes: FileBytes.read(url), skeleton: skeleton, fileName: url.path)
  }
}
