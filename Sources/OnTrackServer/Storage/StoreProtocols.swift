import Foundation
import OnTrackProtocol

// The server's durable state, one protocol per aggregate. Every call is `async`: an
// implementation does its I/O off the caller's thread (GRDB's queues, PostgresNIO's event
// loops), so route handlers and listeners never block. `SQLiteStore` and `PostgresStore`
// implement all of them and pass the same contract tests (`StoreContractTests`).

/// Bearer tokens, stored only as their SHA-256 hashes.
public protocol TokenStore: Sendable {
  /// Stores a token. A name belongs to one holder (sessions are filed under it): a name
  /// already held by someone else (another role, or a patient of another therapist) is
  /// refused with `StoreError.nameTaken`; the same holder may hold several tokens.
  func addToken(hash: String, record: TokenRecord) async throws
  func token(hash: String) async throws -> TokenRecord?
  /// Every token, or only the patient tokens issued by `therapist`, oldest first.
  func tokens(issuedBy therapist: String?) async throws -> [TokenListing]
  /// Revokes the token with `id` (the first 16 hex digits of its hash), if `therapist` is nil
  /// or issued it. Returns its hash, or `nil` if there is no such token (or it is not theirs).
  /// Revoking a revoked token keeps its first revocation time.
  func revokeToken(id: String, issuedBy therapist: String?) async throws -> String?
  /// True if a patient token named `patient` was issued under `therapist`.
  func isPatient(_ patient: String, of therapist: String) async throws -> Bool
}

/// The versioned exercise library.
public protocol ExerciseStore: Sendable {
  /// Adds a version (1 for a new id) and returns its number.
  func addExercise(id: String, owner: String?, definition: String, reference: String)
    async throws -> Int
  /// The newest live version, or the given version (deleted ones included: sessions keep
  /// theirs).
  func exercise(id: String, version: Int?) async throws -> ExerciseRecord?
  /// The newest live version of every exercise, by id.
  func exercises() async throws -> [ExerciseRecord]
  func exerciseVersions(id: String) async throws -> [Int]
  /// Marks every version deleted; false if there was none live.
  func deleteExercise(id: String) async throws -> Bool
  /// Versions stored, deleted ones included.
  func exerciseCount() async throws -> Int
}

/// Sessions and their summaries.
public protocol SessionStore: Sendable {
  /// Stores a new session unless that would leave more than `maximumOpen` sessions open in
  /// all, or more than `maximumOpenPerPatient` open for its patient: then it throws
  /// `StoreError.quota` and stores nothing. The check and the insert are one transaction.
  func addSession(_ record: SessionRecord, maximumOpen: Int, maximumOpenPerPatient: Int)
    async throws
  func session(id: String) async throws -> SessionRecord?
  /// Sessions a patient owns, or a therapist looks after, oldest first, with their stored
  /// repetition counts and mean scores.
  func sessions(patient: String?, therapist: String?) async throws -> [SessionListing]
  /// Ids of sessions not finished, oldest first (optionally one patient's).
  func openSessionIDs(patient: String?) async throws -> [String]
  /// Sessions not finished whose newest frame (or creation, without frames) is older than
  /// `before` (seconds since 1970), oldest first.
  func abandonedSessionIDs(before: Double) async throws -> [String]
  func finishSession(id: String, summary: String, rejected: String) async throws
  /// Repetition results (JSON) in order.
  func repetitions(session: String) async throws -> [String]
  /// The session `patient` created under `clientKey`, if any.
  func session(patient: String, clientKey: String) async throws -> SessionRecord?
}

/// Programmes (versioned, like exercises) and the days patients did them.
public protocol ProgrammeStore: Sendable {
  /// Adds a version of programme `id` (1 for a new id) and returns its number.
  func addProgramme(id: String, therapist: String, patient: String, definition: String)
    async throws -> Int
  /// The newest version, or the given one.
  func programme(id: String, version: Int?) async throws -> ProgrammeRecord?
  /// The newest version of every programme for `patient` and/or by `therapist` (nil: any),
  /// oldest first.
  func programmes(patient: String?, therapist: String?) async throws -> [ProgrammeRecord]
  func programmeVersions(id: String) async throws -> [Int]
  /// Stores a day unless one with the same programme and key is stored: then nothing changes
  /// and the stored one is returned. Returns the day as stored and whether it was new.
  func addProgrammeDay(_ record: ProgrammeDayRecord) async throws -> (
    day: ProgrammeDay, added: Bool
  )
  /// A programme's days, by date then time recorded.
  func programmeDays(programme: String) async throws -> [ProgrammeDay]
}

/// Every frame received, and the repetitions scored from them.
public protocol FrameStore: Sendable {
  /// Writes the batch in one transaction (a group commit).
  func commit(_ batch: FrameBatch) async throws
  /// Frames of a session in sequence order, from `seq` on.
  func frames(session: String, from seq: Int) async throws -> [StoredFrame]
  func frameCount(session: String) async throws -> Int
}

/// Which server scores a live session: a lease per session with an expiry, so that servers
/// sharing one database never score or write the same session at once.
public protocol LeaseStore: Sendable {
  /// Takes or renews the lease on `session` for `holder` until `now + ttl` (seconds since
  /// 1970): succeeds if nobody holds it, `holder` does, or the holder's lease has expired.
  /// Returns false (and changes nothing) if another holder's lease is still running.
  func acquireLease(session: String, holder: String, ttl: Double) async throws -> Bool
  /// Extends `holder`'s leases on `sessions` to `now + ttl` (taking any that nobody holds);
  /// returns the sessions it holds now (one that expired and was taken by another server is
  /// not among them).
  func renewLeases(_ sessions: [String], holder: String, ttl: Double) async throws -> [String]
  /// Gives up `holder`'s lease on `session` (nothing if another holds it).
  func releaseLease(session: String, holder: String) async throws
  /// Who holds `session` and until when (seconds since 1970), if anyone.
  func lease(session: String) async throws -> (holder: String, expires: Double)?
}

/// The whole store: every aggregate, and what an operator needs of it.
public protocol ServerStore: TokenStore, ExerciseStore, SessionStore, FrameStore, LeaseStore,
  ProgrammeStore
{
  /// Checks the database's integrity (SQLite's `quick_check`); throws `StoreError.damaged`.
  func check() async throws
  /// Writes a consistent copy of the whole database to `destination` while it is in use.
  func backup(to destination: URL) async throws
  /// Writes everything out (a WAL checkpoint) before a clean shutdown.
  func close() async throws
  /// Where it lives, for logs (never a password).
  var location: String { get }
}

/// What can go wrong in a store, in the domain's words.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A token was asked for under a name someone else holds.
  case nameTaken(String)
  /// The database failed its integrity check.
  case damaged(String)
  /// The database was written by a newer OnTrack (its schema version is unknown here).
  case newerSchema(String)
  /// A limit would be exceeded; the message says which.
  case quota(String)
  /// The database cannot be reached, or did not answer, for now: the same request may
  /// succeed if tried again shortly.
  case unavailable(String)
  /// Anything else the database said.
  case failed(String)

  public var description: String {
    switch self {
    case .nameTaken(let name):
      "the name '\(name.prefix(64))' already belongs to another holder; choose another"
    case .damaged(let detail): "the database is damaged: \(detail)"
    case .newerSchema(let detail): "the database is newer than this OnTrack: \(detail)"
    case .quota(let detail), .unavailable(let detail), .failed(let detail): detail
    }
  }
}
