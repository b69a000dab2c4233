import Foundation
import OnTrackKinematics
import OnTrackProtocol
import Synchronization
import Testing

@testable import OnTrackServer

/// The therapist's dashboard in a real browser (headless Chromium).
@Suite("Dashboard", .serialized)
struct DashboardTests {
  @Test(
    "the pages are served with a strict policy; the live view draws the patient and moves while they stream"
  )
  func liveView() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let reference = try #require(exercise.referenceClip)
    try await t.run { c in
      let page = try await c.request(.get, "/dashboard/", token: nil)
      #expect(page.status == .ok)
      #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
      #expect(String(buffer: page.body).contains("dashboard.js"))
      #expect(try await c.request(.get, "/dashboard", token: nil).status == .movedPermanently)
      #expect(try await c.request(.get, "/dashboard/secret.txt", token: nil).status == .notFound)
      #expect(
        try await c.request(.get, "/dashboard/..%2F..%2Fetc%2Fpasswd", token: nil).status
          == .notFound)

      let session = try await c.createSession(token: t.ann).id
      // The patient streams the reference over and over, in real time, while the page watches.
      let streaming = Task {
        _ = try await c.webSocket("/v1/sessions/\(session)/stream", token: t.ann) {
          messages, outbound in
          _ = try await messages.next()
          let encoder = ChannelEncoder(skeleton: reference.skeleton)
          for seq in 0..<900 {
            let f = seq % reference.frameCount
            try await outbound.writeTextMessage(
              ServerData.valuesFrame(reference, f, seq: seq, encoder: encoder)
                .replacingOccurrences(
                  of: "\"t\":\(Double(f) * reference.frameTime)",
                  with: "\"t\":\(Double(seq) * reference.frameTime)"))
            try await Task.sleep(for: .milliseconds(33))
          }
        }
      }
      defer { streaming.cancel() }
      try await Task.sleep(for: .seconds(1))
      guard let browser = try await ChromiumPage.start() else { return }
      defer { browser.stop() }
      let looks = try await browser.snapshots(
        of: "http://127.0.0.1:\(c.port)/dashboard/#token=\(t.lee)&route=/live/\(session)",
        readyWhen: "Number(document.getElementById('live')?.getAttribute('data-frames')) > 0",
        after: [.seconds(2), .seconds(1.5)])
      try #require(looks.count == 2)
      let (first, second) = (looks[0], looks[1])
      var counts: [Int] = []
      for html in looks {
        let figure = DashboardCheck.tags(html, with: "id", "live").first
        counts.append(Int(figure?["data-frames"] ?? "0") ?? 0)
        #expect(DashboardCheck.tags(html, with: "data-joint", nil).count >= 15)
      }
      // Frames keep arriving (30 a second while the patient streams).
      #expect(counts[0] > 30 && counts[1] > counts[0] + 20, "\(counts)")
      // The figure moved between the two looks.
      let bones = { (html: String) in
        DashboardCheck.tags(html, with: "data-joint", nil).map {
          "\($0["x1"] ?? "")\($0["y1"] ?? "")\($0["x2"] ?? "")\($0["y2"] ?? "")"
        }
      }
      #expect(bones(first) != bones(second))
    }
  }

  @Test(
    "a therapist prescribes a programme with the dashboard's form, and edits it into a new version")
  func programmeForm() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    try await t.run { c in
      guard let browser = try await ChromiumPage.start() else { return }
      defer { browser.stop() }
      let base = "http://127.0.0.1:\(c.port)/dashboard/#token=\(t.lee)"
      // Fill the form as a therapist would: a name, two exercises, a progression rule.
      let fill = """
        (() => {
          const set = (el, value) => { el.value = value; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); };
          set(document.getElementById('prog-name'), 'Knee and back, from the form');
          set(document.getElementById('prog-patient'), 'ann');
          set(document.getElementById('prog-days'), '4');
          document.getElementById('add-item').click();
          const rows = document.querySelectorAll('.item-row');
          set(rows[0].querySelector('[name=exercise]'), 'lbp-glute-bridge');
          set(rows[0].querySelector('[name=sets]'), '3');
          set(rows[0].querySelector('[name=repetitions]'), '10');
          set(rows[0].querySelector('[name=holdSeconds]'), '5');
          set(rows[1].querySelector('[name=exercise]'), 'uiprmd-m01-deep-squat');
          set(rows[1].querySelector('[name=repetitions]'), '6');
          const toggle = document.getElementById('prog-progression');
          if (!toggle.checked) toggle.click();
          set(document.getElementById('prog-add'), '2');
          set(document.getElementById('prog-min-score'), '75');
          document.getElementById('save-programme').click();
          return rows.length;
        })()
        """
      let results = try await browser.evaluate(
        base + "&route=/programme/new", readyWhen: Self.formReady,
        steps: [(.milliseconds(300), fill), (.seconds(2), "location.hash")])
      #expect(results.first == "2", "\(results)")
      #expect(results.last?.hasPrefix("#/patient/ann") == true, "\(results)")
      let made = try await c.json(.get, "/v1/programmes", token: t.ann, as: [ProgrammeView].self)
      let programme = try #require(made.first)
      #expect(programme.definition.name == "Knee and back, from the form")
      #expect(programme.definition.daysPerWeek == 4)
      #expect(
        programme.definition.items.map(\.exercise) == ["lbp-glute-bridge", "uiprmd-m01-deep-squat"])
      #expect(
        programme.definition.items[0].sets == 3 && programme.definition.items[0].holdSeconds == 5)
      #expect(programme.definition.items[1].repetitions == 6)
      #expect(programme.definition.progression?.addRepetitions == 2)
      #expect(programme.definition.progression?.minimumScore == 75)

      // Edit: fewer repetitions of the squat; a new version, the old one kept.
      let edit = """
        (() => {
          const rows = document.querySelectorAll('.item-row');
          const reps = rows[1].querySelector('[name=repetitions]');
          reps.value = '4'; reps.dispatchEvent(new Event('input', {bubbles: true}));
          document.getElementById('save-programme').click();
          return rows.length;
        })()
        """
      _ = try await browser.evaluate(
        base + "&route=/programme/\(programme.id)/edit", readyWhen: Self.formReady,
        steps: [(.milliseconds(300), edit), (.seconds(2), "location.hash")])
      let edited = try await c.json(
        .get, "/v1/programmes/\(programme.id)", token: t.lee, as: ProgrammeView.self)
      #expect(edited.version == 2 && edited.definition.items[1].repetitions == 4)
      #expect(edited.definition.items[0].holdSeconds == 5)
    }
  }

  /// The programme form is drawn, with its exercise choices loaded.
  static let formReady =
    "document.getElementById('save-programme') && document.querySelector('.item-row [name=exercise] option')"
}
