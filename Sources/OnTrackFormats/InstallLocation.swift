import Foundation

/// Where OnTrack's own files (`Assets/`, `Shaders/`) are, whatever the working directory: the
/// one lookup the app, the server and the command line share.
///
/// Candidates in order: `$ONTRACK_HOME`, the working directory, the executable's folder and up
/// to five of its parents (a build in `.build/debug` finds the repository), then
/// `/usr/local/share/ontrack` and `/usr/share/ontrack` (an installed copy).
public enum InstallLocation {
  /// The first candidate folder holding `marker` (a relative path such as
  /// `Assets/exercises`), or `nil`.
  public static func root(containing marker: String) -> URL? {
    candidates().first {
      FileManager.default.fileExists(atPath: $0.appendingPathComponent(marker).path)
    }
  }

  /// The bundled exercise library, `Assets/exercises`.
  public static var exercises: URL? {
    root(containing: "Assets/exercises").map { $0.appendingPathComponent("Assets/exercises") }
  }

  static func candidates() -> [URL] {
    var candidates: [URL] = []
    if let home = ProcessInfo.processInfo.environment["ONTRACK_HOME"], !home.isEmpty {
      candidates.append(URL(fileURLWithPath: home))
    }
    candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? ".")
      .resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<6 {
      candidates.append(folder)
      folder = folder.deletingLastPathComponent()
    }
    candidates.append(URL(fileURLWithPath: "/usr/local/share/ontrack"))
    candidates.append(URL(fileURLWithPath: "/usr/share/ontrack"))
    return candidates
  }
}
