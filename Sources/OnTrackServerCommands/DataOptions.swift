import ArgumentParser
import Foundation
import OnTrackServer

/// Where the server keeps its data, as `serve`, `token`, `backup` and `record` take it.
public struct DataOptions: ParsableArguments {
  @Option(
    help:
      "The data folder (SQLite store). Default: $XDG_DATA_HOME/ontrack or ~/.local/share/ontrack.")
  public var data: String?

  @Option(
    help: ArgumentHelp(
      "The store: sqlite (the data folder's database, the default) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (shared by several servers).",
      valueName: "store"))
  public var store: String = "sqlite"

  public init() {}

  /// `--store` if it was given other than as the default (for `serve`, whose configuration
  /// file and environment may name the store).
  var storeGiven: String? { store == "sqlite" ? nil : store }

  public var folder: URL {
    data.map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataFolder
  }

  /// The PostgreSQL URL, if `--store` names one.
  public var postgresURL: String? { store == "sqlite" ? nil : store }

  /// Opens the store: PostgreSQL if `--store` names it, else SQLite in the data folder
  /// (created private: files this process makes are readable by its user only).
  public func openStore() async throws -> any ServerStore {
    umask(0o077)
    if let url = postgresURL { return try await PostgresStore(url: url) }
    return try SQLiteStore(folder: folder)
  }
}
