import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import OnTrackProtocol
import Testing

@testable import OnTrackServer

/// Every endpoint, asked with no token, a bad token, the wrong role or owner, and the right one.
@Suite("Roles and tokens")
struct AccessTests {
  @Test("every endpoint refuses no token, a bad token, and the wrong role or owner")
  func everyEndpoint() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      // Public: health and metrics (no patient data).
      #expect(try await c.request(.get, "/health", token: nil).status == .ok)
      #expect(try await c.request(.get, "/metrics", token: nil).status == .ok)

      let exercise = "uiprmd-m07-shoulder-abduction"
      let reads = [
        "/v1/exercises", "/v1/exercises/\(exercise)", "/v1/exercises/\(exercise)/reference.bvh",
        "/v1/sessions",
      ]
      for path in reads {
        #expect(try await c.request(.get, path, token: nil).status == .unauthorized, "\(path)")
        #expect(
          try await c.request(.get, path, token: "otk_forged").status == .unauthorized, "\(path)")
        #expect(try await c.request(.get, path, token: t.ann).status == .ok, "\(path)")
        #expect(try await c.request(.get, path, token: t.lee).status == .ok, "\(path)")
      }

      // Exercise management: therapists only.
      let reference = try String(
        contentsOf: ServerData.exercises.appendingPathComponent("\(exercise).bvh"), encoding: .utf8)
      let upload = try Self.json([
        "definition": ["id": "arm-raise", "name": "Arm raise"], "reference": reference,
      ])
      for token in [nil, t.ann] {
        let expected: HTTPResponse.Status = token == nil ? .unauthorized : .forbidden
        #expect(
          try await c.request(.post, "/v1/exercises", token: token, json: upload).status == expected
        )
        #expect(
          try await c.request(.put, "/v1/exercises/\(exercise)", token: token, json: upload).status
            == expected)
        #expect(
          try await c.request(.delete, "/v1/exercises/\(exercise)", token: token).status == expected
        )
        #expect(
          try await c.request(.post, "/v1/tokens", token: token, json: #"{"name":"cat"}"#).status
            == expected)
      }
      #expect(
        try await c.request(.post, "/v1/exercises", token: t.lee, json: upload).status == .created)
      #expect(
        try await c.request(.put, "/v1/exercises/arm-raise", token: t.lee, json: upload).status
          == .ok)
      #expect(
        try await c.request(.delete, "/v1/exercises/arm-raise", token: t.lee).status == .noContent)
      let issued = try await c.request(.post, "/v1/tokens", token: t.lee, json: #"{"name":"cat"}"#)
      #expect(issued.status == .created)

      // Sessions: a patient only for themselves; a therapist only for their own patients.
      #expect(
        try await c.request(
          .post, "/v1/sessions", token: nil, json: #"{"exercise":"\#(exercise)"}"#
        )
        .status == .unauthorized)
      #expect(
        try await c.request(
          .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"\#(exercise)","patient":"bob"}"#
        ).status == .forbidden)
      #expect(
        try await c.request(
          .post, "/v1/sessions", token: t.kim, json: #"{"exercise":"\#(exercise)","patient":"ann"}"#
        ).status == .forbidden)
      let annSession = try await c.createSession(token: t.ann)
      let leeSession = try await c.createSession(
        token: t.lee, extra: #","patient":"ann""#)
      #expect(leeSession.patient == "ann")

      // Reading a session: its patient and their therapist; nobody else.
      let id = annSession.id
      let sessionPaths = [
        "/v1/sessions/\(id)", "/v1/sessions/\(id)/report", "/v1/sessions/\(id)/report?format=html",
      ]
      for path in sessionPaths {
        #expect(try await c.request(.get, path, token: nil).status == .unauthorized, "\(path)")
        #expect(try await c.request(.get, path, token: t.bob).status == .forbidden, "\(path)")
        #expect(try await c.request(.get, path, token: t.kim).status == .forbidden, "\(path)")
        #expect(try await c.request(.get, path, token: t.ann).status == .ok, "\(path)")
        #expect(try await c.request(.get, path, token: t.lee).status == .ok, "\(path)")
      }
      // No frames yet: the recording is a client error, after the access check.
      #expect(
        try await c.request(.get, "/v1/sessions/\(id)/recording.bvh", token: nil).status
          == .unauthorized)
      #expect(
        try await c.request(.get, "/v1/sessions/\(id)/recording.bvh", token: t.bob).status
          == .forbidden)
      #expect(
        try await c.request(.get, "/v1/sessions/\(id)/recording.bvh", token: t.ann).status
          == .badRequest)
      #expect(
        try await c.request(.post, "/v1/sessions/\(id)/finish", token: nil).status == .unauthorized)
      #expect(
        try await c.request(.post, "/v1/sessions/\(id)/finish", token: t.bob).status == .forbidden)
      #expect(
        try await c.request(.post, "/v1/sessions/\(id)/finish", token: t.kim).status == .forbidden)
      #expect(
        try await c.request(.post, "/v1/sessions/\(leeSession.id)/finish", token: t.ann).status
          == .ok)

      // Lists hold only what the caller may read.
      let bobs = try await c.json(.get, "/v1/sessions", token: t.bob, as: [LiveClient.Session].self)
      #expect(bobs.isEmpty)
      let anns = try await c.json(.get, "/v1/sessions", token: t.ann, as: [LiveClient.Session].self)
      #expect(Set(anns.map(\.id)) == [annSession.id, leeSession.id])
      let kims = try await c.json(.get, "/v1/sessions", token: t.kim, as: [LiveClient.Session].self)
      #expect(kims.isEmpty)

      // WebSockets: the upgrade is refused without the right token.
      for path in ["/v1/sessions/\(id)/stream", "/v1/sessions/\(id)/watch"] {
        for token in [nil, "otk_forged", t.bob, t.kim] {
          await #expect(throws: (any Error).self, "\(path) with \(token ?? "no token")") {
            try await c.webSocket(path, token: token) { _, _ in }
          }
        }
        _ = try await c.webSocket(path, token: t.ann) { messages, outbound in
          let hello = try #require(try await messages.nextObject())
          #expect(hello["type"] as? String == "session")
          try await outbound.close(.normalClosure, reason: nil)
        }
      }
      // The same checks answer the HTTP request that would upgrade.
      #expect(
        try await c.request(.get, "/v1/sessions/\(id)/stream", token: nil).status == .unauthorized)
      #expect(
        try await c.request(.get, "/v1/sessions/\(id)/watch", token: t.bob).status == .forbidden)
    }
  }

  struct Issued: Decodable {
    var token: String
    var id: String
    var name: String
  }

  struct Listing: Decodable {
    var id: String
    var name: String
    var therapist: String?
    var revoked: Double?
  }

  @Test("a therapist lists and revokes their patients' tokens; a revoked token is refused at once")
  func revocationThroughTheAPI() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      let cat = try await c.json(
        .post, "/v1/tokens", token: t.lee, body: #"{"name":"cat"}"#, as: Issued.self)
      #expect(cat.id == Tokens.id(ofHash: Tokens.hash(cat.token)))
      let session = try await c.createSession(token: cat.token)
      let listed = try await c.json(.get, "/v1/tokens", token: t.lee, as: [Listing].self)
      #expect(listed.map(\.name) == ["ann", "cat"])
      #expect(listed.allSatisfy { $0.revoked == nil && $0.therapist == "lee" })
      #expect(!listed.contains { $0.id.count != 16 })
      let kims = try await c.json(.get, "/v1/tokens", token: t.kim, as: [Listing].self)
      #expect(kims.map(\.name) == ["bob"])

      // Only the therapist who issued it; others learn nothing about the id.
      #expect(try await c.request(.get, "/v1/tokens", token: nil).status == .unauthorized)
      #expect(try await c.request(.get, "/v1/tokens", token: t.ann).status == .forbidden)
      #expect(
        try await c.request(.delete, "/v1/tokens/\(cat.id)", token: nil).status == .unauthorized)
      #expect(
        try await c.request(.delete, "/v1/tokens/\(cat.id)", token: cat.token).status == .forbidden)
      #expect(
        try await c.request(.delete, "/v1/tokens/\(cat.id)", token: t.kim).status == .notFound)
      #expect(
        try await c.request(.delete, "/v1/tokens/not-an-id", token: t.lee).status == .notFound)
      #expect(try await c.request(.get, "/v1/sessions", token: cat.token).status == .ok)

      // The stream opened with the token closes when it is revoked.
      let close = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: cat.token) {
        messages, _ in
        let hello = try #require(try await messages.nextObject())
        #expect(hello["type"] as? String == "session")
        #expect(
          try await c.request(.delete, "/v1/tokens/\(cat.id)", token: t.lee).status == .noContent)
        try await withTimeout(.seconds(10)) {
          while try await messages.next() != nil {}
        }
      }
      #expect(close?.closeCode == .policyViolation)
      #expect(close?.reason == "token revoked")

      let refused = try await c.request(.get, "/v1/sessions", token: cat.token)
      #expect(refused.status == .unauthorized)
      #expect(String(buffer: refused.body).contains("revoked"))
      await #expect(throws: (any Error).self) {
        try await c.webSocket("/v1/sessions/\(session.id)/watch", token: cat.token) { _, _ in }
      }
      // Nobody else is touched, and the therapist still reads the patient's session.
      #expect(try await c.request(.get, "/v1/sessions", token: t.ann).status == .ok)
      #expect(try await c.request(.get, "/v1/sessions/\(session.id)", token: t.lee).status == .ok)
      let after = try await c.json(.get, "/v1/tokens", token: t.lee, as: [Listing].self)
      #expect(after.first { $0.name == "cat" }?.revoked != nil)
      #expect(after.first { $0.name == "ann" }?.revoked == nil)
    }
  }

  @Test("a name belongs to one holder: no token under someone else's name")
  func namesBelongToOneHolder() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      // Kim's patient and Kim herself: a token under their names would read their sessions.
      for name in ["bob", "kim"] {
        let response = try await c.request(
          .post, "/v1/tokens", token: t.lee, json: #"{"name":"\#(name)"}"#)
        #expect(response.status == .conflict, "\(name)")
      }
      let bobs = try await c.json(.get, "/v1/tokens", token: t.kim, as: [Listing].self)
      #expect(bobs.map(\.name) == ["bob"])
      // Lee's own patient may get another token (a lost phone).
      #expect(
        try await c.request(.post, "/v1/tokens", token: t.lee, json: #"{"name":"ann"}"#).status
          == .created)
    }
    await #expect(throws: StoreError.self) {
      try await Tokens.create(role: .therapist, name: "ann", therapist: nil, in: t.server.store)
    }
  }

  @Test("a token revoked on disk stops working within the recheck interval")
  func revocationOnDisk() async throws {
    let t = try await TestServer(tokenRecheckInterval: .milliseconds(300))
    defer { t.removeFolder() }
    try await t.run { c in
      #expect(try await c.request(.get, "/v1/sessions", token: t.ann).status == .ok)
      // What `ontrack token revoke` does: the store only, the server is not told.
      let id = Tokens.id(ofHash: Tokens.hash(t.ann))
      #expect(try await t.server.store.revokeToken(id: id, issuedBy: nil) == Tokens.hash(t.ann))
      try await Task.sleep(for: .milliseconds(400))
      #expect(try await c.request(.get, "/v1/sessions", token: t.ann).status == .unauthorized)
      #expect(try await c.request(.get, "/v1/sessions", token: t.bob).status == .ok)
    }
  }

  @Test("tokens are stored only as SHA-256 hashes")
  func tokensAreHashed() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let stored = try await t.sqlite.pool.read { db in
      try String.fetchAll(db, sql: "SELECT hash FROM token")
    }
    #expect(stored.count == 4)
    for token in [t.lee, t.kim, t.ann, t.bob] {
      #expect(!stored.contains(token))
      #expect(stored.contains(Tokens.hash(token)))
      #expect(token.hasPrefix("otk_") && token.count > 40)
    }
  }

  static func json(_ object: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
  }
}
