import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackServerCommands

struct ScoreCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score",
    abstract: "Score a take against an exercise: repetitions, scores, per-joint errors, cues.",
    discussion: """
      The take may be BVH, joint-angle CSV (on the exercise's reference skeleton), a UI-PRMD \
      Kinect angles file, or keypoints (CSV with <name>.x/.y/.z columns as `ontrack fk --csv` \
      writes, JSON lines, OpenSim .trc, UI-PRMD Vicon markers), solved onto the canonical \
      skeleton; a keypoint take also reports the share of frames each body point was seen. Repetitions are found by subsequence DTW; each gets a 0–100 score, \
      per-measure aligned errors and range of motion (degrees), tempo, compensations and cues. \
      A patient working the other side is compared with the mirrored reference automatically.
      """)

  @Option(help: "An exercise id from the library, or a path to a definition (.json).")
  var exercise: String

  @Argument(help: "The take.")
  var take: String

  @Option(help: "The exercise library folder.")
  var library: String = BundledExercises.path

  @Flag(help: "Print every number as JSON.")
  var json = false

  @Option(
    help: ArgumentHelp(
      "The layout of a keypoint take, if its point names do not tell.",
      discussion: "One of: \(KeypointLayout.ids.joined(separator: ", ")).", valueName: "id"))
  var layout: String?

  func run() async throws {
    let exercise = try Exercise.find(self.exercise, library: URL(fileURLWithPath: library))
    let loaded = try TakeLoader.loadSaying(
      take, csvSkeleton: exercise.referenceClip?.skeleton, layout: layout,
      startPosture: exercise.startPosture)
    let scorer = TakeScorer(exercise: exercise)
    if let (given, taken) = loaded.keypoints?.unitCorrected {
      Output.warn(
        "\(take): in the \(loaded.layout ?? "keypoint") layout's unit (\(given) m) the body would "
          + "be \(Output.fixed(given / taken, given / taken >= 10 ? 0 : 2))× an adult's size: read in units of \(taken) m"
      )
    }
    if loaded.keypoints == nil, let body = try? BodyModel(skeleton: loaded.clip.skeleton),
      ClipFeatures.upright(loaded.clip, body: body, like: exercise.startPosture) != .identity
    {
      Output.warn(
        "\(take): the rig's up is not +Y (its rest pose stands along another axis): read turned "
          + "so that +Y is up, as the exercise starts")
    }
    let result = try loaded.keypoints.map(scorer.score) ?? scorer.score(loaded.clip)
    Output.write(
      json ? try Output.json(result) : Self.table(result, exercise: exercise, take: take))
  }

  /// Names in order of first appearance across the repetitions.
  static func ordered(_ lists: [[String]]) -> [String] {
    var seen = Set<String>()
    var out: [String] = []
    for list in lists { for name in list where seen.insert(name).inserted { out.append(name) } }
    return out
  }

  static func table(_ result: TakeResult, exercise: Exercise, take: String) -> String {
    var lines: [String] = []
    lines.append("\(exercise.definition.name) (\(exercise.id)) — \(take)")
    let s = result.summary
    var summary = "\(s.repetitions) of \(s.prescribed) repetitions"
    if let mean = s.meanScore, let best = s.bestScore, let worst = s.worstScore {
      summary +=
        "; mean score \(Output.fixed(mean, 1)) (best \(Output.fixed(best, 1)), worst \(Output.fixed(worst, 1)))"
    }
    if result.mirrored { summary += "; other side: compared with the mirrored reference" }
    lines.append(summary)
    if result.repetitions.isEmpty {
      lines.append("No repetition found: the movement did not come close enough to the reference.")
      return lines.joined(separator: "\n") + "\n"
    }
    lines.append("")
    lines.append(" #   time (s)       score  tempo  cues")
    for r in result.repetitions {
      let time = "\(Output.fixed(r.startTime, 2))–\(Output.fixed(r.endTime, 2))"
      lines.append(
        "\(String(r.index).leftPadded(to: 2))   \(time.padding(toLength: 13, withPad: " ", startingAt: 0)) \((r.isMeasured ? Output.fixed(r.score, 1) : "—").leftPadded(to: 5))  \(Output.fixed(r.tempoRatio, 2).leftPadded(to: 5))  \((r.cues.map(\.text) + (r.unseen.map { ["(not seen: \($0.joined(separator: ", ")))"] } ?? [])).joined(separator: "; "))"
      )
    }
    lines.append("")
    lines.append(
      "Per measure (degrees): mean aligned error / tolerance, range reached / reference's")
    // Repetitions may differ in what was seen: rows by name, "unseen" where left out.
    let names = Self.ordered(result.repetitions.map { $0.measures.map(\.measure) })
    let width = max(12, names.map(\.count).max() ?? 12)
    for name in names {
      var row = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
      for r in result.repetitions {
        guard let m = r.measures.first(where: { $0.measure == name }) else {
          row += "  unseen".padding(toLength: 14, withPad: " ", startingAt: 0)
          continue
        }
        row +=
          "  \(Output.fixed(m.error, 1))/\(Output.fixed(m.tolerance, 0)) \(Output.fixed(m.rangeOfMotion, 0))/\(Output.fixed(m.referenceRangeOfMotion, 0))"
      }
      lines.append(row)
    }
    let compensations = Self.ordered(result.repetitions.map { $0.compensations.map(\.measure) })
    if !compensations.isEmpty {
      lines.append("Keep still (degrees moved / reference's, tolerance):")
      for name in compensations {
        var row = "  " + name.padding(toLength: width, withPad: " ", startingAt: 0)
        for r in result.repetitions {
          guard let c = r.compensations.first(where: { $0.measure == name }) else {
            row += "  unseen".padding(toLength: 14, withPad: " ", startingAt: 0)
            continue
          }
          row +=
            "  \(Output.fixed(c.movement, 1))/\(Output.fixed(c.referenceMovement, 1)) ±\(Output.fixed(c.tolerance, 0))"
        }
        lines.append(row)
      }
    }
    if let tracking = result.tracking, !tracking.isEmpty {
      let poor = tracking.filter { $0.value < 0.95 }.sorted { $0.value < $1.value }
      lines.append("")
      lines.append(
        poor.isEmpty
          ? "Tracking: every body point seen in at least 95 % of frames."
          : "Tracking (share of frames seen): "
            + poor.map { "\($0.key) \(Output.fixed($0.value * 100, 0)) %" }.joined(separator: ", "))
    }
    if !s.commonCues.isEmpty {
      lines.append("")
      lines.append("Most common cues: " + s.commonCues.joined(separator: "; "))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
