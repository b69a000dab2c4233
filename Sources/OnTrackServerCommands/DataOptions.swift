import ArgumentParser
import Foundation
import OnTrackServer

/// Where the server keeps its data, as `serve`, `token`, `backup` and `record` take it.
public struct DataOptions: ParsableArguments {
  @Option(
    help:
      "The data folder (SQLite store). Default: $XDG_DATA_HOME/ontrack or ~/.local/share/ontrack.")
  public var data: String?

  public init() {}

  public var folder: URL {
    data.map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataFolder
  }

  /// Opens the store in the data folder (creating it private: files this process makes are
  /// readable by its user only).
  public func openStore() throws -> SQLiteStore {
    umask(0o077)
    return try SQLiteStore(folder: folder)
  }
}
