import ArgumentParser
import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackScoring
import OnTrackServerCommands

struct EvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Validate the scorer on public datasets.",
    subcommands: [UIPRMDEvalCommand.self, RobustnessEvalCommand.self])
}

struct UIPRMDEvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "uiprmd",
    abstract:
      "Leave-one-subject-out ROC AUC per UI-PRMD movement, and the Vicon deep-squat label comparison.",
    discussion: """
      For every movement and every subject, the reference and tolerances are built from the \
      other nine subjects' correct repetitions only; that subject's correct and incorrect \
      repetitions are then scored. Prints the AUC of correct-vs-incorrect scores per movement \
      and the mean score of each class. See README, "Validation on UI-PRMD".
      """)

  @Argument(help: "The UI-PRMD folder (holding raw/ and liao2020_derived/).")
  var dataset: String = "../shared/data/uiprmd"

  @Option(help: "The folder with the uiprmd-mNN-*.json exercise definitions.")
  var exercises: String = BundledExercises.path

  @Option(parsing: .upToNextOption, help: "Movements to evaluate (1–10).")
  var movements: [Int] = Array(1...10)

  @Flag(help: "Skip the Vicon deep-squat label comparison.")
  var noVicon = false

  @Flag(help: "Also print, per movement, the AUC each measure would reach alone.")
  var diagnose = false

  @Flag(help: "Print JSON.")
  var json = false

  @Option(
    help: ArgumentHelp(
      "Also write every fold's raw measures and features into this folder.",
      discussion: "Input for Scripts/uiprmd-ablation.py."))
  var dump: String?

  func run() async throws {
    let report = try UIPRMDEvaluation.run(
      dataset: URL(fileURLWithPath: dataset), exercises: URL(fileURLWithPath: exercises),
      movements: movements, vicon: !noVicon, dump: dump.map { URL(fileURLWithPath: $0) },
      progress: { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } })
    if json {
      Output.write(try Output.json(report))
      return
    }
    var lines = [
      "| movement | AUC | median score correct | median score incorrect | mirrored | reps counted in joined takes (correct / incorrect, of 100) | single repetitions found as one (stable ±1 frame) |",
      "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in report.movements {
      lines.append(
        "| m\(UIPRMDReader.twoDigits(m.movement)) \(m.name) | \(Output.fixed(m.auc, 3)) | \(Output.fixed(m.medianScoreCorrect, 1)) | \(Output.fixed(m.medianScoreIncorrect, 1)) | \(m.mirroredCount) | \(m.countedCorrect) / \(m.countedIncorrect) | \(m.singleCounted) / \(m.singleTried) (\(m.singleStable)) |"
      )
    }
    if diagnose {
      for m in report.movements {
        let parts = m.measureAUC.sorted { $0.value > $1.value }
          .map { "\($0.key) \(Output.fixed($0.value, 2))" }
        lines.append("m\(m.movement): " + parts.joined(separator: ", "))
      }
    }
    if let v = report.vicon {
      lines.append("")
      lines.append(
        "Vicon deep squat (\(v.repetitions) labelled repetitions): mean absolute deviation from the Liao 2020 labels \(Output.fixed(v.meanAbsoluteDeviation, 3)) (labels \(Output.fixed(v.labelRange[0], 3))–\(Output.fixed(v.labelRange[1], 3))), Spearman \(Output.fixed(v.spearman, 3)), AUC \(Output.fixed(v.auc, 3))"
      )
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}

struct RobustnessEvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "robustness",
    abstract:
      "Score each exercise's reference performed with noise, drift, jitter, tempo, mirror, less range, compensation.",
    discussion: """
      Three repetitions of the reference by a simulated patient, perfect and then with one \
      change at a time. Prints the mean repetition score of each (and the repetitions found \
      where that is not three). See README, "How robust the score is".
      """)

  @Option(help: "The exercise folder.")
  var exercises: String = BundledExercises.path

  @Option(parsing: .upToNextOption, help: "Exercise ids (default: every exercise in the folder).")
  var only: [String] = []

  @Flag(help: "Print JSON.")
  var json = false

  func run() async throws {
    let folder = URL(fileURLWithPath: exercises)
    let ids =
      only.isEmpty
      ? try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
      : only
    var rows: [RobustnessSuite.Row] = []
    for id in ids {
      let exercise = try Exercise.load(contentsOf: folder.appendingPathComponent(id + ".json"))
      rows.append(try RobustnessSuite.run(exercise))
      if !json { FileHandle.standardError.write(Data("\(id) done\n".utf8)) }
    }
    Output.write(json ? try Output.json(rows) : RobustnessSuite.markdown(rows))
  }
}
