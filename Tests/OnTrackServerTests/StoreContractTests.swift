import Foundation
import GRDB
import OnTrackProtocol
import PostgresNIO
import Testing

@testable import OnTrackServer

/// One contract, two stores: every test runs against SQLite and against PostgreSQL
/// (`Scripts/postgres-test-cluster.sh` starts a throwaway cluster; `Scripts/test.sh` exports
/// its URL as `ONTRACK_TEST_POSTGRES` and sets `ONTRACK_REQUIRE_POSTGRES`, so that in CI a
/// missing database fails instead of skipping).
@Suite("Store contract (SQLite and PostgreSQL)", .serialized)
struct StoreContractTests {
  enum Kind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
  }

  /// A fresh, empty store of `kind`, and how to throw it away.
  final class Fixture: Sendable {
    let store: any ServerStore
    let kind: Kind
    let url: String?
    let folder: URL?

    private init(store: any ServerStore, kind: Kind, url: String?, folder: URL?) {
      self.store = store
      self.kind = kind
      self.url = url
      self.folder = folder
    }

    static func make(_ kind: Kind) async throws -> Fixture? {
      switch kind {
      case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
          "ontrack-contract-\(UUID().uuidString)")
        return Fixture(
          store: try SQLiteStore(folder: folder), kind: kind, url: nil, folder: folder)
      case .postgres:
        let environment = ProcessInfo.processInfo.environment
        guard let base = environment["ONTRACK_TEST_POSTGRES"] else {
          #expect(
            environment["ONTRACK_REQUIRE_POSTGRES"] == nil,
            "ONTRACK_TEST_POSTGRES is not set: start Scripts/postgres-test-cluster.sh")
          return nil
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await Self.admin(base, "CREATE DATABASE \(name)")
        guard let slash = base.lastIndex(of: "/") else { return nil }
        let url = String(base[...slash]) + name
        return Fixture(
          store: try await PostgresStore(url: url), kind: kind, url: url, folder: nil)
      }
    }

    /// Runs one statement on the base database.
    static func admin(_ base: String, _ sql: String) async throws {
      // The whole suite runs at once on two cores: a first connection may be slow; try again.
      var attempt = 0
      while true {
        attempt += 1
        do {
          let store = try await PostgresStore(url: base)
          try await store.client.query(PostgresQuery(unsafeSQL: sql))
          try await store.close()
          return
        } catch  where attempt < 3 {
          try await Task.sleep(for: .seconds(1))
        }
      }
    }

    func tearDown() async {
      try? await store.close()
      if let folder { try? FileManager.default.removeItem(at: folder) }
      if let url, let base = ProcessInfo.processInfo.environment["ONTRACK_TEST_POSTGRES"],
        let name = url.split(separator: "/").last
      {
        try? await Task.sleep(for: .milliseconds(50))
        try? await Self.admin(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
      }
    }
  }

  func with(_ kind: Kind, _ body: (any ServerStore, Fixture) async throws -> Void) async throws {
    guard let fixture = try await Fixture.make(kind) else { return }
    do {
      try await body(fixture.store, fixture)
    } catch {
      await fixture.tearDown()
      throw error
    }
    await fixture.tearDown()
  }

  @Test("a new store is empty and passes its check", arguments: Kind.allCases)
  func empty(kind: Kind) async throws {
    try await with(kind) { store, _ in
      #expect(try await store.exerciseCount() == 0)
      #expect(try await store.tokens(issuedBy: nil).isEmpty)
      #expect(try await store.openSessionIDs(patient: nil).isEmpty)
      try await store.check()
    }
  }

  @Test("a database migrated by a newer OnTrack is refused", arguments: Kind.allCases)
  func newerSchema(kind: Kind) async throws {
    try await with(kind) { store, fixture in
      switch kind {
      case .sqlite:
        let sqlite = try #require(store as? SQLiteStore)
        try await sqlite.pool.write { db in
          try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: future')")
        }
        try await store.close()
        #expect(throws: StoreError.self) { try SQLiteStore(folder: try #require(fixture.folder)) }
      case .postgres:
        let postgres = try #require(store as? PostgresStore)
        try await postgres.client.query("INSERT INTO ontrack_schema (version) VALUES (99)")
        await #expect(throws: StoreError.self) {
          _ = try await PostgresStore(url: try #require(fixture.url))
        }
      }
    }
  }

  @Test("tokens: one holder per name, listing, revocation, patients", arguments: Kind.allCases)
  func tokens(kind: Kind) async throws {
    try await with(kind) { store, _ in
      let hash = { (k: Int) in String(repeating: String(format: "%x", k % 16), count: 64) }
      try await store.addToken(
        hash: hash(1), record: TokenRecord(role: .therapist, name: "lee", therapist: nil))
      try await store.addToken(
        hash: hash(2), record: TokenRecord(role: .patient, name: "ann", therapist: "lee"))
      // The same holder may hold a second token; another holder may not take the name.
      try await store.addToken(
        hash: hash(3), record: TokenRecord(role: .patient, name: "ann", therapist: "lee"))
      await #expect(throws: StoreError.nameTaken("ann")) {
        try await store.addToken(
          hash: hash(4), record: TokenRecord(role: .patient, name: "ann", therapist: "kim"))
      }
      await #expect(throws: StoreError.nameTaken("lee")) {
        try await store.addToken(
          hash: hash(5), record: TokenRecord(role: .patient, name: "lee", therapist: "kim"))
      }
      let ann = try #require(try await store.token(hash: hash(2)))
      #expect(ann.role == .patient && ann.name == "ann" && ann.therapist == "lee")
      #expect(ann.revoked == nil)
      #expect(try await store.token(hash: hash(9)) == nil)
      #expect(try await store.tokens(issuedBy: nil).count == 3)
      #expect(try await store.tokens(issuedBy: "lee").map(\.name) == ["ann", "ann"])
      #expect(try await store.tokens(issuedBy: "kim").isEmpty)
      #expect(try await store.isPatient("ann", of: "lee"))
      #expect(try await !store.isPatient("ann", of: "kim"))
      // Revocation: only the issuing therapist (or an admin), and the first time stays.
      let id = Tokens.id(ofHash: hash(2))
      #expect(try await store.revokeToken(id: id, issuedBy: "kim") == nil)
      #expect(try await store.revokeToken(id: id, issuedBy: "lee") == hash(2))
      let first = try #require(try await store.token(hash: hash(2))?.revoked)
      try await Task.sleep(for: .milliseconds(20))
      #expect(try await store.revokeToken(id: id, issuedBy: nil) == hash(2))
      #expect(try await store.token(hash: hash(2))?.revoked == first)
      #expect(try await store.revokeToken(id: "not-an-id", issuedBy: nil) == nil)
    }
  }

  @Test("exercises: versions, the newest live one, deletion", arguments: Kind.allCases)
  func exercises(kind: Kind) async throws {
    try await with(kind) { store, _ in
      #expect(
        try await store.addExercise(id: "bridge", owner: "lee", definition: "{1}", reference: "B1")
          == 1)
      #expect(
        try await store.addExercise(id: "bridge", owner: "lee", definition: "{2}", reference: "B2")
          == 2)
      #expect(
        try await store.addExercise(id: "squat", owner: nil, definition: "{s}", reference: "S")
          == 1)
      let newest = try #require(try await store.exercise(id: "bridge", version: nil))
      #expect(newest.version == 2 && newest.definition == "{2}" && newest.owner == "lee")
      #expect(try await store.exercise(id: "bridge", version: 1)?.reference == "B1")
      #expect(try await store.exerciseVersions(id: "bridge") == [1, 2])
      #expect(try await store.exercises().map(\.id) == ["bridge", "squat"])
      #expect(try await store.deleteExercise(id: "bridge"))
      #expect(try await !store.deleteExercise(id: "bridge"))
      #expect(try await store.exercise(id: "bridge", version: nil) == nil)
      // Sessions keep their version.
      #expect(try await store.exercise(id: "bridge", version: 2)?.deleted == true)
      #expect(try await store.exercises().map(\.id) == ["squat"])
      #expect(try await store.exerciseCount() == 3)
    }
  }

  static func session(_ id: String, patient: String, created: Double = 1000) -> SessionRecord {
    SessionRecord(
      id: id, patient: patient, therapist: "lee", exercise: "bridge", exerciseVersion: 2,
      skeleton: "canonical", created: created)
  }

  @Test(
    "sessions: quotas in one transaction, listing with scores, finishing", arguments: Kind.allCases)
  func sessions(kind: Kind) async throws {
    try await with(kind) { store, _ in
      try await store.addSession(
        Self.session("s1", patient: "ann", created: 1), maximumOpen: 10, maximumOpenPerPatient: 2)
      try await store.addSession(
        Self.session("s2", patient: "ann", created: 2), maximumOpen: 10, maximumOpenPerPatient: 2)
      await #expect(throws: StoreError.self) {
        try await store.addSession(
          Self.session("s3", patient: "ann"), maximumOpen: 10, maximumOpenPerPatient: 2)
      }
      await #expect(throws: StoreError.self) {
        try await store.addSession(
          Self.session("s4", patient: "bob"), maximumOpen: 2, maximumOpenPerPatient: 2)
      }
      #expect(try await store.session(id: "s3") == nil)
      let s1 = try #require(try await store.session(id: "s1"))
      #expect(s1.patient == "ann" && s1.exerciseVersion == 2 && s1.finished == nil)
      #expect(s1.rejected == "{}")
      #expect(try await store.openSessionIDs(patient: nil) == ["s1", "s2"])
      #expect(try await store.openSessionIDs(patient: "bob").isEmpty)
      var batch = FrameBatch()
      batch.repetitions = [
        StoredRepetition(session: "s1", index: 1, score: 80, result: #"{"score":80}"#),
        StoredRepetition(session: "s1", index: 2, score: 60, result: #"{"score":60}"#),
        StoredRepetition(session: "s1", index: 3, score: nil, result: #"{"unmeasured":true}"#),
      ]
      try await store.commit(batch)
      let listed = try await store.sessions(patient: "ann", therapist: nil)
      #expect(listed.map(\.record.id) == ["s1", "s2"])
      #expect(listed[0].repetitions == 3)
      #expect(abs((listed[0].meanScore ?? 0) - 70) < 1e-9)
      #expect(listed[1].repetitions == 0 && listed[1].meanScore == nil)
      #expect(try await store.sessions(patient: nil, therapist: "lee").count == 2)
      #expect(try await store.sessions(patient: nil, therapist: "kim").isEmpty)
      #expect(try await store.repetitions(session: "s1").count == 3)
      try await store.finishSession(id: "s1", summary: #"{"done":1}"#, rejected: #"{"stale":1}"#)
      let done = try #require(try await store.session(id: "s1"))
      #expect(done.finished != nil && done.summary == #"{"done":1}"#)
      #expect(done.storedRejected == ["stale": 1])
      #expect(try await store.openSessionIDs(patient: nil) == ["s2"])
      #expect(try await store.abandonedSessionIDs(before: 3) == ["s2"])
      #expect(try await store.abandonedSessionIDs(before: 1.5).isEmpty)
    }
  }

  @Test("concurrent session starts never pass the quota", arguments: Kind.allCases)
  func quotaRace(kind: Kind) async throws {
    try await with(kind) { store, _ in
      let stored = await withTaskGroup(of: Bool.self) { group in
        for k in 0..<16 {
          group.addTask {
            do {
              try await store.addSession(
                Self.session("r\(k)", patient: "p\(k % 4)"), maximumOpen: 5,
                maximumOpenPerPatient: 10)
              return true
            } catch {
              return false
            }
          }
        }
        var count = 0
        for await ok in group where ok { count += 1 }
        return count
      }
      #expect(stored == 5)
      let open = try await store.openSessionIDs(patient: nil)
      #expect(open.count == 5)
    }
  }

  @Test(
    "frames: a group commit stores every frame once, exactly, with repetitions and rejections",
    arguments: Kind.allCases)
  func frames(kind: Kind) async throws {
    try await with(kind) { store, _ in
      try await store.addSession(
        Self.session("s1", patient: "ann"), maximumOpen: 10, maximumOpenPerPatient: 10)
      var batch = FrameBatch()
      for seq in 1...50 {
        let channels = (0..<61).map { Float(seq) * 0.5 + Float($0) * -0.25 + 1e-7 }
        batch.frames.append(
          StoredFrame(
            session: "s1", seq: seq, time: Double(seq) / 60, received: 2000 + Double(seq),
            channels: channels))
      }
      batch.rejected["s1"] = #"{"malformed":2}"#
      try await store.commit(batch)
      // A retried batch (a commit whose acknowledgement was lost) changes nothing.
      try await store.commit(batch)
      #expect(try await store.frameCount(session: "s1") == 50)
      let read = try await store.frames(session: "s1", from: 41)
      #expect(read.map(\.seq) == Array(41...50))
      #expect(read == Array(batch.frames[40...]))
      #expect(try await store.session(id: "s1")?.storedRejected == ["malformed": 2])
      // A repetition scored again replaces its first result.
      var again = FrameBatch()
      again.repetitions = [StoredRepetition(session: "s1", index: 1, score: 10, result: "a")]
      try await store.commit(again)
      again.repetitions = [StoredRepetition(session: "s1", index: 1, score: 20, result: "b")]
      try await store.commit(again)
      #expect(try await store.repetitions(session: "s1") == ["b"])
      #expect(try await store.abandonedSessionIDs(before: 2049).isEmpty)
      #expect(try await store.abandonedSessionIDs(before: 2051) == ["s1"])
      try await store.commit(FrameBatch())
    }
  }
}

extension StoreContractTests {
  @Test(
    "leases: one holder at a time, renewed by it, taken over once expired", arguments: Kind.allCases
  )
  func leases(kind: Kind) async throws {
    try await with(kind) { store, _ in
      #expect(try await store.acquireLease(session: "s1", holder: "a", ttl: 30))
      #expect(try await !store.acquireLease(session: "s1", holder: "b", ttl: 30))
      #expect(try await store.acquireLease(session: "s1", holder: "a", ttl: 30))
      #expect(try await store.lease(session: "s1")?.holder == "a")
      try await store.releaseLease(session: "s1", holder: "b")
      #expect(try await store.lease(session: "s1")?.holder == "a")
      try await store.releaseLease(session: "s1", holder: "a")
      #expect(try await store.lease(session: "s1") == nil)
      #expect(try await store.acquireLease(session: "s1", holder: "b", ttl: 0.05))
      #expect(try await store.acquireLease(session: "s2", holder: "b", ttl: 30))
      try await Task.sleep(for: .milliseconds(150))
      // b stalled past its lease on s1: a takes it, and b's renewal finds only s2.
      #expect(try await store.acquireLease(session: "s1", holder: "a", ttl: 30))
      #expect(try await store.renewLeases(["s1", "s2"], holder: "b", ttl: 30) == ["s2"])
      #expect(try await store.renewLeases([], holder: "b", ttl: 30).isEmpty)
    }
  }

  @Test(
    "programmes: versions, one patient's or one therapist's, days stored once per key, sessions under a client key",
    arguments: Kind.allCases)
  func programmes(kind: Kind) async throws {
    try await with(kind) { store, _ in
      #expect(
        try await store.addProgramme(
          id: "prg_a", therapist: "lee", patient: "ann", definition: "{}")
          == 1)
      #expect(
        try await store.addProgramme(
          id: "prg_a", therapist: "lee", patient: "ann", definition: #"{"v":2}"#) == 2)
      #expect(
        try await store.addProgramme(
          id: "prg_b", therapist: "kim", patient: "bob", definition: "{}")
          == 1)
      #expect(try await store.programme(id: "prg_a", version: nil)?.definition == #"{"v":2}"#)
      #expect(try await store.programme(id: "prg_a", version: 1)?.definition == "{}")
      #expect(try await store.programme(id: "prg_a", version: 3) == nil)
      #expect(try await store.programmeVersions(id: "prg_a") == [1, 2])
      #expect(try await store.programmes(patient: "ann", therapist: nil).map(\.version) == [2])
      #expect(try await store.programmes(patient: nil, therapist: "kim").map(\.id) == ["prg_b"])
      #expect(
        try await store.programmes(patient: nil, therapist: nil).map(\.id) == ["prg_a", "prg_b"])

      let day = ProgrammeDay(
        key: "k-0000001", date: "2026-12-01", painBefore: 6, painAfter: nil,
        sessions: ["s1", "s2"],
        programmeVersion: 2, complete: true)
      let first = try await store.addProgrammeDay(
        ProgrammeDayRecord(programme: "prg_a", patient: "ann", day: day))
      #expect(first.added && first.day.recorded != nil)
      var changed = day
      changed.painBefore = 1
      let again = try await store.addProgrammeDay(
        ProgrammeDayRecord(programme: "prg_a", patient: "ann", day: changed))
      #expect(!again.added && again.day.painBefore == 6)
      var earlier = day
      earlier.key = "k-0000000"
      earlier.date = "2026-11-30"
      _ = try await store.addProgrammeDay(
        ProgrammeDayRecord(programme: "prg_a", patient: "ann", day: earlier))
      let days = try await store.programmeDays(programme: "prg_a")
      #expect(days.map(\.date) == ["2026-11-30", "2026-12-01"])
      #expect(days[1].sessions == ["s1", "s2"] && days[1].painAfter == nil && days[1].complete)
      #expect(try await store.programmeDays(programme: "prg_b").isEmpty)

      var record = Self.session("s-key", patient: "ann")
      record.programme = "prg_a"
      record.clientKey = "client-key-1"
      try await store.addSession(record, maximumOpen: 10, maximumOpenPerPatient: 10)
      let found = try await store.session(patient: "ann", clientKey: "client-key-1")
      #expect(found?.id == "s-key" && found?.programme == "prg_a")
      #expect(try await store.session(patient: "bob", clientKey: "client-key-1") == nil)
      var twin = Self.session("s-twin", patient: "ann")
      twin.clientKey = "client-key-1"
      await #expect(throws: (any Error).self) {
        try await store.addSession(twin, maximumOpen: 10, maximumOpenPerPatient: 10)
      }
      #expect(
        try await store.sessions(patient: "ann", therapist: nil).first { $0.record.id == "s-key" }?
          .record.programme == "prg_a")
    }
  }
}

extension StoreContractTests {
  /// Runs `body` with a PostgreSQL store that gives up a call after 1 s, holding session `s1`,
  /// and a second store on the same database to hold locks through; closes both after. Does
  /// nothing without a test database.
  static func withImpatientStore(
    _ body: (_ store: PostgresStore, _ locker: PostgresStore) async throws -> Void
  ) async throws {
    guard let fixture = try await Fixture.make(.postgres), let url = fixture.url else { return }
    defer { Task { await fixture.tearDown() } }
    let store = try await PostgresStore(url: url, answerTimeout: .seconds(1))
    let locker = try await PostgresStore(url: url)
    defer {
      Task {
        try? await store.close()
        try? await locker.close()
      }
    }
    try await store.addSession(
      Self.session("s1", patient: "ann"), maximumOpen: 10, maximumOpenPerPatient: 10)
    try await body(store, locker)
  }

  /// Holds the frame table locked through `locker`'s connection for `duration`; returns once
  /// the lock is taken, with the task that holds it.
  static func lockFrameTable(through locker: PostgresStore, for duration: Duration) async throws
    -> Task<Void, any Error>
  {
    let (locked, lockTaken) = AsyncStream<Void>.makeStream()
    let holder = Task {
      try await locker.client.withTransaction(logger: Logger(label: "test")) { connection in
        try await connection.query(
          "LOCK TABLE frame IN ACCESS EXCLUSIVE MODE", logger: Logger(label: "test"))
        lockTaken.yield()
        try await Task.sleep(for: duration)
      }
    }
    var waiting = locked.makeAsyncIterator()
    _ = await waiting.next()
    return holder
  }

  @Test(
    "PostgreSQL: a commit the database does not answer (a lock held elsewhere) is given up after the answer timeout, and the batch retried is stored once"
  )
  func unansweredCommit() async throws {
    try await Self.withImpatientStore { store, locker in
      var batch = FrameBatch()
      for seq in 1...50 {
        batch.frames.append(
          StoredFrame(
            session: "s1", seq: seq, time: Double(seq) / 60, received: 2000 + Double(seq),
            channels: [Float](repeating: Float(seq), count: 61)))
      }
      let holder = try await Self.lockFrameTable(through: locker, for: .seconds(4))
      // Before: the commit waited for the lock, however long it was held, and the frame writer
      // with it, telling no one.
      let clock = ContinuousClock()
      let start = clock.now
      await #expect(throws: StoreError.self) { try await store.commit(batch) }
      let waited = clock.now - start
      #expect(waited >= .milliseconds(900) && waited < .seconds(3), "\(waited)")
      try await holder.value
      // Retried once the lock is gone: stored, once (the abandoned commit may finish too).
      try await store.commit(batch)
      try await Task.sleep(for: .milliseconds(300))
      #expect(try await store.frameCount(session: "s1") == 50)
    }
  }

  @Test(
    "PostgreSQL: calls given up while a lock is held elsewhere give their connections back; the store goes on serving"
  )
  func abandonedCallsFreeTheirConnections() async throws {
    try await Self.withImpatientStore { store, locker in
      let holder = try await Self.lockFrameTable(through: locker, for: .seconds(6))
      // More calls waiting on the lock than the pool has connections (16): each is given up
      // after 1 s.
      let failed = await withTaskGroup(of: Bool.self) { group in
        for k in 0..<24 {
          group.addTask {
            (try? await store.frameCount(session: "s\(k)")) == nil
          }
        }
        return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
      }
      #expect(failed == 24)
      // The lock is still held, for 4 s more. Before, each abandoned call kept its connection
      // waiting on it, and a call that needs no lock found none free: it failed too.
      let clock = ContinuousClock()
      let start = clock.now
      let found = try await store.session(id: "s1")
      #expect(found?.patient == "ann")
      #expect(clock.now - start < .seconds(1), "\(clock.now - start)")
      try await holder.value
    }
  }

  @Test("a call that answers, with a result or an error, gives that answer, not the timeout's")
  func answeredCalls() async throws {
    struct Refused: Error {}
    // (A first version let the cancelled timer report its timeout in a race with the answer:
    // a lost connection at start became "did not answer within 30 s".)
    for k in 0..<300 {
      let value = try await PostgresStore.answered(within: .seconds(30), "test") { k }
      #expect(value == k)
      await #expect(throws: Refused.self) {
        try await PostgresStore.answered(within: .seconds(30), "test") { () throws -> Int in
          throw Refused()
        }
      }
      // An answer that comes after a suspension, as a query's does.
      await #expect(throws: Refused.self) {
        try await PostgresStore.answered(within: .seconds(30), "test") { () async throws -> Int in
          try await Task.sleep(for: .microseconds(50))
          throw Refused()
        }
      }
    }
    await #expect(throws: StoreError.self) {
      try await PostgresStore.answered(within: .milliseconds(100), "test") {
        try? await Task.sleep(for: .seconds(2))
        return 1
      }
    }
  }
}
