import ArgumentParser
import OnTrackServerCommands

/// The `ontrack` command tree; the executable's root command uses this configuration.
public enum OnTrackCommands {
  public static let configuration = CommandConfiguration(
    commandName: "ontrack",
    abstract:
      "Virtual rehabilitation: motion files, kinematics, scoring, the avatar app, the server.",
    discussion: """
      Lengths are metres and angles degrees in human output unless a command says otherwise \
      (fk keeps the file's units so it can be diffed with other tools). Add --json for \
      machine-readable output where offered.
      """,
    subcommands: [
      InspectCommand.self, FKCommand.self, ConvertCommand.self, ScoreCommand.self,
      EvalCommand.self, ExercisesCommand.self, PlayCommand.self, RenderCommand.self,
      ServeCommand.self, TokenCommand.self, BackupCommand.self, RecordCommand.self,
      SimulateCommand.self, CameraCommand.self, SpeechCommand.self, ProgrammeCommand.self,
      SessionCommand.self,
      BenchCommand.self,
    ])
}
