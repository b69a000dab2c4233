import Foundation
import HummingbirdTesting
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Testing

@testable import OnTrackClient
@testable import OnTrackServer

/// Several frames in one WebSocket message (`StreamFrameBatch`): each frame is taken, checked,
/// stored and acknowledged as if it came alone; the batch is answered once.
@Suite("Frame batches")
struct FrameBatchTests {
  @Test("a batch splits into its frames exactly as sent, whatever their strings hold")
  func split() {
    let first = #"{"seq":1,"t":0.1,"rotations":{"a}\"[{\\":[0,0,0,1]},"root":[0,1,0]}"#
    let second = #"{ "seq" : 2, "t" : 0.2, "values" : [ 1, 2 ] }"#
    let batch = " {\n \"frames\" : [ \(first) ,\n\(second) ] } \n"
    #expect(StreamFrameBatch.split(batch) == .frames([first, second]))
    #expect(StreamFrameBatch.split(StreamFrameBatch.json(frames: [second])) == .frames([second]))
    // Not batches: the frame decoder reads (or refuses) them.
    for single in [second, "[1, 2]", "", "{", #"{"seq":1,"frames":[]}"#, #"{"framesX":[]}"#] {
      #expect(StreamFrameBatch.split(single) == .single, "\(single)")
    }
    let many = StreamFrameBatch.json(
      frames: Array(repeating: second, count: StreamFrameBatch.maximumFrames + 1))
    for refused in [
      #"{"frames":[]}"#, #"{"frames":{}}"#, #"{"frames":[1,2]}"#, #"{"frames":[{"seq":1"#,
      #"{"frames":[{"seq":"}"]}"#, #"{"frames":[{}] , "seq": 1}"#, #"{"frames":[{}]}x"#,
      #"{"frames":[{} {}]}"#, #"{"frames":[{"a":"\"#, many, #"{"frames":[{"a":1]]}"#,
      #"{"frames":[{"a":[1}}]}"#, #"{"frames":[{"a":"\\"}"]}"#,
      "{\"frames\":[{\"a\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        + "}]}",
    ] {
      guard case .refused(let reason) = StreamFrameBatch.split(refused) else {
        Issue.record("not refused: \(refused.prefix(80))")
        continue
      }
      #expect(!reason.isEmpty)
    }
    // Deep nesting costs a counter, not a stack.
    let deep = "{\"frames\":[" + String(repeating: "{\"a\":[", count: 100_000)
    #expect(StreamFrameBatch.split(deep) != .single)
  }

  /// A real recording sent in batches of varying size scores as offline; each batch is
  /// answered by one `frame` message for its last frame, naming how many it took.
  @Test("a recording streamed in batches scores as offline, one answer a batch, every frame stored")
  func batchesEqualOffline() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...3)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let offline = try TakeScorer(exercise: exercise).score(take)
    #expect(offline.repetitions.count >= 2)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, extra: ",\"skeletonBVH\":\(try StreamTests.quoted(skeletonBVH))")
      let encoder = ChannelEncoder(skeleton: take.skeleton)
      let collected = Collected()
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try #require(try await messages.nextObject())
        var f = 0
        var k = 0
        while f < take.frameCount {
          let size = min([4, 1, 7, 2, 64][k % 5], take.frameCount - f)
          k += 1
          let frames = (f..<(f + size)).map { ServerData.valuesFrame(take, $0, encoder: encoder) }
          try await outbound.writeTextMessage(StreamFrameBatch.json(frames: frames))
          var others: [[String: Any]] = []
          let reply = try #require(try await messages.until(type: "frame", collecting: &others))
          collected.add(others)
          #expect(reply["seq"] as? Int == f + size - 1)
          #expect(reply["taken"] as? Int == size)
          #expect(!others.contains { $0["type"] as? String == "rejected" })
          f += size
        }
        _ = try await messages.waitForAck(through: take.frameCount - 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let finished = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      #expect(finished.repetitions.count == offline.repetitions.count)
      for (live, reference) in zip(finished.repetitions, offline.repetitions) {
        #expect(abs(live.startTime - reference.startTime) < 1e-6)
        #expect(abs(live.score - reference.score) < 0.5, "repetition \(live.index)")
      }
      #expect(collected.repetitions.count >= offline.repetitions.count - 1)
      let stored = try await t.server.store.frames(session: session.id, from: 0)
      #expect(stored.map(\.seq) == Array(0..<take.frameCount))
    }
  }

  /// A bad frame in a batch is refused on its own and the rest are taken; a batch that is not
  /// one is refused whole, counted once, and takes nothing.
  @Test("a bad frame in a batch is refused alone; a broken batch is refused whole")
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
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        try await outbound.writeTextMessage(
          StreamFrameBatch.json(frames: [
            good(0), good(0), #"{"seq":2,"t":0.07,"values":[1,2,3]}"#, good(3), "{}",
          ]))
        var others: [[String: Any]] = []
        let reply = try #require(try await messages.until(type: "frame", collecting: &others))
        #expect(reply["seq"] as? Int == 3)
        #expect(reply["taken"] as? Int == 2)
        let reasons = others.filter { $0["type"] as? String == "rejected" }.map {
          "\($0["reason"] ?? "")/\($0["seq"].map { "\($0)" } ?? "-")"
        }
        #expect(reasons == ["out_of_order/0", "wrong_value_count/2", "malformed/-"])
        // Broken batches: nothing of them is taken.
        for broken in [
          #"{"frames":[]}"#, #"{"frames":[\#(good(4)),"#, #"{"frames":[\#(good(4))],"x":1}"#,
          StreamFrameBatch.json(
            frames: (4..<(5 + StreamFrameBatch.maximumFrames)).map { good($0) }),
        ] {
          try await outbound.writeTextMessage(broken)
          var skipped: [[String: Any]] = []
          let refused = try #require(
            try await messages.until(type: "rejected", collecting: &skipped))
          #expect(refused["reason"] as? String == "malformed")
          #expect((refused["message"] as? String)?.hasPrefix("not a batch of frames") == true)
          #expect(!skipped.contains { $0["type"] as? String == "frame" })
        }
        // A batch wholly refused gets no frame answer; the next one is taken.
        try await outbound.writeTextMessage(StreamFrameBatch.json(frames: [good(1)]))
        let stale = try #require(try await messages.until(type: "rejected", collecting: &others))
        #expect(stale["reason"] as? String == "out_of_order")
        try await outbound.writeTextMessage(StreamFrameBatch.json(frames: [good(4), good(5)]))
        let next = try #require(try await messages.until(type: "frame", collecting: &others))
        #expect(next["seq"] as? Int == 5)
        #expect(next["taken"] as? Int == 2)
        _ = try await messages.waitForAck(through: 5)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let view = try await c.json(
        .get, "/v1/sessions/\(session.id)", token: t.ann, as: LiveClient.Session.self)
      #expect(view.lastSeq == 5)
      #expect(view.rejected["out_of_order"] == 2)
      #expect(view.rejected["wrong_value_count"] == 1)
      #expect(view.rejected["malformed"] == 5)
      let stored = try await t.server.store.frames(session: session.id, from: 0)
      #expect(stored.map(\.seq) == [0, 3, 4, 5])
    }
  }

  /// `ontrack simulate --frames-per-message`: every frame once, in order, each batch keyed by
  /// its last frame; a batch's answer books all the frames it took.
  @Test(
    "the simulator's batches carry every frame once, in order, and a batch answer counts its frames"
  )
  func simulatorBatches() throws {
    // Frames 3 and 6 dropped by the simulated sensor.
    let seqs = [0, 1, 2, 4, 5, 7, 8, 9, 10, 11]
    let payloads = seqs.map { seq in
      (seq, StreamFrame.valuesJSON(seq: seq, time: Double(seq) / 60, values: [1, 2, Float(seq)]))
    }
    let alone = SimulatedPatientStream.messages(payloads, framesPerMessage: 1)
    #expect(alone.map(\.0) == seqs)
    #expect(alone.map(\.1.text) == payloads.map(\.1))
    let batches = SimulatedPatientStream.messages(payloads, framesPerMessage: 4)
    #expect(batches.map(\.0) == [4, 9, 11])
    #expect(batches.flatMap(\.1.seqs) == seqs)
    var texts: [String] = []
    for (_, message) in batches {
      guard case .frames(let frames) = StreamFrameBatch.split(message.text) else {
        Issue.record("not a batch: \(message.text)")
        continue
      }
      texts += frames
    }
    #expect(texts == payloads.map(\.1))

    let ledger = StreamLedger(frames: 12)
    for seq in seqs { ledger.sent(seq: seq) }
    ledger.finishSending()
    var answer: [UInt8] = []
    FrameResult.appendJSON(
      seq: 4, time: 4.0 / 60, progress: 0, repetitions: 0, names: [], measured: [], errors: [],
      severity: [], values: nil, taken: 4, to: &answer)
    SimulatedPatientStream.read(String(decoding: answer, as: UTF8.self), into: ledger)
    #expect(ledger.report.scored == 4)
    #expect(ledger.report.latencies.count == 1)
    #expect(!ledger.isComplete(needAcks: false))
    answer = []
    FrameResult.appendJSON(
      seq: 11, time: 11.0 / 60, progress: 0, repetitions: 0, names: [], measured: [],
      errors: [], severity: [], values: nil, taken: 5, to: &answer)
    SimulatedPatientStream.read(String(decoding: answer, as: UTF8.self), into: ledger)
    SimulatedPatientStream.read(
      ServerMessage.rejected(Rejection(reason: .outOfOrder, message: "again", seq: 9)).json,
      into: ledger)
    #expect(ledger.report.scored == 9 && ledger.report.rejected == 1)
    #expect(ledger.isComplete(needAcks: false))
    #expect(!ledger.isComplete(needAcks: true))
    SimulatedPatientStream.read(ServerMessage.ack(seq: 11).json, into: ledger)
    #expect(ledger.isComplete(needAcks: true))
  }
}
