import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics

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

/// Writes command output to standard output in one piece.
enum Output {
  static func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }

  static func write(bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes))
  }

  static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
  }

  /// `value` with `decimals` digits after the point.
  static func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
  }
}
