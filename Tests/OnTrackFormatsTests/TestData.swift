import Foundation
import OnTrackFormats
import OnTrackKinematics

/// Paths to the shared real recordings and this target's fixtures.
enum TestData {
  /// The repository root (this file is Tests/OnTrackFormatsTests/TestData.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// `../shared` beside the repository, or `$ONTRACK_SHARED`.
  static let shared: URL = {
    if let path = ProcessInfo.processInfo.environment["ONTRACK_SHARED"] {
      return URL(fileURLWithPath: path)
    }
    return root.deletingLastPathComponent().appendingPathComponent("shared")
  }()

  static let fixtures = root.appendingPathComponent("Tests/OnTrackFormatsTests/Fixtures")

  /// Every BVH file under shared/data/bvh, sorted.
  static let bvhFiles: [URL] = {
    let folder = shared.appendingPathComponent("data/bvh")
    let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
    var files: [URL] = []
    while let url = enumerator?.nextObject() as? URL {
      if url.pathExtension == "bvh" { files.append(url) }
    }
    return files.sorted { $0.path < $1.path }
  }()

  static func bvh(_ relative: String) -> URL {
    shared.appendingPathComponent("data/bvh/\(relative)")
  }

  /// The Python that has the peers' requirements installed, if any.
  static let peersPython: String? = {
    let candidates = [
      ProcessInfo.processInfo.environment["ONTRACK_PEERS_PYTHON"], "/tmp/peers-venv/bin/python",
    ]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  /// Runs a peer script; returns its exit status.
  static func runPeer(_ script: String, _ arguments: [String]) throws -> Int32 {
    guard let python = peersPython else { return -1 }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [shared.appendingPathComponent("peers/\(script)").path] + arguments
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// A parsed FK CSV: header and rows of numbers.
struct PositionTable {
  var header: [String]
  var rows: [[Double]]

  init(text: String) {
    var lines = text.split(whereSeparator: \.isNewline)
    header = lines.isEmpty ? [] : lines.removeFirst().split(separator: ",").map(String.init)
    rows = lines.map { $0.split(separator: ",").map { Double($0) ?? .nan } }
  }

  /// The largest side of the box around frame `row`'s positions.
  func extent(row: Int) -> Double {
    let values = Array(rows[row].dropFirst(2))
    var span = 0.0
    for axis in 0..<3 {
      let coords = stride(from: axis, to: values.count, by: 3).map { values[$0] }
      span = max(span, (coords.max() ?? 0) - (coords.min() ?? 0))
    }
    return span
  }
}

func readBVH(_ url: URL) throws -> Clip {
  try BVHReader().read(contentsOf: url)
}

/// Reads BVH text and returns the error it raises (or nil).
func bvhError(_ text: String) -> MotionFormatError? {
  do {
    _ = try BVHReader().read(text: text, fileName: "test.bvh")
    return nil
  } catch {
    return error
  }
}
