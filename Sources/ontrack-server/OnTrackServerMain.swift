import ArgumentParser
import OnTrackServerCommands

/// `ontrack-server`: the server and its administration, without the avatar app.
@main
struct OnTrackServerMain: AsyncParsableCommand {
  static let configuration = ServerCommands.configuration
}
