import Foundation
import Hummingbird
import OnTrackFormats
import OnTrackProtocol
import OnTrackScoring

/// `/v1/sessions`: a patient creates and reads their own sessions; a therapist creates them for
/// their patients and reads all of their patients' sessions. Every read and export goes to the
/// audit log.
struct SessionRoutes {
  let hub: SessionHub
  let programmes: ProgrammeBook

  func add(to router: Router<ServerContext>) {
    let group = router.group("v1/sessions")
    group.post { request, context -> EditedResponse<SessionView> in
      let identity = try context.requireIdentity()
      let body = try await request.decode(as: CreateSessionRequest.self, context: context)
      let (patient, therapist) = try await owner(of: body, for: identity)
      if let key = body.clientKey {
        guard ClientKey.isValid(key) else {
          throw SessionError.invalid("clientKey: \(ClientKey.rule)")
        }
        if let made = try await hub.store.session(patient: patient, clientKey: key) {
          return EditedResponse(status: .ok, response: try await view(made, load: false))
        }
      }
      if let programme = body.programme {
        try await programmes.checkSession(
          programme: programme, patient: patient, exercise: body.exercise)
      }
      let choice: SessionHub.SkeletonChoice
      switch (body.skeleton, body.skeletonBVH) {
      case (nil, nil): choice = .reference
      case (let name?, nil):
        guard let named = SessionHub.SkeletonChoice.named(name) else {
          throw SessionError.invalid(
            "unknown skeleton '\(ServerText.truncated(name))' (reference, perception-neuron, perception-neuron-displacement, unity-humanoid, keypoints, keypoints:LAYOUT with LAYOUT one of \(KeypointLayout.ids.joined(separator: ", ")), or skeletonBVH)"
          )
        }
        choice = named
      case (nil, let text?): choice = .bvh(text)
      default: throw SessionError.invalid("give skeleton or skeletonBVH, not both")
      }
      let session: LiveSession
      do {
        session = try await hub.create(
          exerciseID: body.exercise, version: body.version, skeleton: choice, patient: patient,
          therapist: therapist, identity: identity, programme: body.programme,
          clientKey: body.clientKey)
      } catch let error as StoreError {
        // The same key created concurrently: the other request's session stands.
        if let key = body.clientKey,
          let made = try await hub.store.session(patient: patient, clientKey: key)
        {
          return EditedResponse(status: .ok, response: try await view(made, load: false))
        }
        throw error
      }
      hub.audit.record(
        .sessionCreate, by: identity, patient: patient, session: session.record.id,
        exercise: body.exercise)
      return EditedResponse(
        status: .created, response: try await view(session.record, load: false))
    }
    group.get { _, context -> [SessionView] in
      let identity = try context.requireIdentity()
      let listings: [SessionListing]
      switch identity.role {
      case .patient: listings = try await hub.store.sessions(patient: identity.name, therapist: nil)
      case .therapist:
        listings = try await hub.store.sessions(patient: nil, therapist: identity.name)
      case .admin: throw AccessError.wrongRole("a clinic admin reads no patient's sessions")
      }
      hub.audit.record(.sessionList, by: identity)
      return listings.map { listing in
        SessionView(
          id: listing.record.id, patient: listing.record.patient,
          therapist: listing.record.therapist, exercise: listing.record.exercise,
          exerciseVersion: listing.record.exerciseVersion, created: listing.record.created,
          finished: listing.record.finished, open: listing.record.finished == nil, frames: nil,
          lastSeq: nil, durableSeq: nil, repetitions: listing.repetitions,
          meanScore: listing.meanScore, rejected: hub.rejectedCounts(listing.record),
          programme: listing.record.programme)
      }
    }
    group.get(":id") { _, context -> SessionView in
      let (record, identity) = try await context.readableSession(in: hub)
      hub.audit.record(.sessionRead, by: identity, patient: record.patient, session: record.id)
      return try await view(record, load: true)
    }
    group.get(":id/report") { request, context -> Response in
      let (record, identity) = try await context.readableSession(in: hub)
      await hub.writer.flush(timeout: .seconds(5))
      let report = try await SessionReport.build(record, hub: hub)
      hub.audit.record(.reportRead, by: identity, patient: record.patient, session: record.id)
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
      let (record, identity) = try await context.readableSession(in: hub)
      await hub.writer.flush(timeout: .seconds(5))
      let clip = try await SessionRecording.clip(of: record, store: hub.store)
      hub.audit.record(.recordingExport, by: identity, patient: record.patient, session: record.id)
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/plain; charset=utf-8",
          .contentDisposition: "attachment; filename=\"session-\(record.id).bvh\"",
        ],
        body: .init(byteBuffer: ByteBuffer(string: BVHWriter().text(for: clip))))
    }
    group.post(":id/finish") { _, context -> TakeResult in
      let (record, identity) = try await context.readableSession(in: hub)
      let result = try await hub.finish(record.id)
      hub.audit.record(.sessionFinish, by: identity, patient: record.patient, session: record.id)
      return result
    }
    group.post(":id/pairing") { _, context -> EditedResponse<PairingCode> in
      let (record, identity) = try await context.readableSession(in: hub)
      let (code, expires) = try await hub.pairingCode(for: record.id)
      hub.audit.record(.devicePair, by: identity, patient: record.patient, session: record.id)
      return EditedResponse(status: .created, response: PairingCode(code: code, expires: expires))
    }
  }

  /// Whose session a request makes: a patient's own; a therapist's for one of their patients
  /// (or for themselves, to record a reference).
  private func owner(of body: CreateSessionRequest, for identity: Identity) async throws
    -> (patient: String, therapist: String?)
  {
    switch identity.role {
    case .patient:
      if let other = body.patient, other != identity.name {
        throw AccessError.wrongRole("a patient may only create their own sessions")
      }
      return (identity.name, identity.therapist)
    case .therapist:
      let patient = body.patient ?? identity.name
      if patient != identity.name {
        guard try await hub.store.isPatient(patient, of: identity.name) else {
          throw AccessError.notYours(
            "'\(ServerText.truncated(patient))' is not one of your patients")
        }
      }
      return (patient, identity.name)
    case .admin:
      throw AccessError.wrongRole("a clinic admin does not run sessions; use a therapist token")
    }
  }

  /// The session as the API shows it. `load`: read an open session from memory, loading it
  /// (and taking its lease) if this server does not have it. A request naming the session in
  /// its path reaches, behind the balancer, the server its id hashes to, the one its stream
  /// reaches: that one may load it. The request that creates a session lands anywhere: its
  /// answer must not (`load: false`): the server that took the lease would refuse the stream
  /// its balancer sends elsewhere until the lease lapsed. Without loading, an open session's
  /// stored repetitions are counted.
  private func view(_ record: SessionRecord, load: Bool) async throws -> SessionView {
    let live =
      record.finished == nil
      ? (load ? try await hub.liveSession(record.id) : hub.loadedSession(record.id)) : nil
    var repetitions = 0
    var meanScore: Double?
    var result = live?.result
    if result == nil { result = try await hub.finishedResult(record) }
    if let result {
      repetitions = result.repetitions.count
      meanScore = result.summary.meanScore
    } else if record.finished == nil {
      (repetitions, meanScore) = try await hub.storedRepetitions(record.id)
    }
    return SessionView(
      id: record.id, patient: record.patient, therapist: record.therapist,
      exercise: record.exercise, exerciseVersion: record.exerciseVersion,
      created: record.created, finished: record.finished, open: record.finished == nil,
      frames: try await hub.store.frameCount(session: record.id),
      lastSeq: live?.lastSeq, durableSeq: live?.durableSeq,
      repetitions: repetitions, meanScore: meanScore,
      rejected: live?.rejectedByReason ?? record.storedRejected, programme: record.programme)
  }
}
