import ArgumentParser
import Foundation
import OnTrackClient
import OnTrackProtocol
import OnTrackServerCommands

/// `ontrack programme create|assign|show`: a therapist's programmes on a server.
struct ProgrammeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "programme",
    abstract: "Prescribe programmes to patients on a server, and follow them.",
    discussion: """
      A programme is a list of exercises with sets, repetitions, hold and rest, days per week \
      and an optional progression rule, written as JSON (see README, "Programmes"). Each change \
      is a new version.
      """,
    subcommands: [Create.self, Assign.self, Show.self])

  struct Connection: ParsableArguments {
    @Option(help: "The server, http://HOST:PORT.")
    var server = "http://127.0.0.1:8080"

    @Option(help: "Your token (a therapist's to create or assign; a patient sees their own).")
    var token: String

    func client() throws -> ServerClient {
      guard let url = URL(string: server) else {
        throw ValidationError("--server: not a URL: \(server)")
      }
      return ServerClient(base: try ServerClient.base(of: url), token: token)
    }
  }

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a programme from a JSON file (a ProgrammeDefinition).")

    @OptionGroup var connection: Connection

    @Argument(help: "The programme file (JSON).")
    var file: String

    @Option(help: "The patient (overrides the file's).")
    var patient: String?

    @Flag(help: "Print the stored programme as JSON.")
    var json = false

    func run() async throws {
      var definition = try ProgrammeFile.read(file)
      if let patient { definition.patient = patient }
      let view = try await connection.client().createProgramme(definition)
      if json {
        Output.write(try Output.json(view))
      } else {
        Output.write("\(view.id) version \(view.version) for \(view.definition.patient)\n")
      }
    }
  }

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Assign a programme to another of your patients (a new version).")

    @OptionGroup var connection: Connection

    @Argument(help: "The programme id.")
    var id: String

    @Option(help: "The patient.")
    var patient: String

    func run() async throws {
      let client = try connection.client()
      var definition = try await client.programme(id).definition
      definition.patient = patient
      let view = try await client.updateProgramme(id, definition)
      Output.write("\(view.id) version \(view.version) for \(view.definition.patient)\n")
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show a programme, today's prescription and its progress (or list them all).")

    @OptionGroup var connection: Connection

    @Argument(help: "The programme id (none: list your programmes).")
    var id: String?

    @Flag(help: "JSON: the programme and its progress.")
    var json = false

    struct Shown: Encodable {
      var programme: ProgrammeView
      var progress: ProgrammeProgress
    }

    func run() async throws {
      let client = try connection.client()
      guard let id else {
        let all = try await client.programmes()
        if json {
          Output.write(try Output.json(all))
          return
        }
        for view in all {
          Output.write(
            "\(view.id)  v\(view.version)  \(view.definition.patient)  \(view.definition.name)\n")
        }
        return
      }
      let view = try await client.programme(id)
      let progress = try await client.progress(id)
      if json {
        Output.write(try Output.json(Shown(programme: view, progress: progress)))
        return
      }
      let d = view.definition
      var text = "\(d.name) — \(d.patient), by \(view.therapist), version \(view.version)\n"
      text += "\(d.daysPerWeek) days a week"
      if let start = d.start { text += " from \(start)" }
      if let weeks = d.weeks { text += " for \(weeks) weeks" }
      text += "\n"
      for item in view.today {
        text += "  \(item.exercise): \(item.sets) × \(item.repetitions)"
        if let hold = item.holdSeconds { text += ", hold \(Output.fixed(hold, 0)) s" }
        text += ", rest \(Output.fixed(item.restSeconds, 0)) s\n"
      }
      if let rule = d.progression {
        text +=
          "Progression: +\(rule.addRepetitions) repetitions a week while the mean score is at least \(Output.fixed(rule.minimumScore, 0))"
        if let top = rule.maximumRepetitions { text += ", up to \(top)" }
        text += "\n"
      }
      text += "Adherence: \(progress.adherence.done) of \(progress.adherence.prescribed) days\n"
      for day in progress.days {
        text +=
          "  \(day.date): pain \(day.painBefore.map(String.init) ?? "–") → \(day.painAfter.map(String.init) ?? "–"), \(day.sessions.count) sets\(day.complete ? "" : " (not all done)")\n"
      }
      for trend in progress.exercises {
        let scores = trend.points.map { $0.meanScore.map { Output.fixed($0, 0) } ?? "–" }
        text += "  \(trend.name): scores \(scores.joined(separator: ", "))\n"
      }
      Output.write(text)
    }
  }
}

/// A programme definition file.
enum ProgrammeFile {
  static func read(_ path: String) throws -> ProgrammeDefinition {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw ValidationError("\(path): cannot read it (\(error.localizedDescription))")
    }
    do {
      return try JSONDecoder().decode(ProgrammeDefinition.self, from: data).validated()
    } catch let error as ProgrammeDefinition.Invalid {
      throw ValidationError("\(path): \(error)")
    } catch let error as DecodingError {
      throw ValidationError("\(path): not a programme: \(Self.describe(error))")
    }
  }

  static func describe(_ error: DecodingError) -> String {
    switch error {
    case .keyNotFound(let key, let context):
      "missing '\(key.stringValue)' at \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context),
      .dataCorrupted(let context):
      "\(context.debugDescription) at \(path(context))"
    @unknown default: "\(error)"
    }
  }

  static func path(_ context: DecodingError.Context) -> String {
    let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
      .joined()
    return path.isEmpty ? "the top" : path
  }
}
