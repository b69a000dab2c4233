import Foundation
import GRDB

/// The server's durable state in one SQLite database (WAL mode): tokens, the versioned exercise
/// library, sessions, every frame received, every repetition scored.
///
/// Frames are written by `FrameWriter` in group commits; a frame is acknowledged to its client
/// only after the commit that holds it, so a server killed with SIGKILL restarts with every
/// acknowledged frame (WAL with `synchronous = NORMAL` survives a process crash).
public final class Store: Sendable {
  let pool: DatabasePool

  /// Opens (creating if needed) `ontrack.sqlite` in `folder`.
  public init(folder: URL) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var configuration = Configuration()
    configuration.busyMode = .timeout(10)
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    pool = try DatabasePool(
      path: folder.appendingPathComponent("ontrack.sqlite").path, configuration: configuration)
    try Self.migrator.migrate(pool)
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
    return migrator
  }

  // MARK: Tokens

  public struct TokenRecord: Sendable, Equatable {
    public var role: Role
    public var name: String
    public var therapist: String?
    /// When the token was revoked (seconds since 1970); `nil` while it is valid.
    public var revoked: Double? = nil
  }

  /// A token as it is listed: never the token itself, only its id (`Tokens.id(ofHash:)`).
  public struct TokenListing: Sendable, Equatable, Codable {
    public var id: String
    public var role: Role
    public var name: String
    public var therapist: String?
    /// Seconds since 1970.
    public var created: Double
    public var revoked: Double?
  }

  /// Stores a token. A name belongs to one holder: sessions are filed under it, so a name
  /// already held by someone else (another role, or a patient of another therapist) is refused
  /// with `TokenNameTaken`; the same holder may hold several tokens.
  public func addToken(hash: String, record: TokenRecord) throws {
    try pool.write { db in
      let taken =
        try Bool.fetchOne(
          db,
          sql: """
            SELECT EXISTS (SELECT 1 FROM token
              WHERE name = ? AND NOT (role = ? AND therapist IS ?))
            """,
          arguments: [record.name, record.role.rawValue, record.therapist]) ?? false
      if taken { throw TokenNameTaken(name: record.name) }
      try db.execute(
        sql: "INSERT INTO token (hash, role, name, therapist, created) VALUES (?, ?, ?, ?, ?)",
        arguments: [
          hash, record.role.rawValue, record.name, record.therapist, Date().timeIntervalSince1970,
        ])
    }
  }

  public func token(hash: String) throws -> TokenRecord? {
    try pool.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM token WHERE hash = ?", arguments: [hash])
        .flatMap(Self.tokenListing).map {
          TokenRecord(role: $0.role, name: $0.name, therapist: $0.therapist, revoked: $0.revoked)
        }
    }
  }

  /// A token row as listed (`nil` for a role this version does not know).
  private static func tokenListing(_ row: Row) -> TokenListing? {
    guard let role = Role(rawValue: row["role"]) else { return nil }
    let hash: String = row["hash"]
    return TokenListing(
      id: Tokens.id(ofHash: hash), role: role, name: row["name"], therapist: row["therapist"],
      created: row["created"], revoked: row["revoked"])
  }

  /// Every token, or only the patient tokens issued by `therapist`, oldest first.
  public func tokens(issuedBy therapist: String? = nil) throws -> [TokenListing] {
    try pool.read { db in
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

  /// Revokes the token with `id` (the first 16 hex digits of its hash), if `therapist` is nil
  /// or issued it. Returns the token's hash, or `nil` if no such token (or not theirs).
  /// Revoking a revoked token keeps its first revocation time.
  public func revokeToken(id: String, issuedBy therapist: String? = nil) throws -> String? {
    guard Tokens.isValidID(id) else { return nil }
    return try pool.write { db in
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

  /// True if a patient token named `patient` was issued under `therapist`.
  public func isPatient(_ patient: String, of therapist: String) throws -> Bool {
    try pool.read { db in
      try Bool.fetchOne(
        db,
        sql:
          "SELECT EXISTS (SELECT 1 FROM token WHERE role = 'patient' AND name = ? AND therapist = ?)",
        arguments: [patient, therapist]) ?? false
    }
  }

  // MARK: Exercises

  public struct ExerciseRecord: Sendable {
    public var id: String
    public var version: Int
    public var definition: String
    public var reference: String
    public var created: Double
    public var deleted: Bool
  }

  private static func exercise(_ row: Row) -> ExerciseRecord {
    ExerciseRecord(
      id: row["id"], version: row["version"], definition: row["definition"],
      reference: row["reference"], created: row["created"], deleted: row["deleted"] != 0)
  }

  /// Adds a version (1 for a new id); returns the version number.
  @discardableResult
  public func addExercise(id: String, definition: String, reference: String) throws -> Int {
    try pool.write { db in
      let latest =
        try Int.fetchOne(db, sql: "SELECT MAX(version) FROM exercise WHERE id = ?", arguments: [id])
        ?? 0
      try db.execute(
        sql:
          "INSERT INTO exercise (id, version, definition, reference, created) VALUES (?, ?, ?, ?, ?)",
        arguments: [id, latest + 1, definition, reference, Date().timeIntervalSince1970])
      return latest + 1
    }
  }

  /// The newest live version, or a given version (deleted ones included: sessions keep theirs).
  public func exercise(id: String, version: Int? = nil) throws -> ExerciseRecord? {
    try pool.read { db in
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

  /// The newest live version of every exercise.
  public func exercises() throws -> [ExerciseRecord] {
    try pool.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT e.* FROM exercise e JOIN (SELECT id, MAX(version) AS v FROM exercise
          WHERE deleted = 0 GROUP BY id) m ON e.id = m.id AND e.version = m.v ORDER BY e.id
          """
      ).map(Self.exercise)
    }
  }

  public func exerciseVersions(id: String) throws -> [Int] {
    try pool.read { db in
      try Int.fetchAll(
        db, sql: "SELECT version FROM exercise WHERE id = ? ORDER BY version", arguments: [id])
    }
  }

  /// Marks every version deleted; returns false if there was none.
  public func deleteExercise(id: String) throws -> Bool {
    try pool.write { db in
      try db.execute(
        sql: "UPDATE exercise SET deleted = 1 WHERE id = ? AND deleted = 0", arguments: [id])
      return db.changesCount > 0
    }
  }

  public func exerciseCount() throws -> Int {
    try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exercise") ?? 0 }
  }

  // MARK: Sessions

  public struct SessionRecord: Sendable, Codable, Equatable {
    public var id: String
    public var patient: String
    public var therapist: String?
    public var exercise: String
    public var exerciseVersion: Int
    /// The session skeleton as a BVH file (hierarchy and one rest frame).
    public var skeleton: String
    /// A device name that routes Axis Neuron and VMC frames to this session.
    public var device: String?
    public var created: Double
    public var finished: Double?
    public var summary: String?
    /// Rejected frames by reason, as JSON (`{"malformed": 2}`).
    public var rejected: String

    /// `rejected` decoded (empty if it does not decode).
    public var storedRejected: [String: Int] {
      (try? JSONDecoder().decode([String: Int].self, from: Data(rejected.utf8))) ?? [:]
    }
  }

  public func addSession(_ record: SessionRecord) throws {
    try pool.write { db in
      try db.execute(
        sql: """
          INSERT INTO session (id, patient, therapist, exercise, exerciseVersion, skeleton,
            device, created)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          record.id, record.patient, record.therapist, record.exercise, record.exerciseVersion,
          record.skeleton, record.device, record.created,
        ])
    }
  }

  private static func session(_ row: Row) -> SessionRecord {
    SessionRecord(
      id: row["id"], patient: row["patient"], therapist: row["therapist"],
      exercise: row["exercise"],
      exerciseVersion: row["exerciseVersion"], skeleton: row["skeleton"], device: row["device"],
      created: row["created"],
      finished: row["finished"], summary: row["summary"], rejected: row["rejected"])
  }

  /// Sessions not finished yet (to resume after a restart).
  public func openSessions() throws -> [SessionRecord] {
    try pool.read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM session WHERE finished IS NULL ORDER BY created")
        .map(Self.session)
    }
  }

  public func session(id: String) throws -> SessionRecord? {
    try pool.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id]).map(
        Self.session)
    }
  }

  /// Sessions a patient owns, or a therapist looks after.
  public func sessions(patient: String? = nil, therapist: String? = nil) throws -> [SessionRecord] {
    try pool.read { db in
      if let patient {
        return try Row.fetchAll(
          db, sql: "SELECT * FROM session WHERE patient = ? ORDER BY created", arguments: [patient]
        )
        .map(Self.session)
      }
      return try Row.fetchAll(
        db, sql: "SELECT * FROM session WHERE therapist = ? ORDER BY created",
        arguments: [therapist]
      )
      .map(Self.session)
    }
  }

  public func finishSession(id: String, summary: String, rejected: String) throws {
    try pool.write { db in
      try db.execute(
        sql: "UPDATE session SET finished = ?, summary = ?, rejected = ? WHERE id = ?",
        arguments: [Date().timeIntervalSince1970, summary, rejected, id])
    }
  }

  // MARK: Frames and repetitions

  /// One frame as stored: channel values (the session skeleton's channel order, degrees and
  /// file units) as little-endian Float32.
  public struct StoredFrame: Sendable {
    public var session: String
    public var seq: Int
    public var time: Double
    public var received: Double
    public var channels: [Float]
  }

  /// Writes frames, repetitions and sessions' rejection counts in one transaction (a group
  /// commit).
  public func write(
    frames: [StoredFrame], repetitions: [(String, Int, String)], rejected: [String: String] = [:]
  ) throws {
    try pool.write { db in
      for (session, counts) in rejected {
        try db.execute(
          sql: "UPDATE session SET rejected = ? WHERE id = ?", arguments: [counts, session])
      }
      let insert = try db.makeStatement(
        sql:
          "INSERT OR IGNORE INTO frame (session, seq, time, received, channels) VALUES (?, ?, ?, ?, ?)"
      )
      for frame in frames {
        let blob = frame.channels.withUnsafeBytes { Data($0) }
        try insert.execute(arguments: [frame.session, frame.seq, frame.time, frame.received, blob])
      }
      let rep = try db.makeStatement(
        sql: "INSERT OR REPLACE INTO repetition (session, idx, result) VALUES (?, ?, ?)")
      for (session, index, result) in repetitions {
        try rep.execute(arguments: [session, index, result])
      }
    }
  }

  /// Frames of a session in sequence order (optionally from `seq` on).
  public func frames(session: String, from seq: Int = 0) throws -> [StoredFrame] {
    try pool.read { db in
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

  public func frameCount(session: String) throws -> Int {
    try pool.read { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM frame WHERE session = ?", arguments: [session]) ?? 0
    }
  }

  public func repetitions(session: String) throws -> [String] {
    try pool.read { db in
      try String.fetchAll(
        db, sql: "SELECT result FROM repetition WHERE session = ? ORDER BY idx",
        arguments: [session])
    }
  }
}
