import Foundation
import OnTrackScoring

// Programmes: what a therapist prescribes a patient over weeks, and what the patient did each
// day. The bodies of `/v1/programmes…`, shared by the server, the `ontrack session` client and
// the dashboard.

/// One exercise of a programme: how many sets of how many repetitions, each held how long,
/// with how long a rest between sets.
public struct ProgrammeItem: Codable, Sendable, Equatable {
  /// An exercise id of the library (`GET /v1/exercises`).
  public var exercise: String
  public var sets: Int
  public var repetitions: Int
  /// Seconds each repetition is held (for an exercise with a hold); `nil`: the exercise's own.
  public var holdSeconds: Double?
  /// Seconds of rest between sets.
  public var restSeconds: Double

  public init(
    exercise: String, sets: Int, repetitions: Int, holdSeconds: Double? = nil,
    restSeconds: Double = 30
  ) {
    self.exercise = exercise
    self.sets = sets
    self.repetitions = repetitions
    self.holdSeconds = holdSeconds
    self.restSeconds = restSeconds
  }

  /// `exercise` as this item prescribes it: its repetitions per set, and its hold time (for an
  /// exercise that holds). The same rule wherever a programme's set is scored (the patient's
  /// day on their machine, the server scoring the uploaded or streamed set), so both give the
  /// same score.
  public func prescribing(_ exercise: Exercise) -> Exercise {
    guard let clip = exercise.referenceClip else { return exercise }
    var definition = exercise.definition
    definition.repetitions = repetitions
    if let holdSeconds, definition.holdSeconds != nil {
      definition.holdSeconds = holdSeconds
    }
    guard definition != exercise.definition else { return exercise }
    return (try? Exercise(definition: definition, referenceClip: clip, file: exercise.id))
      ?? exercise
  }
}

/// How a programme grows: `addRepetitions` more repetitions per set each full week since the
/// start, as long as the patient's mean score over the previous week is at least
/// `minimumScore`, up to `maximumRepetitions`.
///
/// A week in which the mean stays below `minimumScore` (or in which nothing was done) adds
/// nothing; later weeks build on what was reached.
public struct ProgressionRule: Codable, Sendable, Equatable {
  public var addRepetitions: Int
  public var minimumScore: Double
  public var maximumRepetitions: Int?

  public init(addRepetitions: Int, minimumScore: Double, maximumRepetitions: Int? = nil) {
    self.addRepetitions = addRepetitions
    self.minimumScore = minimumScore
    self.maximumRepetitions = maximumRepetitions
  }
}

/// A programme as a therapist writes it (`POST`/`PUT /v1/programmes`, `ontrack programme
/// create --file`).
public struct ProgrammeDefinition: Codable, Sendable, Equatable {
  public var name: String
  /// The patient it is assigned to (a patient of the therapist).
  public var patient: String
  public var daysPerWeek: Int
  /// The first day, `yyyy-MM-dd` (UTC); `nil`: the day it was made.
  public var start: String?
  /// How many weeks it runs; `nil`: until replaced.
  public var weeks: Int?
  public var notes: String?
  public var items: [ProgrammeItem]
  public var progression: ProgressionRule?

  public init(
    name: String, patient: String, daysPerWeek: Int, start: String? = nil, weeks: Int? = nil,
    notes: String? = nil, items: [ProgrammeItem], progression: ProgressionRule? = nil
  ) {
    self.name = name
    self.patient = patient
    self.daysPerWeek = daysPerWeek
    self.start = start
    self.weeks = weeks
    self.notes = notes
    self.items = items
    self.progression = progression
  }

  /// Why a definition is not one: the field and the reason.
  public struct Invalid: Error, CustomStringConvertible, Equatable {
    public var description: String
  }

  /// Checks every field's range (the server checks the exercise ids against its library).
  public func validated() throws -> ProgrammeDefinition {
    func fail(_ text: String) -> Invalid { Invalid(description: text) }
    let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty, trimmed.count <= 120 else {
      throw fail("name: 1 to 120 characters")
    }
    guard !patient.isEmpty, patient.count <= 64 else { throw fail("patient: 1 to 64 characters") }
    guard (1...7).contains(daysPerWeek) else { throw fail("daysPerWeek: 1 to 7") }
    if let start, ProgrammeCalendar.day(start) == nil {
      throw fail("start: a date as yyyy-MM-dd, not '\(start.prefix(20))'")
    }
    if let weeks, !(1...104).contains(weeks) { throw fail("weeks: 1 to 104") }
    if let notes, notes.count > 2000 { throw fail("notes: at most 2000 characters") }
    guard (1...30).contains(items.count) else { throw fail("items: 1 to 30 exercises") }
    for (k, item) in items.enumerated() {
      let at = "items[\(k)]"
      guard !item.exercise.isEmpty, item.exercise.count <= 64 else {
        throw fail("\(at).exercise: an exercise id")
      }
      guard (1...20).contains(item.sets) else { throw fail("\(at).sets: 1 to 20") }
      guard (1...100).contains(item.repetitions) else { throw fail("\(at).repetitions: 1 to 100") }
      if let hold = item.holdSeconds, !(hold.isFinite && hold >= 0 && hold <= 300) {
        throw fail("\(at).holdSeconds: 0 to 300")
      }
      guard item.restSeconds.isFinite, (0...900).contains(item.restSeconds) else {
        throw fail("\(at).restSeconds: 0 to 900")
      }
    }
    if let rule = progression {
      guard (0...20).contains(rule.addRepetitions) else {
        throw fail("progression.addRepetitions: 0 to 20")
      }
      guard rule.minimumScore.isFinite, (0...100).contains(rule.minimumScore) else {
        throw fail("progression.minimumScore: 0 to 100")
      }
      if let top = rule.maximumRepetitions, !(1...100).contains(top) {
        throw fail("progression.maximumRepetitions: 1 to 100")
      }
    }
    var copy = self
    copy.name = trimmed
    return copy
  }
}

/// A programme version as the API shows it.
public struct ProgrammeView: Codable, Sendable, Equatable {
  public var id: String
  public var version: Int
  public var versions: [Int]
  public var therapist: String
  public var created: Double
  public var definition: ProgrammeDefinition
  /// The items as prescribed today, the progression rule applied.
  public var today: [ProgrammeItem]

  public init(
    id: String, version: Int, versions: [Int], therapist: String, created: Double,
    definition: ProgrammeDefinition, today: [ProgrammeItem]
  ) {
    self.id = id
    self.version = version
    self.versions = versions
    self.therapist = therapist
    self.created = created
    self.definition = definition
    self.today = today
  }
}

/// One day of a programme as the patient did it (`POST /v1/programmes/{id}/days`): pain on
/// the 0–10 numeric rating scale before and after, and the sessions done. `key` is made by
/// the client once per day record, so an upload repeated after a lost answer stores nothing
/// twice.
public struct ProgrammeDay: Codable, Sendable, Equatable {
  public var key: String
  /// `yyyy-MM-dd` (the patient's day).
  public var date: String
  public var painBefore: Int?
  public var painAfter: Int?
  public var sessions: [String]
  /// The programme version followed.
  public var programmeVersion: Int?
  /// True if every set prescribed that day was done.
  public var complete: Bool
  /// When the server stored it (seconds since 1970; set by the server).
  public var recorded: Double?

  public init(
    key: String, date: String, painBefore: Int?, painAfter: Int?, sessions: [String],
    programmeVersion: Int?, complete: Bool, recorded: Double? = nil
  ) {
    self.key = key
    self.date = date
    self.painBefore = painBefore
    self.painAfter = painAfter
    self.sessions = sessions
    self.programmeVersion = programmeVersion
    self.complete = complete
    self.recorded = recorded
  }

  /// Checks the fields a client sent.
  public func validated() throws -> ProgrammeDay {
    func fail(_ text: String) -> ProgrammeDefinition.Invalid { .init(description: text) }
    guard ClientKey.isValid(key) else { throw fail("key: \(ClientKey.rule)") }
    guard ProgrammeCalendar.day(date) != nil else {
      throw fail("date: a date as yyyy-MM-dd, not '\(date.prefix(20))'")
    }
    for (field, pain) in [("painBefore", painBefore), ("painAfter", painAfter)] {
      if let pain, !(0...10).contains(pain) { throw fail("\(field): 0 to 10") }
    }
    guard sessions.count <= 200 else { throw fail("sessions: at most 200") }
    return self
  }
}

/// `GET /v1/programmes/{id}/progress`: adherence, pain and results over the weeks.
public struct ProgrammeProgress: Codable, Sendable, Equatable {
  public struct Count: Codable, Sendable, Equatable {
    public var done: Int
    public var prescribed: Int

    public init(done: Int, prescribed: Int) {
      self.done = done
      self.prescribed = prescribed
    }
  }

  public struct Week: Codable, Sendable, Equatable {
    /// The week's first day, `yyyy-MM-dd` (weeks count from the programme's start).
    public var start: String
    public var done: Int
    public var prescribed: Int

    public init(start: String, done: Int, prescribed: Int) {
      self.start = start
      self.done = done
      self.prescribed = prescribed
    }
  }

  public struct Point: Codable, Sendable, Equatable {
    public var date: String
    public var session: String
    public var meanScore: Double?
    public var repetitions: Int
    /// Mean over the session's repetitions of the primary measure's range, degrees.
    public var rangeOfMotion: Double?

    public init(
      date: String, session: String, meanScore: Double?, repetitions: Int,
      rangeOfMotion: Double?
    ) {
      self.date = date
      self.session = session
      self.meanScore = meanScore
      self.repetitions = repetitions
      self.rangeOfMotion = rangeOfMotion
    }
  }

  public struct ExerciseTrend: Codable, Sendable, Equatable {
    public var exercise: String
    public var name: String
    public var points: [Point]

    public init(exercise: String, name: String, points: [Point]) {
      self.exercise = exercise
      self.name = name
      self.points = points
    }
  }

  public var programme: String
  public var version: Int
  public var patient: String
  public var name: String
  public var daysPerWeek: Int
  /// Days done (a day record with at least one session) of days prescribed so far.
  public var adherence: Count
  public var weeks: [Week]
  public var days: [ProgrammeDay]
  public var exercises: [ExerciseTrend]

  public init(
    programme: String, version: Int, patient: String, name: String, daysPerWeek: Int,
    adherence: Count, weeks: [Week], days: [ProgrammeDay], exercises: [ExerciseTrend]
  ) {
    self.programme = programme
    self.version = version
    self.patient = patient
    self.name = name
    self.daysPerWeek = daysPerWeek
    self.adherence = adherence
    self.weeks = weeks
    self.days = days
    self.exercises = exercises
  }
}

/// Calendar days as the programme API writes them: `yyyy-MM-dd`, counted in UTC.
public enum ProgrammeCalendar {
  /// Days since 1970-01-01 for `text`, or `nil` if it is not a real date.
  public static func day(_ text: String) -> Int? {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
      let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
      (1970...9999).contains(y), (1...12).contains(m), (1...daysIn(month: m, year: y)).contains(d)
    else { return nil }
    // Days from civil (proleptic Gregorian), after Howard Hinnant's algorithm.
    let yy = m <= 2 ? y - 1 : y
    let era = yy / 400
    let yoe = yy - era * 400
    let mp = (m + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// `yyyy-MM-dd` for a day number (days since 1970-01-01).
  public static func text(_ day: Int) -> String {
    let z = day + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    return String(format: "%04d-%02d-%02d", y, m, d)
  }

  /// The day number of `time` (seconds since 1970).
  public static func day(of time: Double) -> Int {
    Int((time / 86_400).rounded(.down))
  }

  static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }
}

extension ProgrammeDefinition {
  /// The first day (days since 1970): `start`, or the day of `created`.
  public func startDay(created: Double) -> Int {
    start.flatMap(ProgrammeCalendar.day) ?? ProgrammeCalendar.day(of: created)
  }

  /// The items as prescribed in week `week` (0 for the first) by the progression rule: each
  /// earlier week `w` whose mean score `weeklyMeanScores[w]` is at least the rule's minimum
  /// adds `addRepetitions` to every item (up to the rule's maximum, never below the item's own).
  public func items(inWeek week: Int, weeklyMeanScores: [Int: Double]) -> [ProgrammeItem] {
    guard let rule = progression, week > 0, rule.addRepetitions > 0 else { return items }
    let earned = (0..<week).count { (weeklyMeanScores[$0] ?? -1) >= rule.minimumScore }
    return items.map { item in
      var grown = item
      let top = max(rule.maximumRepetitions ?? 100, item.repetitions)
      grown.repetitions = min(top, item.repetitions + earned * rule.addRepetitions)
      return grown
    }
  }
}

/// A key a client makes once for something it creates (a session, a programme day), so that
/// repeating the request after a lost answer creates nothing twice.
public enum ClientKey {
  public static let rule = "8 to 64 letters, digits, - or _"

  public static func isValid(_ key: String) -> Bool {
    (8...64).contains(key.count)
      && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
  }
}
