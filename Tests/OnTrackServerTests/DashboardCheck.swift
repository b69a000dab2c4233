import Dispatch
import Foundation
import HummingbirdWSClient
import Logging
import OnTrackProtocol
import Synchronization
import Testing

/// Drives the therapist's dashboard in headless Chromium (Debian's `chromium`) and reads the
/// page it built: the numbers shown must be the API's. Without Chromium the check is skipped
/// with a note, unless `ONTRACK_REQUIRE_CHROMIUM=1` (CI), where that fails.
enum DashboardCheck {
  static var chromium: String? {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  static var required: Bool {
    ProcessInfo.processInfo.environment["ONTRACK_REQUIRE_CHROMIUM"] == "1"
  }

  /// Chromium's path, or nil with a note (a failure under `ONTRACK_REQUIRE_CHROMIUM=1`): the
  /// browser checks are then skipped.
  static func chromiumOrSkip() -> String? {
    guard let chromium else {
      #expect(!required, "chromium is not installed (ONTRACK_REQUIRE_CHROMIUM=1)")
      print("note: chromium is not installed; the browser check is skipped")
      return nil
    }
    return chromium
  }

  /// The DOM of `route` (a dashboard hash route) after its scripts ran, signed in with `token`.
  static func dom(port: Int, token: String, route: String, wait: Int = 6000) async throws
    -> String?
  {
    guard let chromium = chromiumOrSkip() else { return nil }
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-chromium-\(UUID())")
    defer { try? FileManager.default.removeItem(at: profile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--user-data-dir=\(profile.path)", "--virtual-time-budget=\(wait)", "--dump-dom",
      "http://127.0.0.1:\(port)/dashboard/#token=\(token)&route=\(route)",
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Reading a process's output blocks: off the concurrency pool, which the servers under
    // test share.
    let data = await offPool {
      let data = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      return data
    }
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self)
  }

  /// The attributes of every start tag in `html` that has `attribute="value"`.
  /// (`value` nil: every tag that has the attribute at all.)
  static func tags(_ html: String, with attribute: String, _ value: String?) -> [[String: String]] {
    var found: [[String: String]] = []
    var rest = html[...]
    let needle = value.map { " \(attribute)=\"\($0)\"" } ?? " \(attribute)=\""
    while let hit = rest.range(of: needle) {
      guard let open = html[..<hit.lowerBound].range(of: "<", options: .backwards),
        let close = html[hit.upperBound...].range(of: ">")
      else { break }
      let tag = String(html[open.upperBound..<close.lowerBound])
      var attributes: [String: String] = [:]
      let pattern = /([a-zA-Z0-9:_-]+)="([^"]*)"/
      for match in tag.matches(of: pattern) {
        attributes[String(match.1)] = String(match.2)
      }
      found.append(attributes)
      rest = html[close.upperBound...]
    }
    return found
  }

  /// The text of the element with `id`.
  static func text(_ html: String, id: String) -> String? {
    guard let hit = html.range(of: "id=\"\(id)\""),
      let open = html[hit.upperBound...].range(of: ">"),
      let close = html[open.upperBound...].range(of: "<")
    else { return nil }
    return String(html[open.upperBound..<close.lowerBound])
  }

  /// Signs in as the therapist, opens the patient, and checks adherence, the pain plot and
  /// each exercise's score and range plots against `progress`.
  static func run(port: Int, token: String, patient: String, progress: ProgrammeProgress)
    async throws
  {
    guard let html = try await dom(port: port, token: token, route: "/patient/\(patient)") else {
      return
    }
    #expect(
      text(html, id: "adherence")
        == "\(progress.adherence.done) of \(progress.adherence.prescribed) sessions done",
      "\(html.prefix(3000))")
    let painPoints = progress.days.reduce(0) {
      $0 + ($1.painBefore == nil ? 0 : 1) + ($1.painAfter == nil ? 0 : 1)
    }
    #expect(tags(html, with: "data-plot", "pain").first?["data-points"] == "\(painPoints)")
    let scores = tags(html, with: "data-plot", "score")
    let ranges = tags(html, with: "data-plot", "rom")
    for trend in progress.exercises {
      let shown = scores.first { $0["data-exercise"] == trend.exercise }
      #expect(shown?["data-points"] == "\(trend.points.count { $0.meanScore != nil })")
      let range = ranges.first { $0["data-exercise"] == trend.exercise }
      #expect(range?["data-points"] == "\(trend.points.count { $0.rangeOfMotion != nil })")
    }
    #expect(tags(html, with: "class", "week").count == progress.weeks.count)
    print("dashboard checked in chromium: \(text(html, id: "adherence") ?? "?")")
  }
}

/// One page in headless Chromium, driven over the DevTools protocol (a WebSocket): open a URL,
/// let it run in real time (a live page keeps its socket), read its DOM whenever wanted.
final class ChromiumPage: Sendable {
  let process: Process
  let profile: URL
  let endpoint: String

  /// Starts Chromium, or returns nil (with a note, or a failure under
  /// `ONTRACK_REQUIRE_CHROMIUM=1`) when it is not installed.
  static func start() async throws -> ChromiumPage? {
    guard let chromium = DashboardCheck.chromiumOrSkip() else { return nil }
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-chromium-\(UUID())")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile.path)",
      "about:blank",
    ]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    // Chromium says where its DevTools endpoint listens on stderr (read off the concurrency
    // pool: the read blocks).
    let (endpoint, text) = await offPool { () -> (String?, String) in
      var text = ""
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline {
        let chunk = errors.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
        if let line = text.split(separator: "\n").first(where: { $0.contains("ws://") }),
          let start = line.range(of: "ws://")
        {
          return (String(line[start.lowerBound...]).trimmingCharacters(in: .whitespaces), text)
        }
      }
      return (nil, text)
    }
    if let endpoint {
      return ChromiumPage(process: process, profile: profile, endpoint: endpoint)
    }
    process.terminate()
    Issue.record("chromium did not report its DevTools endpoint: \(text.prefix(500))")
    return nil
  }

  private init(process: Process, profile: URL, endpoint: String) {
    self.process = process
    self.profile = profile
    self.endpoint = endpoint
  }

  func stop() {
    process.terminate()
    let process = process
    let profile = profile
    // Waiting for the process blocks: not on the concurrency pool.
    DispatchQueue.global().async {
      process.waitUntilExit()
      try? FileManager.default.removeItem(at: profile)
    }
  }

  /// Opens `url`, waits until `ready` (a JavaScript expression) is true, then after each of
  /// `pauses` returns the page's DOM.
  func snapshots(of url: String, readyWhen ready: String, after pauses: [Duration]) async throws
    -> [String]
  {
    try await evaluate(
      url, readyWhen: ready, steps: pauses.map { ($0, "document.documentElement.outerHTML") })
  }

  /// Opens `url`, waits until `ready` (a JavaScript expression) is true in the page — checked
  /// every 100 ms for at most `patience`, so a browser slowed by a busy machine is waited for
  /// rather than read too early — then for each step waits its pause and evaluates its
  /// expression, returning each value as text (an expression may be a promise). A page never
  /// ready is recorded as an issue and returns nothing.
  func evaluate(
    _ url: String, readyWhen ready: String, patience: Duration = .seconds(30),
    steps: [(pause: Duration, expression: String)]
  ) async throws -> [String] {
    var logger = Logger(label: "ontrack.test.cdp")
    logger.logLevel = .critical
    var configuration = WebSocketClientConfiguration()
    configuration.maxFrameSize = 1 << 24
    let found = Mutex<[String]>([])
    _ = try await WebSocketClient.connect(
      url: endpoint, configuration: configuration, logger: logger
    ) { inbound, outbound, _ in
      var messages = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
      var next = 0
      func call(_ method: String, _ params: [String: Any], session: String? = nil) async throws
        -> [String: Any]
      {
        next += 1
        var body: [String: Any] = ["id": next, "method": method, "params": params]
        if let session { body["sessionId"] = session }
        let data = try JSONSerialization.data(withJSONObject: body)
        try await outbound.writeTextMessage(String(decoding: data, as: UTF8.self))
        while let message = try await messages.next() {
          guard case .text(let text) = message,
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            object["id"] as? Int == next
          else { continue }
          return object["result"] as? [String: Any] ?? [:]
        }
        return [:]
      }
      let target = try await call("Target.createTarget", ["url": url])
      guard let id = target["targetId"] as? String else { return }
      let attached = try await call("Target.attachToTarget", ["targetId": id, "flatten": true])
      guard let session = attached["sessionId"] as? String else { return }
      func value(of expression: String) async throws -> String {
        let result = try await call(
          "Runtime.evaluate",
          [
            "expression": "Promise.resolve(\(expression)).then(String)",
            "returnByValue": true, "awaitPromise": true,
          ],
          session: session)
        return (result["result"] as? [String: Any])?["value"] as? String ?? ""
      }
      let deadline = ContinuousClock.now + patience
      while try await value(of: "Boolean(\(ready))") != "true" {
        guard ContinuousClock.now < deadline else {
          Issue.record("the page was not ready (\(ready)) within \(patience)")
          return
        }
        try await Task.sleep(for: .milliseconds(100))
      }
      for (pause, expression) in steps {
        try await Task.sleep(for: pause)
        let result = try await value(of: expression)
        found.withLock { $0.append(result) }
      }
      try? await outbound.close(.normalClosure, reason: nil)
    }
    return found.withLock { $0 }
  }
}

/// Runs blocking work (a process's pipes) on a dispatch thread and waits for it without
/// holding a thread of the concurrency pool, which the servers under test need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(returning: body()) }
  }
}

/// Runs `program` and waits for it off the concurrency pool (a program that talks to an
/// in-process server needs the pool free to be answered), draining both pipes at once so
/// neither can fill and stall it. Returns its exit status, standard output and errors.
func runProgram(_ program: URL, _ arguments: [String], workingDirectory: URL? = nil)
  async throws -> (status: Int32, output: String, errors: String)
{
  let process = Process()
  process.executableURL = program
  process.arguments = arguments
  if let workingDirectory { process.currentDirectoryURL = workingDirectory }
  // Should it crash, the crashing thread's frames in a few lines (the message keeps the end).
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] =
    "enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none,limit=40,top=12"
  process.environment = environment
  let output = Pipe()
  let errors = Pipe()
  process.standardOutput = output
  process.standardError = errors
  try process.run()
  let (text, problems) = await offPool { () -> (String, String) in
    let group = DispatchGroup()
    let problems = Mutex("")
    DispatchQueue.global().async(group: group) {
      let data = errors.fileHandleForReading.readDataToEndOfFile()
      problems.withLock { $0 = String(decoding: data, as: UTF8.self) }
    }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    group.wait()
    process.waitUntilExit()
    return (text, problems.withLock { $0 })
  }
  return (process.terminationStatus, text, problems)
}
