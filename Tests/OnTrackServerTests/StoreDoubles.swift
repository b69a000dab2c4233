import Foundation
import OnTrackProtocol
import Synchronization

@testable import OnTrackServer

/// The SQLite store with commits that fail on demand: an injected write error (an I/O error, a
/// full disk) for the frame writer to survive.
final class FailingStore: ServerStore {
  let base: SQLiteStore
  /// Commits still to fail.
  let failures = Atomic<Int>(0)
  /// Commits attempted (failed or not).
  let attempts = Atomic<Int>(0)
  /// Session creations still to refuse as `StoreError.unavailable` (a database out of reach).
  let unavailableCreations = Atomic<Int>(0)

  struct InjectedFailure: Error, CustomStringConvertible {
    var description: String { "injected write error (disk I/O error)" }
  }

  init(base: SQLiteStore) {
    self.base = base
  }

  func commit(_ batch: FrameBatch) async throws {
    attempts.add(1, ordering: .relaxed)
    if failures.load(ordering: .relaxed) > 0 {
      failures.subtract(1, ordering: .relaxed)
      throw InjectedFailure()
    }
    try await base.commit(batch)
  }

  func addToken(hash: String, record: TokenRecord) async throws {
    try await base.addToken(hash: hash, record: record)
  }
  func token(hash: String) async throws -> TokenRecord? { try await base.token(hash: hash) }
  func tokens(issuedBy therapist: String?) async throws -> [TokenListing] {
    try await base.tokens(issuedBy: therapist)
  }
  func revokeToken(id: String, issuedBy therapist: String?) async throws -> String? {
    try await base.revokeToken(id: id, issuedBy: therapist)
  }
  func isPatient(_ patient: String, of therapist: String) async throws -> Bool {
    try await base.isPatient(patient, of: therapist)
  }
  func addExercise(id: String, owner: String?, definition: String, reference: String)
    async throws -> Int
  {
    try await base.addExercise(id: id, owner: owner, definition: definition, reference: reference)
  }
  func exercise(id: String, version: Int?) async throws -> ExerciseRecord? {
    try await base.exercise(id: id, version: version)
  }
  func exercises() async throws -> [ExerciseRecord] { try await base.exercises() }
  func exerciseVersions(id: String) async throws -> [Int] {
    try await base.exerciseVersions(id: id)
  }
  func deleteExercise(id: String) async throws -> Bool { try await base.deleteExercise(id: id) }
  func exerciseCount() async throws -> Int { try await base.exerciseCount() }
  func addSession(_ record: SessionRecord, maximumOpen: Int, maximumOpenPerPatient: Int)
    async throws
  {
    if unavailableCreations.load(ordering: .relaxed) > 0 {
      unavailableCreations.subtract(1, ordering: .relaxed)
      throw StoreError.unavailable("injected: the database cannot be reached")
    }
    try await base.addSession(
      record, maximumOpen: maximumOpen, maximumOpenPerPatient: maximumOpenPerPatient)
  }
  func session(id: String) async throws -> SessionRecord? { try await base.session(id: id) }
  func sessions(patient: String?, therapist: String?) async throws -> [SessionListing] {
    try await base.sessions(patient: patient, therapist: therapist)
  }
  func openSessionIDs(patient: String?) async throws -> [String] {
    try await base.openSessionIDs(patient: patient)
  }
  func abandonedSessionIDs(before: Double) async throws -> [String] {
    try await base.abandonedSessionIDs(before: before)
  }
  func finishSession(id: String, summary: String, rejected: String) async throws {
    try await base.finishSession(id: id, summary: summary, rejected: rejected)
  }
  func repetitions(session: String) async throws -> [String] {
    try await base.repetitions(session: session)
  }
  func session(patient: String, clientKey: String) async throws -> SessionRecord? {
    try await base.session(patient: patient, clientKey: clientKey)
  }
  func addProgramme(id: String, therapist: String, patient: String, definition: String)
    async throws -> Int
  {
    try await base.addProgramme(
      id: id, therapist: therapist, patient: patient, definition: definition)
  }
  func programme(id: String, version: Int?) async throws -> ProgrammeRecord? {
    try await base.programme(id: id, version: version)
  }
  func programmes(patient: String?, therapist: String?) async throws -> [ProgrammeRecord] {
    try await base.programmes(patient: patient, therapist: therapist)
  }
  func programmeVersions(id: String) async throws -> [Int] {
    try await base.programmeVersions(id: id)
  }
  func addProgrammeDay(_ record: ProgrammeDayRecord) async throws -> (
    day: ProgrammeDay, added: Bool
  ) {
    try await base.addProgrammeDay(record)
  }
  func programmeDays(programme: String) async throws -> [ProgrammeDay] {
    try await base.programmeDays(programme: programme)
  }
  func frames(session: String, from seq: Int) async throws -> [StoredFrame] {
    try await base.frames(session: session, from: seq)
  }
  func frameCount(session: String) async throws -> Int {
    try await base.frameCount(session: session)
  }
  func acquireLease(session: String, holder: String, ttl: Double) async throws -> Bool {
    try await base.acquireLease(session: session, holder: holder, ttl: ttl)
  }
  func renewLeases(_ sessions: [String], holder: String, ttl: Double) async throws -> [String] {
    try await base.renewLeases(sessions, holder: holder, ttl: ttl)
  }
  func releaseLease(session: String, holder: String) async throws {
    try await base.releaseLease(session: session, holder: holder)
  }
  func lease(session: String) async throws -> (holder: String, expires: Double)? {
    try await base.lease(session: session)
  }
  func check() async throws { try await base.check() }
  func backup(to destination: URL) async throws { try await base.backup(to: destination) }
  func close() async throws { try await base.close() }
  var location: String { base.location }
}
