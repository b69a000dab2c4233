import Foundation
import Hummingbird
import OnTrackFormats
import OnTrackScoring

/// `/v1/sessions`: a patient creates and reads their own sessions; a therapist creates them for
/// their patients and reads all of their patients' sessions. Also `/v1/tokens`, where a
/// therapist issues, lists and revokes their patients' tokens.
struct SessionRoutes {
  let hub: SessionHub
  let identities: IdentityCache

  struct CreateRequest: Decodable {
    var exercise: String
    var version: Int?
    /// `reference` (default), `perception-neuron`, `perception-neuron-displacement`,
    /// `unity-humanoid`.
    var skeleton: String?
    /// A BVH file declaring the skeleton instead.
    var skeletonBVH: String?
    /// For a therapist: the patient the session is for (default: the therapist, for recording
    /// a reference).
    var patient: String?
    /// A device name that routes Axis Neuron / VMC frames here.
    var device: String?
  }

  /// A session as the API shows it.
  struct SessionView: ResponseCodable {
    var id: String
    var patient: String
    var therapist: String?
    var exercise: String
    var exerciseVersion: Int
    var device: String?
    var created: Double
    var finished: Double?
    var open: Bool
    var frames: Int?
    var lastSeq: Int?
    var durableSeq: Int?
    var repetitions: Int
    var meanScore: Double?
    var rejected: [String: Int]
    var stream: String
    var watch: String
  }

  struct TokenRequest: Decodable {
    var name: String
  }

  struct TokenResponse: ResponseCodable {
    var token: String
    /// The token's public id, for listing and revoking it.
    var id: String
    var role: Role
    var name: String
    var therapist: String?
  }

  func add(to router: Router<ServerContext>) {
    let group = router.group("v1/sessions")
    group.post { request, context -> EditedResponse<SessionView> in
      let identity = try context.requireIdentity()
      let body = try await request.decode(as: CreateRequest.self, context: context)
      let patient: String
      let therapist: String?
      switch identity.role {
      case .patient:
        if let other = body.patient, other != identity.name {
          throw APIError.forbidden("a patient may only create their own sessions")
        }
        patient = identity.name
        therapist = identity.therapist
      case .therapist:
        patient = body.patient ?? identity.name
        therapist = identity.name
        if patient != identity.name {
          guard try hub.store.isPatient(patient, of: identity.name) else {
            throw APIError.forbidden("'\(patient.prefix(64))' is not one of your patients")
          }
        }
      }
      let choice: SessionHub.SkeletonChoice
      switch (body.skeleton, body.skeletonBVH) {
      case (nil, nil): choice = .reference
      case (let name?, nil):
        guard let named = SessionHub.SkeletonChoice.named(name) else {
          throw APIError.badRequest(
            "unknown skeleton '\(name.prefix(40))' (reference, perception-neuron, perception-neuron-displacement, unity-humanoid, or skeletonBVH)"
          )
        }
        choice = named
      case (nil, let text?): choice = .bvh(text)
      default: throw APIError.badRequest("give skeleton or skeletonBVH, not both")
      }
      let session = try hub.create(
        exerciseID: body.exercise, version: body.version, skeleton: choice, patient: patient,
        therapist: therapist, device: body.device)
      return EditedResponse(status: .created, response: try view(session.record))
    }
    group.get { _, context -> [SessionView] in
      let identity = try context.requireIdentity()
      let records =
        identity.role == .patient
        ? try hub.store.sessions(patient: identity.name)
        : try hub.store.sessions(therapist: identity.name)
      return try records.map { try view($0, detailed: false) }
    }
    group.get(":id") { _, context -> SessionView in
      try view(try context.readableSession(in: hub))
    }
    group.get(":id/report") { request, context -> Response in
      let record = try context.readableSession(in: hub)
      await hub.writer.flush()
      let report = try SessionReport.build(record, hub: hub)
      let wantsHTML =
        request.uri.queryParameters.get("format") == "html"
        || (request.uri.queryParameters.get("format") == nil
          && (request.headers[.accept] ?? "").contains("text/html"))
      if wantsHTML {
        return Response(
          status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
          body: .init(byteBuffer: ByteBuffer(string: ReportPage.html(report))))
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(report))))
    }
    group.get(":id/recording.bvh") { _, context -> Response in
      let record = try context.readableSession(in: hub)
      await hub.writer.flush()
      let clip = try SessionRecording.clip(of: record, store: hub.store)
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/plain; charset=utf-8",
          .contentDisposition: "attachment; filename=\"session-\(record.id).bvh\"",
        ],
        body: .init(byteBuffer: ByteBuffer(string: BVHWriter().text(for: clip))))
    }
    group.post(":id/finish") { _, context -> TakeResult in
      let record = try context.readableSession(in: hub)
      return try await hub.finish(record.id)
    }

    router.post("v1/tokens") { request, context -> EditedResponse<TokenResponse> in
      let therapist = try context.requireTherapist()
      let body = try await request.decode(as: TokenRequest.self, context: context)
      let name = body.name.trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty, name.count <= 64 else {
        throw APIError.badRequest("name must be 1–64 characters")
      }
      let token: String
      do {
        token = try Tokens.create(
          role: .patient, name: name, therapist: therapist.name, in: hub.store)
      } catch let error as TokenNameTaken {
        throw APIError.conflict(error.description)
      }
      return EditedResponse(
        status: .created,
        response: TokenResponse(
          token: token, id: Tokens.id(ofHash: Tokens.hash(token)), role: .patient, name: name,
          therapist: therapist.name)
      )
    }
    router.get("v1/tokens") { _, context -> [Store.TokenListing] in
      let therapist = try context.requireTherapist()
      return try hub.store.tokens(issuedBy: therapist.name)
    }
    router.delete("v1/tokens/:id") { _, context -> HTTPResponse.Status in
      let therapist = try context.requireTherapist()
      let id = try context.parameters.require("id")
      // Someone else's token answers as a missing one: ids are not to be probed.
      guard let hash = try hub.store.revokeToken(id: id, issuedBy: therapist.name) else {
        throw APIError.notFound("no patient token \(id) issued by \(therapist.name)")
      }
      identities.revoke(hash: hash)
      return .noContent
    }
  }

  private func view(_ record: Store.SessionRecord, detailed: Bool = true) throws -> SessionView {
    let live = record.finished == nil && detailed ? try? hub.liveSession(record.id) : nil
    let result = detailed ? try hub.result(record) : nil
    let rejected = live?.rejectedByReason ?? record.storedRejected
    return SessionView(
      id: record.id, patient: record.patient, therapist: record.therapist,
      exercise: record.exercise, exerciseVersion: record.exerciseVersion, device: record.device,
      created: record.created, finished: record.finished, open: record.finished == nil,
      frames: detailed ? try hub.store.frameCount(session: record.id) : nil,
      lastSeq: live?.lastSeq, durableSeq: live?.durableSeq,
      repetitions: result?.repetitions.count ?? 0, meanScore: result?.summary.meanScore,
      rejected: rejected,
      stream: "/v1/sessions/\(record.id)/stream", watch: "/v1/sessions/\(record.id)/watch")
  }
}
extension Store.TokenListing: ResponseEncodable {}
