import Foundation
import OnTrackKinematics

/// Reads the UI-PRMD rehabilitation dataset's text files (Vakanski et al., Data 2018; public
/// domain, ODC-PDDL): Kinect joint angles + positions into a `Clip`, Vicon joint angles into a
/// feature table. Files may be gzip-compressed, as the dataset's copy in `../shared` is.
///
/// Kinect files have one frame per line, 22 joints × 3 comma-separated values, 30 Hz:
/// - *angles*: per joint, Euler angles in degrees about X, Y, Z relative to the parent,
///   composed as `R = Rz · Rx · Ry` (Y first). The dataset does not document the order; this is
///   the one of all 36 that keeps the feet on the floor through a deep squat.
/// - *positions*: column triplet 0 is the waist's position in the camera frame; every other
///   triplet is that joint's offset from its parent in the parent's frame, per frame. Centimetres.
///
/// The camera frame is right-handed with Y up, X to the screen's right and Z towards the
/// viewer, so no axis change is needed. Every joint gets six channels (positions, then
/// Z, X, Y rotations) so the per-frame bone offsets are kept; written as BVH the clip keeps them.
public enum UIPRMDReader {
  /// The 22 Kinect joints, named after the segment each one starts (the dataset's own naming):
  /// `LeftUpperArm` is the shoulder joint, `LeftForearm` the elbow, `LeftLowerLeg` the knee.
  public static let kinectJointNames = [
    "Waist", "Spine", "Chest", "Neck", "Head", "HeadTip",
    "LeftCollar", "LeftUpperArm", "LeftForearm", "LeftHand",
    "RightCollar", "RightUpperArm", "RightForearm", "RightHand",
    "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToes",
    "RightUpperLeg", "RightLowerLeg", "RightFoot", "RightToes",
  ]

  /// Parent of each Kinect joint (−1 for the waist).
  public static let kinectParents = [
    -1, 0, 1, 2, 3, 4, 2, 6, 7, 8, 2, 10, 11, 12, 0, 14, 15, 16, 0, 18, 19, 20,
  ]

  /// Kinect frames per second.
  public static let kinectFrameRate = 30.0
  /// Vicon frames per second.
  public static let viconFrameRate = 100.0

  /// Reads a Kinect repetition from its angles file and its positions file.
  public static func readKinect(angles: URL, positions: URL) throws(MotionFormatError) -> Clip {
    try readKinect(
      angles: FileBytes.read(angles), anglesName: angles.path,
      positions: FileBytes.read(positions), positionsName: positions.path)
  }

  /// Reads a Kinect repetition from in-memory file contents.
  public static func readKinect(
    angles: [UInt8], anglesName: String, positions: [UInt8], positionsName: String
  ) throws(MotionFormatError) -> Clip {
    let angleTable = try CSVTable(bytes: angles, fileName: anglesName, hasHeader: false)
    let positionTable = try CSVTable(bytes: positions, fileName: positionsName, hasHeader: false)
    let n = kinectJointNames.count
    for (table, name) in [(angleTable, anglesName), (positionTable, positionsName)] {
      guard !table.rows.isEmpty else {
        throw MotionFormatError(.emptyMotion, file: name, reason: "the file has no frames")
      }
      guard table.width == 3 * n else {
        throw MotionFormatError(
          .valueCount, file: name, line: table.rows[0].line,
          reason: "\(table.width) values per frame; a UI-PRMD Kinect file has \(3 * n)")
      }
    }
    guard angleTable.rows.count == positionTable.rows.count else {
      throw MotionFormatError(
        .frameCountMismatch, file: positionsName,
        reason:
          "\(positionTable.rows.count) frames, but the angles file \(anglesName) has \(angleTable.rows.count)"
      )
    }
    let metres = 0.01
    let first = positionTable.rows[0].values
    var joints: [Skeleton.Joint] = []
    let channels: [Channel] = [
      .xPosition, .yPosition, .zPosition, .zRotation, .xRotation, .yRotation,
    ]
    for j in 0..<n {
      let offset = SIMD3(
        Float(first[3 * j] * metres), Float(first[3 * j + 1] * metres),
        Float(first[3 * j + 2] * metres))
      joints.append(
        Skeleton.Joint(
          name: kinectJointNames[j], parent: kinectParents[j] < 0 ? nil : kinectParents[j],
          offset: offset, channels: channels))
    }
    let skeleton: Skeleton
    do {
      skeleton = try Skeleton(joints: joints, lengthUnit: .centimetre)
    } catch {
      throw MotionFormatError(.invalidData, file: positionsName, reason: "\(error)")
    }
    let frames = angleTable.rows.count
    var rotations = [Quaternion](repeating: .identity, count: frames * n)
    var translations = [SIMD3<Float>](repeating: .zero, count: frames * n)
    let degrees = Double.pi / 180
    for f in 0..<frames {
      let a = angleTable.rows[f].values
      let p = positionTable.rows[f].values
      for j in 0..<n {
        // Columns are (X, Y, Z); the rotation is Rz · Rx · Ry.
        let angles = SIMD3(a[3 * j + 2], a[3 * j], a[3 * j + 1]) * degrees
        rotations[f * n + j] = Quaternion(eulerAngles: angles, order: .zxy)
        translations[f * n + j] = SIMD3(
          Float(p[3 * j] * metres), Float(p[3 * j + 1] * metres), Float(p[3 * j + 2] * metres))
      }
    }
    do {
      return try Clip(
        skeleton: skeleton, frameTime: 1 / kinectFrameRate, rotations: rotations,
        translations: translations)
    } catch {
      throw MotionFormatError(.invalidData, file: anglesName, reason: "\(error)")
    }
  }

  /// A table of per-frame feature values (frame-major), for data with no skeleton.
  public struct FeatureTable: Sendable {
    public var values: [Float]
    public var width: Int
    public var frameRate: Double
    public var frameCount: Int { width == 0 ? 0 : values.count / width }
  }

  /// Reads a Vicon angles file: 39 joint-angle triplets (117 values, degrees) per frame, 100 Hz.
  /// The dataset does not publish which triplet is which joint, so they are kept as an opaque
  /// feature vector.
  public static func readViconAngles(_ url: URL) throws(MotionFormatError) -> FeatureTable {
    let table = try CSVTable(bytes: FileBytes.read(url), fileName: url.path, hasHeader: false)
    guard !table.rows.isEmpty else {
      throw MotionFormatError(.emptyMotion, file: url.path, reason: "the file has no frames")
    }
    guard table.width == 117 else {
      throw MotionFormatError(
        .valueCount, file: url.path, line: table.rows[0].line,
        reason: "\(table.width) values per frame; a UI-PRMD Vicon angles file has 117")
    }
    return FeatureTable(
      values: table.rows.flatMap { $0.values.map(Float.init) }, width: 117,
      frameRate: viconFrameRate)
  }

  /// The path of a repetition's file under the dataset's `raw` folder.
  public static func path(
    root: URL, sensor: String = "Kinect", kind: String, movement: Int, subject: Int,
    episode: Int, correct: Bool
  ) -> URL {
    let folder = correct ? "Segmented Movements" : "Incorrect Segmented Movements"
    let name =
      "m\(twoDigits(movement))_s\(twoDigits(subject))_e\(twoDigits(episode))_\(kind)\(correct ? "" : "_inc").txt.gz"
    return root.appendingPathComponent(folder).appendingPathComponent(sensor)
      .appendingPathComponent(kind.capitalized).appendingPathComponent(name)
  }

  /// A movement, subject or episode number as the dataset writes it: `7` → `"07"`.
  public static func twoDigits(_ number: Int) -> String {
    number < 10 ? "0\(number)" : "\(number)"
  }

  /// One Kinect repetition (angles and positions) under the dataset's `raw` folder.
  public static func readKinect(
    root: URL, movement: Int, subject: Int, episode: Int, correct: Bool
  ) throws(MotionFormatError) -> Clip {
    let angles = path(
      root: root, kind: "angles", movement: movement, subject: subject, episode: episode,
      correct: correct)
    return try readKinect(angles: angles, positions: positionsPath(forAngles: angles))
  }

  /// Consecutive Kinect repetitions of one subject joined into one continuous take (the
  /// dataset's episodes follow one another).
  public static func readKinectTake(
    root: URL, movement: Int, subject: Int, episodes: ClosedRange<Int>, correct: Bool = true
  ) throws -> Clip {
    try Clip(
      joining: episodes.map {
        try readKinect(
          root: root, movement: movement, subject: subject, episode: $0, correct: correct)
      })
  }

  /// The positions file that belongs to a Kinect angles file: in the dataset's `Positions/`
  /// folder beside `Angles/`, or else next to the angles file.
  public static func positionsPath(forAngles angles: URL) -> URL {
    let name = angles.lastPathComponent.replacingOccurrences(of: "_angles", with: "_positions")
    let folder = angles.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Positions")
    let inDataset = folder.appendingPathComponent(name)
    // The dataset keeps the two in sibling folders; copies often keep them side by side.
    let beside = angles.deletingLastPathComponent().appendingPathComponent(name)
    if !FileManager.default.fileExists(atPath: inDataset.path),
      FileManager.default.fileExists(atPath: beside.path)
    {
      return beside
    }
    return inDataset
  }
}
