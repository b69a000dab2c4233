import ArgumentParser
import Foundation
import Logging
import OnTrackApp
import OnTrackClient
import OnTrackProgramme
import OnTrackProtocol
import OnTrackScoring
import OnTrackServerCommands
import OnTrackSimulation

/// `ontrack session`: today's session of a programme.
struct SessionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "session",
    abstract:
      "Do today's session of your programme: pain rating, each exercise shown, sets with rests, a summary.",
    discussion: """
      With --server and --token the programme comes from the server (your newest, or \
      --programme ID) and each set is uploaded as a session of it as soon as it is done; with \
      --programme-file it comes from a file (a programme definition, or `ontrack programme \
      show ID --json` output, which names the programme so results can be uploaded later). \
      Results wait in the outbox (--outbox) whenever the server cannot be reached and are \
      uploaded on the next run, or with --upload-only; nothing is lost or stored twice. In the \
      window: 0–9 and 1 then 0 rate pain (Enter skips), Space skips the guide, a rest or \
      ends a set, S mutes the voice, [ ] volume, T large text, Esc quits. --headless runs a \
      simulated patient through the day instead, as fast as the machine allows.
      """)

  @Option(help: "The server, http://HOST:PORT.")
  var server: String?

  @Option(help: "Your token.")
  var token: String?

  @Option(help: "The programme id on the server (default: your newest).")
  var programme: String?

  @Option(help: "A programme file for offline use (definition or `programme show --json`).")
  var programmeFile: String?

  @Option(help: "Where results wait until uploaded.")
  var outbox: String = ProgrammeOutbox.defaultFolder.path

  @Flag(help: "Only upload what the outbox holds.")
  var uploadOnly = false

  @Flag(help: "No window: a simulated patient does the day.")
  var headless = false

  @Option(
    help:
      "The simulated patient (with --headless or --simulate): demo, slow, shallow, noisy, compensate, drop, perfect."
  )
  var variation = "demo"

  @Flag(help: "In the window: a simulated patient instead of the camera.")
  var simulate = false

  @Option(help: "The camera (without --simulate): a device such as /dev/video0, or a video file.")
  var camera = "/dev/video0"

  @Option(help: "Frames per second of the simulated patient.")
  var rate = 30.0

  @Option(help: "Pain before (0–10) for --headless.")
  var painBefore: Int?

  @Option(help: "Pain after (0–10) for --headless.")
  var painAfter: Int?

  @Option(help: "The day to record, yyyy-MM-dd (default: today, UTC).")
  var date: String?

  @Option(
    help:
      "With --headless: go through the day as the window does and save a picture of each stage (PNG) in this folder."
  )
  var stills: String?

  @Option(help: "The exercise library folder (offline).")
  var library: String = BundledExercises.path

  @Flag(help: "Print the day's summary as JSON.")
  var json = false

  func validate() throws {
    if (server == nil) != (token == nil) {
      throw ValidationError("--server and --token go together")
    }
    if server == nil && programmeFile == nil && !uploadOnly {
      throw ValidationError("give --server and --token, or --programme-file")
    }
    if uploadOnly && server == nil { throw ValidationError("--upload-only needs --server") }
    for (name, value) in [("--pain-before", painBefore), ("--pain-after", painAfter)] {
      if let value, !(0...10).contains(value) { throw ValidationError("\(name): 0 to 10") }
    }
    if let date, ProgrammeCalendar.day(date) == nil {
      throw ValidationError("--date: yyyy-MM-dd, not \(date)")
    }
    if PatientSimulator.Variation.named(variation) == nil {
      throw ValidationError("unknown variation '\(variation)'")
    }
  }

  /// A day's summary, as `--json` prints it.
  struct DaySummary: Encodable {
    struct Set: Encodable {
      var exercise: String
      var set: Int
      var repetitions: Int
      var prescribed: Int
      var meanScore: Double?
    }
    var programme: String?
    var date: String
    var painBefore: Int?
    var painAfter: Int?
    var complete: Bool
    var meanScore: Double?
    var sets: [Set]
    var uploaded: Int
    var waiting: Int
    var uploadError: String?
  }

  func run() async throws {
    var logger = Logger(label: "ontrack.session")
    logger.logLevel = .warning
    let box = try ProgrammeOutbox(folder: URL(fileURLWithPath: outbox))
    let client = try server.map { server in
      guard let url = URL(string: server) else {
        throw ValidationError("--server: not a URL: \(server)")
      }
      return ServerClient(base: try ServerClient.base(of: url), token: token ?? "")
    }
    let uploader = client.map { ProgrammeUploader(client: $0, outbox: box, logger: logger) }
    // What an earlier day left behind goes first.
    if let uploader, !box.isEmpty {
      let report = await uploader.drain()
      Output.warn(
        "outbox: \(report.setsUploaded) sets and \(report.daysRecorded) days uploaded, \(report.setsLeft + report.daysLeft) waiting\(report.error.map { " (\($0))" } ?? "")"
      )
    }
    if uploadOnly { return }

    let (id, version, items, fetch) = try await prescription(client)
    var plan: [DayFlow.Planned] = []
    for item in items {
      let (exercise, exerciseVersion) = try await fetch(item.exercise)
      plan.append(
        DayFlow.Planned(item: item, exercise: exercise, exerciseVersion: exerciseVersion))
    }
    let today =
      date ?? ProgrammeCalendar.text(ProgrammeCalendar.day(of: Date().timeIntervalSince1970))
    let flow = DayFlow(
      plan: plan, programme: id, programmeVersion: version, date: today, outbox: box)
    var uploaded = 0
    var lastError: String?
    let afterSet: (DayFlow.SetSummary) async -> Void = { set in
      guard let uploader else { return }
      let report = await uploader.drain()
      uploaded += report.setsUploaded
      lastError = report.error
    }
    let variation = PatientSimulator.Variation.named(variation) ?? PatientSimulator.Variation()
    if headless, let stills {
      try await Self.photographDay(
        flow, variation: variation, painBefore: painBefore, painAfter: painAfter,
        folder: URL(fileURLWithPath: stills), afterSet: afterSet)
    } else if headless {
      try await SimulatedDay(
        variation: variation, rate: rate, painBefore: painBefore, painAfter: painAfter
      ).run(flow, afterSet: afterSet)
    } else {
      if simulate {
        try await ProgrammeDayWindow(flow: flow, patient: .simulated(variation))
          .run { set in await afterSet(set) }
      } else {
        try await Self.cameraDay(flow, camera: camera, afterSet: afterSet)
      }
    }
    if let uploader {
      let report = await uploader.drain()
      uploaded += report.setsUploaded
      lastError = report.error
    }
    let waiting = (try? box.sets().count + box.days().count) ?? 0
    let summary = DaySummary(
      programme: id, date: today, painBefore: flow.painBefore, painAfter: flow.painAfter,
      complete: flow.isComplete, meanScore: flow.meanScore,
      sets: flow.sets.map {
        .init(
          exercise: $0.exercise, set: $0.set + 1, repetitions: $0.repetitions,
          prescribed: $0.prescribed, meanScore: $0.meanScore)
      }, uploaded: uploaded, waiting: waiting, uploadError: waiting > 0 ? lastError : nil)
    if json {
      Output.write(try Output.json(summary))
      return
    }
    var text =
      "\(today): pain \(flow.painBefore.map(String.init) ?? "–") → \(flow.painAfter.map(String.init) ?? "–")\n"
    for set in flow.sets {
      text +=
        "  \(set.exerciseName), set \(set.set + 1): \(set.repetitions)/\(set.prescribed) repetitions, score \(set.meanScore.map { Output.fixed($0, 0) } ?? "–")\n"
    }
    text += flow.isComplete ? "Every set done.\n" : "Not every set was done.\n"
    if client != nil {
      text +=
        waiting == 0
        ? "Uploaded.\n"
        : "\(waiting) results wait in \(outbox) and go up on the next run (\(lastError ?? "server unreachable")).\n"
    } else {
      text += "\(waiting) results wait in \(outbox).\n"
    }
    Output.write(text)
  }

  /// The day as the window shows it, on the display clock without a window: a picture as
  /// each stage begins (and halfway through each set), the pain typed as keys would.
  static func photographDay(
    _ flow: DayFlow, variation: PatientSimulator.Variation, painBefore: Int?, painAfter: Int?,
    folder: URL, afterSet: (DayFlow.SetSummary) async -> Void
  ) async throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let renderer = try HeadlessRenderer(width: 1280, height: 720)
    let day = ProgrammeDayScene(flow: flow, simulating: variation)
    let step = HeadlessRenderer.step
    var shot = 0
    var lastStage: DayFlow.Stage?
    var filed = flow.sets.count
    func save(_ name: String) throws {
      guard let image = renderer.render(day) else { return }
      shot += 1
      let file = folder.appendingPathComponent(String(format: "%02d-%@.png", shot, name))
      try image.writePNG(to: file)
      Output.write("\(file.path)\n")
    }
    try day.advance(by: step)
    var steps = 0
    while !flow.isFinished, steps < 10_000_000 {
      steps += 1
      if flow.stage != lastStage {
        lastStage = flow.stage
        try save(Self.name(of: flow.stage))
        if flow.asksPain {
          let value = flow.stage == .painBefore ? painBefore : painAfter
          for digit in value.map({ String($0) }) ?? "" {
            day.type(digit: Int(String(digit)) ?? 0)
          }
          try save(Self.name(of: flow.stage) + "-typed")
          try day.confirmPain()
          continue
        }
      }
      if case .exercising(let i, _) = flow.stage, abs(flow.stageTime - 2.5) < step / 2, i == 0 {
        try save(Self.name(of: flow.stage) + "-moving")
      }
      try day.advance(by: step)
      if flow.sets.count > filed {
        filed = flow.sets.count
        if let set = flow.sets.last { await afterSet(set) }
      }
    }
    try save("summary")
  }

  static func name(of stage: DayFlow.Stage) -> String {
    switch stage {
    case .painBefore: "pain-before"
    case .demonstrate(let i): "item\(i + 1)-guide"
    case .exercising(let i, let set): "item\(i + 1)-set\(set + 1)"
    case .setSummary(let i, let set): "item\(i + 1)-set\(set + 1)-summary"
    case .rest(let i, let set): "item\(i + 1)-rest-before-set\(set + 1)"
    case .painAfter: "pain-after"
    case .summary: "summary"
    }
  }

  /// The day in the window with the webcam as the patient: MediaPipe's pose helper, its
  /// keypoints solved onto the canonical skeleton, running for the whole day.
  static func cameraDay(
    _ flow: DayFlow, camera: String, afterSet: @escaping (DayFlow.SetSummary) async -> Void
  ) async throws {
    let helper: CameraHelper
    do {
      helper = try CameraHelper(CameraHelper.Options(source: camera))
    } catch {
      throw ValidationError(
        "\(error.message) (run `ontrack camera install` once, or pass --simulate)")
    }
    defer { helper.stop() }
    let source = try CameraRunCommand.liveSource(helper)
    try await ProgrammeDayWindow(flow: flow, patient: .live(source)).run(afterSet: afterSet)
  }

  typealias Fetch = (String) async throws -> (Exercise, Int?)

  /// The programme's id and version, today's items, and how to load an exercise.
  private func prescription(_ client: ServerClient?) async throws -> (
    String?, Int?, [ProgrammeItem], Fetch
  ) {
    let library = URL(fileURLWithPath: self.library)
    if let programmeFile {
      let data = try Data(contentsOf: URL(fileURLWithPath: programmeFile))
      let local: Fetch = { id in (try Exercise.find(id, library: library), nil) }
      struct Shown: Decodable { var programme: ProgrammeView }
      if let shown = try? JSONDecoder().decode(Shown.self, from: data) {
        return (shown.programme.id, shown.programme.version, shown.programme.today, local)
      }
      if let view = try? JSONDecoder().decode(ProgrammeView.self, from: data) {
        return (view.id, view.version, view.today, local)
      }
      let definition = try ProgrammeFile.read(programmeFile)
      return (nil, nil, definition.items, local)
    }
    guard let client else { throw ValidationError("no programme") }
    let view: ProgrammeView
    if let programme {
      view = try await client.programme(programme)
    } else {
      guard let newest = try await client.programmes().last else {
        throw ValidationError("no programme has been prescribed to you yet")
      }
      view = newest
    }
    let remote: Fetch = { id in
      let detail = try await client.exerciseDetail(id)
      return (try await client.exercise(id, version: detail.version), detail.version)
    }
    return (view.id, view.version, view.today, remote)
  }
}
