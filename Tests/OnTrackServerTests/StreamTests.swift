import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Testing

@testable import OnTrackServer

@Suite("Live streams")
struct StreamTests {
  /// Six real shoulder abductions (UI-PRMD, Kinect) streamed frame by frame over the WebSocket
  /// are scored as the offline scorer scores the same recording.
  @Test("a real recording streamed over the WebSocket scores as offline, every frame stored")
  func streamedEqualsOffline() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...6)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect(offline.repetitions.count >= 5)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, extra: ",\"skeletonBVH\":\(try Self.quoted(skeletonBVH))")
      let encoder = ChannelEncoder(skeleton: take.skeleton)
      let collected = Collected()
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        let hello = try #require(try await messages.nextObject())
        #expect(hello["lastSeq"] as? Int == -1)
        #expect(hello["channels"] as? Int == take.skeleton.channelCount)
        for f in 0..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
          // Every frame is answered before the next is sent: its current error per joint.
          var others: [[String: Any]] = []
          let reply = try #require(try await messages.until(type: "frame", collecting: &others))
          collected.add(others)
          #expect(reply["seq"] as? Int == f)
          let errors = try #require(reply["errors"] as? [String: Double])
          #expect(errors["rightUpperArm"] != nil)
        }
        // Wait until the last frame is acknowledged as stored.
        var acked = -1
        while acked < take.frameCount - 1 {
          var others: [[String: Any]] = []
          let ack = try #require(try await messages.until(type: "ack", collecting: &others))
          collected.add(others)
          acked = try #require(ack["seq"] as? Int)
        }
        try await outbound.close(.normalClosure, reason: nil)
      }
      let finished = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      #expect(finished.repetitions.count == offline.repetitions.count)
      for (live, reference) in zip(finished.repetitions, offline.repetitions) {
        #expect(abs(live.startTime - reference.startTime) < 1e-6)
        #expect(abs(live.endTime - reference.endTime) < 1e-6)
        #expect(abs(live.score - reference.score) < 0.5, "repetition \(live.index)")
        #expect(live.cues.map(\.kind) == reference.cues.map(\.kind))
      }
      // The repetitions announced on the stream are those of the summary.
      let announced = collected.repetitions
      #expect(announced.count >= offline.repetitions.count - 1)
      for (index, score) in announced {
        let summary = try #require(finished.repetitions.first { $0.index == index })
        #expect(abs(summary.score - score) < 1e-9)
      }
      #expect(try await t.server.store.frameCount(session: session.id) == take.frameCount)
      let view = try await c.json(
        .get, "/v1/sessions/\(session.id)", token: t.lee, as: LiveClient.Session.self)
      #expect(view.repetitions == offline.repetitions.count)
      #expect(!view.open)
    }
  }

  /// Frames are taken on the event loop when they come whole (`StreamFrameHandler`); a message
  /// a client splits into fragments, a binary message or a ping between them goes the
  /// asynchronous way. Both ways take every frame in order, answer it and store it once.
  @Test(
    "fragmented frames, binary messages and pings between whole frames: every frame answered in order and stored once"
  )
  func fragmentedAndControlFrames() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...1)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let count = min(90, take.frameCount)
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, extra: ",\"skeletonBVH\":\(try Self.quoted(skeletonBVH))")
      let encoder = ChannelEncoder(skeleton: take.skeleton)
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try #require(try await messages.nextObject())
        for f in 0..<count {
          let text = ServerData.valuesFrame(take, f, encoder: encoder)
          if f % 3 == 1 {
            // The same text in three fragments.
            let bytes = Array(text.utf8)
            let cuts = [0, bytes.count / 3, 2 * bytes.count / 3, bytes.count]
            for part in 0..<3 {
              try await outbound.write(
                .custom(
                  WebSocketFrame(
                    fin: part == 2, opcode: part == 0 ? .text : .continuation,
                    data: ByteBuffer(bytes: bytes[cuts[part]..<cuts[part + 1]]))))
            }
          } else {
            try await outbound.writeTextMessage(text)
          }
          var others: [[String: Any]] = []
          let reply = try #require(try await messages.until(type: "frame", collecting: &others))
          #expect(reply["seq"] as? Int == f)
          #expect(!others.contains { $0["type"] as? String == "rejected" })
          if f % 10 == 5 {
            try await outbound.write(
              .custom(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer())))
            try await outbound.write(.binary(ByteBuffer(string: "{\"seq\":1000}")))
            let rejected = try #require(
              try await messages.until(type: "rejected", collecting: &others))
            #expect(rejected["reason"] as? String == "malformed", "\(rejected)")
          }
        }
        _ = try await messages.waitForAck(through: count - 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      #expect(try await t.server.store.frameCount(session: session.id) == count)
      let stored = try await t.server.store.frames(session: session.id, from: 0)
      #expect(stored.map(\.seq) == Array(0..<count))
    }
  }

  @Test(
    "a client whose clock started again resumes: its times are moved on (a clock_rebased notice), nothing is refused, and the session scores as the recording offline"
  )
  func clockStartedAgain() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 10, subject: 3, episodes: 1...4)
    let exercise = try ServerData.exercise("uiprmd-m10-shoulder-scaption")
    let offline = try TakeScorer(exercise: exercise).score(take)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    let half = take.frameCount / 2
    /// Frame `f` as sent by a client whose clock started at frame `zero`.
    @Sendable func frame(_ f: Int, clockFrom zero: Int) -> String {
      let text = ServerData.valuesFrame(take, f, encoder: encoder)
      let time = Double(f - zero) * take.frameTime
      return text.replacingOccurrences(
        of: "\"t\":\(Double(f) * take.frameTime),", with: "\"t\":\(time),")
    }
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, exercise: exercise.id,
        extra: ",\"skeletonBVH\":\(try Self.quoted(skeletonBVH))")
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<half { try await outbound.writeTextMessage(frame(f, clockFrom: 0)) }
        _ = try await messages.waitForAck(through: half - 1)
        try await outbound.close(.goingAway, reason: nil)
      }
      // The app started again: its clock counts from 0, its frames from where the hello says.
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        let hello = try #require(try await messages.nextObject())
        #expect(hello["lastSeq"] as? Int == half - 1)
        let lastTime = try #require(hello["lastTime"] as? Double)
        #expect(abs(lastTime - Double(half - 1) * take.frameTime) < 1e-9)
        for f in half..<take.frameCount {
          try await outbound.writeTextMessage(frame(f, clockFrom: half))
        }
        // Time going back within the connection is still refused.
        try await outbound.writeTextMessage(
          ServerData.valuesFrame(take, 0, seq: take.frameCount, encoder: encoder))
        // Everything until the last frame's acknowledgement: the notice comes through the same
        // queue as the acknowledgements, before them, while answers and refusals are written
        // where each frame is read (so the refusal may come first).
        var heard: [[String: Any]] = []
        var acknowledged = -1
        while let object = try await messages.nextObject() {
          heard.append(object)
          if object["type"] as? String == "ack" {
            acknowledged = max(acknowledged, object["seq"] as? Int ?? -1)
          }
          if acknowledged >= take.frameCount - 1,
            heard.contains(where: { $0["type"] as? String == "rejected" })
          {
            break
          }
        }
        let refusals = heard.filter { $0["type"] as? String == "rejected" }
        #expect(refusals.count == 1)
        #expect(refusals.first?["reason"] as? String == "out_of_order")
        #expect(refusals.first?["seq"] as? Int == take.frameCount)
        let notices = heard.filter { $0["type"] as? String == "notice" }
        #expect(notices.count == 1)
        #expect(notices.first?["code"] as? String == "clock_rebased", "\(notices)")
        try await outbound.close(.normalClosure, reason: nil)
      }
      let stored = try await t.server.store.frames(session: session.id, from: 0)
      #expect(stored.map(\.seq) == Array(0..<take.frameCount))
      #expect(zip(stored, stored.dropFirst()).allSatisfy { $0.time < $1.time })
      let result = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      #expect(result.repetitions.count == offline.repetitions.count)
      for (x, y) in zip(result.repetitions, offline.repetitions) {
        #expect(abs(x.score - y.score) < 1, "\(x.score) \(y.score)")
      }
    }
  }

  /// The clock decision (`LiveSession.streamTime`) is the connection's: before, it was the
  /// session's, and a frame still in flight on a connection another had just taken over from
  /// settled it for the new one — whose restarted clock was then refused frame after frame.
  @Test(
    "a frame in flight on a connection another took over from is refused, and leaves the new connection's clock alone"
  )
  func replacedConnectionsFrame() throws {
    let take = try ServerData.kinectTake(movement: 10, subject: 3, episodes: 1...3)
    let exercise = try ServerData.exercise("uiprmd-m10-shoulder-scaption")
    let offline = try TakeScorer(exercise: exercise).score(take)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    let record = SessionRecord(
      id: "s", patient: "p", therapist: nil, exercise: exercise.id, exerciseVersion: 1,
      skeleton: SessionSkeleton.encode(take.skeleton), created: 0)
    let live = try LiveSession(
      record: record, exercise: exercise, skeleton: take.skeleton, limits: ServerLimits())
    let half = take.frameCount / 2
    func frame(_ f: Int, clockFrom zero: Int) -> String {
      ServerData.valuesFrame(take, f, encoder: encoder).replacingOccurrences(
        of: "\"t\":\(Double(f) * take.frameTime),",
        with: "\"t\":\(Double(f - zero) * take.frameTime),")
    }
    func taken(_ outcome: LiveSession.Outcome) -> Bool {
      if case .scored = outcome { return true }
      return false
    }
    let (first, _) = live.attachStream()
    for f in 0..<half {
      #expect(
        taken(
          live.take(
            json: frame(f, clockFrom: 0), received: Double(f) * take.frameTime,
            storage: .writable, connection: first)))
    }
    // The app started again on a new connection; the old one's next frame was on its way.
    let (second, _) = live.attachStream()
    let late = live.take(
      json: frame(half, clockFrom: 0), received: Double(half) * take.frameTime,
      storage: .writable, connection: first)
    guard case .rejected(let rejection) = late else {
      Issue.record("the replaced connection's frame was taken")
      return
    }
    #expect(rejection.reason == .notAllowed)
    #expect(rejection.seq == half)
    for f in half..<take.frameCount {
      let outcome = live.take(
        json: frame(f, clockFrom: half), received: Double(f) * take.frameTime + 1,
        storage: .writable, connection: second)
      #expect(taken(outcome), "frame \(f): \(outcome)")
    }
    let result = live.finish()
    #expect(result.repetitions.count == offline.repetitions.count)
    for (x, y) in zip(result.repetitions, offline.repetitions) {
      #expect(abs(x.score - y.score) < 1, "\(x.score) \(y.score)")
    }
  }

  /// What a stream is owed waits in the session until its writer takes it: before, it went
  /// through an eight-deep queue that kept the newest eight events, so a client reading slowly
  /// (its writer blocked, acknowledgements arriving ten times a second) lost the notices
  /// behind them — a storage outage's end among them.
  @Test(
    "a slow reader loses no notice: acknowledgements coalesce, notices keep the latest of each code"
  )
  func slowReaderLosesNoNotice() throws {
    let take = try ServerData.kinectTake(movement: 10, subject: 3, episodes: 1...1)
    let exercise = try ServerData.exercise("uiprmd-m10-shoulder-scaption")
    let record = SessionRecord(
      id: "s", patient: "p", therapist: nil, exercise: exercise.id, exerciseVersion: 1,
      skeleton: SessionSkeleton.encode(take.skeleton), created: 0)
    let live = try LiveSession(
      record: record, exercise: exercise, skeleton: take.skeleton, limits: ServerLimits())
    let (first, _) = live.attachStream()
    for seq in 0..<60 {
      live.acknowledged(upTo: seq)
      if seq == 5 { live.notify(Notice(code: .storageUnavailable, message: "down")) }
      if seq == 10 { live.notify(Notice(code: .clockRebased, message: "moved on 1 s")) }
      if seq == 20 { live.notify(Notice(code: .storageRestored, message: "up")) }
      if seq == 30 { live.notify(Notice(code: .clockRebased, message: "moved on 2 s")) }
    }
    var owed = live.owed(to: first)
    #expect(!owed.replaced)
    #expect(owed.outbox.acknowledgement == 59)
    #expect(
      owed.outbox.notices.map(\.code) == [.storageUnavailable, .storageRestored, .clockRebased])
    #expect(owed.outbox.notices.last?.message == "moved on 2 s")
    // Taken once: nothing is written twice.
    owed = live.owed(to: first)
    #expect(owed.outbox.notices.isEmpty && owed.outbox.acknowledgement == nil)
    // A storage outage told again after its end: the last state comes last.
    live.notify(Notice(code: .storageUnavailable, message: "down again"))
    live.acknowledged(upTo: 60)
    live.notify(Notice(code: .storageRestored, message: "up again"))
    live.notify(Notice(code: .storageUnavailable, message: "down a third time"))
    owed = live.owed(to: first)
    #expect(owed.outbox.notices.map(\.message) == ["up again", "down a third time"])
    #expect(owed.outbox.acknowledgement == 60)
    // Taken over: the first connection is told it was replaced, the second owes its own.
    live.notify(Notice(code: .storageRestored, message: "up at last"))
    let (second, _) = live.attachStream()
    #expect(live.owed(to: first).replaced)
    live.acknowledged(upTo: 61)
    #expect(live.owed(to: second).outbox.acknowledgement == 61)
    // Taken over twice before the first writer looked: each still hears it was replaced.
    let (third, _) = live.attachStream()
    let (fourth, _) = live.attachStream()
    #expect(live.owed(to: second).replaced && live.owed(to: third).replaced)
    #expect(!live.owed(to: fourth).replaced)
    // The session closes while an acknowledgement is owed: its writer still hears it.
    live.acknowledged(upTo: 62)
    _ = live.finish()
    live.close()
    owed = live.owed(to: fourth)
    #expect(!owed.replaced)
    #expect(owed.outbox.acknowledgement == 62)
  }

  @Test("bad frames are rejected with a counted reason and the session goes on")
  func rejections() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let reference = try #require(exercise.referenceClip)
    let encoder = ChannelEncoder(skeleton: reference.skeleton)
    try await t.run { c in
      let session = try await c.createSession(token: t.ann)
      let good: @Sendable (Int) -> String = { f in
        ServerData.valuesFrame(reference, f, encoder: encoder)
      }
      let channels = reference.skeleton.channelCount
      let bad: [(String, String)] = [
        ("{\"seq\": 1, \"t\": ", "malformed"),
        ("[1, 2, 3]", "malformed"),
        ("{\"seq\":1,\"t\":0.1}", "malformed"),
        (
          "{\"seq\":1,\"t\":0.1,\"values\":[\(String(repeating: "1.0,", count: 5000))1.0]}",
          "oversized"
        ),
        ("{\"seq\":1,\"t\":0.1,\"values\":[1,2,3]}", "wrong_value_count"),
        (
          "{\"seq\":1,\"t\":0.1,\"values\":[\(Array(repeating: "1e300", count: channels).joined(separator: ","))]}",
          "non_finite"
        ),
        ("{\"seq\":1,\"t\":0.1,\"rotations\":{\"Tail\":[0,0,0,1]}}", "unknown_joint"),
        (
          "{\"seq\":1,\"t\":0.1,\"euler\":{\"order\":\"zxy\",\"degrees\":{\"LeftArm\":[10,1e999,0]}}}",
          "malformed"
        ),
        ("{\"seq\":1,\"t\":0.1,\"rotations\":{\"LeftArm\":[0,0,0,0]}}", "malformed"),
      ]
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        try await outbound.writeTextMessage(good(0))
        var others: [[String: Any]] = []
        #expect(try await messages.until(type: "frame", collecting: &others)?["seq"] as? Int == 0)
        for (text, reason) in bad {
          try await outbound.writeTextMessage(text)
          let reply = try #require(try await messages.until(type: "rejected", collecting: &others))
          #expect(reply["reason"] as? String == reason, "\(text.prefix(60))")
          #expect((reply["message"] as? String)?.isEmpty == false)
        }
        // Out of order: seq 0 again, and an earlier time.
        try await outbound.writeTextMessage(good(0))
        #expect(
          try await messages.until(type: "rejected", collecting: &others)?["reason"] as? String
            == "out_of_order")
        try await outbound.writeTextMessage(
          "{\"seq\":5,\"t\":-1,\"values\":[\(Array(repeating: "0", count: channels).joined(separator: ","))]}"
        )
        #expect(
          try await messages.until(type: "rejected", collecting: &others)?["reason"] as? String
            == "out_of_order")
        // Binary messages are not frames.
        try await outbound.writeBinaryMessage(.init(bytes: [1, 2, 3]))
        #expect(
          try await messages.until(type: "rejected", collecting: &others)?["reason"] as? String
            == "malformed")
        // And the session goes on.
        try await outbound.writeTextMessage(good(1))
        #expect(try await messages.until(type: "frame", collecting: &others)?["seq"] as? Int == 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let view = try await c.json(
        .get, "/v1/sessions/\(session.id)", token: t.ann, as: LiveClient.Session.self)
      #expect(view.rejected["malformed"] == 6)
      #expect(view.rejected["oversized"] == 1)
      #expect(view.rejected["wrong_value_count"] == 1)
      #expect(view.rejected["non_finite"] == 1)
      #expect(view.rejected["unknown_joint"] == 1)
      #expect(view.rejected["out_of_order"] == 2)
      #expect(view.lastSeq == 1)
      let metrics = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"malformed\"} 6"))
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"out_of_order\"} 2"))
      #expect(metrics.contains("ontrack_frames_received_total 14"))
      #expect(metrics.contains("ontrack_scoring_latency_seconds_count"))
    }
  }

  @Test(
    "a client that disconnects resumes where the server got to, and nothing is lost",
    arguments: StoreContractTests.Kind.allCases)
  func reconnectAndResume(store kind: StoreContractTests.Kind) async throws {
    guard let fixture = try await StoreContractTests.Fixture.make(kind) else { return }
    let t = try await TestServer(store: fixture.store)
    defer { t.removeFolder() }
    try await resume(t)
    await fixture.tearDown()
  }

  func resume(_ t: TestServer) async throws {
    let take = try ServerData.kinectTake(movement: 9, subject: 2, episodes: 1...4)
    let exercise = try ServerData.exercise("uiprmd-m09-shoulder-rotation")
    let offline = try TakeScorer(exercise: exercise).score(take)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    let half = take.frameCount / 2
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, exercise: exercise.id,
        extra: ",\"skeletonBVH\":\(try Self.quoted(skeletonBVH))")
      let path = "/v1/sessions/\(session.id)/stream"
      // First connection: send half without reading, then drop the connection.
      _ = try await c.webSocket(path, token: t.ann) { messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<half {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        try await messages.waitForAck(through: half - 1)
        try await outbound.close(.goingAway, reason: nil)
      }
      // Nobody connected: the session may leave memory; it comes back from the store.
      await t.server.hub.writer.flush()
      #expect(t.server.hub.sleepIdleSessions(timeout: .zero) == 1)
      #expect(t.server.hub.openSessionCount == 0)
      // Second connection: the hello says where to resume.
      _ = try await c.webSocket(path, token: t.ann) { messages, outbound in
        let hello = try #require(try await messages.nextObject())
        let last = try #require(hello["lastSeq"] as? Int)
        #expect(last == half - 1)
        #expect(hello["durableSeq"] as? Int == half - 1)
        for f in (last + 1)..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        try await messages.waitForAck(through: take.frameCount - 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let result = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      #expect(result.repetitions.count == offline.repetitions.count)
      for (a, b) in zip(result.repetitions, offline.repetitions) {
        #expect(abs(a.score - b.score) < 0.5)
      }
      #expect(try await t.server.store.frameCount(session: session.id) == take.frameCount)
    }
  }

  @Test("quaternion and Euler frames score as the channel values they stand for")
  func namedJointForms() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let reference = try #require(exercise.referenceClip)
    let skeleton = reference.skeleton
    try await t.run { c in
      var results: [TakeResult] = []
      for form in ["rotations", "euler"] {
        let session = try await c.createSession(token: t.ann)
        _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
          messages, outbound in
          _ = try await messages.nextObject()
          // Three repetitions with rests, as a patient would.
          for rep in 0..<3 {
            for f in 0..<(reference.frameCount + 30) {
              let frame = min(max(f - 15, 0), reference.frameCount - 1)
              let pose = reference.pose(atFrame: frame)
              let seq = rep * (reference.frameCount + 30) + f
              let time = Double(seq) * reference.frameTime
              let root = pose.translations[0]
              var joints: [String] = []
              for (j, joint) in skeleton.joints.enumerated() where !joint.isEndSite {
                let q = pose.rotations[j]
                if form == "rotations" {
                  joints.append("\"\(joint.name)\":[\(q.x),\(q.y),\(q.z),\(q.w)]")
                } else {
                  let e = q.eulerAngles(order: .yxz) * (180 / .pi)
                  joints.append("\"\(joint.name)\":[\(e.x),\(e.y),\(e.z)]")
                }
              }
              let body =
                form == "rotations"
                ? "\"rotations\":{\(joints.joined(separator: ","))}"
                : "\"euler\":{\"order\":\"yxz\",\"degrees\":{\(joints.joined(separator: ","))}}"
              try await outbound.writeTextMessage(
                "{\"seq\":\(seq),\"t\":\(time),\"root\":[\(root.x),\(root.y),\(root.z)],\(body)}")
              var others: [[String: Any]] = []
              #expect(
                try await messages.until(type: "frame", collecting: &others)?["seq"] as? Int == seq)
            }
          }
          try await outbound.close(.normalClosure, reason: nil)
        }
        results.append(
          try await c.json(
            .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self))
      }
      for result in results {
        #expect(result.repetitions.count == 3)
        // The reference itself, performed exactly: near-perfect scores.
        #expect(result.repetitions.allSatisfy { $0.score > 95 })
      }
      #expect(
        zip(results[0].repetitions, results[1].repetitions).allSatisfy {
          abs($0.score - $1.score) < 0.5
        })
    }
  }

  @Test("watchers get every frame with its pose, the repetitions, and the end of the session")
  func watchers() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 7, subject: 2, episodes: 1...3)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, extra: ",\"skeletonBVH\":\(try Self.quoted(skeletonBVH))")
      let (attached, attach) = AsyncStream<Void>.makeStream()
      async let watched: WatchTally = {
        let tally = WatchTally()
        _ = try await c.webSocket("/v1/sessions/\(session.id)/watch", token: t.lee) { messages, _ in
          let hello = try #require(try await messages.nextObject())
          let skeleton = try BVHReader().read(text: try #require(hello["skeleton"] as? String))
            .skeleton
          #expect(skeleton.channelCount == take.skeleton.channelCount)
          attach.yield()
          while let message = try await messages.nextObject() {
            switch message["type"] as? String {
            case "frame":
              let values = message["values"] as? [Double] ?? []
              tally.poseOK = tally.poseOK && values.count == skeleton.channelCount
              tally.frames += 1
            case "repetition": tally.repetitions += 1
            case "finished":
              tally.finished = true
              return
            default: break
            }
          }
        }
        return tally
      }()
      var iterator = attached.makeAsyncIterator()
      _ = await iterator.next()
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
          var others: [[String: Any]] = []
          _ = try await messages.until(type: "frame", collecting: &others)
        }
        try await outbound.close(.normalClosure, reason: nil)
      }
      let result = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      let seen = try await watched
      #expect(seen.frames == take.frameCount)
      #expect(seen.poseOK)
      #expect(seen.repetitions == result.repetitions.count)
      #expect(seen.finished)
    }
  }

  static func quoted(_ text: String) throws -> String {
    String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
  }
}

/// Repetition announcements seen on a stream, collected across awaits.
final class Collected: @unchecked Sendable {
  // Touched by one task at a time (the WebSocket handler, then the test).
  private(set) var repetitions: [(index: Int, score: Double)] = []

  func add(_ messages: [[String: Any]]) {
    for message in messages where message["type"] as? String == "repetition" {
      if let result = message["result"] as? [String: Any], let index = result["index"] as? Int,
        let score = result["score"] as? Double
      {
        repetitions.append((index, score))
      }
    }
  }
}

/// What a watcher saw.
final class WatchTally: @unchecked Sendable {
  // Written by the watching task only, read after it ends.
  var frames = 0
  var repetitions = 0
  var finished = false
  var poseOK = true
}
