import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import OnTrackClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization
import Testing

@testable import OnTrackServer

/// What a hostile or clumsy client tries, and what a clinic's network needs (issue 9).
@Suite("Server hardening")
struct HardeningTests {
  static let exercise = "uiprmd-m07-shoulder-abduction"

  /// The exercise's reference and a way to write its frames as JSON.
  struct Frames: Sendable {
    let clip: Clip
    let encoder: ChannelEncoder

    init() throws {
      clip = try #require(try ServerData.exercise(HardeningTests.exercise).referenceClip)
      encoder = ChannelEncoder(skeleton: clip.skeleton)
    }

    /// Frame `seq` (the reference looped, 30 Hz) as a `values` frame.
    func json(_ seq: Int) -> String {
      var values: [Float] = []
      encoder.encode(clip.pose(atFrame: seq % clip.frameCount), into: &values)
      return StreamFrame.valuesJSON(seq: seq, time: Double(seq) / 30, values: values)
    }
  }

  /// Every server message of a stream, as it came.
  final class Heard: Sendable {
    private let messages = Mutex<[ServerMessage]>([])

    func add(_ text: String) {
      if let message = try? ServerMessage.decode(text) { messages.withLock { $0.append(message) } }
    }

    var all: [ServerMessage] { messages.withLock { $0 } }
    var acks: [Int] { all.compactMap { if case .ack(let s) = $0 { s } else { nil } } }
    var maxAck: Int { acks.max() ?? -1 }
    var notices: [Notice.Code] {
      all.compactMap { if case .notice(let n) = $0 { n.code } else { nil } }
    }
    var rejections: [Rejection] {
      all.compactMap { if case .rejected(let r) = $0 { r } else { nil } }
    }
    var scored: Int { all.count { if case .frame = $0 { true } else { false } } }
  }

  /// Streams over `/stream`: `body` gets a send function; every message goes to `heard`.
  static func stream(
    _ c: LiveClient, session: String, token: String, heard: Heard,
    _ body:
      @escaping @Sendable (_ send: @Sendable (String) async throws -> Void) async throws
      -> Void
  ) async throws -> WebSocketCloseFrame? {
    try await c.webSocket("/v1/sessions/\(session)/stream", token: token) { messages, outbound in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          while let text = try await messages.next() { heard.add(text) }
        }
        try await body { try await outbound.writeTextMessage($0) }
        try? await outbound.close(.normalClosure, reason: nil)
        group.cancelAll()
      }
    }
  }

  /// Waits (up to `limit`) until `condition` holds.
  static func eventually(
    _ limit: Duration = .seconds(15), _ condition: @Sendable () async throws -> Bool
  ) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
      if try await condition() { return true }
      try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
  }

  // MARK: Numbers from clients

  @Test(
    "a sequence number past 2^53 is refused, device frames after the last one never trap, and one stored by an older server is skipped"
  )
  func boundedSequenceNumbers() async throws {
    let t = try await TestServer(axis: true)
    defer { t.removeFolder() }
    try await t.run { c in
      for _ in 0..<250 where t.server.axisPort == nil {
        try await Task.sleep(for: .milliseconds(20))
      }
      let axisPort = try #require(t.server.axisPort)
      let session = try await c.createSession(
        token: t.ann, extra: #","skeleton":"perception-neuron""#)
      let zeros = Array(repeating: "0", count: 180).joined(separator: ",")
      let heard = Heard()
      _ = try await Self.stream(c, session: session.id, token: t.ann, heard: heard) { send in
        try await send(#"{"seq":9223372036854775807,"t":0,"values":[\#(zeros)]}"#)
        try await send(#"{"seq":-1,"t":0,"values":[\#(zeros)]}"#)
        try await send(#"{"seq":9007199254740993,"t":0,"values":[\#(zeros)]}"#)
        try await send(#"{"seq":9007199254740992,"t":0,"values":[\#(zeros)]}"#)
        _ = try await Self.eventually { heard.scored == 1 && heard.rejections.count == 3 }
      }
      #expect(heard.rejections.map(\.reason) == [.malformed, .malformed, .malformed])
      #expect(heard.scored == 1)
      // An Axis Neuron frame for the same session would be seq 2^53 + 1: refused, no trap.
      let code = try await c.json(
        .post, "/v1/sessions/\(session.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      let line = AxisNeuronFrameWriter.line(
        index: 0, name: code, values: [Float](repeating: 0, count: 180))
      try await Self.sendTCP(port: axisPort, line + line)
      #expect(
        try await Self.eventually {
          t.server.hub.loadedSession(session.id)?.rejectedCounts[.outOfOrder] == 2
        })
      #expect(try await c.request(.get, "/health", token: nil).status == .ok)

      // A frame with an enormous seq stored by an older server: the session still loads, the
      // frame is skipped, and a device frame after it counts from there.
      let old = try await c.createSession(token: t.ann, extra: #","skeleton":"perception-neuron""#)
      let blob = [Float](repeating: 0, count: 180).withUnsafeBytes { Data($0) }
      try await t.sqlite.pool.write { db in
        try db.execute(
          sql: "INSERT INTO frame (session, seq, time, received, channels) VALUES (?, ?, 0, 0, ?)",
          arguments: [old.id, Int64.max, blob])
      }
      #expect(t.server.hub.sleepIdleSessions(timeout: .zero) >= 1)
      let code2 = try await c.json(
        .post, "/v1/sessions/\(old.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      try await Self.sendTCP(
        port: axisPort,
        AxisNeuronFrameWriter.line(index: 0, name: code2, values: [Float](repeating: 0, count: 180))
      )
      #expect(
        try await Self.eventually { try await t.server.store.frameCount(session: old.id) == 2 })
      #expect(t.server.hub.loadedSession(old.id)?.lastSeq == 0)
    }
  }

  // MARK: Nothing acknowledged is lost

  @Test(
    "a database locked by another process delays acknowledgements; nothing acknowledged is lost")
  func lockedDatabase() async throws {
    let t = try await TestServer { $0.sqlite.busyTimeout = 0.2 }
    defer { t.removeFolder() }
    let frames = try Frames()
    let file = try t.sqlite.file
    try await t.run { c in
      let session = try await c.createSession(token: t.ann)
      let heard = Heard()
      let locked = Flag()
      let sent = Flag()
      let ackedWhileLocked = Mutex<[Int]>([])
      _ = try await Self.stream(c, session: session.id, token: t.ann, heard: heard) { send in
        for seq in 0..<40 { try await send(frames.json(seq)) }
        #expect(try await Self.eventually { heard.maxAck == 39 })
        // Another process takes the database's write lock and holds it for at least 4 s, and
        // until the frames below are sent and their answers read (at most 60 s: a loaded
        // machine may take longer than 4 s to send them).
        // (It waits for the lock itself: taken at once, BEGIN EXCLUSIVE could meet the server's
        // own commit and fail busy, and this test once waited forever for a lock never taken.)
        let holder = Task.detached {
          var configuration = Configuration()
          configuration.busyMode = .timeout(20)
          let other = try DatabaseQueue(path: file.path, configuration: configuration)
          try await other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            locked.value.store(true, ordering: .relaxed)
            let since = Date()
            while Date().timeIntervalSince(since) < 4
              || (!sent.value.load(ordering: .relaxed) && Date().timeIntervalSince(since) < 60)
            {
              Thread.sleep(forTimeInterval: 0.05)
            }
            locked.value.store(false, ordering: .relaxed)
            try db.execute(sql: "COMMIT")
          }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !locked.value.load(ordering: .relaxed), ContinuousClock.now < deadline {
          try await Task.sleep(for: .milliseconds(5))
        }
        let tookLock = locked.value.load(ordering: .relaxed)
        try #require(tookLock, "the other process took the lock")
        let before = heard.acks.count
        for seq in 40..<100 {
          try await send(frames.json(seq))
          try await Task.sleep(for: .milliseconds(10))
        }
        // A request that writes waits out the busy timeout, then hears 503 with when to try
        // again (not 500: the lock passes).
        let refused = try await c.request(
          .post, "/v1/sessions", token: t.bob, json: #"{"exercise":"\#(Self.exercise)"}"#)
        // Still locked: nothing after frame 39 may be acknowledged.
        let stillLocked = locked.value.load(ordering: .relaxed)
        #expect(stillLocked)
        #expect(refused.status == .serviceUnavailable, "\(String(buffer: refused.body))")
        #expect(refused.headers[.retryAfter] == "2")
        #expect(String(buffer: refused.body).contains("locked"), "\(String(buffer: refused.body))")
        ackedWhileLocked.withLock { $0 = Array(heard.acks[before...]) }
        sent.value.store(true, ordering: .relaxed)
        try await holder.value
        #expect(try await Self.eventually { heard.maxAck == 99 })
      }
      #expect(ackedWhileLocked.withLock { $0.allSatisfy { $0 <= 39 } })
      #expect(heard.scored == 100)
      #expect(heard.notices.contains(.storageUnavailable))
      #expect(heard.notices.last == .storageRestored)
      let stored = try await t.server.store.frames(session: session.id, from: 0).map(\.seq)
      #expect(stored == Array(0..<100))
    }
  }

  @Test(
    "a full database holds acknowledgements until there is room again; every frame is stored once")
  func fullDatabase() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    let pool = try t.sqlite.pool
    try await t.run { c in
      let session = try await c.createSession(token: t.ann)
      // SQLite's own "database or disk is full": the writer may grow the file by a few pages.
      let pages = try await pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
      try await pool.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA max_page_count = \(pages + 4)")
      }
      let heard = Heard()
      let storedWhenFull = Mutex(0)
      let ackWhenFull = Mutex(-1)
      _ = try await Self.stream(c, session: session.id, token: t.ann, heard: heard) { send in
        for seq in 0..<300 { try await send(frames.json(seq)) }
        #expect(try await Self.eventually { heard.notices.contains(.storageUnavailable) })
        try await Task.sleep(for: .milliseconds(500))
        let stored = try await t.server.store.frameCount(session: session.id)
        storedWhenFull.withLock { $0 = stored }
        ackWhenFull.withLock { $0 = heard.maxAck }
        try await pool.writeWithoutTransaction { db in
          try db.execute(sql: "PRAGMA max_page_count = 1000000")
        }
        #expect(try await Self.eventually { heard.maxAck == 299 })
      }
      let stored = storedWhenFull.withLock { $0 }
      let acked = ackWhenFull.withLock { $0 }
      #expect(stored < 300, "the database was full after \(stored) frames")
      #expect(acked < stored, "acknowledged \(acked) with \(stored) frames stored")
      let seqs = try await t.server.store.frames(session: session.id, from: 0).map(\.seq)
      #expect(seqs == Array(0..<300))
    }
  }

  /// A test server over the SQLite store with failures on demand (`FailingStore`).
  static func serverWithFailingStore() async throws -> (FailingStore, TestServer) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-test-\(UUID())")
    let store = FailingStore(base: try SQLiteStore(folder: folder))
    return (store, try await TestServer(folder: folder, store: store))
  }

  @Test(
    "a failing write is retried; the client hears storage fail and recover, and acks follow the disk"
  )
  func injectedWriteErrors() async throws {
    let (store, t) = try await Self.serverWithFailingStore()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann)
      let heard = Heard()
      _ = try await Self.stream(c, session: session.id, token: t.ann, heard: heard) { send in
        try await send(frames.json(0))
        #expect(try await Self.eventually { heard.maxAck == 0 })
        store.failures.store(4, ordering: .relaxed)
        for seq in 1..<30 { try await send(frames.json(seq)) }
        #expect(try await Self.eventually { heard.maxAck == 29 })
      }
      #expect(store.attempts.load(ordering: .relaxed) >= 5)
      #expect(heard.notices == [.storageUnavailable, .storageRestored])
      #expect(
        try await t.server.store.frames(session: session.id, from: 0).map(\.seq) == Array(0..<30))
    }
  }

  @Test(
    "a database out of reach is 503 with Retry-After, not 500; the client library waits and tries again"
  )
  func unavailableStore() async throws {
    let (store, t) = try await Self.serverWithFailingStore()
    defer { t.removeFolder() }
    try await t.run { c in
      store.unavailableCreations.store(1, ordering: .relaxed)
      let refused = try await c.request(
        .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"\#(Self.exercise)"}"#)
      #expect(refused.status == .serviceUnavailable)
      #expect(refused.headers[.retryAfter] == "2")
      #expect(String(buffer: refused.body).contains("cannot be reached"))
      // Two refusals, then the database is back: the client's one call succeeds, once.
      store.unavailableCreations.store(2, ordering: .relaxed)
      let client = ServerClient(
        base: try #require(URL(string: "http://127.0.0.1:\(c.port)")), token: t.ann)
      let made = try await client.createSession(
        CreateSessionRequest(exercise: Self.exercise, clientKey: "retried-1"))
      #expect(store.unavailableCreations.load(ordering: .relaxed) == 0)
      let sessions = try await client.sessions()
      #expect(sessions.map(\.id) == [made.id])
    }
  }

  // MARK: Quotas

  @Test(
    "open sessions per patient and in all, a frame-rate cap and a free-disk floor are enforced with the reason"
  )
  func quotas() async throws {
    let free = Atomic<Int64>(1 << 40)
    let t = try await TestServer {
      $0.limits.maximumOpenSessionsPerPatient = 3
      $0.limits.maximumOpenSessions = 5
      $0.limits.maximumFrameRate = 50
      $0.freeDiskBytes = { _ in free.load(ordering: .relaxed) }
    }
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      var anns: [String] = []
      for _ in 0..<3 { anns.append(try await c.createSession(token: t.ann).id) }
      let refused = try await c.request(
        .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"\#(Self.exercise)"}"#)
      #expect(refused.status == .tooManyRequests)
      #expect(String(buffer: refused.body).contains("open sessions"))
      _ = try await c.request(.post, "/v1/sessions/\(anns[0])/finish", token: t.ann)
      anns[0] = try await c.createSession(token: t.ann).id
      _ = try await c.createSession(token: t.bob)
      _ = try await c.createSession(token: t.bob)
      let full = try await c.request(
        .post, "/v1/sessions", token: t.bob, json: #"{"exercise":"\#(Self.exercise)"}"#)
      #expect(full.status == .tooManyRequests)
      #expect(String(buffer: full.body).contains("server"))

      // A client sending far faster than the cap: the excess is rejected as retryable.
      let heard = Heard()
      _ = try await Self.stream(c, session: anns[1], token: t.ann, heard: heard) { send in
        for seq in 0..<300 { try await send(frames.json(seq)) }
        _ = try await Self.eventually { heard.scored + heard.rejections.count == 300 }
      }
      let limited = heard.rejections.filter { $0.reason == .rateLimited }
      #expect(limited.count > 100)
      #expect(limited.allSatisfy { $0.reason.isRetryable && $0.seq != nil })
      // Refused before decoding, each still names its own frame.
      let limitedSeqs = limited.compactMap(\.seq)
      #expect(Set(limitedSeqs).count == limited.count)
      #expect(limitedSeqs.allSatisfy { (0..<300).contains($0) })
      #expect(heard.scored >= 50)

      // Below the disk floor: no frames, no sessions, each with its reason.
      free.store(10 << 20, ordering: .relaxed)
      t.server.hub.storage.refresh()
      let starved = Heard()
      _ = try await Self.stream(c, session: anns[2], token: t.ann, heard: starved) { send in
        try await send(frames.json(0))
        _ = try await Self.eventually { starved.rejections.count == 1 }
      }
      #expect(starved.rejections.map(\.reason) == [.storageFull])
      _ = try await c.request(.post, "/v1/sessions/\(anns[0])/finish", token: t.ann)
      let noRoom = try await c.request(
        .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"\#(Self.exercise)"}"#)
      #expect(noRoom.status.code == 507)
      free.store(1 << 40, ordering: .relaxed)
      t.server.hub.storage.refresh()
      #expect(
        try await c.request(
          .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"\#(Self.exercise)"}"#
        ).status == .created)
    }
  }

  @Test("after a restart no session is loaded until it is used")
  func lazyRestore() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    let ids = try await t.run { c in
      var ids: [String] = []
      for _ in 0..<3 {
        let id = try await c.createSession(token: t.ann).id
        let heard = Heard()
        _ = try await Self.stream(c, session: id, token: t.ann, heard: heard) { send in
          for seq in 0..<20 { try await send(frames.json(seq)) }
          _ = try await Self.eventually { heard.maxAck == 19 }
        }
        ids.append(id)
      }
      return ids
    }
    let restarted = try await TestServer(folder: t.folder)
    try await restarted.run { c in
      #expect(restarted.server.hub.openSessionCount == 0)
      let view = try await c.json(
        .get, "/v1/sessions/\(ids[1])", token: t.ann, as: LiveClient.Session.self)
      #expect(view.lastSeq == 19)
      #expect(restarted.server.hub.openSessionCount == 1)
    }
  }

  @Test(
    "one stream connection per session: a new one takes over and the old one is told and closed")
  func oneStreamPerSession() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann).id
      let first = Heard()
      let close = try await c.webSocket("/v1/sessions/\(session)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.next()
        try await outbound.writeTextMessage(frames.json(0))
        let second = Heard()
        let taker = Task {
          try await Self.stream(c, session: session, token: t.ann, heard: second) { send in
            try await send(frames.json(1))
            _ = try await Self.eventually { second.scored == 1 }
          }
        }
        while let text = try await messages.next() { first.add(text) }
        _ = try await taker.value
        #expect(second.scored == 1)
      }
      #expect(first.notices.contains(.replaced))
      #expect(close?.closeCode == .unknown(4409))
    }
  }

  // MARK: Devices

  @Test(
    "devices pair by a one-time code: unpaired frames reach no session and name none; codes expire and cannot be guessed"
  )
  func devicePairing() async throws {
    // Long enough that a code is still valid when the loaded test machine gets to it (with 2 s,
    // the three paired frames were once never stored while a device flood ran beside it).
    let t = try await TestServer(axis: true) { $0.limits.pairingCodeLifetime = .seconds(6) }
    defer { t.removeFolder() }
    #expect(ServerConfiguration(dataFolder: t.folder).deviceHost == "127.0.0.1")
    try await t.run { c in
      for _ in 0..<250 where t.server.axisPort == nil {
        try await Task.sleep(for: .milliseconds(20))
      }
      let port = try #require(t.server.axisPort)
      #expect(t.server.axis?.boundAddress.withLock { $0 } == "127.0.0.1")
      let session = try await c.createSession(
        token: t.ann, extra: #","skeleton":"perception-neuron""#)
      let values = [Float](repeating: 0, count: 180)
      func line(_ name: String) -> [UInt8] {
        AxisNeuronFrameWriter.line(index: 0, name: name, values: values)
      }
      // Naming the session's id, as the old server allowed: nothing reaches it.
      try await Self.sendTCP(port: port, line(session.id) + line("Avatar00"))
      try await Task.sleep(for: .milliseconds(200))
      #expect(try await t.server.store.frameCount(session: session.id) == 0)
      // Only someone who may read the session gets a code.
      #expect(
        try await c.request(.post, "/v1/sessions/\(session.id)/pairing", token: t.bob).status
          == .forbidden)
      #expect(
        try await c.request(.post, "/v1/sessions/\(session.id)/pairing", token: nil).status
          == .unauthorized)
      let code = try await c.json(
        .post, "/v1/sessions/\(session.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      #expect(code.count == 8)
      try await Self.sendTCP(port: port, line(code) + line(code) + line(code))
      #expect(
        try await Self.eventually { try await t.server.store.frameCount(session: session.id) == 3 })
      // A code pairs once.
      try await Self.sendTCP(port: port, line(code))
      try await Task.sleep(for: .milliseconds(200))
      #expect(try await t.server.store.frameCount(session: session.id) == 3)
      // A code expires.
      let late = try await c.json(
        .post, "/v1/sessions/\(session.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      try await Task.sleep(for: .milliseconds(6300))
      try await Self.sendTCP(port: port, line(late))
      try await Task.sleep(for: .milliseconds(200))
      #expect(try await t.server.store.frameCount(session: session.id) == 3)
      // Ten wrong guesses, and even the right code is ignored for a while.
      let right = try await c.json(
        .post, "/v1/sessions/\(session.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      var guesses: [UInt8] = []
      for k in 0..<10 { guesses += line("WRONG\(k)XX") }
      try await Self.sendTCP(port: port, guesses + line(right))
      try await Task.sleep(for: .milliseconds(200))
      #expect(try await t.server.store.frameCount(session: session.id) == 3)
      let metrics = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
      #expect(!metrics.contains(session.id))
    }
  }

  // MARK: Exercises

  @Test(
    "an exercise belongs to the therapist who made it; the bundled library is read-only but to a clinic admin"
  )
  func exerciseOwnership() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let admin = try await Tokens.create(
      role: .admin, name: "clinic", therapist: nil, in: t.server.store)
    let reference = try String(
      contentsOf: ServerData.exercises.appendingPathComponent("\(Self.exercise).bvh"),
      encoding: .utf8)
    @Sendable func upload(_ id: String, _ name: String) throws -> String {
      try AccessTests.json(["definition": ["id": id, "name": name], "reference": reference])
    }
    try await t.run { c in
      #expect(
        try await c.request(
          .post, "/v1/exercises", token: t.lee, json: try upload("lee-raise", "Raise")
        ).status == .created)
      // Another therapist can neither change nor delete it, nor see it.
      #expect(
        try await c.request(
          .put, "/v1/exercises/lee-raise", token: t.kim, json: try upload("lee-raise", "Mine")
        ).status == .notFound)
      #expect(
        try await c.request(.delete, "/v1/exercises/lee-raise", token: t.kim).status == .notFound)
      #expect(
        try await c.request(.get, "/v1/exercises/lee-raise", token: t.kim).status == .notFound)
      #expect(
        try await c.request(.get, "/v1/exercises/lee-raise", token: t.bob).status == .notFound)
      #expect(
        try await c.request(.post, "/v1/sessions", token: t.bob, json: #"{"exercise":"lee-raise"}"#)
          .status == .notFound)
      // Lee's patient sees it and trains with it.
      let anns = try await c.json(.get, "/v1/exercises", token: t.ann, as: [ExerciseSummary].self)
      #expect(anns.contains { $0.id == "lee-raise" && $0.owner == "lee" })
      let kims = try await c.json(.get, "/v1/exercises", token: t.kim, as: [ExerciseSummary].self)
      #expect(!kims.contains { $0.id == "lee-raise" })
      #expect(
        try await c.request(.post, "/v1/sessions", token: t.ann, json: #"{"exercise":"lee-raise"}"#)
          .status == .created)
      // The bundled library: therapists may not change it; a clinic admin may.
      let bundled = try await c.request(
        .put, "/v1/exercises/\(Self.exercise)", token: t.lee,
        json: try upload(Self.exercise, "Changed"))
      #expect(bundled.status == .forbidden)
      #expect(String(buffer: bundled.body).contains("bundled"))
      #expect(
        try await c.request(.delete, "/v1/exercises/\(Self.exercise)", token: t.kim).status
          == .forbidden)
      #expect(
        try await c.request(
          .put, "/v1/exercises/\(Self.exercise)", token: admin,
          json: try upload(Self.exercise, "Changed")
        ).status == .ok)
      #expect(try await t.server.store.exerciseVersions(id: Self.exercise) == [1, 2])
      #expect(try await t.server.store.exerciseVersions(id: "lee-raise") == [1])
    }
  }

  // MARK: The data on disk

  @Test("the data folder is 0700 and the database files 0600, whatever the umask")
  func privateFiles() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-umask-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let previous = umask(0)
    let store: SQLiteStore
    do {
      store = try SQLiteStore(folder: folder)
      try await store.addToken(
        hash: "h", record: TokenRecord(role: .therapist, name: "lee", therapist: nil))
    } catch {
      umask(previous)
      throw error
    }
    umask(previous)
    func mode(_ path: String) throws -> Int {
      try #require(
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }
    #expect(try mode(folder.path) == 0o700)
    for suffix in ["", "-wal", "-shm"] {
      #expect(try mode(store.file.path + suffix) == 0o600, "ontrack.sqlite\(suffix)")
    }
  }

  @Test("a damaged database is refused at start; a clean shutdown checkpoints; a backup restores")
  func integrityCheckpointBackup() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    let session = try await t.run { c in
      let id = try await c.createSession(token: t.ann).id
      let heard = Heard()
      _ = try await Self.stream(c, session: id, token: t.ann, heard: heard) { send in
        for seq in 0..<50 { try await send(frames.json(seq)) }
        _ = try await Self.eventually { heard.maxAck == 49 }
      }
      return id
    }
    // The application shut down cleanly: the write-ahead log was checkpointed into the file.
    let wal = try t.sqlite.file.path + "-wal"
    let walSize = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
    #expect(walSize == 0)
    let backup = t.folder.appendingPathComponent("backup.sqlite")
    try await t.server.store.backup(to: backup)
    await #expect(throws: StoreError.self) { try await t.server.store.backup(to: backup) }
    let restored = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-restore-\(UUID())")
    defer { try? FileManager.default.removeItem(at: restored) }
    try FileManager.default.createDirectory(at: restored, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      at: backup, to: restored.appendingPathComponent(SQLiteStore.fileName))
    let copy = try SQLiteStore(folder: restored)
    #expect(try await copy.frames(session: session, from: 0).map(\.seq) == Array(0..<50))
    #expect(try await copy.token(hash: Tokens.hash(t.ann))?.name == "ann")

    // Damage the copy in the middle of its pages: refused at start, with the reason.
    let file = restored.appendingPathComponent(SQLiteStore.fileName)
    var bytes = try Data(contentsOf: file)
    let pageSize = 4096
    for k in (2 * pageSize)..<min(bytes.count, 6 * pageSize) { bytes[k] = 0x5A }
    try bytes.write(to: file)
    try? FileManager.default.removeItem(atPath: file.path + "-wal")
    try? FileManager.default.removeItem(atPath: file.path + "-shm")
    #expect {
      _ = try SQLiteStore(folder: restored)
    } throws: { error in
      guard case StoreError.damaged(let detail) = error else { return false }
      return detail.contains("ontrack.sqlite")
    }
  }

  // MARK: Who did what

  @Test(
    "the audit log records who read or changed what; failed authentications are logged and counted")
  func auditLog() async throws {
    let lines = AuditCapture()
    let t = try await TestServer {
      $0.auditLogger = Logger(label: "ontrack.audit") { _ in lines }
    }
    defer { t.removeFolder() }
    try await t.run { c in
      let session = try await c.createSession(token: t.ann).id
      #expect(
        try await c.request(.get, "/v1/sessions/\(session)/report", token: t.lee).status == .ok)
      #expect(
        try await c.request(.get, "/v1/sessions", token: "otk_forged").status == .unauthorized)
      #expect(
        try await c.request(.get, "/v1/sessions", token: "otk_forged2").status == .unauthorized)
      let metrics = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
      #expect(metrics.contains(#"ontrack_auth_failures_total{reason="invalid"} 2"#))
      let leeID = Tokens.id(ofHash: Tokens.hash(t.lee))
      let report = lines.entries.first { $0["action"] == "report.read" }
      #expect(report?["token"] == leeID)
      #expect(report?["role"] == "therapist")
      #expect(report?["patient"] == "ann")
      #expect(report?["session"] == session)
      #expect(lines.entries.contains { $0["action"] == "session.create" && $0["patient"] == "ann" })
      #expect(lines.entries.count { $0["action"] == "auth.failed" } == 2)
      #expect(!lines.entries.contains { $0.values.contains { $0.contains("otk_") } })
    }
  }

  @Test(
    "a token in the URL is taken only on WebSocket upgrades; an expired token is refused with the reason"
  )
  func tokenPlacementAndExpiry() async throws {
    let t = try await TestServer(tokenRecheckInterval: .milliseconds(100))
    defer { t.removeFolder() }
    try await t.run { c in
      let query = try await c.request(.get, "/v1/sessions?token=\(t.ann)", token: nil)
      #expect(query.status == .badRequest)
      #expect(String(buffer: query.body).contains("WebSocket"))
      // A token past its expiry is refused whatever the timing.
      let stale = Tokens.generate()
      try await t.server.store.addToken(
        hash: Tokens.hash(stale),
        record: TokenRecord(
          role: .patient, name: "ann", therapist: "lee",
          expires: Date().timeIntervalSince1970 - 1))
      let refused = try await c.request(.get, "/v1/sessions", token: stale)
      #expect(refused.status == .unauthorized)
      #expect(String(buffer: refused.body).contains("expired"))
      // A token that works, then expires while the server holds it in its cache.
      let created = Date()
      let brief = try await Tokens.create(
        role: .patient, name: "cat", therapist: "lee", ttl: 3, in: t.server.store)
      let first = try await c.request(.get, "/v1/sessions", token: brief).status
      if Date().timeIntervalSince(created) < 2.5 { #expect(first == .ok) }
      try await Task.sleep(for: .seconds(max(0, 3.3 - Date().timeIntervalSince(created))))
      let expired = try await c.request(.get, "/v1/sessions", token: brief)
      #expect(expired.status == .unauthorized)
      #expect(String(buffer: expired.body).contains("expired"))
      // Issued through the API with a ttl, listed with its expiry.
      let issued = try await c.json(
        .post, "/v1/tokens", token: t.lee, body: #"{"name":"dan","ttl":3600}"#,
        as: TokenResponse.self)
      #expect(abs((issued.expires ?? 0) - Date().timeIntervalSince1970 - 3600) < 60)
      #expect(
        try await c.request(.post, "/v1/tokens", token: t.lee, json: #"{"name":"eve","ttl":-1}"#)
          .status == .badRequest)
    }
  }

  // MARK: Connections

  @Test(
    "slow, oversized and surplus connections are cut off: 408, 414, 431, a connection cap, close 1009"
  )
  func connectionLimits() async throws {
    let t = try await TestServer {
      $0.limits.connections.headerTimeout = .seconds(3)
      $0.limits.connections.maximumConnections = 16
    }
    defer { t.removeFolder() }
    try await t.run { c in
      let port = c.port
      // The test client's own keep-alive connection is cut off too once it idles past the
      // three-second deadline, which a loaded machine can reach before its first request: every
      // HTTP request here goes on a connection of its own.
      let body = #"{"exercise":"uiprmd-m07-shoulder-abduction"}"#
      // (Setup, not under test: on a loaded CI machine the server's first answer once took
      // past the three-second deadline and the connection closed unanswered — asked again.)
      var created = ""
      for _ in 0..<3 where created.isEmpty {
        created = try await Self.exchange(
          port: port,
          Array(
            ("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(t.ann)\r\n"
              + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
              + "Connection: close\r\n\r\n\(body)").utf8))
      }
      #expect(created.hasPrefix("HTTP/1.1 201") || created.hasPrefix("HTTP/1.1 200"), "\(created)")
      let createdBody = try #require(created.range(of: "\r\n\r\n")).upperBound
      let session = try JSONDecoder().decode(
        LiveClient.Session.self, from: Data(created[createdBody...].utf8)
      ).id
      // A request head that never ends: 408, then the connection closes.
      let slow = try await Self.exchange(
        port: port, Array("GET /health HTTP/1.1\r\nHost: x\r\n".utf8))
      #expect(slow.hasPrefix("HTTP/1.1 408"))
      // A connection that says nothing is closed without an answer.
      #expect(try await Self.exchange(port: port, []).isEmpty)
      let longLine = try await Self.exchange(
        port: port,
        Array("GET /\(String(repeating: "a", count: 20_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
      #expect(longLine.hasPrefix("HTTP/1.1 414"))
      let hugeLine = try await Self.exchange(
        port: port,
        Array("GET /\(String(repeating: "a", count: 200_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
      #expect(hugeLine.hasPrefix("HTTP/1.1 414"))
      let bigHeader = try await Self.exchange(
        port: port,
        Array(
          "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 40_000))\r\n\r\n"
            .utf8))
      #expect(bigHeader.hasPrefix("HTTP/1.1 431"))
      let hugeHeader = try await Self.exchange(
        port: port,
        Array(
          "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 200_000))\r\n\r\n"
            .utf8))
      #expect(hugeHeader.hasPrefix("HTTP/1.1 431"))
      // Ordinary requests still work on the same server.
      #expect(
        try await Self.exchange(
          port: port, Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        ).hasPrefix("HTTP/1.1 200"))

      // More connections than the cap: the surplus is closed at once.
      let open = try await withThrowingTaskGroup(of: Bool.self) { group in
        for _ in 0..<24 {
          group.addTask { try await Self.staysOpen(port: port, for: .milliseconds(1200)) }
        }
        var open = 0
        for try await stayed in group where stayed { open += 1 }
        return open
      }
      #expect(open <= 16)
      #expect(open >= 12)

      // The server notices those connections closing.
      #expect(try await Self.eventually(.seconds(5)) { t.server.connections.current <= 1 })
      // A WebSocket message over 1 MiB closes the connection with 1009. (On a loaded machine
      // the server's close can overtake the client's read of the close frame, which the
      // client library reports as an I/O error: then the attempt is repeated.)
      var codes: [String] = []
      var tooLarge = false
      for _ in 0..<3 {
        do {
          let close = try await c.webSocket("/v1/sessions/\(session)/stream", token: t.ann) {
            messages, outbound in
            _ = try await messages.next()
            try? await outbound.writeTextMessage(String(repeating: "x", count: 1_500_000))
            while (try? await messages.next()) != nil {}
          }
          codes.append("\(String(describing: close?.closeCode))")
          if close?.closeCode == .messageTooLarge {
            tooLarge = true
            break
          }
        } catch {
          codes.append("\(error)")
        }
      }
      #expect(tooLarge, "\(codes)")
    }
  }

  @Test(
    "one client address cannot take every connection: past its cap its connections are closed, another address is still served"
  )
  func connectionsPerAddress() async throws {
    let lines = AuditCapture()
    let t = try await TestServer {
      $0.limits.connections.maximumConnectionsPerAddress = 8
      $0.limits.connections.maximumConnections = 64
      $0.logger = Logger(label: "ontrack.server") { _ in lines }
    }
    defer { t.removeFolder() }
    try await t.run { c in
      let port = c.port
      // The test client's own connection counts too: make sure it is open, and count it.
      _ = try await c.request(.get, "/health", token: nil)
      let already = t.server.connections.current(from: "127.0.0.1")
      // 20 connections from 127.0.0.1 (Linux routes all of 127/8 to loopback), and meanwhile
      // a request from 127.0.0.2.
      let (open, other) = try await withThrowingTaskGroup(of: Bool.self) { group in
        for _ in 0..<20 {
          group.addTask { try await Self.staysOpen(port: port, for: .milliseconds(1500)) }
        }
        try await Task.sleep(for: .milliseconds(500))
        let other = try await Self.exchange(
          port: port, Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
          from: "127.0.0.2")
        var open = 0
        for try await stayed in group where stayed { open += 1 }
        return (open, other)
      }
      #expect(open == 8 - already, "\(open) of 20 stayed open, \(already) open before")
      #expect(other.hasPrefix("HTTP/1.1 200"), "\(other)")
      #expect(
        try await Self.eventually(.seconds(5)) {
          t.server.connections.current(from: "127.0.0.1") <= 1
        })
      // Once they closed, the address is served again.
      #expect(
        try await Self.exchange(
          port: port, Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        ).hasPrefix("HTTP/1.1 200"))
    }
    // Twelve refusals within a second or two: one or two log lines, not twelve.
    let refused = lines.entries.filter { $0["message"]?.contains("connection refused") == true }
    #expect(refused.count >= 1 && refused.count <= 3, "\(refused)")
  }

  @Test("connections are counted per IPv4 address and per IPv6 /64 (one host's whole network)")
  func clientAddresses() throws {
    func client(_ ip: String) throws -> String {
      ConnectionCounter.client(of: try SocketAddress(ipAddress: ip, port: 443))
    }
    #expect(try client("203.0.113.7") == "203.0.113.7")
    #expect(try client("::ffff:203.0.113.7") == "203.0.113.7")
    #expect(try client("2001:db8:1:2:aaaa::1") == client("2001:db8:1:2:bbbb:cccc:dddd:2"))
    #expect(try client("2001:db8:1:2::1") == "2001:db8:1:2::/64")
    #expect(try client("2001:db8:1:3::1") != client("2001:db8:1:2::1"))
    #expect(ConnectionCounter.client(of: nil) == "")
  }

  /// What a raw connection heard, whether the server closed it, and when (from connecting).
  struct RawExchange: Sendable {
    var answer: String
    var closed: Bool
    var seconds: Double
  }

  /// Connects, writes `head`, then each of `trickle` every `every`, and reads until the server
  /// closes or `limit` passes.
  static func rawExchange(
    port: Int, head: String, trickle: [String] = [], every: Duration = .milliseconds(500),
    limit: Duration = .seconds(10)
  ) async throws -> RawExchange {
    try await rawExchange(
      port: port, head: head, trickleBytes: trickle.map { Array($0.utf8) }, every: every,
      limit: limit)
  }

  /// `rawExchange` with raw bytes to trickle.
  static func rawExchange(
    port: Int, head: String, trickleBytes trickle: [[UInt8]], every: Duration = .milliseconds(500),
    limit: Duration = .seconds(10), until: String? = nil
  ) async throws -> RawExchange {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    let clock = ContinuousClock()
    let start = clock.now
    final class Heard: Sendable {
      let state = Mutex(RawExchange(answer: "", closed: false, seconds: 0))
    }
    let heard = Heard()
    try? await channel.executeThenClose { inbound, outbound in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          do {
            for try await chunk in inbound {
              let done = heard.state.withLock {
                $0.answer += String(buffer: chunk)
                return until.map($0.answer.contains) ?? false
              }
              // What was waited for has come: the rest of the limit need not pass.
              if done { return }
            }
          } catch {}
          // Ended by the server, not by the time limit.
          if !Task.isCancelled { heard.state.withLock { $0.closed = true } }
        }
        group.addTask {
          try? await outbound.write(ByteBuffer(string: head))
          for piece in trickle {
            try await Task.sleep(for: every)
            try? await outbound.write(ByteBuffer(bytes: piece))
          }
          try await Task.sleep(for: limit)
        }
        _ = try await group.next()
        group.cancelAll()
      }
    }
    return heard.state.withLock {
      var result = $0
      let elapsed = clock.now - start
      result.seconds =
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
      return result
    }
  }

  @Test(
    "a request body cannot hold a connection: 413 at once, 408 when stalled or trickled, a close after an answer to an unread body"
  )
  func requestBodiesAreBounded() async throws {
    let t = try await TestServer {
      // (2.5 s against bytes every 0.3 s: on a loaded test machine a trickle was once held up
      // past an idle timeout of 1 s, and answered 408 where a token was missing.)
      $0.limits.connections.bodyIdleTimeout = .milliseconds(2500)
      // (8 s: on a loaded test machine, with every suite starting at once, a 401 to a body
      // still arriving took over 3 s, once over 5 s, to be written, and the body deadline
      // answered first.)
      $0.limits.connections.bodyTimeout = .seconds(8)
      $0.limits.connections.lingerTimeout = .milliseconds(500)
    }
    defer { t.removeFolder() }
    try await t.run { c in
      let port = c.port
      let post = "POST /v1/exercises HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      // The code paths below are first taken here, not while a deadline runs.
      #expect(
        try await c.request(.post, "/v1/exercises", token: nil, json: "{}").status == .unauthorized)
      // No token, a large body declared and sent slowly: 401, then the connection closes once
      // the linger time has passed without the body's end (before, the server read the rest
      // for ever).
      let unread = try await Self.rawExchange(
        port: port, head: post + "Content-Length: 100000\r\n\r\n{\"definition\":",
        trickle: Array(repeating: "          ", count: 12), every: .milliseconds(300))
      #expect(unread.answer.hasPrefix("HTTP/1.1 401"), "\(unread.answer)")
      #expect(unread.closed && unread.seconds < 9, "\(unread)")
      // A never-ending chunked body without a token: the same.
      let chunked = try await Self.rawExchange(
        port: port, head: post + "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"definition\":  \r\n",
        trickle: Array(repeating: "5\r\n     \r\n", count: 12), every: .milliseconds(300))
      #expect(chunked.answer.hasPrefix("HTTP/1.1 401"), "\(chunked.answer)")
      #expect(chunked.closed && chunked.seconds < 9, "\(chunked)")
      // A declared body over 16 MiB: 413 before any of it is read.
      let huge = try await Self.rawExchange(
        port: port,
        head: post + "Authorization: Bearer \(t.lee)\r\nContent-Length: 1000000000\r\n\r\n{")
      #expect(huge.answer.hasPrefix("HTTP/1.1 413"), "\(huge.answer)")
      #expect(huge.answer.contains("larger than 16777216 bytes"), "\(huge.answer)")
      #expect(huge.closed && huge.seconds < 6, "\(huge)")
      // With a token: a body that stalls gets 408 after the idle timeout...
      let stalled = try await Self.rawExchange(
        port: port, head: post + "Authorization: Bearer \(t.lee)\r\nContent-Length: 500\r\n\r\n{")
      #expect(stalled.answer.hasPrefix("HTTP/1.1 408"), "\(stalled.answer)")
      #expect(stalled.closed && stalled.seconds > 2.3 && stalled.seconds < 7.5, "\(stalled)")
      // ... and one that trickles a byte every 0.3 s, after the whole-body deadline.
      let trickled = try await Self.rawExchange(
        port: port, head: post + "Authorization: Bearer \(t.lee)\r\nContent-Length: 500\r\n\r\n{",
        trickle: Array(repeating: " ", count: 40), every: .milliseconds(300), limit: .seconds(14))
      #expect(trickled.answer.hasPrefix("HTTP/1.1 408"), "\(trickled.answer)")
      #expect(trickled.closed && trickled.seconds > 7.8 && trickled.seconds < 12, "\(trickled)")
      // Whole requests keep the connection alive: two on one connection, both answered, and
      // it stays open; so does a request answered before its body arrived, if the body ends
      // within the linger time.
      let body = #"{"exercise":"\#(Self.exercise)"}"#
      let create =
        "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(t.ann)\r\n"
        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
      let kept = try await Self.rawExchange(
        port: port, head: create, trickle: ["GET /health HTTP/1.1\r\nHost: x\r\n\r\n"],
        limit: .seconds(5))
      #expect(kept.answer.hasPrefix("HTTP/1.1 201"), "\(kept.answer)")
      #expect(kept.answer.components(separatedBy: "HTTP/1.1 200").count == 2, "\(kept.answer)")
      #expect(!kept.answer.lowercased().contains("connection: close"), "\(kept.answer)")
      #expect(!kept.closed, "\(kept)")
      let early = try await Self.rawExchange(
        port: port, head: post + "Content-Length: 20\r\n\r\n{\"definition\":",
        trickle: ["     }", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"], every: .milliseconds(200),
        limit: .seconds(5))
      #expect(early.answer.hasPrefix("HTTP/1.1 401"), "\(early.answer)")
      #expect(early.answer.contains("HTTP/1.1 200"), "\(early.answer)")
      #expect(!early.closed, "\(early)")
    }
  }

  @Test(
    "a client that sends and never reads is not read from once its answers back up, and is read again when it reads"
  )
  func clientThatNeverReads() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann).id
      // Without backpressure the server would hold every answer in memory for as long as the
      // client sends (measured before: 300 MB for 4 MB of 7-byte frames, each answered).
      let count = 40_000
      let received = { @Sendable () async throws -> Int in
        let text = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
        let line = text.split(separator: "\n").first {
          $0.hasPrefix("ontrack_frames_received_total ")
        }
        return Int(Double(line?.split(separator: " ").last ?? "") ?? -1)
      }
      let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.socketOption(.so_rcvbuf), value: 4096)
        .connect(host: "127.0.0.1", port: c.port) { channel in
          channel.eventLoop.makeCompletedFuture {
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
          }
        }
      try await channel.executeThenClose { inbound, outbound in
        var answers = inbound.makeAsyncIterator()
        try await outbound.write(
          ByteBuffer(
            string: "GET /v1/sessions/\(session)/stream HTTP/1.1\r\nHost: x\r\n"
              + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              + "Authorization: Bearer \(t.ann)\r\n\r\n"))
        var heard = ""
        while !heard.contains("\"type\":\"session\"") {
          heard += String(buffer: try #require(try await answers.next()))
        }
        #expect(heard.hasPrefix("HTTP/1.1 101"))
        // The reference's frames as masked text frames (mask 0: the payload as it is), all
        // written at once; the client reads nothing.
        var bytes = ByteBuffer()
        for seq in 0..<count {
          let payload = Array(frames.json(seq).utf8)
          bytes.writeBytes([
            0x81, 0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF),
          ])
          bytes.writeBytes([0, 0, 0, 0])
          bytes.writeBytes(payload)
        }
        try await outbound.write(bytes)
        // The server stops reading once the answers fill the socket: the count settles far
        // below what was sent (kernel buffers hold a few MB of answers).
        var settled = try await received()
        while true {
          try await Task.sleep(for: .seconds(1))
          let now = try await received()
          if now == settled { break }
          settled = now
        }
        #expect(settled > 0)
        #expect(settled < count / 2, "the server read \(settled) of \(count) frames")
        // Reading again, the server reads again: every answer it had to hold arrives, and
        // frames it had not read yet are read and answered.
        var answered = 0
        let pattern = "\"type\":\"frame\""
        var carry = ""
        while answered < settled + 2_000, let chunk = try await answers.next() {
          let text = carry + String(buffer: chunk)
          answered += text.ranges(of: pattern).count
          carry = String(text.suffix(pattern.count - 1))
        }
        #expect(answered >= settled + 2_000)
        #expect(try await received() >= answered)
      }
    }
  }

  @Test("refused WebSocket upgrades answer 401, 403, 404 and 409 with the reason")
  func refusedUpgrades() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      let session = try await c.createSession(token: t.ann).id
      let finished = try await c.createSession(token: t.ann).id
      _ = try await c.request(.post, "/v1/sessions/\(finished)/finish", token: t.ann)
      func upgrade(_ path: String, _ token: String?) async throws -> String {
        var head =
          "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        head += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        return try await Self.exchange(port: c.port, Array((head + "\r\n").utf8), until: "\r\n\r\n")
      }
      let none = try await upgrade("/v1/sessions/\(session)/stream", nil)
      #expect(none.hasPrefix("HTTP/1.1 401"))
      #expect(none.contains("bearer token"))
      #expect(
        try await upgrade("/v1/sessions/\(session)/stream", "otk_forged").hasPrefix("HTTP/1.1 401"))
      let other = try await upgrade("/v1/sessions/\(session)/watch", t.bob)
      #expect(other.hasPrefix("HTTP/1.1 403"))
      #expect(other.contains("another patient"))
      #expect(try await upgrade("/v1/sessions/nope/stream", t.ann).hasPrefix("HTTP/1.1 404"))
      #expect(try await upgrade("/v1/sessions/\(finished)/stream", t.ann).hasPrefix("HTTP/1.1 409"))
      #expect(try await upgrade("/v1/sessions/\(session)/stream", t.ann).hasPrefix("HTTP/1.1 101"))
    }
  }

  @Test(
    "a skeleton or reference BVH nested too deep or with too many joints is refused with the reason; a real rig is taken"
  )
  func boundedSkeletons() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    /// A chain of `depth` joints, or a root with `fan` children.
    @Sendable func bvh(depth: Int = 1, fan: Int = 0) -> String {
      var text =
        "HIERARCHY\nROOT J0\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
      for j in 1..<max(depth, 1) {
        text += "JOINT J\(j)\n{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n"
      }
      for k in 0..<fan {
        text += "JOINT F\(k)\n{\nOFFSET 1 0 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n}\n"
      }
      text += String(repeating: "}\n", count: max(depth, 1))
      let channels = 6 + 3 * (max(depth, 1) - 1) + 3 * fan
      return text + "MOTION\nFrames: 1\nFrame Time: 0.0333333\n"
        + Array(repeating: "0", count: channels).joined(separator: " ") + "\n"
    }
    let take = try ServerData.kinectTake(movement: 7, subject: 3, episodes: 1...1)
    let real = try ServerData.bvh(of: take.skeleton)
    try await t.run { c in
      for (text, reason) in [
        (bvh(depth: 65), "nested more than 64 deep"), (bvh(fan: 600), "more than 512 joints"),
      ] {
        let session = try await c.request(
          .post, "/v1/sessions", token: t.ann,
          json: try AccessTests.json(["exercise": Self.exercise, "skeletonBVH": text]))
        #expect(session.status == .badRequest)
        #expect(String(buffer: session.body).contains(reason), "\(String(buffer: session.body))")
        let exercise = try await c.request(
          .post, "/v1/exercises", token: t.lee,
          json: try AccessTests.json([
            "definition": ["id": "deep", "name": "Deep"], "reference": text,
          ]))
        #expect(exercise.status == .badRequest)
        #expect(String(buffer: exercise.body).contains(reason), "\(String(buffer: exercise.body))")
      }
      let taken = try await c.request(
        .post, "/v1/sessions", token: t.ann,
        json: try AccessTests.json(["exercise": Self.exercise, "skeletonBVH": real]))
      #expect(taken.status == .created, "\(String(buffer: taken.body))")
      let chain = try await c.request(
        .post, "/v1/sessions", token: t.ann,
        json: try AccessTests.json(["exercise": Self.exercise, "skeletonBVH": bvh(depth: 64)]))
      #expect(!String(buffer: chain.body).contains("nested"), "\(String(buffer: chain.body))")
    }
  }

  @Test(
    "JSON that repeats a name in an object (readers disagree on which counts) is refused: a frame as malformed, a request body with 400; the session goes on"
  )
  func repeatedNames() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      // Before: JSONDecoder took the first `patient`, the dashboard's JSON.parse the last.
      let ambiguous = try await c.request(
        .post, "/v1/sessions", token: t.lee,
        json: #"{"exercise":"\#(Self.exercise)","patient":"ann","patient":"bob"}"#)
      #expect(ambiguous.status == .badRequest)
      #expect(String(buffer: ambiguous.body).contains(#"the name \"patient\" occurs twice in $"#))
      let escaped = try await c.request(
        .post, "/v1/tokens", token: t.lee, json: #"{"name":"a","n\u0061me":"b"}"#)
      #expect(escaped.status == .badRequest)
      #expect(try await c.request(.get, "/v1/sessions", token: t.lee).status == .ok)

      let session = try await c.createSession(token: t.ann)
      let heard = Heard()
      _ = try await Self.stream(c, session: session.id, token: t.ann, heard: heard) { send in
        try await send(frames.json(0))
        // The same frame with its time given twice, and a seq given twice: each would be read
        // one way here and another by a reader that keeps the last value.
        let zero = frames.json(1)
        try await send(String(zero.dropLast()) + #","t":99}"#)
        try await send(#"{"seq":2,"# + String(frames.json(1).dropFirst()))
        try await send(frames.json(1))
        _ = try await Self.eventually { heard.maxAck == 1 && heard.rejections.count == 2 }
      }
      #expect(heard.rejections.map(\.reason) == [.malformed, .malformed])
      #expect(heard.rejections.map(\.seq) == [1, nil])
      #expect(heard.rejections.allSatisfy { $0.message.contains("occurs twice") })
      #expect(heard.acks.contains(1))
      #expect(try await t.server.store.frameCount(session: session.id) == 2)
    }
  }

  @Test("names and descriptions are bounded; ids are cut short in messages")
  func boundedText() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let reference = try String(
      contentsOf: ServerData.exercises.appendingPathComponent("\(Self.exercise).bvh"),
      encoding: .utf8)
    try await t.run { c in
      let longName = String(repeating: "n", count: 200)
      #expect(
        try await c.request(.post, "/v1/tokens", token: t.lee, json: #"{"name":"\#(longName)"}"#)
          .status == .badRequest)
      let named = try AccessTests.json([
        "definition": ["id": "long", "name": String(repeating: "n", count: 500)],
        "reference": reference,
      ])
      #expect(
        try await c.request(.post, "/v1/exercises", token: t.lee, json: named).status == .badRequest
      )
      let described = try AccessTests.json([
        "definition": [
          "id": "long", "name": "Long", "description": String(repeating: "d", count: 10_000),
        ],
        "reference": reference,
      ])
      #expect(
        try await c.request(.post, "/v1/exercises", token: t.lee, json: described).status
          == .badRequest)
      let id = String(repeating: "x", count: 2000)
      let missing = try await c.request(.get, "/v1/sessions/\(id)", token: t.ann)
      #expect(missing.status == .notFound)
      #expect(String(buffer: missing.body).count < 200)
    }
  }

  @Test("HTTPS and WSS with a certificate; plain HTTP to that port gets nothing")
  func tls() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-tls-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let certificate = folder.appendingPathComponent("cert.pem")
    let key = folder.appendingPathComponent("key.pem")
    try await Self.run(
      "/usr/bin/openssl",
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key.path, "-out", certificate.path,
      ])
    let t = try await TestServer { $0.tls = (certificate, key) }
    defer { t.removeFolder() }
    try await withThrowingTaskGroup(of: Void.self) { group in
      let started = AsyncStream<Int>.makeStream()
      let app = try t.server.application { started.continuation.yield($0) }
      group.addTask { try await app.runService(gracefulShutdownSignals: []) }
      var iterator = started.stream.makeAsyncIterator()
      let bound = try #require(await iterator.next())
      let health = try await Self.run(
        "/usr/bin/curl",
        ["-s", "-m", "20", "--cacert", certificate.path, "https://127.0.0.1:\(bound)/health"])
      #expect(health.contains(#""status":"ok""#))
      let plain = try? await Self.run(
        "/usr/bin/curl", ["-s", "-m", "3", "http://127.0.0.1:\(bound)/health"])
      #expect(!(plain ?? "").contains("status"))
      // A session over WSS.
      let created = try await Self.run(
        "/usr/bin/curl",
        [
          "-s", "-m", "20", "--cacert", certificate.path, "-H", "Authorization: Bearer \(t.ann)",
          "-d", #"{"exercise":"\#(Self.exercise)"}"#, "https://127.0.0.1:\(bound)/v1/sessions",
        ])
      let session = try JSONDecoder().decode(SessionView.self, from: Data(created.utf8))
      var client = TLSConfiguration.makeClientConfiguration()
      client.trustRoots = .file(certificate.path)
      var configuration = WebSocketClientConfiguration()
      configuration.additionalHeaders[.authorization] = "Bearer \(t.ann)"
      let hello = Mutex<String?>(nil)
      var logger = Logger(label: "test")
      logger.logLevel = .critical
      _ = try await WebSocketClient.connect(
        url: "wss://localhost:\(bound)/v1/sessions/\(session.id)/stream",
        configuration: configuration, tlsConfiguration: client, logger: logger
      ) { inbound, outbound, _ in
        for try await message in inbound.messages(maxSize: 1 << 20) {
          if case .text(let text) = message { hello.withLock { $0 = text } }
          break
        }
        try await outbound.close(.normalClosure, reason: nil)
      }
      #expect(hello.withLock { $0 }?.contains(#""type":"session""#) == true)
      group.cancelAll()
    }
  }

  @Test("the session list agrees with the report")
  func listAgreesWithReport() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann).id
      let heard = Heard()
      let count = frames.clip.frameCount * 3
      _ = try await Self.stream(c, session: session, token: t.ann, heard: heard) { send in
        for seq in 0..<count { try await send(frames.json(seq)) }
        _ = try await Self.eventually { heard.maxAck == count - 1 }
      }
      let result = try await c.json(
        .post, "/v1/sessions/\(session)/finish", token: t.ann, as: TakeResult.self)
      #expect(result.repetitions.count >= 2)
      for token in [t.ann, t.lee] {
        let listed = try await c.json(.get, "/v1/sessions", token: token, as: [SessionView].self)
        let row = try #require(listed.first { $0.id == session })
        #expect(row.repetitions == result.repetitions.count)
        #expect(abs((row.meanScore ?? 0) - (result.summary.meanScore ?? -1)) < 1e-6)
      }
    }
  }

  // MARK: Helpers

  @Test(
    "bytes that are not HTTP are answered 400 at once, and oversized requests 413/414/431, after the answers still owed; none is logged as a server error"
  )
  func malformedRequests() async throws {
    let lines = AuditCapture()
    let t = try await TestServer {
      $0.logger = Logger(label: "ontrack.server") { _ in lines }
      $0.limits.connections.lingerTimeout = .milliseconds(500)
    }
    defer { t.removeFolder() }
    try await t.run { c in
      let post = "POST /v1/exercises HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(t.lee)\r\n"
      let malformed = [
        "GARBAGE\r\n\r\n",
        "GET /health HTTP/9.x\r\nHost: x\r\n\r\n",
        "GET /health HTTP/1.1\r\nHo st: x\r\n\r\n",
        post + "Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
        post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        post + "Content-Length: -1\r\n\r\n",
        post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        String(decoding: (0..<256).map { UInt8($0) }, as: UTF8.self),
      ]
      for request in malformed {
        // Before: 408 after the 10 s head deadline (500 for the bad chunk size).
        let answer = try await Self.rawExchange(port: c.port, head: request, limit: .seconds(9.5))
        #expect(answer.answer.hasPrefix("HTTP/1.1 400"), "\(request.debugDescription): \(answer)")
        #expect(answer.answer.contains("not valid HTTP"), "\(answer.answer)")
        // At once: before the 10 s head deadline that answered these before (alone, in well
        // under a second; with the whole suite running on two cores, once 5.8 s).
        #expect(answer.closed && answer.seconds < 8, "\(request.debugDescription): \(answer)")
      }
      // A whole JSON body in a first chunk, then a bad chunk size: 400, and the request does
      // nothing (before the guard failed the body, the application took the first chunk for
      // the whole body and created the session while the client heard 400).
      let body = #"{"exercise":"\#(Self.exercise)"}"#
      let cut = try await Self.rawExchange(
        port: c.port,
        head: "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(t.ann)\r\n"
          + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          + String(body.utf8.count, radix: 16) + "\r\n\(body)\r\n",
        trickle: ["zz\r\n"], every: .milliseconds(300), limit: .seconds(8))
      #expect(cut.answer.hasPrefix("HTTP/1.1 400"), "\(cut)")
      // (On a connection of its own: the test client's idles past the head deadline here.)
      let listed = try await Self.exchange(
        port: c.port,
        Array(
          ("GET /v1/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(t.ann)\r\n"
            + "Connection: close\r\n\r\n").utf8))
      #expect(listed.hasPrefix("HTTP/1.1 200"), "\(listed)")
      #expect(!listed.contains(Self.exercise), "\(listed)")
      // Two good requests pipelined before a bad one: both answered, then the connection
      // closes.
      let pipelined = try await Self.rawExchange(
        port: c.port,
        head: String(repeating: "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", count: 2)
          + "GARBAGE\r\n\r\n", limit: .seconds(8))
      #expect(pipelined.answer.components(separatedBy: "HTTP/1.1 200").count == 3, "\(pipelined)")
      #expect(pipelined.closed && pipelined.seconds < 5, "\(pipelined)")
      // A request refused for its size behind ones still being answered: the answers owed come
      // whole and first, then the refusal, then the close (before, the refusal was written at
      // once and the answers owed were dropped).
      let get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
      for (refused, status) in [
        (
          "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 40_000))\r\n\r\n",
          431
        ),
        ("GET /\(String(repeating: "u", count: 9_000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("POST /v1/exercises HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{", 413),
      ] {
        let behind = try await Self.rawExchange(
          port: c.port, head: get + get + refused, limit: .seconds(8))
        let answers = behind.answer.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(
          answers.map { $0.prefix(3) } == ["200", "200", "\(status)"],
          "\(behind.answer.prefix(300))")
        // Each 200 whole: its body as long as its Content-Length says.
        for answer in answers.prefix(2) {
          let parts = answer.components(separatedBy: "\r\n\r\n")
          let length = parts[0].lowercased().components(separatedBy: "content-length: ").last
            .flatMap { Int($0.prefix { $0.isNumber }) }
          #expect(
            length != nil && parts.dropFirst().joined(separator: "\r\n\r\n").utf8.count == length)
        }
        #expect(
          behind.closed && behind.seconds < 6, "\(status): \(behind.closed) \(behind.seconds)")
      }
      // The server still answers.
      #expect(
        try await Self.exchange(
          port: c.port, Array("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        ).hasPrefix("HTTP/1.1 200"))
    }
    // A connection the server cut off is not a server error (before: HummingbirdWebSocket logged
    // "Error handling upgrade result" at error level for each).
    let errors = lines.entries.filter { $0["message"]?.contains("Error handling") == true }
    #expect(errors.isEmpty, "\(errors.prefix(3))")
  }

  @Test("a WebSocket client that does not mask its frames is closed with 1002 (RFC 6455 §5.1)")
  func unmaskedFrames() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      let session = try await c.createSession(token: t.ann, exercise: Self.exercise).id
      let ping = Array(#"{"type":"ping"}"#.utf8)
      for route in ["stream", "watch"] {
        for masked in [true, false] {
          let upgrade = Self.upgradeRequest("/v1/sessions/\(session)/\(route)", token: t.ann)
          var frame: [UInt8] = [0x81, UInt8(ping.count) | (masked ? 0x80 : 0)]
          if masked {
            let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
            frame += mask + ping.enumerated().map { $0.element ^ mask[$0.offset % 4] }
          } else {
            frame += ping
          }
          // Sent right behind the upgrade request (so it reaches the server with it, before
          // the upgrade completes), or a while after. (A masked frame's exchange runs its
          // whole limit: 2 s was once too short for the upgrade's answer under the whole
          // server suite's load.)
          for delay in [0, 300] {
            let answer = try await Self.rawExchange(
              port: c.port, head: upgrade, trickleBytes: [frame], every: .milliseconds(delay),
              limit: .seconds(masked ? 5 : 10))
            #expect(answer.answer.hasPrefix("HTTP/1.1 101"), "\(answer)")
            if masked {
              #expect(!answer.closed, "\(route): \(answer)")
            } else {
              // A close frame with 1002 (0x03EA), then the connection ends.
              #expect(answer.answer.contains("client frames must be masked"), "\(answer)")
              #expect(answer.closed, "\(route): \(answer)")
            }
          }
        }
      }
    }
  }

  @Test(
    "frames sent before the server's hello, with the upgrade request and right behind it, are all taken in order"
  )
  func framesBeforeHello() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann, exercise: Self.exercise).id
      let upgrade = Self.upgradeRequest("/v1/sessions/\(session)/stream", token: t.ann)
      // A client that does not wait for the hello: batches of frames, the first right behind
      // the upgrade request, the rest a millisecond apart (before, frames that came before the
      // server's fast path was in place were taken after later ones, and refused as out of
      // order).
      let batches = stride(from: 0, to: 400, by: 50).map { first in
        (first..<first + 50).flatMap { Self.maskedTextFrame(frames.json($0)) }
      }
      // (Up to 20 s for the last answer: 3 s was tight under the whole server suite's load.)
      let answer = try await Self.rawExchange(
        port: c.port, head: upgrade, trickleBytes: batches, every: .milliseconds(1),
        limit: .seconds(20), until: #"{"type":"frame","seq":399,"#)
      #expect(answer.answer.hasPrefix("HTTP/1.1 101"), "\(answer.answer.prefix(200))")
      #expect(!answer.answer.contains("out_of_order"))
      // The hello comes first, then the answers, in order.
      let hello = try #require(answer.answer.range(of: #""type":"session""#))
      let answers = answer.answer.components(separatedBy: #"{"type":"frame","seq":"#)
      let beforeHello = answer.answer.distance(
        from: answer.answer.startIndex, to: hello.lowerBound)
      #expect(answers[0].count > beforeHello, "the hello after the first answer")
      let scored = answers.dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
      #expect(scored == Array(0..<400), "\(scored.count) frames answered")
      // Stored once committed (answers come before the commit; acknowledgements after it).
      #expect(
        try await Self.eventually {
          try await t.server.store.frames(session: session, from: 0).map(\.seq) == Array(0..<400)
        })
    }
  }

  /// A WebSocket upgrade request for `path` with a bearer token and a fresh key.
  static func upgradeRequest(_ path: String, token: String) -> String {
    let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    return "GET \(path) HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
      + "Authorization: Bearer \(token)\r\n\r\n"
  }

  /// A client's text frame: masked (RFC 6455 §5.3), with a 7- or 16-bit length.
  static func maskedTextFrame(_ text: String) -> [UInt8] {
    maskedFrame(opcode: 0x1, fin: true, Array(text.utf8))
  }

  /// A client's frame (opcode 0x0 continuation, 0x1 text, 0x2 binary, 0x9 ping), masked.
  static func maskedFrame(opcode: UInt8, fin: Bool, _ payload: [UInt8]) -> [UInt8] {
    let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
    var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    if payload.count < 126 {
      frame.append(0x80 | UInt8(payload.count))
    } else {
      frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    }
    return frame + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
  }

  @Test("a session's viewers are capped: past the cap the upgrade is answered 429 with the reason")
  func watcherCap() async throws {
    let t = try await TestServer { $0.limits.maximumWatchersPerSession = 2 }
    defer { t.removeFolder() }
    try await t.run { c in
      let session = try await c.createSession(token: t.ann, exercise: Self.exercise).id
      let watch = "/v1/sessions/\(session)/watch"
      let port = c.port
      async let first = Self.rawExchange(
        port: port, head: Self.upgradeRequest(watch, token: t.lee), limit: .seconds(10))
      async let second = Self.rawExchange(
        port: port, head: Self.upgradeRequest(watch, token: t.lee), limit: .seconds(10))
      #expect(
        try await Self.eventually(.seconds(8)) {
          t.server.hub.loadedSession(session)?.watcherCount == 2
        })
      // (Limits generous for a loaded machine: the first two stay open until the third is
      // refused; the server ends neither by itself.)
      let third = try await Self.rawExchange(
        port: port, head: Self.upgradeRequest(watch, token: t.lee), limit: .seconds(5))
      #expect(third.answer.hasPrefix("HTTP/1.1 429"), "\(third.answer)")
      #expect(third.answer.contains("2 viewers already"), "\(third.answer)")
      for viewer in try await [first, second] {
        #expect(viewer.answer.hasPrefix("HTTP/1.1 101"), "\(viewer.answer.prefix(100))")
      }
      // The first two gone, a viewer is taken again.
      #expect(
        try await Self.eventually(.seconds(8)) {
          t.server.hub.loadedSession(session)?.watcherCount == 0
        })
      let again = try await Self.rawExchange(
        port: port, head: Self.upgradeRequest(watch, token: t.lee), limit: .seconds(5))
      #expect(again.answer.hasPrefix("HTTP/1.1 101"), "\(again.answer.prefix(100))")
    }
  }

  @Test("messages sent in fragments, a ping between the pieces, are taken in order with the rest")
  func fragmentedMessages() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let frames = try Frames()
    try await t.run { c in
      let session = try await c.createSession(token: t.ann, exercise: Self.exercise).id
      let upgrade = Self.upgradeRequest("/v1/sessions/\(session)/stream", token: t.ann)
      // Every third frame in three pieces (text, continuation, last continuation), a ping
      // between the first two (RFC 6455 §5.4 allows control frames there).
      func message(_ seq: Int) -> [UInt8] {
        let text = Array(frames.json(seq).utf8)
        guard seq % 3 == 0 else { return Self.maskedFrame(opcode: 0x1, fin: true, text) }
        let a = text.count / 3
        let b = 2 * text.count / 3
        return Self.maskedFrame(opcode: 0x1, fin: false, Array(text[..<a]))
          + Self.maskedFrame(opcode: 0x9, fin: true, Array("p".utf8))
          + Self.maskedFrame(opcode: 0x0, fin: false, Array(text[a..<b]))
          + Self.maskedFrame(opcode: 0x0, fin: true, Array(text[b...]))
      }
      let batches = stride(from: 0, to: 300, by: 30).map { first in
        (first..<first + 30).flatMap(message)
      }
      let answer = try await Self.rawExchange(
        port: c.port, head: upgrade, trickleBytes: batches, every: .milliseconds(20),
        limit: .seconds(20), until: #"{"type":"frame","seq":299,"#)
      #expect(answer.answer.hasPrefix("HTTP/1.1 101"), "\(answer.answer.prefix(200))")
      #expect(!answer.answer.contains("rejected"), "\(answer.answer.prefix(2000))")
      let scored = answer.answer.components(separatedBy: #"{"type":"frame","seq":"#)
        .dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
      #expect(scored == Array(0..<300), "\(scored.count) frames answered")
      #expect(
        try await Self.eventually {
          try await t.server.store.frames(session: session, from: 0).map(\.seq) == Array(0..<300)
        })
      // Pieces that add up to more than 1 MiB: closed with 1009, as one frame that size is.
      // (The exchange ends when the server closes; the limit is only how long to wait for
      // that. 5 s was once not enough in a debug build with the whole server suite running on
      // two cores: the hello came, the close did not yet.)
      let piece = Array(repeating: UInt8(ascii: " "), count: 60_000)
      let tooLong = try await Self.rawExchange(
        port: c.port,
        head: Self.upgradeRequest("/v1/sessions/\(session)/stream", token: t.ann),
        trickleBytes: [
          Self.maskedFrame(opcode: 0x1, fin: false, Array("{".utf8))
            + (0..<20).flatMap { _ in Self.maskedFrame(opcode: 0x0, fin: false, piece) }
        ], every: .milliseconds(10), limit: .seconds(20))
      #expect(tooLong.answer.contains("a message of more than 1048576 bytes"))
      #expect(tooLong.closed)
    }
  }

  /// Sends bytes to a TCP port and closes.
  static func sendTCP(port: Int, _ bytes: [UInt8]) async throws {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    try await channel.executeThenClose { _, outbound in
      try await outbound.write(ByteBuffer(bytes: bytes))
    }
  }

  /// Sends `bytes` over a new connection and returns what the server says until it closes the
  /// connection, or the answer holds `until` (or 5 s pass).
  static func exchange(
    port: Int, _ bytes: [UInt8], until: String? = nil, from source: String? = nil
  ) async throws -> String {
    var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
    let channel =
      try await bootstrap
      .connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    let answer = Mutex("")
    // Ten seconds: the slowest exchange here waits out a three-second deadline, and a loaded
    // machine running the whole suite once took past five (TimedOut).
    return try await withTimeout(.seconds(10)) {
      // The server may close while we still write, or before we close: what it said is kept.
      try? await channel.executeThenClose { inbound, outbound in
        if !bytes.isEmpty { try? await outbound.write(ByteBuffer(bytes: bytes)) }
        for try await chunk in inbound {
          let text = answer.withLock {
            $0 += String(buffer: chunk)
            return $0
          }
          if let until, text.contains(until) { break }
        }
      }
      return answer.withLock { $0 }
    }
  }

  /// True if a new connection is still open after `duration`.
  static func staysOpen(port: Int, for duration: Duration) async throws -> Bool {
    do {
      return try await connectionStaysOpen(port: port, for: duration)
    } catch {
      return false
    }
  }

  private static func connectionStaysOpen(port: Int, for duration: Duration) async throws -> Bool {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connect(host: "127.0.0.1", port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    return try await channel.executeThenClose { inbound, _ in
      try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
          do { for try await _ in inbound {} } catch {}
          return false
        }
        group.addTask {
          try await Task.sleep(for: duration)
          return true
        }
        let first = try await group.next() ?? false
        group.cancelAll()
        return first
      }
    }
  }

  /// Runs a program; returns its standard output, or throws with its errors (`runProgram`).
  @discardableResult
  static func run(_ program: String, _ arguments: [String]) async throws -> String {
    let (status, text, problems) = try await runProgram(
      URL(fileURLWithPath: program), arguments)
    guard status == 0 else {
      throw ServerProcess.ServerClientError(message: "\(program) exited \(status): \(problems)")
    }
    return text
  }

}

/// A flag shared with other tasks.
final class Flag: Sendable {
  let value = Atomic<Bool>(false)
}

/// Keeps every line a logger writes, as its metadata.
final class AuditCapture: LogHandler, Sendable {
  private let lines = Mutex<[[String: String]]>([])

  var entries: [[String: String]] { lines.withLock { $0 } }

  var metadata: Logger.Metadata {
    get { [:] }
    set {}
  }
  var logLevel: Logger.Level {
    get { .trace }
    set {}
  }
  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { nil }
    set {}
  }

  func log(event: LogEvent) {
    var entry: [String: String] = ["message": "\(event.message)"]
    for (key, value) in event.metadata ?? [:] { entry[key] = "\(value)" }
    lines.withLock { $0.append(entry) }
  }
}
