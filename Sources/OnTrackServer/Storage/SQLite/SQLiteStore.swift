import Foundation
import GRDB
import OnTrackProtocol

/// The embedded store: one SQLite database (WAL mode) in the data folder, through GRDB.
///
/// Frames are written in group commits (`FrameWriter`); a frame is acknowledged to its client
/// only after the commit that holds it, so a server killed with SIGKILL restarts with every
/// acknowledged frame (WAL with `synchronous = NORMAL` survives a process crash, not a power
/// cut). The folder is made private (0700) and the database files are created 0600, whatever
/// the umask. Every call runs on GRDB's own queues (`async`), never on the caller's thread.
public final class SQLiteStore: ServerStore {
  let pool: DatabasePool
  public let file: URL
  /// How long a write waits for another connection's lock (`Options.busyTimeout`).
  let busyTimeout: TimeInterval

  public struct Options: Sendable {
    /// How long a write waits for a lock another connection holds before failing.
    public var busyTimeout: TimeInterval = 5
    /// SQL run on every new connection after OnTrack's own pragmas (tests use it to cap the
    /// database size with `PRAGMA max_page_count`, a real "disk full").
    public var connectionSQL: String?

    public init() {}
  }

  /// The database file's name in the data folder.
  public static let fileName = "ontrack.sqlite"

  /// Opens (creating if needed) the store in `folder`, migrates it, and checks its integrity.
  /// - Throws: `StoreError.damaged` if the database fails SQLite's `quick_check`,
  ///   `StoreError.newerSchema` if a newer OnTrack wrote it.
  public init(folder: URL, options: Options = Options()) throws {
    try Self.makePrivateFolder(folder)
    file = folder.appendingPathComponent(Self.fileName)
    busyTimeout = options.busyTimeout
    try Self.createPrivateFile(file)
    var configuration = Configuration()
    configuration.busyMode = .timeout(options.busyTimeout)
    let connectionSQL = options.connectionSQL
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
      if let connectionSQL { try db.execute(sql: connectionSQL) }
    }
    do {
      pool = try DatabasePool(path: file.path, configuration: configuration)
      let result = try pool.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
      guard result == "ok" else {
        throw StoreError.damaged("\(file.path): quick_check says \(result ?? "nothing")")
      }
      let migrator = Self.migrator
      if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
        throw StoreError.newerSchema(
          "\(file.path) has migrations this version does not know; use a newer ontrack")
      }
      try migrator.migrate(pool)
    } catch let error as StoreError {
      throw error
    } catch let error as DatabaseError {
      // Corrupt pages, a file that is not a database, or one SQLite cannot read at all.
      throw StoreError.damaged("\(file.path): \(error.message ?? "\(error)")")
    }
    for suffix in ["", "-wal", "-shm"] {
      chmod(file.path + suffix, 0o600)
    }
  }

  public var location: String { file.path }

  // MARK: Access in the domain's words

  /// `pool.read`, with SQLite's errors as `StoreError`s.
  private func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
    do { return try await pool.read(value) } catch let error as DatabaseError {
      throw storeError(error)
    }
  }

  /// `pool.write` (one transaction), with SQLite's errors as `StoreError`s.
  private func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
    do { return try await pool.write(updates) } catch let error as DatabaseError {
      throw storeError(error)
    }
  }

  /// `pool.writeWithoutTransaction`, with SQLite's errors as `StoreError`s.
  private func writeWithoutTransaction<T: Sendable>(
    _ updates: @Sendable (Database) throws -> T
  ) async throws -> T {
    do { return try await pool.writeWithoutTransaction(updates) } catch let error as DatabaseError {
      throw storeError(error)
    }
  }

  /// What SQLite said, in the domain's words: a lock another process held past the busy
  /// timeout, or a full disk, passes (`unavailable`: the HTTP edge answers 503 with
  /// `Retry-After`, the frame writer retries); anything else is `failed`, with SQLite's
  /// message.
  private func storeError(_ error: DatabaseError) -> StoreError {
    let said = error.message ?? "\(error.resultCode)"
    switch error.resultCode.primaryResultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED:
      return .unavailable(
        "the database is locked by another connection (waited \(busyTimeout) s): \(said)")
    case .SQLITE_FULL:
      return .unavailable("the database's disk is full: \(said)")
    default:
      return .failed("the database failed: \(said)")
    }
  }

  /// Creates `folder` (and its parents) and makes it 0700.
  static func makePrivateFolder(_ folder: URL) throws {
    try FileManager.default.createDirectory(
      at: folder, withIntermediateDirectories: true,
      attributes: [.posixPermissions: NSNumber(value: 0o700)])
    guard chmod(folder.path, 0o700) == 0 else {
      throw StoreError.failed("cannot make \(folder.path) private: errno \(errno)")
    }
  }

  /// Creates an empty file 0600 unless it exists (SQLite gives its -wal and -shm files the
  /// database file's permissions).
  static func createPrivateFile(_ file: URL) throws {
    let fd = open(file.path, O_RDWR | O_CREAT, 0o600)
    guard fd >= 0 else {
      throw StoreError.failed("cannot create \(file.path): errno \(errno)")
    }
    fchmod(fd, 0o600)
    _ = Glibc.close(fd)
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(
        sql: """
          CREATE TABLE token (
            hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL,
            therapist TEXT, created REAL NOT NULL);
          CREATE TABLE exercise (
            id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
            reference TEXT NOT NULL, created REAL NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (id, version));
          CREATE TABLE session (
            id TEXT PRIMARY KEY, patient TEXT NOT NULL, therapist TEXT,
            exercise TEXT NOT NULL, exerciseVersion INTEGER NOT NULL, skeleton TEXT NOT NULL,
            device TEXT, created REAL NOT NULL, finished REAL, summary TEXT,
            rejected TEXT NOT NULL DEFAULT '{}');
          CREATE TABLE frame (
            session TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL,
            received REAL NOT NULL, channels BLOB NOT NULL, PRIMARY KEY (session, seq))
            WITHOUT ROWID;
          CREATE TABLE repetition (
            session TEXT NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL,
            PRIMARY KEY (session, idx));
          """)
    }
    migrator.registerMigration("v2: token revocation") { db in
      try db.execute(sql: "ALTER TABLE token ADD COLUMN revoked REAL")
    }
    migrator.registerMigration("v3: expiry, exercise owners, repetition scores") { db in
      try db.execute(
        sql: """
          ALTER TABLE token ADD COLUMN expires REAL;
          ALTER TABLE exercise ADD COLUMN owner TEXT;
          ALTER TABLE repetition ADD COLUMN score REAL;
          UPDATE repetition SET score = json_extract(result, '$.score');
          CREATE INDEX session_patient ON session (patient, created);
          CREATE INDEX session_therapist ON session (therapist, created);
          CREATE INDEX session_open ON session (finished, created);
          """)
    }
    migrator.registerMigration("v4: session leases") { db in
      try db.execute(
        sql: """
          CREATE TABLE lease (
            session TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)
          """)
    }
    migrator.registerMigration("v5: programmes") { db in
      try db.execute(
        sql: """
          ALTER TABLE session ADD COLUMN programme TEXT;
          ALTER TABLE session ADD COLUMN clientKey TEXT;
          CREATE UNIQUE INDEX session_client_key ON session (patient, clientKey)
            WHERE clientKey IS NOT NULL;
          CREATE INDEX session_programme ON session (programme) WHERE programme IS NOT NULL;
          CREATE TABLE programme (
            id TEXT NOT NULL, version INTEGER NOT NULL, therapist TEXT NOT NULL,
            patient TEXT NOT NULL, definition TEXT NOT NULL, created REAL NOT NULL,
            PRIMARY KEY (id, version));
          CREATE INDEX programme_patient ON programme (patient);
          CREATE INDEX programme_therapist ON programme (therapist);
          CREATE TABLE programme_day (
            programme TEXT NOT NULL, key TEXT NOT NULL, patient TEXT NOT NULL,
            date TEXT NOT NULL, painBefore INTEGER, painAfter INTEGER, sessions TEXT NOT NULL,
            programmeVersion INTEGER, complete INTEGER NOT NULL, recorded REAL NOT NULL,
            PRIMARY KEY (programme, key));
          """)
    }
    return migrator
  }

  // MARK: Tokens

  public func addToken(hash: String, record: TokenRecord) async throws {
    try await write { db in
      let taken =
        try Bool.fetchOne(
          db,
          sql: """
            SELECT EXISTS (SELECT 1 FROM token
              WHERE name = ? AND NOT (role = ? AND therapist IS ?))
            """,
          arguments: [record.name, record.role.rawValue, record.therapist]) ?? false
      if taken { throw StoreError.nameTaken(record.name) }
      try db.execute(
        sql: """
          INSERT INTO token (hash, role, name, therapist, created, expires)
          VALUES (?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          hash, record.role.rawValue, record.name, record.therapist,
          Date().timeIntervalSince1970, record.expires,
        ])
    }
  }

  public func token(hash: String) async throws -> TokenRecord? {
    try await read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM token WHERE hash = ?", arguments: [hash])
        .flatMap(Self.tokenListing).map {
          TokenRecord(
            role: $0.role, name: $0.name, therapist: $0.therapist, revoked: $0.revoked,
            expires: $0.expires)
        }
    }
  }

  /// A token row as listed (`nil` for a role this version does not know).
  private static func tokenListing(_ row: Row) -> TokenListing? {
    guard let role = Role(rawValue: row["role"]) else { return nil }
    let hash: String = row["hash"]
    return TokenListing(
      id: Tokens.id(ofHash: hash), role: role, name: row["name"], therapist: row["therapist"],
      created: row["created"], revoked: row["revoked"], expires: row["expires"])
  }

  public func tokens(issuedBy therapist: String?) async throws -> [TokenListing] {
    try await read { db in
      let rows =
        if let therapist {
          try Row.fetchAll(
            db,
            sql:
              "SELECT * FROM token WHERE role = 'patient' AND therapist = ? ORDER BY created, hash",
            arguments: [therapist])
        } else {
          try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY created, hash")
        }
      return rows.compactMap(Self.tokenListing)
    }
  }

  public func revokeToken(id: String, issuedBy therapist: String?) async throws -> String? {
    guard Tokens.isValidID(id) else { return nil }
    return try await write { db in
      let rows = try Row.fetchAll(
        db, sql: "SELECT * FROM token WHERE substr(hash, 1, 16) = ?", arguments: [id])
      guard rows.count == 1, let row = rows.first else { return nil }
      let hash: String = row["hash"]
      if let therapist {
        guard row["role"] == Role.patient.rawValue, row["therapist"] == therapist else {
          return nil
        }
      }
      try db.execute(
        sql: "UPDATE token SET revoked = ? WHERE hash = ? AND revoked IS NULL",
        arguments: [Date().timeIntervalSince1970, hash])
      return hash
    }
  }

  public func isPatient(_ patient: String, of therapist: String) async throws -> Bool {
    try await read { db in
      try Bool.fetchOne(
        db,
        sql:
          "SELECT EXISTS (SELECT 1 FROM token WHERE role = 'patient' AND name = ? AND therapist = ?)",
        arguments: [patient, therapist]) ?? false
    }
  }

  // MARK: Exercises

  private static func exercise(_ row: Row) -> ExerciseRecord {
    ExerciseRecord(
      id: row["id"], version: row["version"], definition: row["definition"],
      reference: row["reference"], created: row["created"], deleted: row["deleted"] != 0,
      owner: row["owner"])
  }

  public func addExercise(id: String, owner: String?, definition: String, reference: String)
    async throws -> Int
  {
    try await write { db in
      let latest =
        try Int.fetchOne(db, sql: "SELECT MAX(version) FROM exercise WHERE id = ?", arguments: [id])
        ?? 0
      try db.execute(
        sql: """
          INSERT INTO exercise (id, version, definition, reference, created, owner)
          VALUES (?, ?, ?, ?, ?, ?)
          """,
        arguments: [id, latest + 1, definition, reference, Date().timeIntervalSince1970, owner])
      return latest + 1
    }
  }

  public func exercise(id: String, version: Int?) async throws -> ExerciseRecord? {
    try await read { db in
      let row: Row?
      if let version {
        row = try Row.fetchOne(
          db, sql: "SELECT * FROM exercise WHERE id = ? AND version = ?", arguments: [id, version])
      } else {
        row = try Row.fetchOne(
          db,
          sql: "SELECT * FROM exercise WHERE id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1",
          arguments: [id])
      }
      return row.map(Self.exercise)
    }
  }

  public func exercises() async throws -> [ExerciseRecord] {
    try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT e.* FROM exercise e JOIN (SELECT id, MAX(version) AS v FROM exercise
          WHERE deleted = 0 GROUP BY id) m ON e.id = m.id AND e.version = m.v ORDER BY e.id
          """
      ).map(Self.exercise)
    }
  }

  public func exerciseVersions(id: String) async throws -> [Int] {
    try await read { db in
      try Int.fetchAll(
        db, sql: "SELECT version FROM exercise WHERE id = ? ORDER BY version", arguments: [id])
    }
  }

  public func deleteExercise(id: String) async throws -> Bool {
    try await write { db in
      try db.execute(
        sql: "UPDATE exercise SET deleted = 1 WHERE id = ? AND deleted = 0", arguments: [id])
      return db.changesCount > 0
    }
  }

  public func exerciseCount() async throws -> Int {
    try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exercise") ?? 0 }
  }

  // MARK: Sessions

  public func addSession(
    _ record: SessionRecord, maximumOpen: Int, maximumOpenPerPatient: Int
  ) async throws {
    try await write { db in
      let open =
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM session WHERE finished IS NULL") ?? 0
      guard open < maximumOpen else {
        throw StoreError.quota(
          "the server has \(open) open sessions, its limit; try again when some have finished")
      }
      let mine =
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM session WHERE finished IS NULL AND patient = ?",
          arguments: [record.patient]) ?? 0
      guard mine < maximumOpenPerPatient else {
        throw StoreError.quota(
          "\(record.patient) has \(mine) open sessions, the limit; finish one (POST /v1/sessions/ID/finish) before starting another"
        )
      }
      try db.execute(
        sql: """
          INSERT INTO session (
            id, patient, therapist, exercise, exerciseVersion, skeleton, created, programme,
            clientKey)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          record.id, record.patient, record.therapist, record.exercise, record.exerciseVersion,
          record.skeleton, record.created, record.programme, record.clientKey,
        ])
    }
  }

  private static func session(_ row: Row) -> SessionRecord {
    SessionRecord(
      id: row["id"], patient: row["patient"], therapist: row["therapist"],
      exercise: row["exercise"], exerciseVersion: row["exerciseVersion"],
      skeleton: row["skeleton"], created: row["created"], finished: row["finished"],
      summary: row["summary"], rejected: row["rejected"], programme: row["programme"],
      clientKey: row["clientKey"])
  }

  public func session(patient: String, clientKey: String) async throws -> SessionRecord? {
    try await read { db in
      try Row.fetchOne(
        db, sql: "SELECT * FROM session WHERE patient = ? AND clientKey = ?",
        arguments: [patient, clientKey]
      ).map(Self.session)
    }
  }

  public func session(id: String) async throws -> SessionRecord? {
    try await read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id])
        .map(Self.session)
    }
  }

  public func sessions(patient: String?, therapist: String?) async throws -> [SessionListing] {
    try await read { db in
      let filter: String
      let arguments: StatementArguments
      switch (patient, therapist) {
      case (let p?, let t?): (filter, arguments) = ("s.patient = ? AND s.therapist = ?", [p, t])
      case (let p?, nil): (filter, arguments) = ("s.patient = ?", [p])
      case (nil, let t?): (filter, arguments) = ("s.therapist = ?", [t])
      case (nil, nil): (filter, arguments) = ("1", [])
      }
      return try Row.fetchAll(
        db,
        sql: """
          SELECT s.*, COUNT(r.idx) AS repetitionCount, AVG(r.score) AS meanScore
          FROM session s LEFT JOIN repetition r ON r.session = s.id
          WHERE \(filter) GROUP BY s.id ORDER BY s.created, s.id
          """, arguments: arguments
      ).map { row in
        SessionListing(
          record: Self.session(row), repetitions: row["repetitionCount"],
          meanScore: row["meanScore"])
      }
    }
  }

  public func openSessionIDs(patient: String?) async throws -> [String] {
    try await read { db in
      if let patient {
        return try String.fetchAll(
          db,
          sql: "SELECT id FROM session WHERE finished IS NULL AND patient = ? ORDER BY created",
          arguments: [patient])
      }
      return try String.fetchAll(
        db, sql: "SELECT id FROM session WHERE finished IS NULL ORDER BY created")
    }
  }

  public func abandonedSessionIDs(before: Double) async throws -> [String] {
    try await read { db in
      try String.fetchAll(
        db,
        sql: """
          SELECT s.id FROM session s WHERE s.finished IS NULL
          AND COALESCE((SELECT MAX(f.received) FROM frame f WHERE f.session = s.id), s.created) < ?
          ORDER BY s.created
          """, arguments: [before])
    }
  }

  public func finishSession(id: String, summary: String, rejected: String) async throws {
    try await write { db in
      try db.execute(
        sql: "UPDATE session SET finished = ?, summary = ?, rejected = ? WHERE id = ?",
        arguments: [Date().timeIntervalSince1970, summary, rejected, id])
    }
  }

  public func repetitions(session: String) async throws -> [String] {
    try await read { db in
      try String.fetchAll(
        db, sql: "SELECT result FROM repetition WHERE session = ? ORDER BY idx",
        arguments: [session])
    }
  }

  // MARK: Frames

  public func commit(_ batch: FrameBatch) async throws {
    try await write { db in
      for (session, counts) in batch.rejected {
        try db.execute(
          sql: "UPDATE session SET rejected = ? WHERE id = ?", arguments: [counts, session])
      }
      let insert = try db.cachedStatement(
        sql:
          "INSERT OR IGNORE INTO frame (session, seq, time, received, channels) VALUES (?, ?, ?, ?, ?)"
      )
      // In key order: each session's frames land together in the table's B-tree, so a commit
      // touches about one page per session rather than one per frame.
      let ordered = batch.frames.sorted { ($0.session, $0.seq) < ($1.session, $1.seq) }
      for frame in ordered {
        let blob = frame.channels.withUnsafeBytes { Data($0) }
        try insert.execute(arguments: [frame.session, frame.seq, frame.time, frame.received, blob])
      }
      let repetition = try db.cachedStatement(
        sql: "INSERT OR REPLACE INTO repetition (session, idx, result, score) VALUES (?, ?, ?, ?)")
      for r in batch.repetitions {
        try repetition.execute(arguments: [r.session, r.index, r.result, r.score])
      }
    }
  }

  public func frames(session: String, from seq: Int) async throws -> [StoredFrame] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM frame WHERE session = ? AND seq >= ? ORDER BY seq",
        arguments: [session, seq]
      ).map { row in
        let data: Data = row["channels"]
        let channels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return StoredFrame(
          session: row["session"], seq: row["seq"], time: row["time"], received: row["received"],
          channels: channels)
      }
    }
  }

  public func frameCount(session: String) async throws -> Int {
    try await read { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM frame WHERE session = ?", arguments: [session]) ?? 0
    }
  }

  // MARK: Leases

  public func acquireLease(session: String, holder: String, ttl: Double) async throws -> Bool {
    try await write { db in
      let now = Date().timeIntervalSince1970
      try db.execute(
        sql: """
          INSERT INTO lease (session, holder, expires) VALUES (?, ?, ?)
          ON CONFLICT (session) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
          WHERE lease.holder = excluded.holder OR lease.expires < ?
          """, arguments: [session, holder, now + ttl, now])
      return db.changesCount > 0
    }
  }

  public func renewLeases(_ sessions: [String], holder: String, ttl: Double) async throws
    -> [String]
  {
    guard !sessions.isEmpty else { return [] }
    return try await write { db in
      let now = Date().timeIntervalSince1970
      var held: [String] = []
      for session in sessions {
        try db.execute(
          sql: """
            INSERT INTO lease (session, holder, expires) VALUES (?, ?, ?)
            ON CONFLICT (session) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
            WHERE lease.holder = excluded.holder OR lease.expires < ?
            """, arguments: [session, holder, now + ttl, now])
        if db.changesCount > 0 { held.append(session) }
      }
      return held
    }
  }

  public func releaseLease(session: String, holder: String) async throws {
    try await write { db in
      try db.execute(
        sql: "DELETE FROM lease WHERE session = ? AND holder = ?", arguments: [session, holder])
    }
  }

  public func lease(session: String) async throws -> (holder: String, expires: Double)? {
    try await read { db in
      try Row.fetchOne(
        db, sql: "SELECT holder, expires FROM lease WHERE session = ?", arguments: [session]
      ).map { ($0["holder"], $0["expires"]) }
    }
  }

  // MARK: Maintenance

  public func check() async throws {
    let result = try await read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
    guard result == "ok" else {
      throw StoreError.damaged("\(file.path): quick_check says \(result ?? "nothing")")
    }
  }

  /// Copies the database with SQLite's online backup into a new file at `destination` (0600),
  /// which must not exist.
  public func backup(to destination: URL) async throws {
    guard !FileManager.default.fileExists(atPath: destination.path) else {
      throw StoreError.failed("\(destination.path) exists; name a new file")
    }
    try Self.createPrivateFile(destination)
    let pool = self.pool
    try await Task.detached {
      let target = try DatabaseQueue(path: destination.path)
      try pool.backup(to: target)
      try target.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = DELETE")
      }
      try target.close()
    }.value
  }

  public func close() async throws {
    try await writeWithoutTransaction { db in
      try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    }
  }

  // MARK: Programmes

  public func addProgramme(id: String, therapist: String, patient: String, definition: String)
    async throws -> Int
  {
    try await write { db in
      let latest =
        try Int.fetchOne(
          db, sql: "SELECT COALESCE(MAX(version), 0) FROM programme WHERE id = ?",
          arguments: [id]) ?? 0
      try db.execute(
        sql: """
          INSERT INTO programme (id, version, therapist, patient, definition, created)
          VALUES (?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          id, latest + 1, therapist, patient, definition, Date().timeIntervalSince1970,
        ])
      return latest + 1
    }
  }

  private static func programme(_ row: Row) -> ProgrammeRecord {
    ProgrammeRecord(
      id: row["id"], version: row["version"], therapist: row["therapist"],
      patient: row["patient"], definition: row["definition"], created: row["created"])
  }

  public func programme(id: String, version: Int?) async throws -> ProgrammeRecord? {
    try await read { db in
      if let version {
        return try Row.fetchOne(
          db, sql: "SELECT * FROM programme WHERE id = ? AND version = ?",
          arguments: [id, version]
        ).map(Self.programme)
      }
      return try Row.fetchOne(
        db, sql: "SELECT * FROM programme WHERE id = ? ORDER BY version DESC LIMIT 1",
        arguments: [id]
      ).map(Self.programme)
    }
  }

  public func programmes(patient: String?, therapist: String?) async throws -> [ProgrammeRecord] {
    try await read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT p.* FROM programme p
          WHERE p.version = (SELECT MAX(q.version) FROM programme q WHERE q.id = p.id)
            AND (? IS NULL OR p.patient = ?) AND (? IS NULL OR p.therapist = ?)
          ORDER BY (SELECT MIN(q.created) FROM programme q WHERE q.id = p.id), p.id
          """, arguments: [patient, patient, therapist, therapist]
      ).map(Self.programme)
    }
  }

  public func programmeVersions(id: String) async throws -> [Int] {
    try await read { db in
      try Int.fetchAll(
        db, sql: "SELECT version FROM programme WHERE id = ? ORDER BY version", arguments: [id])
    }
  }

  private static func programmeDay(_ row: Row) -> ProgrammeDay {
    let sessions =
      (try? JSONDecoder().decode([String].self, from: Data((row["sessions"] as String).utf8)))
      ?? []
    return ProgrammeDay(
      key: row["key"], date: row["date"], painBefore: row["painBefore"],
      painAfter: row["painAfter"], sessions: sessions, programmeVersion: row["programmeVersion"],
      complete: row["complete"], recorded: row["recorded"])
  }

  public func addProgrammeDay(_ record: ProgrammeDayRecord) async throws -> (
    day: ProgrammeDay, added: Bool
  ) {
    let sessions = String(decoding: try JSONEncoder().encode(record.day.sessions), as: UTF8.self)
    return try await write { db in
      if let stored = try Row.fetchOne(
        db, sql: "SELECT * FROM programme_day WHERE programme = ? AND key = ?",
        arguments: [record.programme, record.day.key])
      {
        return (Self.programmeDay(stored), false)
      }
      var day = record.day
      day.recorded = Date().timeIntervalSince1970
      try db.execute(
        sql: """
          INSERT INTO programme_day (
            programme, key, patient, date, painBefore, painAfter, sessions, programmeVersion,
            complete, recorded)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          record.programme, day.key, record.patient, day.date, day.painBefore, day.painAfter,
          sessions, day.programmeVersion, day.complete, day.recorded,
        ])
      return (day, true)
    }
  }

  public func programmeDays(programme: String) async throws -> [ProgrammeDay] {
    try await read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM programme_day WHERE programme = ? ORDER BY date, recorded, key",
        arguments: [programme]
      ).map(Self.programmeDay)
    }
  }
}
