import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Synchronization

/// The therapist's exercise library in the store: definitions with their reference movements,
/// versioned. Updating an exercise adds a version; a session keeps the version it was scored
/// against, and deleting hides an exercise from the list without touching old sessions.
public final class ExerciseLibrary: Sendable {
  let store: Store
  /// Ready-to-score exercises by "id@version" (building one parses BVH and extracts features).
  private let cache = Mutex<[String: Exercise]>([:])

  public init(store: Store) {
    self.store = store
  }

  /// Adds every exercise in `folder` (definition JSON + reference BVH) when the library is
  /// empty; returns how many were added.
  @discardableResult
  func seed(from folder: URL) throws -> Int {
    guard try store.exerciseCount() == 0 else { return 0 }
    let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    var added = 0
    for file in files.sorted() where file.hasSuffix(".json") {
      let url = folder.appendingPathComponent(file)
      let definition = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
      let reference = try String(
        contentsOf: URL(fileURLWithPath: definition.reference, relativeTo: folder), encoding: .utf8)
      var withID = definition
      if withID.id == nil { withID.id = String(file.dropLast(5)) }
      _ = try add(withID, referenceBVH: reference, as: .new)
      added += 1
    }
    return added
  }

  public enum AddMode: Sendable {
    /// A new id (fails if it exists).
    case new
    /// A new version of an existing id (fails if there is none).
    case update(String)
  }

  /// Validates a definition and its reference (one repetition, as BVH text) and stores them.
  /// - Returns: the id and the version stored.
  public func add(
    _ definition: ExerciseDefinition, referenceBVH: String, as mode: AddMode
  ) throws(APIError)
    -> (id: String, version: Int)
  {
    var definition = definition
    switch mode {
    case .new:
      break
    case .update(let id):
      definition.id = id
    }
    let id = definition.id ?? Self.slug(definition.name)
    guard Self.isValidID(id) else {
      throw .badRequest(
        "exercise id '\(id.prefix(60))' must be 1–64 letters, digits, '-' or '_'")
    }
    definition.id = id
    definition.reference = id + ".bvh"
    let clip: Clip
    do {
      clip = try BVHReader().read(text: referenceBVH, fileName: "reference of \(id)")
    } catch {
      throw .badRequest("reference: \(error)")
    }
    do {
      _ = try Exercise(definition: definition, referenceClip: clip, file: "exercise \(id)")
    } catch {
      throw .badRequest("\(error)")
    }
    let existing: Store.ExerciseRecord?
    do {
      existing = try store.exercise(id: id)
    } catch {
      throw .internal("\(error)")
    }
    switch mode {
    case .new where existing != nil:
      throw .conflict("an exercise '\(id)' exists; update it with PUT /v1/exercises/\(id)")
    case .update where existing == nil:
      throw .notFound("no exercise '\(id)'")
    default: break
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      let text = String(decoding: try encoder.encode(definition), as: UTF8.self)
      let version = try store.addExercise(id: id, definition: text, reference: referenceBVH)
      return (id, version)
    } catch {
      throw .internal("\(error)")
    }
  }

  /// The exercise `id` at `version` (the newest live one if `nil`), ready to score.
  func exercise(id: String, version: Int? = nil) throws(APIError) -> (Exercise, version: Int) {
    let record: Store.ExerciseRecord?
    do {
      record = try store.exercise(id: id, version: version)
    } catch {
      throw .internal("\(error)")
    }
    guard let record else {
      throw .notFound(
        version.map { "no version \($0) of exercise '\(id)'" } ?? "no exercise '\(id)'")
    }
    let key = "\(record.id)@\(record.version)"
    if let cached = cache.withLock({ $0[key] }) { return (cached, record.version) }
    do {
      let definition = try ExerciseDefinition.decode(
        Data(record.definition.utf8), file: "exercise \(key)")
      let clip = try BVHReader().read(text: record.reference, fileName: "reference of \(key)")
      let exercise = try Exercise(definition: definition, referenceClip: clip, file: key)
      cache.withLock { $0[key] = exercise }
      return (exercise, record.version)
    } catch {
      throw .internal("stored exercise \(key) no longer loads: \(error)")
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
