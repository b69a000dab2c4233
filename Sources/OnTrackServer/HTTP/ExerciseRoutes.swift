import Foundation
import Hummingbird
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring

/// `/v1/exercises`: anyone with a token lists and fetches the exercises they may see (the
/// bundled library, their own or their therapist's); a therapist adds exercises, which are
/// theirs, and updates (a new version) or deletes only their own.
struct ExerciseRoutes {
  let library: ExerciseLibrary
  let hub: SessionHub

  func add(to router: Router<ServerContext>) {
    let group = router.group("v1/exercises")
    group.get { _, context -> [ExerciseSummary] in
      let identity = try context.requireIdentity()
      var summaries: [ExerciseSummary] = []
      for record in try await library.list(for: identity) {
        let definition = try? ExerciseDefinition.decode(
          Data(record.definition.utf8), file: record.id)
        summaries.append(
          ExerciseSummary(
            id: record.id, version: record.version,
            versions: try await library.store.exerciseVersions(id: record.id),
            name: definition?.name ?? record.id, description: definition?.description,
            repetitions: definition?.repetitions ?? ExerciseDefinition.Defaults.repetitions,
            created: record.created, owner: record.owner))
      }
      return summaries
    }
    group.get(":id") { request, context -> ExerciseDetail in
      let identity = try context.requireIdentity()
      let record = try await self.record(request, context, identity)
      let (exercise, _) = try await library.exercise(id: record.id, version: record.version)
      return ExerciseDetail(
        id: record.id, version: record.version,
        versions: try await library.store.exerciseVersions(id: record.id),
        definition: exercise.definition, referenceFrames: exercise.referenceClip?.frameCount ?? 0,
        referenceDuration: exercise.referenceClip?.duration ?? 0, created: record.created,
        owner: record.owner)
    }
    group.get(":id/reference.bvh") { request, context -> Response in
      let identity = try context.requireIdentity()
      let record = try await self.record(request, context, identity)
      hub.audit.record(.exerciseExport, by: identity, exercise: "\(record.id)@\(record.version)")
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/plain; charset=utf-8",
          .contentDisposition: "attachment; filename=\"\(record.id)-v\(record.version).bvh\"",
        ],
        body: .init(byteBuffer: ByteBuffer(string: record.reference)))
    }
    group.post { request, context -> EditedResponse<ExerciseCreated> in
      let therapist = try context.requireTherapist()
      let upload = try await request.decode(as: ExerciseUpload.self, context: context)
      let reference = try await referenceBVH(upload, therapist: therapist)
      let (id, version) = try await library.add(
        try definition(of: upload), referenceBVH: reference, as: .new, by: therapist)
      hub.audit.record(.exerciseAdd, by: therapist, exercise: "\(id)@\(version)")
      return EditedResponse(status: .created, response: ExerciseCreated(id: id, version: version))
    }
    group.put(":id") { request, context -> ExerciseCreated in
      let therapist = try context.requireTherapist()
      let id = try context.parameters.require("id")
      let upload = try await request.decode(as: ExerciseUpload.self, context: context)
      let reference = try await referenceBVH(upload, therapist: therapist)
      let (_, version) = try await library.add(
        try definition(of: upload), referenceBVH: reference, as: .update(id), by: therapist)
      hub.audit.record(.exerciseUpdate, by: therapist, exercise: "\(id)@\(version)")
      return ExerciseCreated(id: id, version: version)
    }
    group.delete(":id") { _, context -> HTTPResponse.Status in
      let therapist = try context.requireTherapist()
      let id = try context.parameters.require("id")
      try await library.delete(id, by: therapist)
      hub.audit.record(.exerciseDelete, by: therapist, exercise: id)
      return .noContent
    }
  }

  /// The definition of an upload, or `ExerciseError.invalid` with the reason.
  private func definition(of upload: ExerciseUpload) throws -> ExerciseDefinition {
    do {
      return try upload.decodedDefinition()
    } catch {
      throw ExerciseError.invalid("\(error)")
    }
  }

  private func record(_ request: Request, _ context: ServerContext, _ identity: Identity)
    async throws -> ExerciseRecord
  {
    let id = try context.parameters.require("id")
    let version: Int?
    if let text = request.uri.queryParameters.get("version") {
      guard let v = Int(text), v > 0 else {
        throw APIError.badRequest("version must be a whole number ≥ 1")
      }
      version = v
    } else {
      version = nil
    }
    return try await library.record(id: id, version: version, for: identity)
  }

  /// The reference as BVH text: given, or cut from a session the therapist may read.
  private func referenceBVH(_ upload: ExerciseUpload, therapist: Identity) async throws -> String {
    switch (upload.reference, upload.fromSession) {
    case (let text?, nil):
      return text
    case (nil, let id?):
      let record = try await hub.record(id)
      guard therapist.mayAccess(record) else {
        throw AccessError.notYours(
          "session \(ServerText.truncated(id)) is not one of your patients'")
      }
      await hub.writer.flush(timeout: .seconds(5))
      let clip = try await SessionRecording.clip(of: record, store: hub.store)
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
