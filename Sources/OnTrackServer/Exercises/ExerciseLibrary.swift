import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization

/// The exercise library in the store: definitions with their reference movements, versioned
/// and owned.
///
/// The bundled exercises (`Assets/exercises`) belong to nobody and are read-only to
/// therapists; an exercise a therapist adds is theirs: only they (or a clinic admin) may
/// update or delete it, and only they and their patients see it. Updating adds a version; a
/// session keeps the version it was scored against, and deleting hides an exercise from lists
/// and new sessions without touching old sessions.
public final class ExerciseLibrary: Sendable {
  let store: any ExerciseStore
  /// Ready-to-score exercises by "id@version" (building one parses BVH and extracts features).
  private let cache = Mutex<[String: Exercise]>([:])

  /// The longest exercise name, in characters.
  public static let maximumNameLength = 120
  /// The longest description, in characters.
  public static let maximumDescriptionLength = 4000

  public init(store: any ExerciseStore) {
    self.store = store
  }

  /// Adds every bundled exercise in `folder` (definition JSON + reference BVH) whose id the
  /// library has never held; returns how many were added. Existing ids, deleted ones
  /// included, are left as they are.
  @discardableResult
  func seed(from folder: URL) async throws -> Int {
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    var added = 0
    for file in files.sorted() where file.hasSuffix(".json") {
      let url = folder.appendingPathComponent(file)
      var definition = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
      if definition.id == nil { definition.id = String(file.dropLast(5)) }
      guard let id = definition.id, try await store.exerciseVersions(id: id).isEmpty else {
        continue
      }
      let reference = try String(
        contentsOf: URL(fileURLWithPath: definition.reference, relativeTo: folder), encoding: .utf8)
      do {
        _ = try await store(definition, referenceBVH: reference, owner: nil)
        added += 1
      } catch {
        // Servers starting together on one database seed it at once: one stores version 1,
        // the others' insert of the same key fails, and the exercise is there.
        if try await !store.exerciseVersions(id: id).isEmpty { continue }
        throw error
      }
    }
    return added
  }

  public enum AddMode: Sendable {
    /// A new id (fails if it exists).
    case new
    /// A new version of an existing id (fails if there is none).
    case update(String)
  }

  /// Validates a definition and its reference (one repetition, as BVH text) and stores them
  /// for `identity` (a therapist owns what they add; an admin's additions are bundled).
  /// - Returns: the id and the version stored.
  public func add(
    _ definition: ExerciseDefinition, referenceBVH: String, as mode: AddMode, by identity: Identity
  ) async throws -> (id: String, version: Int) {
    var definition = definition
    if case .update(let id) = mode { definition.id = id }
    let id = definition.id ?? Self.slug(definition.name)
    guard Self.isValidID(id) else {
      throw ExerciseError.invalid(
        "exercise id '\(ServerText.truncated(id))' must be 1–64 letters, digits, '-' or '_'")
    }
    guard definition.name.count <= Self.maximumNameLength else {
      throw ExerciseError.invalid("name: at most \(Self.maximumNameLength) characters")
    }
    guard (definition.description ?? "").count <= Self.maximumDescriptionLength else {
      throw ExerciseError.invalid(
        "description: at most \(Self.maximumDescriptionLength) characters")
    }
    definition.id = id
    let existing = try await store.exercise(id: id, version: nil)
    let owner: String?
    switch mode {
    case .new:
      guard try await store.exerciseVersions(id: id).isEmpty else {
        throw ExerciseError.exists(
          "an exercise '\(id)' exists; choose another id, or update yours with PUT /v1/exercises/\(id)"
        )
      }
      owner = identity.role == .admin ? nil : identity.name
    case .update:
      guard let existing, visible(existing, to: identity) else {
        throw ExerciseError.notFound("no exercise '\(id)'")
      }
      guard identity.mayEdit(existing) else {
        throw ExerciseError.notYours(
          existing.owner == nil
            ? "'\(id)' is in the bundled library, which only a clinic admin may change; add your own copy under another id"
            : "'\(id)' belongs to another therapist")
      }
      owner = existing.owner
    }
    let version = try await store(definition, referenceBVH: referenceBVH, owner: owner)
    return (id, version)
  }

  /// Checks and stores one version.
  private func store(_ definition: ExerciseDefinition, referenceBVH: String, owner: String?)
    async throws -> Int
  {
    var definition = definition
    let id = definition.id ?? ""
    definition.reference = id + ".bvh"
    let clip: Clip
    do {
      clip = try BVHReader(options: ServerLimits.uploadedBVH).read(
        text: referenceBVH, fileName: "reference of \(id)")
    } catch {
      throw ExerciseError.invalid("reference: \(error)")
    }
    do {
      _ = try Exercise(definition: definition, referenceClip: clip, file: "exercise \(id)")
    } catch {
      throw ExerciseError.invalid("\(error)")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let text = String(decoding: try encoder.encode(definition), as: UTF8.self)
    return try await store.addExercise(
      id: id, owner: owner, definition: text, reference: referenceBVH)
  }

  /// Deletes exercise `id` for `identity` (its owner, or an admin).
  public func delete(_ id: String, by identity: Identity) async throws {
    guard let existing = try await store.exercise(id: id, version: nil),
      visible(existing, to: identity)
    else {
      throw ExerciseError.notFound("no exercise '\(ServerText.truncated(id))'")
    }
    guard identity.mayEdit(existing) else {
      throw ExerciseError.notYours(
        existing.owner == nil
          ? "'\(id)' is in the bundled library, which only a clinic admin may change"
          : "'\(id)' belongs to another therapist")
    }
    _ = try await store.deleteExercise(id: id)
  }

  /// True if `identity` may see `record`: the bundled library, their own, or (for a patient)
  /// their therapist's; an admin sees everything.
  func visible(_ record: ExerciseRecord, to identity: Identity) -> Bool {
    guard let owner = record.owner else { return true }
    switch identity.role {
    case .admin: return true
    case .therapist: return owner == identity.name
    case .patient: return owner == identity.therapist
    }
  }

  /// The newest live version of every exercise `identity` may see.
  func list(for identity: Identity) async throws -> [ExerciseRecord] {
    try await store.exercises().filter { visible($0, to: identity) }
  }

  /// The stored record of `id` at `version` (the newest live one if `nil`), if `identity` may
  /// see it (nil: anyone, for the server's own use).
  func record(id: String, version: Int?, for identity: Identity?) async throws -> ExerciseRecord {
    guard let record = try await store.exercise(id: id, version: version),
      identity.map({ visible(record, to: $0) }) ?? true
    else {
      throw ExerciseError.notFound(
        version.map { "no version \($0) of exercise '\(ServerText.truncated(id))'" }
          ?? "no exercise '\(ServerText.truncated(id))'")
    }
    return record
  }

  /// The exercise `id` at `version` (the newest live one if `nil`), ready to score.
  func exercise(id: String, version: Int?, for identity: Identity? = nil) async throws
    -> (Exercise, record: ExerciseRecord)
  {
    let record = try await record(id: id, version: version, for: identity)
    let key = "\(record.id)@\(record.version)"
    if let cached = cache.withLock({ $0[key] }) { return (cached, record) }
    do {
      let definition = try ExerciseDefinition.decode(
        Data(record.definition.utf8), file: "exercise \(key)")
      let clip = try BVHReader().read(text: record.reference, fileName: "reference of \(key)")
      let exercise = try Exercise(definition: definition, referenceClip: clip, file: key)
      cache.withLock { $0[key] = exercise }
      return (exercise, record)
    } catch {
      throw ExerciseError.unloadable("stored exercise \(key) no longer loads: \(error)")
    }
  }

  static func slug(_ name: String) -> String {
    let lowered = name.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
    return String(String(lowered).split(separator: "-").joined(separator: "-").prefix(64))
  }

  static func isValidID(_ id: String) -> Bool {
    !id.isEmpty && id.count <= 64
      && id.unicodeScalars.allSatisfy {
        ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-" || $0 == "_"
      }
  }
}
