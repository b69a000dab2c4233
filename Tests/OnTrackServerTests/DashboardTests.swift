import Foundation
import OnTrackKinematics
import OnTrackProtocol
import Synchronization
import Testing

@testable import OnTrackServer

/// The therapist's dashboard in a real browser (headless Chromium).
@Suite("Dashboard")
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
      guard let browser = try ChromiumPage.start() else { return }
      defer { browser.stop() }
      let looks = try await browser.snapshots(
        of: "http://127.0.0.1:\(c.port)/dashboard/#token=\(t.lee)&route=/live/\(session)",
        after: [.seconds(3), .seconds(1.5)])
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
}
