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
    subcommands: [
      UIPRMDEvalCommand.self, RobustnessEvalCommand.self, KeypointsEvalCommand.self,
      ViconEvalCommand.self,
    ])
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

  @Option(help: "Degrees of white joint-angle noise added to every repetition (0: none).")
  var noise: Double = 0

  func run() async throws {
    guard noise >= 0, noise <= 45 else {
      throw ValidationError("--noise must be 0 to 45 degrees, not \(noise)")
    }
    let report = try UIPRMDEvaluation.run(
      dataset: URL(fileURLWithPath: dataset), exercises: URL(fileURLWithPath: exercises),
      movements: movements, vicon: !noVicon, dump: dump.map { URL(fileURLWithPath: $0) },
      noise: noise,
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

  @Option(
    help: """
      Simulated patients (seeds 1…N): with more than one, print instead how many of the N \
      takes of each change that keeps every repetition were counted wrong.
      """)
  var seeds = 1

  func validate() throws {
    guard (1...1000).contains(seeds) else { throw ValidationError("--seeds must be 1–1000") }
  }

  func run() async throws {
    let folder = URL(fileURLWithPath: exercises)
    let ids =
      only.isEmpty
      ? try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
      : only
    var rows: [RobustnessSuite.Row] = []
    var rowsBySeed = [[RobustnessSuite.Row]](repeating: [], count: seeds)
    for id in ids {
      let exercise = try Exercise.load(contentsOf: folder.appendingPathComponent(id + ".json"))
      if seeds == 1 {
        rows.append(try RobustnessSuite.run(exercise))
      } else {
        for seed in 1...seeds {
          rowsBySeed[seed - 1].append(try RobustnessSuite.run(exercise, seed: UInt64(seed)))
        }
      }
      if !json { FileHandle.standardError.write(Data("\(id) done\n".utf8)) }
    }
    if seeds > 1 {
      Output.write(
        json ? try Output.json(rowsBySeed) : RobustnessSuite.countingMarkdown(rowsBySeed))
    } else {
      Output.write(json ? try Output.json(rows) : RobustnessSuite.markdown(rows))
    }
  }
}

struct KeypointsEvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keypoints",
    abstract: "UI-PRMD's Kinect repetitions as keypoints through the solver: AUC beside angles.",
    discussion: """
      Leave-one-subject-out as `eval uiprmd`, the test subject's repetitions fed as keypoints \
      (the Kinect joints' world positions) as they are, with Gaussian jitter on every \
      coordinate, and with the movement's key landmark lost for 0.5 s in every repetition \
      (counting cues that would blame the patient for it), and as only the points a camera's \
      pose model gives (no point on the spine). See README, "Keypoints, cameras and other \
      sensors".
      """)

  @Argument(help: "The UI-PRMD folder (holding raw/).")
  var dataset: String = "../shared/data/uiprmd"

  @Option(help: "The folder with the uiprmd-mNN-*.json exercise definitions.")
  var exercises: String = BundledExercises.path

  @Option(parsing: .upToNextOption, help: "Movements to evaluate (1–10).")
  var movements: [Int] = Array(1...10)

  @Option(help: "Jitter per coordinate, metres.")
  var jitter: Float = 0.02

  @Flag(help: "Print JSON.")
  var json = false

  func run() async throws {
    let results = try KeypointEvaluation.kinect(
      dataset: URL(fileURLWithPath: dataset), exercises: URL(fileURLWithPath: exercises),
      movements: movements, jitter: jitter,
      progress: { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } })
    if json {
      Output.write(try Output.json(results))
      return
    }
    var lines = [
      "| movement | AUC from angles | as keypoints | with \(Output.fixed(Double(jitter) * 100, 0)) cm jitter | one landmark lost 0.5 s per rep (lost; left out in reps; false cues) | a camera's points (against the references' own necks) |",
      "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results {
      lines.append(
        "| m\(UIPRMDReader.twoDigits(r.movement)) \(r.name) | \(Output.fixed(r.anglesAUC, 3)) | \(Output.fixed(r.keypointsAUC, 3)) | \(Output.fixed(r.jitterAUC, 3)) | \(Output.fixed(r.dropoutAUC, 3)) (\(r.dropped); \(r.unseenRepetitions)/\(r.repetitions); \(r.falseCues)) | \(Output.fixed(r.cameraAUC, 3)) (\(Output.fixed(r.cameraOwnNeckAUC, 3))) |"
      )
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}

struct ViconEvalCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vicon",
    abstract:
      "Cross-sensor: UI-PRMD's Vicon marker repetitions scored with the Kinect-built exercises.",
    discussion: """
      Joint centres from the Plug-in-Gait markers (PlugInGait), solved like any keypoints, \
      every repetition scored with the bundled exercise of its movement. Nothing is fitted \
      to these takes.
      """)

  @Argument(help: "The folder holding correct/ and incorrect/ Vicon marker files.")
  var vicon: String = "../shared/data/uiprmd/vicon"

  @Option(help: "The folder with the uiprmd-mNN-*.json exercises.")
  var exercises: String = BundledExercises.path

  @Option(parsing: .upToNextOption, help: "Movements to evaluate (those present are scored).")
  var movements: [Int] = Array(1...10)

  @Flag(help: "Also print every score term's median, correct and incorrect.")
  var diagnose = false

  @Flag(help: "Print JSON.")
  var json = false

  func run() async throws {
    let results = try KeypointEvaluation.vicon(
      vicon: URL(fileURLWithPath: vicon), exercises: URL(fileURLWithPath: exercises),
      movements: movements,
      progress: { if !json { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } })
    if json {
      Output.write(try Output.json(results))
      return
    }
    var lines = [
      "| movement | AUC (Vicon) | median score correct | median score incorrect | repetitions (correct / incorrect) | mirrored |",
      "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results {
      lines.append(
        "| m\(UIPRMDReader.twoDigits(r.movement)) \(r.name) | \(Output.fixed(r.auc, 3)) | \(Output.fixed(r.medianCorrect, 1)) | \(Output.fixed(r.medianIncorrect, 1)) | \(r.correct) / \(r.incorrect) | \(r.mirrored) |"
      )
    }
    if diagnose {
      for r in results {
        lines.append("m\(r.movement) median normalised terms (correct / incorrect):")
        for (name, values) in r.terms.sorted(by: { $0.value[0] > $1.value[0] }) {
          lines.append("  \(name): \(Output.fixed(values[0], 2)) / \(Output.fixed(values[1], 2))")
        }
      }
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}
