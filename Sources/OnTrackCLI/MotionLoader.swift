import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackServerCommands

/// Loads a motion file by its extension, for commands that accept several formats.
enum MotionLoader {
  static func url(_ path: String) -> URL {
    URL(fileURLWithPath: path)
  }

  /// Reads a BVH file (the only self-contained motion format so far).
  static func loadBVH(_ path: String) throws -> Clip {
    guard path.lowercased().hasSuffix(".bvh") else {
      throw ValidationError("\(path): expected a .bvh file")
    }
    return try BVHReader().read(contentsOf: url(path))
  }
}

/// The bundled exercise library as commands name it by default: `Assets/exercises` found
/// beside the program (`InstallLocation`), whatever the working directory.
enum BundledExercises {
  static var path: String { InstallLocation.exercises?.path ?? "Assets/exercises" }
}

extension TakeLoader {
  /// `load`, saying on standard error what the file's readers left out for its times.
  static func loadSaying(
    _ path: String, csvSkeleton: Skeleton?, layout: String?, startPosture: BodyPosture? = nil
  ) throws -> Loaded {
    let loaded = try load(
      URL(fileURLWithPath: path), csvSkeleton: csvSkeleton, layout: layout,
      startPosture: startPosture)
    for note in loaded.keypoints?.readingNotes ?? [] { Output.warn("\(path): \(note)") }
    if let leftOut = loaded.leftOut {
      Output.warn(
        "\(path): left out \(leftOut), whose time was not a number or not after the one before")
    }
    return loaded
  }
}
