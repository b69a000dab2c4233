import ArgumentParser
import OnTrackCLI

/// `ontrack`: the command line over the OnTrack libraries.
@main
struct OnTrack: AsyncParsableCommand {
  static let configuration = OnTrackCommands.configuration
}
