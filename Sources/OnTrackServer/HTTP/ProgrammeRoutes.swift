import Foundation
import Hummingbird
import OnTrackProtocol

/// `/v1/programmes`: a therapist prescribes and edits programmes for their patients; a patient
/// reads only their own and records the days they did; both read the progress. Reads and
/// changes go to the audit log.
struct ProgrammeRoutes {
  let book: ProgrammeBook
  let audit: AuditLog

  func add(to router: Router<ServerContext>) {
    let group = router.group("v1/programmes")
    group.post { request, context -> EditedResponse<ProgrammeView> in
      let identity = try context.requireIdentity()
      let body = try await request.decode(as: ProgrammeDefinition.self, context: context)
      let view = try await book.create(body, by: identity)
      audit.record(.programmeCreate, by: identity, patient: view.definition.patient)
      return EditedResponse(status: .created, response: view)
    }
    group.get { _, context -> [ProgrammeView] in
      let identity = try context.requireIdentity()
      let views = try await book.list(for: identity)
      audit.record(.programmeRead, by: identity)
      return views
    }
    group.get(":id") { request, context -> ProgrammeView in
      let identity = try context.requireIdentity()
      let version = try Self.version(request)
      let view = try await book.view(
        id: try context.parameters.require("id"), version: version, for: identity)
      audit.record(.programmeRead, by: identity, patient: view.definition.patient)
      return view
    }
    group.put(":id") { request, context -> ProgrammeView in
      let identity = try context.requireIdentity()
      let body = try await request.decode(as: ProgrammeDefinition.self, context: context)
      let view = try await book.update(
        id: try context.parameters.require("id"), body, by: identity)
      audit.record(.programmeUpdate, by: identity, patient: view.definition.patient)
      return view
    }
    group.get(":id/progress") { _, context -> ProgrammeProgress in
      let identity = try context.requireIdentity()
      let progress = try await book.progress(
        id: try context.parameters.require("id"), for: identity)
      audit.record(.programmeRead, by: identity, patient: progress.patient)
      return progress
    }
    group.post(":id/days") { request, context -> EditedResponse<ProgrammeDay> in
      let identity = try context.requireIdentity()
      let body = try await request.decode(as: ProgrammeDay.self, context: context)
      let id = try context.parameters.require("id")
      let (day, added) = try await book.record(day: body, programme: id, by: identity)
      audit.record(.programmeUpdate, by: identity, outcome: added ? "ok" : "repeated")
      return EditedResponse(status: added ? .created : .ok, response: day)
    }
  }

  private static func version(_ request: Request) throws -> Int? {
    guard let text = request.uri.queryParameters.get("version") else { return nil }
    guard let version = Int(text), version > 0 else {
      throw ProgrammeError.invalid("version: a positive whole number")
    }
    return version
  }
}

extension ProgrammeView: ResponseEncodable {}
extension ProgrammeDay: ResponseEncodable {}
extension ProgrammeProgress: ResponseEncodable {}
