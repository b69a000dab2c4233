import ArgumentParser
import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackScoring
import OnTrackServerCommands
import OnTrackSimulation

struct ExercisesCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exercises",
    abstract: "List the exercise library, or rebuild the bundled UI-PRMD exercises.",
    subcommands: [
      ListExercisesCommand.self, BuildUIPRMDExercisesCommand.self, AuthorBackPainCommand.self,
    ],
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

struct AuthorBackPainCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "author-backpain",
    abstract: "Write the low-back-pain exercises' authored reference movements (BVH).",
    discussion: """
      Each reference is built by BackPainLibrary on the canonical skeleton (key postures from \
      clinical sources, minimum-jerk between them) and written as <id>.bvh; the definitions \
      (<id>.json) are written by hand. --variant fault writes each exercise's typical fault \
      instead, for looking at or scoring.
      """)

  @Option(help: "The folder to write into.")
  var out: String = "Assets/exercises"

  @Option(help: "reference, fault or shortHold.")
  var variant: String = "reference"

  @Option(help: "Only this exercise id.")
  var only: String?

  func run() async throws {
    guard let chosen = BackPainLibrary.Variant(rawValue: variant) else {
      throw ValidationError("--variant must be reference, fault or shortHold, not '\(variant)'")
    }
    let folder = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for exercise in BackPainLibrary.exercises where only == nil || only == exercise.id {
      let clip = try exercise.motion(chosen).clip()
      let suffix = chosen == .reference ? "" : "-\(chosen.rawValue)"
      let url = folder.appendingPathComponent("\(exercise.id)\(suffix).bvh")
      try BVHWriter().write(clip, to: url)
      Output.write(
        "wrote \(url.path) (\(clip.frameCount) frames, \(Output.fixed(Double(clip.frameCount) * clip.frameTime, 1)) s)\n"
      )
    }
  }
}
