import Foundation
import Logging
import OnTrackClient
import OnTrackProgramme
import OnTrackProtocol
import OnTrackSimulation
import Synchronization
import Testing

@testable import OnTrackServer

/// Programmes (issue 13): prescription with owner checks, the patient's day with its outbox,
/// and the progress a therapist reads.
@Suite("Programmes")
struct ProgrammeTests {
  static let exercises = ["lbp-glute-bridge", "lbp-cat-camel", "lbp-arms-overhead"]

  static func definition(patient: String, start: String) -> ProgrammeDefinition {
    ProgrammeDefinition(
      name: "Back care, weeks 1–4", patient: patient, daysPerWeek: 3, start: start, weeks: 4,
      notes: "Stop if the pain rises above 7.",
      items: [
        // Held 7 s, not the bridge's own 5 s: the server must score the sets as prescribed.
        ProgrammeItem(
          exercise: exercises[0], sets: 2, repetitions: 2, holdSeconds: 7, restSeconds: 3),
        ProgrammeItem(exercise: exercises[1], sets: 1, repetitions: 2, restSeconds: 3),
        ProgrammeItem(exercise: exercises[2], sets: 1, repetitions: 2, restSeconds: 3),
      ],
      progression: ProgressionRule(addRepetitions: 2, minimumScore: 80, maximumRepetitions: 12))
  }

  static var today: Int { ProgrammeCalendar.day(of: Date().timeIntervalSince1970) }

  @Test(
    "a therapist prescribes to their own patients; a patient sees only their own; bad fields are named"
  )
  func prescription() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      let body = try String(
        decoding: JSONEncoder().encode(
          Self.definition(patient: "ann", start: ProgrammeCalendar.text(Self.today))),
        as: UTF8.self)
      let made = try await c.request(.post, "/v1/programmes", token: t.lee, json: body)
      #expect(made.status == .created)
      let view = try JSONDecoder().decode(ProgrammeView.self, from: Data(buffer: made.body))
      #expect(view.version == 1 && view.definition.items.count == 3)
      #expect(view.id.hasPrefix("prg_"))
      // Not Kim's patient, not a patient's to make, no token.
      #expect(
        try await c.request(.post, "/v1/programmes", token: t.kim, json: body).status == .forbidden)
      #expect(
        try await c.request(.post, "/v1/programmes", token: t.ann, json: body).status == .forbidden)
      #expect(
        try await c.request(.post, "/v1/programmes", token: nil, json: body).status
          == .unauthorized)
      // Each bad field is named.
      var wrong = Self.definition(patient: "ann", start: "2026-02-30")
      var refused = try await c.request(
        .post, "/v1/programmes", token: t.lee,
        json: String(decoding: JSONEncoder().encode(wrong), as: UTF8.self))
      #expect(refused.status == .badRequest)
      #expect(String(buffer: refused.body).contains("start"))
      wrong = Self.definition(patient: "ann", start: "2026-12-01")
      wrong.items[1].sets = 0
      refused = try await c.request(
        .post, "/v1/programmes", token: t.lee,
        json: String(decoding: JSONEncoder().encode(wrong), as: UTF8.self))
      #expect(String(buffer: refused.body).contains("items[1].sets"))
      wrong.items[1].sets = 1
      wrong.items[2].exercise = "no-such-exercise"
      refused = try await c.request(
        .post, "/v1/programmes", token: t.lee,
        json: String(decoding: JSONEncoder().encode(wrong), as: UTF8.self))
      #expect(refused.status == .badRequest)
      #expect(String(buffer: refused.body).contains("no-such-exercise"))
      #expect(
        try await c.request(.post, "/v1/programmes", token: t.lee, json: "{\"name\":1}").status
          == .badRequest)

      // Who sees what.
      let annList = try await c.json(
        .get, "/v1/programmes", token: t.ann, as: [ProgrammeView].self)
      #expect(annList.map(\.id) == [view.id])
      #expect(
        try await c.json(.get, "/v1/programmes", token: t.bob, as: [ProgrammeView].self).isEmpty)
      #expect(
        try await c.request(.get, "/v1/programmes/\(view.id)", token: t.bob).status == .forbidden)
      #expect(
        try await c.request(.get, "/v1/programmes/\(view.id)", token: t.kim).status == .forbidden)
      #expect(
        try await c.request(.get, "/v1/programmes/\(view.id)/progress", token: t.bob).status
          == .forbidden)
      #expect(
        try await c.request(.get, "/v1/programmes/prg_nope", token: t.lee).status == .notFound)

      // An edit is a new version; only its therapist may make one.
      var edited = view.definition
      edited.items[0].repetitions = 4
      let editBody = String(decoding: try JSONEncoder().encode(edited), as: UTF8.self)
      #expect(
        try await c.request(.put, "/v1/programmes/\(view.id)", token: t.ann, json: editBody)
          .status == .forbidden)
      let second = try await c.json(
        .put, "/v1/programmes/\(view.id)", token: t.lee, body: editBody, as: ProgrammeView.self)
      #expect(second.version == 2 && second.versions == [1, 2])
      #expect(second.today[0].repetitions == 4)
      let first = try await c.json(
        .get, "/v1/programmes/\(view.id)?version=1", token: t.ann, as: ProgrammeView.self)
      #expect(first.definition.items[0].repetitions == 2)

      // A day names only the patient's own sessions; a repeated key stores nothing new.
      let bobs = try await c.createSession(token: t.bob).id
      var day = ProgrammeDay(
        key: "day-key-0001", date: ProgrammeCalendar.text(Self.today), painBefore: 5,
        painAfter: 3, sessions: [bobs], programmeVersion: 2, complete: false)
      let dayBody = { String(decoding: try JSONEncoder().encode(day), as: UTF8.self) }
      refused = try await c.request(
        .post, "/v1/programmes/\(view.id)/days", token: t.ann, json: try dayBody())
      #expect(refused.status == .badRequest)
      day.sessions = []
      day.painBefore = 11
      #expect(
        try await c.request(
          .post, "/v1/programmes/\(view.id)/days", token: t.ann, json: try dayBody()
        ).status == .badRequest)
      day.painBefore = 5
      #expect(
        try await c.request(
          .post, "/v1/programmes/\(view.id)/days", token: t.ann, json: try dayBody()
        ).status == .created)
      day.painAfter = 9
      let again = try await c.request(
        .post, "/v1/programmes/\(view.id)/days", token: t.ann, json: try dayBody())
      #expect(again.status == .ok)
      #expect(
        try JSONDecoder().decode(ProgrammeDay.self, from: Data(buffer: again.body)).painAfter == 3)
    }
  }

  @Test("the progression adds repetitions for each week whose mean score reached the minimum")
  func progression() {
    let definition = Self.definition(patient: "ann", start: "2026-11-02")
    #expect(definition.items(inWeek: 0, weeklyMeanScores: [:])[0].repetitions == 2)
    #expect(definition.items(inWeek: 1, weeklyMeanScores: [0: 85])[0].repetitions == 4)
    #expect(definition.items(inWeek: 2, weeklyMeanScores: [0: 85, 1: 60])[0].repetitions == 4)
    #expect(
      definition.items(
        inWeek: 9, weeklyMeanScores: Dictionary(uniqueKeysWithValues: (0..<9).map { ($0, 90.0) }))[
          0
        ]
        .repetitions == 12)
    #expect(ProgrammeCalendar.text(ProgrammeCalendar.day("2024-02-29") ?? 0) == "2024-02-29")
    #expect(ProgrammeCalendar.day("2023-02-29") == nil)
    #expect(ProgrammeCalendar.day("1970-01-01") == 0)
  }

  @Test(
    "two days of a three-exercise programme, one through a server outage: nothing lost or doubled, adherence 2, both pains, a score trend"
  )
  func twoDaysWithAnOutage() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-programme-\(UUID())")
    let outboxFolder = folder.appendingPathComponent("outbox")
    defer { try? FileManager.default.removeItem(at: folder) }
    let outbox = try ProgrammeOutbox(folder: outboxFolder)
    let logger = {
      var logger = Logger(label: "ontrack.test")
      logger.logLevel = .warning
      return logger
    }()
    // The two days are fixed once: a run that crosses midnight must not move "today".
    let today = Self.today
    let start = today - 1
    let variation = PatientSimulator.Variation.named("demo") ?? .init()

    // Day 1 (yesterday), the server up throughout.
    let first = try await TestServer(folder: folder.appendingPathComponent("server"))
    let programme = try await first.run { c in
      let lee = ServerClient(base: try Self.base(c.port), token: first.lee)
      let view = try await lee.createProgramme(
        Self.definition(patient: "ann", start: ProgrammeCalendar.text(start)))
      let ann = ServerClient(base: try Self.base(c.port), token: first.ann)
      let uploader = ProgrammeUploader(client: ann, outbox: outbox, logger: logger)
      let flow = try await Self.flow(ann, view: view, date: start, outbox: outbox)
      try await SimulatedDay(variation: variation, painBefore: 6, painAfter: 4, seed: 3)
        .run(flow) { _ in _ = await uploader.drain() }
      let report = await uploader.drain()
      #expect(report.error == nil, "\(report)")
      #expect(outbox.isEmpty)
      #expect(flow.sets.count == 4)
      // The server scored each uploaded set as the patient's day did: with the programme's
      // repetitions and hold, to the same scores.
      let uploaded = try await lee.sessions().filter { $0.programme == view.id }
      #expect(uploaded.count == 4)
      for exercise in Self.exercises {
        let local = flow.sets.filter { $0.exercise == exercise }.compactMap(\.meanScore).sorted()
        let served = uploaded.filter { $0.exercise == exercise }.compactMap(\.meanScore).sorted()
        #expect(local.count == served.count, "\(exercise)")
        for (a, b) in zip(local, served) {
          #expect(abs(a - b) < 0.5, "\(exercise): on the patient's machine \(a), served \(b)")
        }
      }
      for session in uploaded {
        // Uploaded in batches (`ProgrammeUploader.framesPerMessage`): every frame taken once,
        // none refused.
        let detail = try await lee.session(session.id)
        #expect(detail.rejected.isEmpty, "\(detail.rejected)")
        let stored = try await first.server.store.frames(session: session.id, from: 0)
        #expect(stored.count > 100 && stored.map(\.seq) == Array(0..<stored.count))
        #expect(detail.frames == stored.count)
        let result = try #require(
          try await lee.get("/v1/sessions/\(session.id)/report", as: SessionReport.self).result)
        #expect(result.summary.prescribed == 2, "\(session.exercise)")
        if session.exercise == Self.exercises[0] {
          #expect(result.repetitions.allSatisfy { $0.hold?.target == 7 })
        }
      }
      return view
    }

    // Day 2 (today): the server goes down after the first set, the rest waits in the outbox.
    let second = try await TestServer(folder: folder.appendingPathComponent("server"))
    let (firstSetDone, firstSetSignal) = AsyncStream<Void>.makeStream()
    let (serverDown, serverDownSignal) = AsyncStream<Void>.makeStream()
    let dayTwo: Task<Int, any Error> = try await second.run { c in
      let ann = ServerClient(base: try Self.base(c.port), token: second.ann)
      let uploader = ProgrammeUploader(client: ann, outbox: outbox, logger: logger)
      let flow = try await Self.flow(ann, view: programme, date: today, outbox: outbox)
      let task = Task {
        var sets = 0
        try await SimulatedDay(variation: variation, painBefore: 5, painAfter: 2, seed: 4)
          .run(flow) { _ in
            _ = await uploader.drain()
            sets += 1
            if sets == 1 {
              firstSetSignal.yield()
              for await _ in serverDown { break }
            }
          }
        _ = await uploader.drain()
        return flow.sets.count
      }
      for await _ in firstSetDone { break }
      return task
    }
    serverDownSignal.yield()
    #expect(try await dayTwo.value == 4)
    // One set went up before the outage; three sets and the day wait.
    #expect(try outbox.sets().count == 3)
    #expect(try outbox.days().count == 1)

    // The server is back: the outbox empties, once.
    let third = try await TestServer(folder: folder.appendingPathComponent("server"))
    try await third.run { c in
      let ann = ServerClient(base: try Self.base(c.port), token: third.ann)
      let uploader = ProgrammeUploader(client: ann, outbox: outbox, logger: logger)
      let report = await uploader.drain()
      #expect(report.setsUploaded == 3 && report.daysRecorded == 1, "\(report)")
      #expect(outbox.isEmpty)
      #expect((await uploader.drain()).setsUploaded == 0)

      let lee = ServerClient(base: try Self.base(c.port), token: third.lee)
      let progress = try await lee.progress(programme.id)
      #expect(progress.adherence.done == 2)
      #expect(progress.adherence.prescribed == 3)
      #expect(progress.days.map(\.painBefore) == [6, 5])
      #expect(progress.days.map(\.painAfter) == [4, 2])
      #expect(progress.days.allSatisfy { $0.sessions.count == 4 })
      let sessions = try await lee.sessions().filter { $0.programme == programme.id }
      #expect(sessions.count == 8)
      #expect(sessions.allSatisfy { !$0.open })
      #expect(progress.exercises.map(\.exercise) == Self.exercises)
      // Two sets of the first exercise a day, one of the others: a trend of 4, 2 and 2 points.
      #expect(progress.exercises.map(\.points.count) == [4, 2, 2])
      // Each point is dated by the patient's day, not the upload's.
      let (yesterdayText, todayText) = (
        ProgrammeCalendar.text(start), ProgrammeCalendar.text(today)
      )
      #expect(
        progress.exercises[0].points.map(\.date) == [
          yesterdayText, yesterdayText, todayText, todayText,
        ])
      for trend in progress.exercises {
        #expect(trend.points.allSatisfy { ($0.meanScore ?? 0) > 0 && $0.repetitions >= 1 })
        #expect(trend.points.allSatisfy { ($0.rangeOfMotion ?? 0) > 5 }, "\(trend)")
      }
      try await DashboardCheck.run(
        port: c.port, token: third.lee, patient: "ann", progress: progress)
    }
  }

  static func base(_ port: Int) throws -> URL {
    try #require(URL(string: "http://127.0.0.1:\(port)"))
  }

  /// Today's plan of `view` with its exercises fetched from the server.
  static func flow(_ client: ServerClient, view: ProgrammeView, date: Int, outbox: ProgrammeOutbox)
    async throws -> DayFlow
  {
    var plan: [DayFlow.Planned] = []
    for item in view.today {
      let detail = try await client.exerciseDetail(item.exercise)
      plan.append(
        DayFlow.Planned(
          item: item, exercise: try await client.exercise(item.exercise, version: detail.version),
          exerciseVersion: detail.version))
    }
    return DayFlow(
      plan: plan, programme: view.id, programmeVersion: view.version,
      date: ProgrammeCalendar.text(date), outbox: outbox)
  }
}
