import Foundation
import Logging
import NIOCore
import OnTrackProtocol
import PostgresNIO
import Synchronization

/// The shared store: one PostgreSQL database through PostgresNIO's connection pool, for
/// several `ontrack serve` processes (`--store postgres://USER[:PASSWORD]@HOST[:PORT]/DB`).
///
/// The same aggregates and the same contract as `SQLiteStore` (`StoreContractTests` runs one
/// suite against both). Frames are written in group commits (one transaction per batch, rows
/// sent as arrays through `UNNEST`), and acknowledged only after the commit. Checks that span
/// rows (a token name's holder, the open-session quotas) and the migrations take a
/// transaction-scoped advisory lock, so servers sharing the database serialise them.
///
/// Migrations are versioned in `ontrack_schema`, applied at start under an advisory lock, and
/// a database newer than this binary is refused (`StoreError.newerSchema`).
public final class PostgresStore: ServerStore {
  let client: PostgresClient
  private let runner: Task<Void, Never>
  private let logger: Logger
  public let location: String

  /// Connection settings from a URL: `postgres://user[:password]@host[:port]/database`, with
  /// `?sslmode=require` for TLS (the default is plain TCP: loopback or a private network).
  public struct Address: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool

    /// - Throws: `StoreError.failed` naming what is wrong with the URL.
    public init(url text: String) throws {
      guard let components = URLComponents(string: text),
        components.scheme == "postgres" || components.scheme == "postgresql"
      else {
        throw StoreError.failed(
          "--store must be a postgres://USER@HOST[:PORT]/DATABASE URL, not '\(text.prefix(80))'")
      }
      guard let host = components.host, !host.isEmpty else {
        throw StoreError.failed("the PostgreSQL URL has no host")
      }
      guard let user = components.user, !user.isEmpty else {
        throw StoreError.failed("the PostgreSQL URL has no user (postgres://USER@HOST/DB)")
      }
      let database = String(components.path.drop { $0 == "/" })
      guard !database.isEmpty else {
        throw StoreError.failed("the PostgreSQL URL names no database (postgres://USER@HOST/DB)")
      }
      let port = components.port ?? 5432
      guard (1...65535).contains(port) else {
        throw StoreError.failed("the PostgreSQL port must be 1–65535, not \(port)")
      }
      self.host = host
      self.port = port
      self.user = user
      self.password = components.password
      self.database = database
      let mode = components.queryItems?.first { $0.name == "sslmode" }?.value
      requireTLS = mode == "require" || mode == "verify-full"
    }

    /// The URL without its password, for logs.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }
  }

  /// Connects, applies migrations and checks the schema.
  /// - Throws: `StoreError.newerSchema` if a newer OnTrack migrated the database,
  ///   `StoreError.failed` if it cannot be reached.
  public init(
    url: String, logger: Logger = Logger(label: "ontrack.postgres"),
    answerTimeout: Duration = .seconds(10)
  ) async throws {
    self.answerTimeout = answerTimeout
    let address = try Address(url: url)
    var configuration = PostgresClient.Configuration(
      host: address.host, port: address.port, username: address.user,
      password: address.password, database: address.database,
      tls: address.requireTLS ? .require(.makeClientConfiguration()) : .disable)
    configuration.options.maximumConnections = 16
    configuration.options.minimumConnections = 0
    // The database gives up what this store has given up: a call abandoned after
    // `answerTimeout` (`answered`) would otherwise hold its pooled connection for as long as
    // the database keeps it waiting (a lock held elsewhere: for ever), and sixteen such calls
    // leave no connection for anything else.
    let limit = String(Self.milliseconds(answerTimeout))
    configuration.options.additionalStartupParameters = [
      ("statement_timeout", limit), ("idle_in_transaction_session_timeout", limit),
    ]
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    self.client = client
    self.logger = logger
    self.location = address.redacted
    runner = Task { await client.run() }
    do {
      // A database that cannot be reached fails the start within `connectTimeout`, instead
      // of waiting on the pool's retries.
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await self.migrate() }
        group.addTask {
          try await Task.sleep(for: Self.connectTimeout)
          throw StoreError.failed(
            "cannot reach PostgreSQL at \(address.redacted) within \(Self.connectTimeout)")
        }
        try await group.next()
        group.cancelAll()
      }
    } catch {
      runner.cancel()
      throw Self.domain(error, "\(address.redacted)")
    }
  }

  deinit { runner.cancel() }

  /// How long the start waits for the database.
  static let connectTimeout = Duration.seconds(30)

  /// A PostgresNIO error in the domain's words (the server's message, never the password).
  static func domain(_ error: any Error, _ context: String) -> any Error {
    if error is StoreError { return error }
    if let transaction = error as? PostgresTransactionError {
      if let inner = transaction.closureError { return domain(inner, context) }
      if let inner = transaction.beginError { return domain(inner, context) }
      if let inner = transaction.commitError { return domain(inner, context) }
    }
    if let psql = error as? PSQLError {
      let message = psql.serverInfo?[.message] ?? "\(psql.code)"
      if isLostConnection(psql) {
        return StoreError.unavailable("\(context): the database connection was lost (\(message))")
      }
      return StoreError.failed("\(context): \(message)")
    }
    return StoreError.failed("\(context): \(error)")
  }

  // MARK: Schema

  /// The schema, one step per version (never edited once released; add a step).
  static let migrations: [String] = [
    """
    CREATE TABLE token (
      hash TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, therapist TEXT,
      created DOUBLE PRECISION NOT NULL, revoked DOUBLE PRECISION, expires DOUBLE PRECISION);
    CREATE INDEX token_name ON token (name);
    CREATE TABLE exercise (
      id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
      reference TEXT NOT NULL, created DOUBLE PRECISION NOT NULL,
      deleted BOOLEAN NOT NULL DEFAULT FALSE, owner TEXT, PRIMARY KEY (id, version));
    CREATE TABLE session (
      id TEXT PRIMARY KEY, patient TEXT NOT NULL, therapist TEXT,
      exercise TEXT NOT NULL, exercise_version INTEGER NOT NULL, skeleton TEXT NOT NULL,
      device TEXT, created DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION, summary TEXT,
      rejected TEXT NOT NULL DEFAULT '{}');
    CREATE INDEX session_patient ON session (patient, created);
    CREATE INDEX session_therapist ON session (therapist, created);
    CREATE INDEX session_open ON session (finished, created);
    CREATE TABLE frame (
      session TEXT NOT NULL, seq BIGINT NOT NULL, time DOUBLE PRECISION NOT NULL,
      received DOUBLE PRECISION NOT NULL, channels BYTEA NOT NULL, PRIMARY KEY (session, seq));
    CREATE TABLE repetition (
      session TEXT NOT NULL, idx INTEGER NOT NULL, result TEXT NOT NULL,
      score DOUBLE PRECISION, PRIMARY KEY (session, idx));
    """,
    """
    CREATE TABLE lease (
      session TEXT PRIMARY KEY, holder TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL);
    """,
    """
    ALTER TABLE session ADD COLUMN programme TEXT;
    ALTER TABLE session ADD COLUMN client_key TEXT;
    CREATE UNIQUE INDEX session_client_key ON session (patient, client_key)
      WHERE client_key IS NOT NULL;
    CREATE INDEX session_programme ON session (programme) WHERE programme IS NOT NULL;
    CREATE TABLE programme (
      id TEXT NOT NULL, version INTEGER NOT NULL, therapist TEXT NOT NULL, patient TEXT NOT NULL,
      definition TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, PRIMARY KEY (id, version));
    CREATE INDEX programme_patient ON programme (patient);
    CREATE INDEX programme_therapist ON programme (therapist);
    CREATE TABLE programme_day (
      programme TEXT NOT NULL, key TEXT NOT NULL, patient TEXT NOT NULL, date TEXT NOT NULL,
      pain_before INTEGER, pain_after INTEGER, sessions TEXT NOT NULL,
      programme_version INTEGER, complete BOOLEAN NOT NULL,
      recorded DOUBLE PRECISION NOT NULL, PRIMARY KEY (programme, key));
    """,
  ]

  /// Advisory lock keys (one per kind of serialised check).
  enum Lock: Int64 {
    case migrations = 7_001
    case tokenNames = 7_002
    case sessionQuota = 7_003
  }

  private func migrate() async throws {
    try await client.withTransaction(logger: logger) { connection in
      // A migration of a large database may take longer than any one call should.
      try await connection.query("SET LOCAL statement_timeout = 0", logger: logger)
      try await connection.query(
        "SELECT pg_advisory_xact_lock(\(Lock.migrations.rawValue))", logger: logger)
      try await connection.query(
        "CREATE TABLE IF NOT EXISTS ontrack_schema (version INTEGER NOT NULL)", logger: logger)
      var version = 0
      for try await v in try await connection.query(
        "SELECT COALESCE(MAX(version), 0) FROM ontrack_schema", logger: logger
      ).decode(Int.self) {
        version = v
      }
      guard version <= Self.migrations.count else {
        throw StoreError.newerSchema(
          "schema version \(version) is newer than this OnTrack's \(Self.migrations.count); use a newer ontrack"
        )
      }
      for step in version..<Self.migrations.count {
        // One statement at a time (the extended protocol takes one per query).
        for statement in Self.migrations[step].split(separator: ";")
        where !statement.allSatisfy(\.isWhitespace) {
          try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: logger)
        }
        try await connection.query(
          "INSERT INTO ontrack_schema (version) VALUES (\(step + 1))", logger: logger)
      }
    }
  }

  // MARK: Tokens

  public func addToken(hash: String, record: TokenRecord) async throws {
    let logger = logger
    try await run("storing a token") {
      try await self.client.withTransaction(logger: logger) { connection in
        try await connection.query(
          "SELECT pg_advisory_xact_lock(\(Lock.tokenNames.rawValue))", logger: logger)
        let role = record.role.rawValue
        var taken = false
        for try await exists in try await connection.query(
          """
          SELECT EXISTS (SELECT 1 FROM token WHERE name = \(record.name)
            AND NOT (role = \(role) AND therapist IS NOT DISTINCT FROM \(record.therapist)))
          """, logger: logger
        ).decode(Bool.self) {
          taken = exists
        }
        if taken { throw StoreError.nameTaken(record.name) }
        try await connection.query(
          """
          INSERT INTO token (hash, role, name, therapist, created, expires)
          VALUES (\(hash), \(role), \(record.name), \(record.therapist),
            \(Date().timeIntervalSince1970), \(record.expires))
          """, logger: logger)
      }
    }
  }

  typealias TokenRow = (String, String, String, String?, Double, Double?, Double?)

  private static func listing(_ row: TokenRow) -> TokenListing? {
    guard let role = Role(rawValue: row.1) else { return nil }
    return TokenListing(
      id: Tokens.id(ofHash: row.0), role: role, name: row.2, therapist: row.3, created: row.4,
      revoked: row.5, expires: row.6)
  }

  public func token(hash: String) async throws -> TokenRecord? {
    try await run("reading a token") {
      let rows = try await self.client.query(
        "SELECT hash, role, name, therapist, created, revoked, expires FROM token WHERE hash = \(hash)",
        logger: self.logger)
      for try await row in rows.decode(TokenRow.self) {
        if let listing = Self.listing(row) {
          return TokenRecord(
            role: listing.role, name: listing.name, therapist: listing.therapist,
            revoked: listing.revoked, expires: listing.expires)
        }
      }
      return nil
    }
  }

  public func tokens(issuedBy therapist: String?) async throws -> [TokenListing] {
    try await run("listing tokens") {
      let query: PostgresQuery =
        if let therapist {
          """
          SELECT hash, role, name, therapist, created, revoked, expires FROM token
          WHERE role = 'patient' AND therapist = \(therapist) ORDER BY created, hash
          """
        } else {
          "SELECT hash, role, name, therapist, created, revoked, expires FROM token ORDER BY created, hash"
        }
      var out: [TokenListing] = []
      for try await row in try await self.client.query(query, logger: self.logger).decode(
        TokenRow.self)
      {
        if let listing = Self.listing(row) { out.append(listing) }
      }
      return out
    }
  }

  public func revokeToken(id: String, issuedBy therapist: String?) async throws -> String? {
    guard Tokens.isValidID(id) else { return nil }
    let logger = logger
    return try await run("revoking a token") {
      try await self.client.withTransaction(logger: logger) { connection -> String? in
        var found: [(String, String, String?)] = []
        for try await row in try await connection.query(
          "SELECT hash, role, therapist FROM token WHERE substr(hash, 1, 16) = \(id) FOR UPDATE",
          logger: logger
        ).decode((String, String, String?).self) {
          found.append(row)
        }
        guard found.count == 1, let (hash, role, holder) = found.first else { return nil }
        if let therapist {
          guard role == Role.patient.rawValue, holder == therapist else { return nil }
        }
        try await connection.query(
          """
          UPDATE token SET revoked = \(Date().timeIntervalSince1970)
          WHERE hash = \(hash) AND revoked IS NULL
          """, logger: logger)
        return hash
      }
    }
  }

  public func isPatient(_ patient: String, of therapist: String) async throws -> Bool {
    try await run("checking a patient") {
      try await self.first(
        """
        SELECT EXISTS (SELECT 1 FROM token WHERE role = 'patient' AND name = \(patient)
          AND therapist = \(therapist))
        """, as: Bool.self) ?? false
    }
  }

  // MARK: Exercises

  typealias ExerciseRow = (String, Int, String, String, Double, Bool, String?)

  private static func exercise(_ row: ExerciseRow) -> ExerciseRecord {
    ExerciseRecord(
      id: row.0, version: row.1, definition: row.2, reference: row.3, created: row.4,
      deleted: row.5, owner: row.6)
  }

  private static let exerciseColumns = "id, version, definition, reference, created, deleted, owner"

  public func addExercise(id: String, owner: String?, definition: String, reference: String)
    async throws -> Int
  {
    let logger = logger
    return try await run("storing an exercise") {
      try await self.client.withTransaction(logger: logger) { connection -> Int in
        // Versions of one id are serialised by locking its rows (or, for a new id, by the
        // primary key: a concurrent first version fails and is retried by the caller).
        var latest = 0
        for try await v in try await connection.query(
          "SELECT COALESCE(MAX(version), 0) FROM exercise WHERE id = \(id)", logger: logger
        ).decode(Int.self) {
          latest = v
        }
        try await connection.query(
          """
          INSERT INTO exercise (id, version, definition, reference, created, owner)
          VALUES (\(id), \(latest + 1), \(definition), \(reference),
            \(Date().timeIntervalSince1970), \(owner))
          """, logger: logger)
        return latest + 1
      }
    }
  }

  public func exercise(id: String, version: Int?) async throws -> ExerciseRecord? {
    try await run("reading an exercise") {
      let query: PostgresQuery =
        if let version {
          "SELECT \(unescaped: Self.exerciseColumns) FROM exercise WHERE id = \(id) AND version = \(version)"
        } else {
          """
          SELECT \(unescaped: Self.exerciseColumns) FROM exercise
          WHERE id = \(id) AND NOT deleted ORDER BY version DESC LIMIT 1
          """
        }
      for try await row in try await self.client.query(query, logger: self.logger).decode(
        ExerciseRow.self)
      {
        return Self.exercise(row)
      }
      return nil
    }
  }

  public func exercises() async throws -> [ExerciseRecord] {
    try await run("listing exercises") {
      var out: [ExerciseRecord] = []
      for try await row in try await self.client.query(
        """
        SELECT e.id, e.version, e.definition, e.reference, e.created, e.deleted, e.owner
        FROM exercise e JOIN (SELECT id, MAX(version) AS v FROM exercise
          WHERE NOT deleted GROUP BY id) m ON e.id = m.id AND e.version = m.v ORDER BY e.id
        """, logger: self.logger
      ).decode(ExerciseRow.self) {
        out.append(Self.exercise(row))
      }
      return out
    }
  }

  public func exerciseVersions(id: String) async throws -> [Int] {
    try await run("listing exercise versions") {
      var out: [Int] = []
      for try await v in try await self.client.query(
        "SELECT version FROM exercise WHERE id = \(id) ORDER BY version", logger: self.logger
      ).decode(Int.self) {
        out.append(v)
      }
      return out
    }
  }

  public func deleteExercise(id: String) async throws -> Bool {
    try await run("deleting an exercise") {
      let count = try await self.first(
        """
        WITH changed AS (UPDATE exercise SET deleted = TRUE WHERE id = \(id) AND NOT deleted
          RETURNING 1) SELECT COUNT(*)::BIGINT FROM changed
        """, as: Int.self)
      return (count ?? 0) > 0
    }
  }

  public func exerciseCount() async throws -> Int {
    try await run("counting exercises") {
      try await self.first("SELECT COUNT(*)::BIGINT FROM exercise", as: Int.self) ?? 0
    }
  }

  // MARK: Sessions

  public func addSession(_ record: SessionRecord, maximumOpen: Int, maximumOpenPerPatient: Int)
    async throws
  {
    let logger = logger
    try await run("storing a session") {
      try await self.client.withTransaction(logger: logger) { connection in
        try await connection.query(
          "SELECT pg_advisory_xact_lock(\(Lock.sessionQuota.rawValue))", logger: logger)
        var open = 0
        var mine = 0
        for try await (all, theirs) in try await connection.query(
          """
          SELECT COUNT(*)::BIGINT, COUNT(*) FILTER (WHERE patient = \(record.patient))::BIGINT
          FROM session WHERE finished IS NULL
          """, logger: logger
        ).decode((Int, Int).self) {
          open = all
          mine = theirs
        }
        guard open < maximumOpen else {
          throw StoreError.quota(
            "the server has \(open) open sessions, its limit; try again when some have finished")
        }
        guard mine < maximumOpenPerPatient else {
          throw StoreError.quota(
            "\(record.patient) has \(mine) open sessions, the limit; finish one (POST /v1/sessions/ID/finish) before starting another"
          )
        }
        try await connection.query(
          """
          INSERT INTO session (
            id, patient, therapist, exercise, exercise_version, skeleton, created, programme,
            client_key)
          VALUES (\(record.id), \(record.patient), \(record.therapist), \(record.exercise),
            \(record.exerciseVersion), \(record.skeleton), \(record.created),
            \(record.programme), \(record.clientKey))
          """, logger: logger)
      }
    }
  }

  typealias SessionRow = (
    String, String, String?, String, Int, String, Double, Double?, String?, String, String?,
    String?
  )

  private static let sessionColumns =
    "s.id, s.patient, s.therapist, s.exercise, s.exercise_version, s.skeleton, s.created, s.finished, s.summary, s.rejected, s.programme, s.client_key"

  private static func session(_ row: SessionRow) -> SessionRecord {
    SessionRecord(
      id: row.0, patient: row.1, therapist: row.2, exercise: row.3, exerciseVersion: row.4,
      skeleton: row.5, created: row.6, finished: row.7, summary: row.8, rejected: row.9,
      programme: row.10, clientKey: row.11)
  }

  public func session(patient: String, clientKey: String) async throws -> SessionRecord? {
    try await run("reading a session") {
      for try await row in try await self.client.query(
        """
        SELECT \(unescaped: Self.sessionColumns) FROM session s
        WHERE s.patient = \(patient) AND s.client_key = \(clientKey)
        """,
        logger: self.logger
      ).decode(SessionRow.self) {
        return Self.session(row)
      }
      return nil
    }
  }

  public func session(id: String) async throws -> SessionRecord? {
    try await run("reading a session") {
      for try await row in try await self.client.query(
        "SELECT \(unescaped: Self.sessionColumns) FROM session s WHERE s.id = \(id)",
        logger: self.logger
      ).decode(SessionRow.self) {
        return Self.session(row)
      }
      return nil
    }
  }

  public func sessions(patient: String?, therapist: String?) async throws -> [SessionListing] {
    try await run("listing sessions") {
      let query: PostgresQuery = """
        SELECT \(unescaped: Self.sessionColumns), COUNT(r.idx)::BIGINT, AVG(r.score)
        FROM session s LEFT JOIN repetition r ON r.session = s.id
        WHERE (\(patient)::TEXT IS NULL OR s.patient = \(patient))
          AND (\(therapist)::TEXT IS NULL OR s.therapist = \(therapist))
        GROUP BY s.id ORDER BY s.created, s.id
        """
      var out: [SessionListing] = []
      for try await row in try await self.client.query(query, logger: self.logger).decode(
        (
          String, String, String?, String, Int, String, Double, Double?, String?, String,
          String?, String?, Int, Double?
        )
        .self)
      {
        let record = Self.session(
          (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10,
            row.11
          ))
        out.append(SessionListing(record: record, repetitions: row.12, meanScore: row.13))
      }
      return out
    }
  }

  public func openSessionIDs(patient: String?) async throws -> [String] {
    try await run("listing open sessions") {
      try await self.all(
        """
        SELECT id FROM session WHERE finished IS NULL
          AND (\(patient)::TEXT IS NULL OR patient = \(patient)) ORDER BY created
        """, as: String.self)
    }
  }

  public func abandonedSessionIDs(before: Double) async throws -> [String] {
    try await run("listing abandoned sessions") {
      try await self.all(
        """
        SELECT s.id FROM session s WHERE s.finished IS NULL
          AND COALESCE((SELECT MAX(f.received) FROM frame f WHERE f.session = s.id), s.created)
            < \(before)
        ORDER BY s.created
        """, as: String.self)
    }
  }

  public func finishSession(id: String, summary: String, rejected: String) async throws {
    try await run("finishing a session") {
      try await self.client.query(
        """
        UPDATE session SET finished = \(Date().timeIntervalSince1970), summary = \(summary),
          rejected = \(rejected) WHERE id = \(id)
        """, logger: self.logger)
    }
  }

  public func repetitions(session: String) async throws -> [String] {
    try await run("reading repetitions") {
      try await self.all(
        "SELECT result FROM repetition WHERE session = \(session) ORDER BY idx", as: String.self)
    }
  }

  // MARK: Frames

  public func commit(_ batch: FrameBatch) async throws {
    guard !batch.isEmpty else { return }
    let logger = logger
    try await run("storing frames") {
      try await self.client.withTransaction(logger: logger) { connection in
        for (session, counts) in batch.rejected {
          try await connection.query(
            "UPDATE session SET rejected = \(counts) WHERE id = \(session)", logger: logger)
        }
        if !batch.frames.isEmpty {
          let sessions = batch.frames.map(\.session)
          let seqs = batch.frames.map(\.seq)
          let times = batch.frames.map(\.time)
          let received = batch.frames.map(\.received)
          let channels = batch.frames.map { frame in
            frame.channels.withUnsafeBytes { ByteBuffer(bytes: $0) }
          }
          try await connection.query(
            """
            INSERT INTO frame (session, seq, time, received, channels)
            SELECT * FROM UNNEST(\(sessions)::TEXT[], \(seqs)::BIGINT[],
              \(times)::DOUBLE PRECISION[], \(received)::DOUBLE PRECISION[], \(channels)::BYTEA[])
            ON CONFLICT (session, seq) DO NOTHING
            """, logger: logger)
        }
        if !batch.repetitions.isEmpty {
          let sessions = batch.repetitions.map(\.session)
          let indices = batch.repetitions.map(\.index)
          let results = batch.repetitions.map(\.result)
          let scores = batch.repetitions.map { $0.score ?? .nan }
          try await connection.query(
            """
            INSERT INTO repetition (session, idx, result, score)
            SELECT s, i, r, NULLIF(c, 'NaN'::DOUBLE PRECISION) FROM UNNEST(\(sessions)::TEXT[],
              \(indices)::INTEGER[], \(results)::TEXT[], \(scores)::DOUBLE PRECISION[])
              AS u(s, i, r, c)
            ON CONFLICT (session, idx) DO UPDATE SET result = EXCLUDED.result, score = EXCLUDED.score
            """, logger: logger)
        }
      }
    }
  }

  public func frames(session: String, from seq: Int) async throws -> [StoredFrame] {
    try await run("reading frames") {
      var out: [StoredFrame] = []
      for try await (s, q, time, received, bytes) in try await self.client.query(
        """
        SELECT session, seq, time, received, channels FROM frame
        WHERE session = \(session) AND seq >= \(seq) ORDER BY seq
        """, logger: self.logger
      ).decode((String, Int, Double, Double, ByteBuffer).self) {
        let channels = bytes.readableBytesView.withUnsafeBytes { raw in
          [Float](unsafeUninitializedCapacity: raw.count / 4) { buffer, count in
            let stored = raw.count / 4
            if stored > 0, let base = buffer.baseAddress, let source = raw.baseAddress {
              memcpy(base, source, stored * 4)
            }
            count = stored
          }
        }
        out.append(
          StoredFrame(session: s, seq: q, time: time, received: received, channels: channels))
      }
      return out
    }
  }

  public func frameCount(session: String) async throws -> Int {
    try await run("counting frames") {
      try await self.first(
        "SELECT COUNT(*)::BIGINT FROM frame WHERE session = \(session)", as: Int.self) ?? 0
    }
  }

  // MARK: Leases

  public func acquireLease(session: String, holder: String, ttl: Double) async throws -> Bool {
    try await run("taking a session lease") {
      let now = Date().timeIntervalSince1970
      let taken = try await self.first(
        """
        WITH taken AS (
          INSERT INTO lease (session, holder, expires) VALUES (\(session), \(holder), \(now + ttl))
          ON CONFLICT (session) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
          WHERE lease.holder = EXCLUDED.holder OR lease.expires < \(now)
          RETURNING 1)
        SELECT COUNT(*)::BIGINT FROM taken
        """, as: Int.self)
      return (taken ?? 0) > 0
    }
  }

  public func renewLeases(_ sessions: [String], holder: String, ttl: Double) async throws
    -> [String]
  {
    guard !sessions.isEmpty else { return [] }
    return try await run("renewing session leases") {
      let now = Date().timeIntervalSince1970
      return try await self.all(
        """
        INSERT INTO lease (session, holder, expires)
        SELECT s, \(holder), \(now + ttl) FROM UNNEST(\(sessions)::TEXT[]) AS u(s)
        ON CONFLICT (session) DO UPDATE SET holder = EXCLUDED.holder, expires = EXCLUDED.expires
        WHERE lease.holder = EXCLUDED.holder OR lease.expires < \(now)
        RETURNING session
        """, as: String.self)
    }
  }

  public func releaseLease(session: String, holder: String) async throws {
    try await run("releasing a session lease") {
      try await self.client.query(
        "DELETE FROM lease WHERE session = \(session) AND holder = \(holder)", logger: self.logger)
    }
  }

  public func lease(session: String) async throws -> (holder: String, expires: Double)? {
    try await run("reading a session lease") {
      for try await row in try await self.client.query(
        "SELECT holder, expires FROM lease WHERE session = \(session)", logger: self.logger
      ).decode((String, Double).self) {
        return row
      }
      return nil
    }
  }

  // MARK: Maintenance

  public func check() async throws {
    try await run("checking the database") {
      _ = try await self.first("SELECT COUNT(*)::BIGINT FROM ontrack_schema", as: Int.self)
    }
  }

  /// PostgreSQL is backed up with its own tools (`pg_dump`, base backups and WAL archiving),
  /// which copy a live database consistently; OnTrack does not re-implement them.
  public func backup(to destination: URL) async throws {
    throw StoreError.failed(
      "back up a PostgreSQL store with pg_dump (or base backups and WAL archiving), not ontrack backup"
    )
  }

  public func close() async throws {
    runner.cancel()
  }

  // MARK: Helpers

  /// Runs `body`, turning driver errors into `StoreError` naming `what`.
  // MARK: Programmes

  public func addProgramme(id: String, therapist: String, patient: String, definition: String)
    async throws -> Int
  {
    let logger = logger
    return try await run("storing a programme") {
      try await self.client.withTransaction(logger: logger) { connection -> Int in
        var latest = 0
        for try await v in try await connection.query(
          "SELECT COALESCE(MAX(version), 0) FROM programme WHERE id = \(id)", logger: logger
        ).decode(Int.self) {
          latest = v
        }
        try await connection.query(
          """
          INSERT INTO programme (id, version, therapist, patient, definition, created)
          VALUES (\(id), \(latest + 1), \(therapist), \(patient), \(definition),
            \(Date().timeIntervalSince1970))
          """, logger: logger)
        return latest + 1
      }
    }
  }

  typealias ProgrammeRow = (String, Int, String, String, String, Double)
  private static let programmeColumns =
    "p.id, p.version, p.therapist, p.patient, p.definition, p.created"

  private static func programme(_ row: ProgrammeRow) -> ProgrammeRecord {
    ProgrammeRecord(
      id: row.0, version: row.1, therapist: row.2, patient: row.3, definition: row.4,
      created: row.5)
  }

  public func programme(id: String, version: Int?) async throws -> ProgrammeRecord? {
    try await run("reading a programme") {
      let query: PostgresQuery =
        if let version {
          "SELECT \(unescaped: Self.programmeColumns) FROM programme p WHERE p.id = \(id) AND p.version = \(version)"
        } else {
          "SELECT \(unescaped: Self.programmeColumns) FROM programme p WHERE p.id = \(id) ORDER BY p.version DESC LIMIT 1"
        }
      for try await row in try await self.client.query(query, logger: self.logger).decode(
        ProgrammeRow.self)
      {
        return Self.programme(row)
      }
      return nil
    }
  }

  public func programmes(patient: String?, therapist: String?) async throws -> [ProgrammeRecord] {
    try await run("listing programmes") {
      let query: PostgresQuery = """
        SELECT \(unescaped: Self.programmeColumns) FROM programme p
        WHERE p.version = (SELECT MAX(q.version) FROM programme q WHERE q.id = p.id)
          AND (\(patient)::TEXT IS NULL OR p.patient = \(patient))
          AND (\(therapist)::TEXT IS NULL OR p.therapist = \(therapist))
        ORDER BY (SELECT MIN(q.created) FROM programme q WHERE q.id = p.id), p.id
        """
      var out: [ProgrammeRecord] = []
      for try await row in try await self.client.query(query, logger: self.logger).decode(
        ProgrammeRow.self)
      {
        out.append(Self.programme(row))
      }
      return out
    }
  }

  public func programmeVersions(id: String) async throws -> [Int] {
    try await run("listing programme versions") {
      try await self.all(
        "SELECT version FROM programme WHERE id = \(id) ORDER BY version", as: Int.self)
    }
  }

  typealias DayRow = (String, String, Int?, Int?, String, Int?, Bool, Double)
  private static let dayColumns =
    "key, date, pain_before, pain_after, sessions, programme_version, complete, recorded"

  private static func programmeDay(_ row: DayRow) -> ProgrammeDay {
    let sessions = (try? JSONDecoder().decode([String].self, from: Data(row.4.utf8))) ?? []
    return ProgrammeDay(
      key: row.0, date: row.1, painBefore: row.2, painAfter: row.3, sessions: sessions,
      programmeVersion: row.5, complete: row.6, recorded: row.7)
  }

  public func addProgrammeDay(_ record: ProgrammeDayRecord) async throws -> (
    day: ProgrammeDay, added: Bool
  ) {
    let logger = logger
    let sessions = String(decoding: try JSONEncoder().encode(record.day.sessions), as: UTF8.self)
    var day = record.day
    day.recorded = Date().timeIntervalSince1970
    let fresh = day
    return try await run("storing a programme day") {
      try await self.client.withTransaction(logger: logger) { connection in
        // A concurrent upload of the same key waits for this one, then finds it stored.
        try await connection.query(
          """
          INSERT INTO programme_day (
            programme, key, patient, date, pain_before, pain_after, sessions,
            programme_version, complete, recorded)
          VALUES (\(record.programme), \(fresh.key), \(record.patient), \(fresh.date),
            \(fresh.painBefore), \(fresh.painAfter), \(sessions), \(fresh.programmeVersion),
            \(fresh.complete), \(fresh.recorded ?? 0))
          ON CONFLICT (programme, key) DO NOTHING
          """, logger: logger)
        var stored: ProgrammeDay?
        for try await row in try await connection.query(
          """
          SELECT \(unescaped: Self.dayColumns) FROM programme_day
          WHERE programme = \(record.programme) AND key = \(fresh.key)
          """, logger: logger
        ).decode(DayRow.self) {
          stored = Self.programmeDay(row)
        }
        guard let stored else { throw StoreError.failed("the programme day was not stored") }
        return (stored, stored.recorded == fresh.recorded && stored == fresh)
      }
    }
  }

  public func programmeDays(programme: String) async throws -> [ProgrammeDay] {
    try await run("listing programme days") {
      var out: [ProgrammeDay] = []
      for try await row in try await self.client.query(
        """
        SELECT \(unescaped: Self.dayColumns) FROM programme_day
        WHERE programme = \(programme) ORDER BY date, recorded, key
        """, logger: self.logger
      ).decode(DayRow.self) {
        out.append(Self.programmeDay(row))
      }
      return out
    }
  }

  /// Runs one statement or transaction, in the domain's words when it fails.
  ///
  /// A database that restarts or fails over closes its connections; the pool may still hand
  /// one of them out, or lose it under a statement. Such a failure is tried again, up to
  /// `connectionAttempts` times over about a second, when it cannot have changed anything
  /// twice: every failure but a lost answer to a COMMIT (a transaction that may have been
  /// committed), and single statements here are reads or idempotent writes.
  private func run<T: Sendable>(
    _ what: String, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    var attempt = 1
    while true {
      do {
        return try await Self.answered(within: answerTimeout, what, body)
      } catch let error as StoreError {
        throw error
      } catch {
        guard attempt < Self.connectionAttempts, Self.isLostConnection(error) else {
          throw Self.domain(error, what)
        }
        logger.warning(
          "database connection lost; trying again",
          metadata: ["during": "\(what)", "attempt": "\(attempt)"])
        try? await Task.sleep(for: .milliseconds(100 * attempt * attempt))
        attempt += 1
      }
    }
  }

  /// `duration` in whole milliseconds, from one (PostgreSQL's timeouts take 0 as none) to
  /// `Int32.max` (the most a timeout setting takes: about 24.8 days).
  static func milliseconds(_ duration: Duration) -> Int64 {
    let (seconds, attoseconds) = duration.components
    let total = seconds.multipliedReportingOverflow(by: 1000)
    guard !total.overflow, total.partialValue < Int64(Int32.max) else { return Int64(Int32.max) }
    return min(
      Int64(Int32.max), max(1, total.partialValue + attoseconds / 1_000_000_000_000_000))
  }

  /// Tries of a statement whose connection was lost (`run`).
  static let connectionAttempts = 4

  /// How long a statement or transaction may go unanswered before it is given up (`run`).
  /// PostgresNIO 1.33.2 can leave a call waiting for ever when its connection is killed under
  /// it (measured: with every backend terminated every 25 ms, one call in ~40 % of 600-frame
  /// streams never returned, and the frame writer stopped acknowledging); a lock held
  /// elsewhere does the same. 10 s by default: far longer than any statement here takes (a
  /// commit of 100,000 frames included), short enough that a client waiting for its
  /// acknowledgements (`ontrack simulate` waits 15 s) sees them resume. A call that fails
  /// fast (a database restarting) is not affected: it is retried as before.
  public let answerTimeout: Duration

  /// `body`'s result, or `StoreError.failed` once `limit` has passed without one. The call is
  /// abandoned, not stopped (PostgresNIO does not give up a call on cancellation): it may
  /// still finish later, so only what may be done twice is retried by callers (frames and
  /// repetitions are written idempotently: `ON CONFLICT`).
  static func answered<T: Sendable>(
    within limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    let outcome = Outcome<T>()
    return try await withCheckedThrowingContinuation { continuation in
      outcome.continuation.withLock { $0 = continuation }
      let timer = Task {
        try? await Task.sleep(for: limit)
        // Cancelled: the call answered (and its result is the one given).
        guard !Task.isCancelled else { return }
        outcome.finish(
          .failure(
            StoreError.unavailable("the database did not answer within \(limit) while \(what)")))
      }
      Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        outcome.finish(result)
        timer.cancel()
      }
    }
  }

  /// Resumes a continuation once, with whichever result comes first.
  private final class Outcome<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func finish(_ result: Result<T, any Error>) {
      continuation.withLock { pending in
        pending?.resume(with: result)
        pending = nil
      }
    }
  }

  /// Whether `error` says the connection went away (closed by either side, or the server
  /// shutting down or refusing connections for now), not that the statement was wrong, and
  /// not at a COMMIT whose outcome is unknown.
  static func isLostConnection(_ error: any Error) -> Bool {
    if let transaction = error as? PostgresTransactionError {
      if transaction.commitError != nil { return false }
      if let inner = transaction.closureError ?? transaction.beginError {
        return isLostConnection(inner)
      }
      return false
    }
    guard let psql = error as? PSQLError else { return false }
    switch psql.code {
    case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown:
      return true
    case .server:
      // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now; class 08:
      // connection exceptions.
      let state = psql.serverInfo?[.sqlState] ?? ""
      return state.hasPrefix("57P0") || state.hasPrefix("08")
    default:
      return false
    }
  }

  private func first<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type)
    async throws -> T?
  {
    for try await value in try await client.query(query, logger: logger).decode(T.self) {
      return value
    }
    return nil
  }

  private func all<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type)
    async throws -> [T]
  {
    var out: [T] = []
    for try await value in try await client.query(query, logger: logger).decode(T.self) {
      out.append(value)
    }
    return out
  }
}
