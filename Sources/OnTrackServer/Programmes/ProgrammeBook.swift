import Foundation
import OnTrackProtocol
import OnTrackScoring

/// Programmes: a therapist prescribes one to a patient of theirs and edits it (each edit a new
/// version); the patient reads only their own and records the days they did it; both read its
/// progress. Every call checks who is asking and throws domain errors.
public struct ProgrammeBook: Sendable {
  let store: any ServerStore
  let library: ExerciseLibrary

  /// Makes programme `definition` for one of `therapist`'s patients.
  public func create(_ definition: ProgrammeDefinition, by identity: Identity) async throws
    -> ProgrammeView
  {
    let checked = try await check(definition, by: identity)
    let id = "prg_" + Tokens.randomHex(bytes: 8)
    _ = try await store.addProgramme(
      id: id, therapist: identity.name, patient: checked.patient, definition: try encode(checked))
    return try await view(id: id, version: nil, for: identity)
  }

  /// Stores a new version of programme `id` (its therapist only).
  public func update(id: String, _ definition: ProgrammeDefinition, by identity: Identity)
    async throws -> ProgrammeView
  {
    let current = try await record(id: id, version: nil)
    guard identity.role == .therapist, current.therapist == identity.name else {
      throw ProgrammeError.notYours(
        "only the therapist who prescribed this programme may change it")
    }
    let checked = try await check(definition, by: identity)
    _ = try await store.addProgramme(
      id: id, therapist: identity.name, patient: checked.patient, definition: try encode(checked))
    return try await view(id: id, version: nil, for: identity)
  }

  /// The programmes `identity` may see, newest version of each: a patient's own, a
  /// therapist's patients'.
  public func list(for identity: Identity) async throws -> [ProgrammeView] {
    let records: [ProgrammeRecord]
    switch identity.role {
    case .patient: records = try await store.programmes(patient: identity.name, therapist: nil)
    case .therapist: records = try await store.programmes(patient: nil, therapist: identity.name)
    case .admin: throw AccessError.wrongRole("a clinic admin reads no patient's programme")
    }
    var views: [ProgrammeView] = []
    for record in records { views.append(try await view(record)) }
    return views
  }

  /// Programme `id` (at `version`, or the newest), if `identity` may read it.
  public func view(id: String, version: Int?, for identity: Identity) async throws
    -> ProgrammeView
  {
    let record = try await readable(id: id, version: version, for: identity)
    return try await view(record)
  }

  /// The newest version of programme `id`, if `identity` may read it.
  public func readable(id: String, version: Int? = nil, for identity: Identity) async throws
    -> ProgrammeRecord
  {
    let record = try await record(id: id, version: version)
    guard Self.mayRead(record, identity) else {
      throw ProgrammeError.notYours("this programme belongs to another patient")
    }
    return record
  }

  /// Records a day the patient did (the patient, or their therapist on their behalf). The
  /// sessions named must be the programme's patient's. A repeated key stores nothing new.
  public func record(day: ProgrammeDay, programme id: String, by identity: Identity)
    async throws -> (day: ProgrammeDay, added: Bool)
  {
    let record = try await readable(id: id, for: identity)
    let checked: ProgrammeDay
    do {
      checked = try day.validated()
    } catch let error as ProgrammeDefinition.Invalid {
      throw ProgrammeError.invalid(error.description)
    }
    for session in checked.sessions {
      guard let stored = try await store.session(id: session), stored.patient == record.patient
      else {
        throw ProgrammeError.invalid(
          "sessions: '\(ServerText.truncated(session))' is not one of \(record.patient)'s sessions")
      }
    }
    return try await store.addProgrammeDay(
      ProgrammeDayRecord(programme: id, patient: record.patient, day: checked))
  }

  /// Adherence, pain and results of programme `id` so far (`now`: seconds since 1970).
  public func progress(
    id: String, for identity: Identity, now: Double = Date().timeIntervalSince1970
  )
    async throws -> ProgrammeProgress
  {
    let record = try await readable(id: id, for: identity)
    let definition = try decode(record)
    let start = try await startDay(record, definition)
    let days = try await store.programmeDays(programme: id)
    let sessions = try await store.sessions(patient: record.patient, therapist: nil)
      .filter { $0.record.programme == id }

    // Weeks from the start to today (or the programme's end), the current one counted whole.
    let today = ProgrammeCalendar.day(of: now)
    var lastDay = max(today, days.compactMap { ProgrammeCalendar.day($0.date) }.max() ?? today)
    if let weeks = definition.weeks { lastDay = min(lastDay, start + weeks * 7 - 1) }
    let weekCount = lastDay < start ? 0 : (lastDay - start) / 7 + 1
    var doneDays = Set<Int>()
    for day in days where !day.sessions.isEmpty {
      if let d = ProgrammeCalendar.day(day.date), d >= start { doneDays.insert(d) }
    }
    let weeks = (0..<weekCount).map { w in
      ProgrammeProgress.Week(
        start: ProgrammeCalendar.text(start + 7 * w),
        done: doneDays.count { ($0 - start) / 7 == w }, prescribed: definition.daysPerWeek)
    }
    let done = doneDays.count { ($0 - start) / 7 < weekCount }

    // Results per exercise, a point per session, dated by the day that names it (a set
    // uploaded late keeps the patient's day), else by its creation.
    var dayOf: [String: String] = [:]
    for day in days { for session in day.sessions { dayOf[session] = day.date } }
    var trends: [String: ProgrammeProgress.ExerciseTrend] = [:]
    var order: [String] = []
    for listing in sessions {
      let exercise = listing.record.exercise
      if trends[exercise] == nil {
        trends[exercise] = .init(
          exercise: exercise, name: try await exerciseName(exercise), points: [])
        order.append(exercise)
      }
      trends[exercise]?.points.append(
        .init(
          date: dayOf[listing.record.id]
            ?? ProgrammeCalendar.text(ProgrammeCalendar.day(of: listing.record.created)),
          session: listing.record.id, meanScore: listing.meanScore,
          repetitions: listing.repetitions,
          rangeOfMotion: try await rangeOfMotion(session: listing.record.id)))
    }
    return ProgrammeProgress(
      programme: id, version: record.version, patient: record.patient, name: definition.name,
      daysPerWeek: definition.daysPerWeek,
      adherence: .init(done: done, prescribed: weekCount * definition.daysPerWeek),
      weeks: weeks, days: days, exercises: order.compactMap { trends[$0] })
  }

  /// Checks a session a client creates as part of programme `id`: the programme exists, is
  /// the patient's, and prescribes the exercise.
  func checkSession(programme id: String, patient: String, exercise: String) async throws {
    guard let record = try await store.programme(id: id, version: nil), record.patient == patient
    else {
      throw ProgrammeError.invalid(
        "programme '\(ServerText.truncated(id))' is not one of \(patient)'s programmes")
    }
    let definition = try decode(record)
    guard definition.items.contains(where: { $0.exercise == exercise }) else {
      throw ProgrammeError.invalid(
        "programme '\(ServerText.truncated(id))' does not prescribe '\(ServerText.truncated(exercise))'"
      )
    }
  }

  /// The item of programme `id` that prescribes `exercise`, as prescribed in the week of
  /// `time` (seconds since 1970; the progression rule applied), or `nil` if there is none.
  /// What a session of the programme is scored against: its repetitions and hold.
  func prescription(programme id: String, exercise: String, at time: Double) async throws
    -> ProgrammeItem?
  {
    guard let record = try await store.programme(id: id, version: nil) else { return nil }
    let definition = try decode(record)
    let start = try await startDay(record, definition)
    let week = max(0, (ProgrammeCalendar.day(of: time) - start) / 7)
    var items = definition.items
    if definition.progression != nil, week > 0 {
      items = definition.items(
        inWeek: week, weeklyMeanScores: try await weeklyMeanScores(record, start: start))
    }
    return items.first { $0.exercise == exercise }
  }

  // MARK: Parts

  static func mayRead(_ record: ProgrammeRecord, _ identity: Identity) -> Bool {
    switch identity.role {
    case .patient: record.patient == identity.name
    case .therapist: record.therapist == identity.name
    case .admin: false
    }
  }

  private func record(id: String, version: Int?) async throws -> ProgrammeRecord {
    guard let record = try await store.programme(id: id, version: version) else {
      throw ProgrammeError.notFound(
        version.map { "no version \($0) of programme '\(ServerText.truncated(id))'" }
          ?? "no programme '\(ServerText.truncated(id))'")
    }
    return record
  }

  private func check(_ definition: ProgrammeDefinition, by identity: Identity) async throws
    -> ProgrammeDefinition
  {
    guard identity.role == .therapist else {
      throw AccessError.wrongRole("only a therapist prescribes programmes")
    }
    let checked: ProgrammeDefinition
    do {
      checked = try definition.validated()
    } catch let error as ProgrammeDefinition.Invalid {
      throw ProgrammeError.invalid(error.description)
    }
    guard try await store.isPatient(checked.patient, of: identity.name) else {
      throw AccessError.notYours(
        "'\(ServerText.truncated(checked.patient))' is not one of your patients")
    }
    for (k, item) in checked.items.enumerated() {
      do {
        _ = try await library.record(id: item.exercise, version: nil, for: identity)
      } catch ExerciseError.notFound {
        throw ProgrammeError.invalid(
          "items[\(k)].exercise: no exercise '\(ServerText.truncated(item.exercise))'")
      }
    }
    return checked
  }

  private func view(_ record: ProgrammeRecord) async throws -> ProgrammeView {
    let definition = try decode(record)
    let start = try await startDay(record, definition)
    let week = max(0, (ProgrammeCalendar.day(of: Date().timeIntervalSince1970) - start) / 7)
    var today = definition.items
    if definition.progression != nil, week > 0 {
      today = definition.items(
        inWeek: week, weeklyMeanScores: try await weeklyMeanScores(record, start: start))
    }
    return ProgrammeView(
      id: record.id, version: record.version,
      versions: try await store.programmeVersions(id: record.id), therapist: record.therapist,
      created: record.created, definition: definition, today: today)
  }

  /// Mean session score per week since `start`, for the progression rule.
  private func weeklyMeanScores(_ record: ProgrammeRecord, start: Int) async throws -> [Int:
    Double]
  {
    var sums: [Int: (Double, Int)] = [:]
    var dayOf: [String: Int] = [:]
    for day in try await store.programmeDays(programme: record.id) {
      for session in day.sessions { dayOf[session] = ProgrammeCalendar.day(day.date) }
    }
    for listing in try await store.sessions(patient: record.patient, therapist: nil)
    where listing.record.programme == record.id {
      guard let score = listing.meanScore else { continue }
      let day = dayOf[listing.record.id] ?? ProgrammeCalendar.day(of: listing.record.created)
      let week = (day - start) / 7
      let sum = sums[week] ?? (0, 0)
      sums[week] = (sum.0 + score, sum.1 + 1)
    }
    return sums.mapValues { $0.0 / Double($0.1) }
  }

  /// The first day: the definition's `start`, or the day version 1 was made.
  private func startDay(_ record: ProgrammeRecord, _ definition: ProgrammeDefinition)
    async throws -> Int
  {
    if definition.start != nil { return definition.startDay(created: record.created) }
    let first = try await store.programme(id: record.id, version: 1)
    return ProgrammeCalendar.day(of: first?.created ?? record.created)
  }

  private func exerciseName(_ id: String) async throws -> String {
    guard let record = try await store.exercise(id: id, version: nil),
      let definition = try? ExerciseDefinition.decode(
        Data(record.definition.utf8), file: "exercise \(id)")
    else { return id }
    return definition.name
  }

  /// Mean over a session's repetitions of its primary (first) measure's range, degrees (its
  /// size: a measure that moves towards negative angles, as hip extension does, counts the
  /// same).
  private func rangeOfMotion(session: String) async throws -> Double? {
    let decoder = JSONDecoder()
    let ranges = try await store.repetitions(session: session).compactMap { text in
      (try? decoder.decode(RepetitionResult.self, from: Data(text.utf8)))?.measures.first
        .map { abs($0.rangeOfMotion) }
    }
    guard !ranges.isEmpty else { return nil }
    return ranges.reduce(0, +) / Double(ranges.count)
  }

  private func encode(_ definition: ProgrammeDefinition) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(definition), as: UTF8.self)
  }

  private func decode(_ record: ProgrammeRecord) throws -> ProgrammeDefinition {
    do {
      return try JSONDecoder().decode(ProgrammeDefinition.self, from: Data(record.definition.utf8))
    } catch {
      throw StoreError.failed("stored programme \(record.id)@\(record.version) does not decode")
    }
  }
}
