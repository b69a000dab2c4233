import Foundation

/// Finds the `Shaders/` and `Assets/` folders: `$ONTRACK_HOME`, the working directory, or a
/// parent of the executable (so `.build/release/ontrack` finds the repository's).
public enum Resources {
  public static func root() throws(AppError) -> URL {
    var candidates: [URL] = []
    if let home = ProcessInfo.processInfo.environment["ONTRACK_HOME"] {
      candidates.append(URL(fileURLWithPath: home))
    }
    candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
      .deletingLastPathComponent()
    for _ in 0..<5 {
      candidates.append(folder)
      folder = folder.deletingLastPathComponent()
    }
    for candidate in candidates {
      let shaders = candidate.appendingPathComponent("Shaders/mannequin.vert").path
      if FileManager.default.fileExists(atPath: shaders) { return candidate }
    }
    throw .resource(
      "cannot find the Shaders/ and Assets/ folders (run from the repository, or set ONTRACK_HOME)")
  }
}
