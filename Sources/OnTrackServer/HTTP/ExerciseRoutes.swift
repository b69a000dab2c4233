import Foundation
import Hummingbird
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring

/// `/v1/exercises`: anyone with a token lists and fetches exercises (the app needs the
/// reference to show); only a therapist adds, updates (a new version) and deletes them.
struct ExerciseRoutes {
  let library: ExerciseLibrary
  let hub: SessionHub

  /// One exercise as listed.
  struct Summary: ResponseCodable {
    var id: String
    var version: Int
    var versions: [Int]
    var name: String
    var description: String?
    var repetitions: Int
    var created: Double
  }

  /// One exercise version in full.
  struct Detail: ResponseCodable {
    var id: String
    var version: Int
    var versions: [Int]
    var definition: ExerciseDefinition
    var referenceFrames: Int
    var referenceDuration: Double
    var created: Double
  }

  /// The body of POST and PUT: a definition and its reference, either as BVH text or cut from
  /// a recorded session between two times (seconds from the session's first frame).
  struct Upload: Decodable {
    /// The definition as sent; its `reference` file name may be left out (the server names
    /// the stored reference itself).
    var definition: JSONValue
    var reference: String?
    var fromSession: String?
    var trim: [Double]?

    func decodedDefinition() throws(APIError) -> ExerciseDefinition {
      guard case .object(var fields) = definition else {
        throw .badRequest("definition must be a JSON object")
      }
      if fields["reference"] == nil { fields["reference"] = .string("reference.bvh") }
      do {
        let data = try JSONEncoder().encode(JSONValue.object(fields))
        return try ExerciseDefinition.decode(data, file: "definition")
      } catch {
        throw .badRequest("\(error)")
      }
    }
  }

  struct Created: ResponseCodable {
    var id: String
    var version: Int
  }

  func add(to router: Router<ServerContext>) {
    let group = router.group("v1/exercises")
    group.get { _, context -> [Summary] in
      _ = try context.requireIdentity()
      return try library.store.exercises().map { record in
        let definition = try? ExerciseDefinition.decode(
          Data(record.definition.utf8), file: record.id)
        return Summary(
          id: record.id, version: record.version,
          versions: (try? library.store.exerciseVersions(id: record.id)) ?? [record.version],
          name: definition?.name ?? record.id, description: definition?.description,
          repetitions: definition?.repetitions ?? ExerciseDefinition.Defaults.repetitions,
          created: record.created)
      }
    }
    group.get(":id") { request, context -> Detail in
      _ = try context.requireIdentity()
      let record = try self.record(request, context)
      let (exercise, _) = try library.exercise(id: record.id, version: record.version)
      return Detail(
        id: record.id, version: record.version,
        versions: (try? library.store.exerciseVersions(id: record.id)) ?? [record.version],
        definition: exercise.definition, referenceFrames: exercise.referenceClip?.frameCount ?? 0,
        referenceDuration: exercise.referenceClip?.duration ?? 0, created: record.created)
    }
    group.get(":id/reference.bvh") { request, context -> Response in
      _ = try context.requireIdentity()
      let record = try self.record(request, context)
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/plain; charset=utf-8",
          .contentDisposition: "attachment; filename=\"\(record.id)-v\(record.version).bvh\"",
        ],
        body: .init(byteBuffer: ByteBuffer(string: record.reference)))
    }
    group.post { request, context -> EditedResponse<Created> in
      let therapist = try context.requireTherapist()
      let upload = try await request.decode(as: Upload.self, context: context)
      let reference = try await referenceBVH(upload, therapist: therapist)
      let (id, version) = try library.add(
        upload.decodedDefinition(), referenceBVH: reference, as: .new)
      context.logger.info("exercise added", metadata: ["exercise": "\(id)@\(version)"])
      return EditedResponse(status: .created, response: Created(id: id, version: version))
    }
    group.put(":id") { request, context -> Created in
      let therapist = try context.requireTherapist()
      let id = try context.parameters.require("id")
      let upload = try await request.decode(as: Upload.self, context: context)
      let reference = try await referenceBVH(upload, therapist: therapist)
      let (_, version) = try library.add(
        upload.decodedDefinition(), referenceBVH: reference, as: .update(id))
      context.logger.info("exercise updated", metadata: ["exercise": "\(id)@\(version)"])
      return Created(id: id, version: version)
    }
    group.delete(":id") { _, context -> HTTPResponse.Status in
      _ = try context.requireTherapist()
      let id = try context.parameters.require("id")
      guard try library.store.deleteExercise(id: id) else {
        throw APIError.notFound("no exercise '\(id.prefix(64))'")
      }
      return .noContent
    }
  }

  private func record(_ request: Request, _ context: ServerContext) throws -> Store.ExerciseRecord {
    let id = try context.parameters.require("id")
    let version: Int?
    if let text = request.uri.queryParameters.get("version") {
      guard let v = Int(text) else { throw APIError.badRequest("version must be a whole number") }
      version = v
    } else {
      version = nil
    }
    guard let record = try library.store.exercise(id: id, version: version) else {
      throw APIError.notFound(
        version.map { "no version \($0) of exercise '\(id.prefix(64))'" }
          ?? "no exercise '\(id.prefix(64))'")
    }
    return record
  }

  /// The reference as BVH text: given, or cut from a session the therapist may read.
  private func referenceBVH(_ upload: Upload, therapist: Identity) async throws -> String {
    switch (upload.reference, upload.fromSession) {
    case (let text?, nil):
      return text
    case (nil, let id?):
      let record = try hub.record(id)
      guard therapist.mayAccess(record) else {
        throw APIError.forbidden("session \(id) is not one of your patients'")
      }
      await hub.writer.flush()
      let clip = try SessionRecording.clip(of: record, store: hub.store)
      let trimmed: Clip
      if let trim = upload.trim {
        guard trim.count == 2, trim[0].isFinite, trim[1].isFinite, trim[0] < trim[1] else {
          throw APIError.badRequest("trim must be [start, end] in seconds with start < end")
        }
        do {
          trimmed = try clip.trimmed(from: trim[0], to: trim[1])
        } catch {
          throw APIError.badRequest("trim: \(error)")
        }
      } else {
        trimmed = clip
      }
      return BVHWriter().text(for: trimmed)
    default:
      throw APIError.badRequest("give exactly one of reference (BVH text) and fromSession")
    }
  }
}
