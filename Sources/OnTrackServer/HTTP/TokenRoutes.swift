import Foundation
import Hummingbird
import OnTrackProtocol

/// `/v1/tokens`: a therapist issues, lists and revokes their patients' tokens.
struct TokenRoutes {
  let hub: SessionHub
  let identities: IdentityCache

  /// The longest `ttl` a token may be given: ten years.
  static let maximumTTL = 10 * 365 * 86400.0

  func add(to router: Router<ServerContext>) {
    router.post("v1/tokens") { request, context -> EditedResponse<TokenResponse> in
      let therapist = try context.requireTherapist()
      guard therapist.role == .therapist else {
        throw AccessError.wrongRole("patient tokens are issued by their therapist")
      }
      let body = try await request.decode(as: TokenRequest.self, context: context)
      let name = body.name.trimmingCharacters(in: .whitespaces)
      guard Tokens.isValidName(name) else {
        throw APIError.badRequest("name must be 1–64 characters, without control characters")
      }
      if let ttl = body.ttl {
        guard ttl.isFinite, ttl > 0, ttl <= Self.maximumTTL else {
          throw APIError.badRequest("ttl must be 1 second to 10 years, in seconds")
        }
      }
      let token = try await Tokens.create(
        role: .patient, name: name, therapist: therapist.name, ttl: body.ttl, in: hub.store)
      hub.audit.record(.tokenCreate, by: therapist, patient: name)
      return EditedResponse(
        status: .created,
        response: TokenResponse(
          token: token, id: Tokens.id(ofHash: Tokens.hash(token)), role: .patient, name: name,
          therapist: therapist.name, expires: body.ttl.map { Date().timeIntervalSince1970 + $0 })
      )
    }
    router.get("v1/tokens") { _, context -> [TokenListing] in
      let therapist = try context.requireTherapist()
      hub.audit.record(.tokenList, by: therapist)
      return try await hub.store.tokens(
        issuedBy: therapist.role == .admin ? nil : therapist.name)
    }
    router.delete("v1/tokens/:id") { _, context -> HTTPResponse.Status in
      let therapist = try context.requireTherapist()
      let id = try context.parameters.require("id")
      // Someone else's token answers as a missing one: ids are not to be probed.
      guard
        let hash = try await hub.store.revokeToken(
          id: id, issuedBy: therapist.role == .admin ? nil : therapist.name)
      else {
        throw APIError(.notFound, "no patient token \(ServerText.truncated(id)) of yours")
      }
      identities.revoke(hash: hash)
      hub.audit.record(.tokenRevoke, by: therapist, outcome: "revoked \(id)")
      return .noContent
    }
  }
}
