import Foundation
import OnTrackProtocol
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

  /// The DOM of `route` (a dashboard hash route) after its scripts ran, signed in with `token`.
  static func dom(port: Int, token: String, route: String, wait: Int = 6000) throws -> String? {
    guard let chromium else {
      #expect(!required, "chromium is not installed (ONTRACK_REQUIRE_CHROMIUM=1)")
      print("note: chromium is not installed; the dashboard check is skipped")
      return nil
    }
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
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self)
  }

  /// The attributes of every start tag in `html` that has `attribute="value"`.
  static func tags(_ html: String, with attribute: String, _ value: String) -> [[String: String]] {
    var found: [[String: String]] = []
    var rest = html[...]
    let needle = "\(attribute)=\"\(value)\""
    while let hit = rest.range(of: needle) {
      guard let open = html[..<hit.lowerBound].range(of: "<", options: .backwards),
        let close = html[hit.upperBound...].range(of: ">")
      else { break }
      let tag = String(html[open.upperBound..<close.lowerBound])
      var attributes: [String: String] = [:]
      let pattern = /([a-zA-Z-]+)="([^"]*)"/
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
    throws
  {
    guard let html = try dom(port: port, token: token, route: "/patient/\(patient)") else {
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
