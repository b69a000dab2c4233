import ArgumentParser
import Foundation
import OnTrackEvaluation
import OnTrackScoring
import OnTrackServerCommands

struct ExercisesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exercises",
    abstract: "List the exercise library, or rebuild the bundled UI-PRMD exercises.",
    subcommands: [ListExercisesCommand.self, BuildUIPRMDExercisesCommand.self],
    defaultSubcommand: ListExercisesCommand.self)
}

struct ListExercisesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List the exercises in a folder of definitions.")

  @Option(help: "The folder with exercise definitions (*.json).")
  var exercises: String = BundledExercises.path

  @Flag(help: "Print JSON.")
  var json = false

  struct Entry: Codable {
    var id: String
    var name: String
    var file: String
    var referenceSeconds: Double
    var laterality: String
    var measures: [String]
  }

  func run() async throws {
    let folder = URL(fileURLWithPath: exercises)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".json") }.sorted()
    var entries: [Entry] = []
    for file in files {
      let exercise = try Exercise.load(contentsOf: folder.appendingPathComponent(file))
      entries.append(
        Entry(
          id: exercise.id, name: exercise.definition.name, file: file,
          referenceSeconds: Double(exercise.reference.count) * exercise.frameTime,
          laterality: exercise.workingSide.map { "\($0)" } ?? "bilateral",
          measures: exercise.measures.map(\.measure.description)))
    }
    if json {
      Output.write(try Output.json(entries))
    } else {
      for e in entries {
        Output.write(
          "\(e.id.padding(toLength: 36, withPad: " ", startingAt: 0)) \(e.name) (\(Output.fixed(e.referenceSeconds, 1)) s, \(e.laterality))\n"
        )
      }
    }
  }
}

struct BuildUIPRMDExercisesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build-uiprmd",
    abstract: "Rebuild the bundled UI-PRMD references (BVH) and calibrate their tolerances.",
    discussion: """
      For each uiprmd-mNN-*.json in the folder: picks the representative correct repetition \
      over all ten subjects, retargets it to the canonical skeleton, writes the BVH next to the \
      definition, and rewrites the tolerances measured on all correct repetitions. Measures, \
      weights and laterality are kept as written.
      """)

  @Argument(help: "The UI-PRMD folder (holding raw/).")
  var dataset: String = "../shared/data/uiprmd"

  @Option(help: "The folder with the uiprmd-mNN-*.json definitions.")
  var exercises: String = BundledExercises.path

  func run() async throws {
    _ = try UIPRMDExerciseBuilder.build(
      dataset: URL(fileURLWithPath: dataset), exercises: URL(fileURLWithPath: exercises),
      progress: { Output.write($0 + "\n") })
  }
}
