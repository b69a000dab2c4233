import ArgumentParser
import Foundation
import OnTrackServer

/// `ontrack backup DEST`: a consistent copy of the store while the server runs.
public struct BackupCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "backup",
    abstract: "Copy the database to a new file, consistently, while the server runs.",
    discussion: """
      Uses SQLite's online backup: the copy is one consistent state of the database, taken \
      without stopping the server. DEST must not exist; it is written 0600. To restore, stop \
      the server and copy DEST to ontrack.sqlite in the data folder (removing any \
      ontrack.sqlite-wal and -shm beside it), or start a server with --data on a folder that \
      holds it under that name.
      """)

  @OptionGroup var dataOptions: DataOptions

  @Argument(help: "The file to write.")
  var destination: String

  public init() {}

  public func run() async throws {
    let store = try await dataOptions.openStore()
    let url = URL(fileURLWithPath: destination)
    try await store.backup(to: url)
    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    Output.write("backed up \(store.location) to \(url.path) (\(size) bytes)\n")
  }
}

/// `ontrack-server`: the server's commands alone, built without the avatar app (no SDL, no
/// OpenGL), for server machines.
public enum ServerCommands {
  public static let configuration = CommandConfiguration(
    commandName: "ontrack-server",
    abstract: "The OnTrack server and its administration: serve, token, backup.",
    subcommands: [ServeCommand.self, TokenCommand.self, BackupCommand.self])
}
