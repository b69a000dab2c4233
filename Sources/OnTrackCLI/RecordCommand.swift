import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackServer

struct RecordCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "Store a reference movement in the exercise library (a new exercise or version).",
    discussion: """
      --from is a motion file (BVH, or a UI-PRMD Kinect angles file) or the URL of a recorded \
      session (http://HOST:PORT/v1/sessions/ID). --trim A:B keeps seconds A to B: the \
      reference should hold one repetition. An existing exercise gets a new version with its \
      definition unchanged (sessions keep the version they were scored against); a new one \
      gets --definition, or defaults (every bone direction, weight 1, 15°). With --server the \
      server stores it (therapist token); without, the data folder is written directly.
      """)

  @Option(help: "A motion file, or a session URL.")
  var from: String

  @Option(help: "The exercise id (letters, digits, '-', '_').")
  var exercise: String

  @Option(help: "Seconds to keep, A:B.")
  var trim: String?

  @Option(help: "A definition (JSON) for a new exercise, or to replace the current one.")
  var definition: String?

  @Option(help: "The server, http://HOST:PORT.")
  var server: String?

  @Option(help: "A therapist token (with --server).")
  var token: String?

  @OptionGroup var dataOptions: DataOptions

  func validate() throws {
    if server != nil && token == nil { throw ValidationError("--server needs --token") }
    if from.hasPrefix("http") && server == nil && token == nil {
      throw ValidationError("recording from a session URL needs --token")
    }
  }

  func run() async throws {
    let trimRange = try trim.map(Self.parseTrim)
    var given: ExerciseDefinition?
    if let definition {
      let url = URL(fileURLWithPath: definition)
      given = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
    }
    let isURL = from.hasPrefix("http://") || from.hasPrefix("https://")
    if let serverText = server ?? (isURL ? from : nil), let token {
      guard let url = URL(string: serverText) else {
        throw ValidationError("bad URL \(serverText)")
      }
      let client = ServerClient(base: try ServerClient.base(of: url), token: token)
      try await record(on: client, given: given, trim: trimRange, isURL: isURL)
    } else {
      try recordLocally(given: given, trim: trimRange)
    }
  }

  static func parseTrim(_ text: String) throws -> (Double, Double) {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), a >= 0, a < b,
      b.isFinite
    else { throw ValidationError("--trim is A:B in seconds with A < B, not '\(text)'") }
    return (a, b)
  }

  /// The file's motion, trimmed, as BVH text.
  private func referenceFromFile(trim: (Double, Double)?) throws -> String {
    // A joint-angle CSV carries no skeleton of its own, and a new reference has none to lend.
    var clip = try TakeLoader.load(URL(fileURLWithPath: from), csvSkeleton: nil)
    if let (a, b) = trim { clip = try clip.trimmed(from: a, to: b) }
    return BVHWriter().text(for: clip)
  }

  private func defaultDefinition() -> ExerciseDefinition {
    var definition = ExerciseDefinition(name: exercise, reference: exercise + ".bvh")
    definition.id = exercise
    return definition
  }

  private func record(
    on client: ServerClient, given: ExerciseDefinition?, trim: (Double, Double)?, isURL: Bool
  ) async throws {
    struct Upload: Encodable {
      var definition: ExerciseDefinition
      var reference: String?
      var fromSession: String?
      var trim: [Double]?
    }
    struct Stored: Decodable {
      var id: String
      var version: Int
    }
    var existing: ExerciseDefinition?
    do {
      existing = try await client.get(
        "/v1/exercises/\(exercise)", as: ServerClient.ExerciseDetail.self
      ).definition
    } catch let failure as ServerClient.Failure where failure.status == 404 {
      existing = nil
    }
    var upload = Upload(definition: given ?? existing ?? defaultDefinition())
    upload.definition.id = exercise
    if isURL {
      guard let url = URL(string: from), let session = ServerClient.sessionID(in: url) else {
        throw ValidationError("--from URL must be …/v1/sessions/ID")
      }
      upload.fromSession = session
      upload.trim = trim.map { [$0.0, $0.1] }
    } else {
      upload.reference = try referenceFromFile(trim: trim)
    }
    let stored =
      existing == nil
      ? try await client.send("POST", "/v1/exercises", json: upload, as: Stored.self)
      : try await client.send("PUT", "/v1/exercises/\(exercise)", json: upload, as: Stored.self)
    Output.write("stored exercise \(stored.id) version \(stored.version) on \(client.base)\n")
  }

  private func recordLocally(given: ExerciseDefinition?, trim: (Double, Double)?) throws {
    let store = try Store(folder: dataOptions.folder)
    let library = ExerciseLibrary(store: store)
    let existing = try store.exercise(id: exercise).flatMap {
      try? ExerciseDefinition.decode(Data($0.definition.utf8), file: exercise)
    }
    var definition = given ?? existing ?? defaultDefinition()
    definition.id = exercise
    let reference = try referenceFromFile(trim: trim)
    let (id, version) = try library.add(
      definition, referenceBVH: reference, as: existing == nil ? .new : .update(exercise))
    Output.write("stored exercise \(id) version \(version) in \(dataOptions.folder.path)\n")
  }
}
