import Foundation
import OnTrackFormats
import OnTrackKinematics

/// Loads a patient's take by file type: BVH (`.bvh`), joint-angle CSV (`.csv`, on the
/// exercise's reference skeleton), a UI-PRMD Kinect angles file (`*_angles*.txt[.gz]`, whose
/// positions file is found beside it), or keypoints (`KeypointFiles`: keypoint CSV, JSON
/// lines, TRC, UI-PRMD Vicon markers), solved onto the canonical skeleton.
public enum TakeLoader {
  /// A loaded take; for keypoints, what the solve saw.
  public struct Loaded: Sendable {
    public var clip: Clip
    public var keypoints: KeypointTake.Solved?
    public var layout: String?
    /// What was left out of the file for its times, said in words (a keypoint take's frames
    /// or a joint-angle CSV's lines, `KeypointTake.framesLeftOut`,
    /// `JointAngleCSV.Reading.linesLeftOut`); `nil` if nothing was.
    public var leftOut: String?
  }

  public static func load(_ url: URL, exercise: Exercise, layout: String? = nil) throws -> Clip {
    try load(
      url, csvSkeleton: exercise.referenceClip?.skeleton, layout: layout,
      startPosture: exercise.startPosture
    ).clip
  }

  /// Loads `url`; a joint-angle CSV is read on `csvSkeleton` (and refused without one);
  /// `layout` names the layout of a keypoint file (recognised from its names otherwise);
  /// `startPosture`, the posture the take should start in (its exercise's), lets a keypoint
  /// file's up axis be told when its layout does not give it (`KeypointConverter`).
  public static func load(
    _ url: URL, csvSkeleton: Skeleton?, layout: String? = nil, startPosture: BodyPosture? = nil
  ) throws -> Loaded {
    if KeypointFiles.isKeypointFile(url) || layout != nil {
      var take = try KeypointFiles.read(url, layout: layout)
      take.startPosture = startPosture
      let solved = try take.solved()
      return Loaded(
        clip: solved.clip, keypoints: solved, layout: take.layout.id,
        leftOut: TimeOrder.words("frame", take.framesLeftOut))
    }
    let (clip, leftOut) = try loadMotion(url, csvSkeleton: csvSkeleton)
    return Loaded(clip: clip, leftOut: leftOut)
  }

  static func loadMotion(_ url: URL, csvSkeleton: Skeleton?) throws -> (Clip, String?) {
    let name = url.lastPathComponent.lowercased()
    if name.hasSuffix(".bvh") || name.hasSuffix(".bvh.gz") {
      return (try BVHReader().read(contentsOf: url), nil)
    }
    if name.hasSuffix(".csv") {
      guard let skeleton = csvSkeleton else {
        throw MotionFormatError(
          .invalidData, file: url.path,
          reason: "a joint-angle CSV needs a skeleton to be read on, and there is none here")
      }
      let reading = try JointAngleCSV.read(contentsOf: url, skeleton: skeleton)
      return (reading.clip, TimeOrder.words("line", reading.linesLeftOut))
    }
    if name.contains("_angles") && (name.hasSuffix(".txt") || name.hasSuffix(".txt.gz")) {
      let clip = try UIPRMDReader.readKinect(
        angles: url, positions: UIPRMDReader.positionsPath(forAngles: url))
      return (clip, nil)
    }
    throw MotionFormatError(
      .invalidData, file: url.path,
      reason:
        "unknown take format (expected .bvh, joint-angle or keypoint .csv, keypoint .jsonl, .trc, a UI-PRMD *_angles.txt[.gz] or Vicon *_positions.txt[.gz])"
    )
  }
}

extension Exercise {
  /// Loads an exercise given as a path to its definition, or as an id looked up in `library`.
  public static func find(_ nameOrPath: String, library: URL) throws -> Exercise {
    if nameOrPath.hasSuffix(".json") || FileManager.default.fileExists(atPath: nameOrPath) {
      return try load(contentsOf: URL(fileURLWithPath: nameOrPath))
    }
    let candidate = library.appendingPathComponent(nameOrPath + ".json")
    guard FileManager.default.fileExists(atPath: candidate.path) else {
      let known =
        (try? FileManager.default.contentsOfDirectory(atPath: library.path))?
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted() ?? []
      throw ExerciseError(
        file: nameOrPath,
        reason:
          "no such exercise file or id in \(library.path) (known: \(known.joined(separator: ", ")))"
      )
    }
    return try load(contentsOf: candidate)
  }
}
