import ArgumentParser
import Foundation
import OnTrackClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import OnTrackServer
import OnTrackServerCommands

struct RecordCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "record",
    abstract: "Store a reference movement in the exercise library (a new exercise or version).",
    discussion: """
      --from is a motion file (BVH, a UI-PRMD Kinect angles file, or keypoints: CSV, JSON \
      lines, .trc, UI-PRMD Vicon markers, solved onto the canonical skeleton) or the URL of a recorded \
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

  @Option(help: "The layout of a keypoint file, if its point names do not tell.")
  var layout: String?

  @Option(help: "A definition (JSON) for a new exercise, or to replace the current one.")
  var definition: String?

  @Option(help: "The server, http://HOST:PORT.")
  var server: String?

  @Option(help: "A therapist token (with --server).")
  var token: String?

  @OptionGroup var dataOptions: DataOptions

  @Option(
    help:
      "Without --server: the therapist who owns the exercise (default: the bundled library, which only a clinic admin may change over the API)."
  )
  var owner: String?

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
      try await recordLocally(given: given, trim: trimRange)
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
    var clip = try TakeLoader.loadSaying(from, csvSkeleton: nil, layout: layout).clip
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
    var existing: ExerciseDefinition?
    do {
      existing = try await client.exerciseDetail(exercise).definition
    } catch let failure as ServerClient.Failure where failure.status == 404 {
      existing = nil
    }
    var definition = given ?? existing ?? defaultDefinition()
    definition.id = exercise
    var upload = ExerciseUpload(
      definition: try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(definition)))
    if isURL {
      guard let url = URL(string: from), let session = ServerClient.sessionID(in: url) else {
        throw ValidationError("--from URL must be …/v1/sessions/ID")
      }
      upload.fromSession = session
      upload.trim = trim.map { [$0.0, $0.1] }
    } else {
      upload.reference = try referenceFromFile(trim: trim)
    }
    let stored = try await client.storeExercise(upload, update: existing == nil ? nil : exercise)
    Output.write("stored exercise \(stored.id) version \(stored.version) on \(client.base)\n")
  }

  private func recordLocally(given: ExerciseDefinition?, trim: (Double, Double)?) async throws {
    let store = try await dataOptions.openStore()
    let library = ExerciseLibrary(store: store)
    let record = try await store.exercise(id: exercise, version: nil)
    let existing = record.flatMap {
      try? ExerciseDefinition.decode(Data($0.definition.utf8), file: exercise)
    }
    var definition = given ?? existing ?? defaultDefinition()
    definition.id = exercise
    let reference = try referenceFromFile(trim: trim)
    // Written directly, as the exercise's owner (a new one is the bundled library's unless
    // --owner names a therapist).
    let identity = Identity(
      role: owner == nil ? .admin : .therapist, name: owner ?? "admin", therapist: nil,
      tokenID: "command-line")
    let (id, version) = try await library.add(
      definition, referenceBVH: reference, as: existing == nil ? .new : .update(exercise),
      by: identity)
    Output.write("stored exercise \(id) version \(version) in \(dataOptions.folder.path)\n")
  }
}
