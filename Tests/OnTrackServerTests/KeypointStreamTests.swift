import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Testing

@testable import OnTrackServer

/// Keypoint frames over the WebSocket: solved onto the canonical skeleton and scored as the
/// same keypoints from a file; bad keypoint frames are counted rejections.
@Suite("Keypoint streams")
struct KeypointStreamTests {
  /// Kinect joint positions of a UI-PRMD take (centimetres, the `uiprmd-kinect` layout).
  static func keypoints(of clip: Clip) -> (times: [Double], frames: [[SIMD3<Float>?]]) {
    let skeleton = clip.skeleton
    let names = KeypointLayout.uiprmdKinect.names
    let indices = names.map { skeleton.index(of: $0) }
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var frames: [[SIMD3<Float>?]] = []
    for f in 0..<clip.frameCount {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      frames.append(indices.map { $0.map { world[$0].translation * 100 } })
    }
    return ((0..<clip.frameCount).map { Double($0) * clip.frameTime }, frames)
  }

  static func frameJSON(
    seq: Int, time: Double, names: [String], points: [SIMD3<Float>?],
    layout: String? = "uiprmd-kinect"
  ) -> String {
    var parts: [String] = []
    for (name, p) in zip(names, points) {
      guard let p else {
        parts.append("\"\(name)\":null")
        continue
      }
      parts.append("\"\(name)\":[\(p.x),\(p.y),\(p.z)]")
    }
    let named = layout.map { "\"layout\":\"\($0)\"," } ?? ""
    return
      "{\"seq\":\(seq),\"t\":\(time),\(named)\"keypoints\":{\(parts.joined(separator: ","))}}"
  }

  /// Sends `frames` (`uiprmd-kinect` points) one message each, expects each answered in turn
  /// (`between(f, &heard)` runs after frame f's answer), then waits for the last frame's
  /// acknowledgement. Returns every other message heard.
  static func streamAcknowledged(
    _ frames: [[SIMD3<Float>?]], times: [Double], messages: WebSocketMessages,
    outbound: WebSocketOutboundWriter,
    between: (Int, inout [[String: Any]]) async throws -> Void = { _, _ in }
  ) async throws -> [[String: Any]] {
    let names = KeypointLayout.uiprmdKinect.names
    var heard: [[String: Any]] = []
    for f in frames.indices {
      try await outbound.writeTextMessage(
        frameJSON(seq: f, time: times[f], names: names, points: frames[f]))
      let reply = try #require(try await messages.until(type: "frame", collecting: &heard))
      #expect(reply["seq"] as? Int == f)
      try await between(f, &heard)
    }
    var acked = -1
    while acked < frames.count - 1 {
      let ack = try #require(try await messages.until(type: "ack", collecting: &heard))
      acked = try #require(ack["seq"] as? Int)
    }
    return heard
  }

  /// Streams `frames` (`uiprmd-kinect` points) into a new keypoint session over the WebSocket
  /// (`streamAcknowledged`, `between` as there), hands every other message heard to `heard`,
  /// closes and finishes the session: its id and the live result.
  static func streamedSession(
    _ t: TestServer, _ c: LiveClient, frames: [[SIMD3<Float>?]], times: [Double],
    between:
      @escaping @Sendable (
        Int, inout [[String: Any]], WebSocketMessages, WebSocketOutboundWriter
      ) async throws -> Void = { _, _, _, _ in },
    heard: @escaping @Sendable ([[String: Any]]) -> Void = { _ in }
  ) async throws -> (id: String, live: TakeResult) {
    let session = try await c.createSession(
      token: t.ann, extra: ",\"skeleton\":\"keypoints:uiprmd-kinect\"")
    _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
      messages, outbound in
      _ = try await messages.nextObject()
      heard(
        try await Self.streamAcknowledged(
          frames, times: times, messages: messages, outbound: outbound
        ) { f, others in try await between(f, &others, messages, outbound) })
      try await outbound.close(.normalClosure, reason: nil)
    }
    let live = try await c.json(
      .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
    return (session.id, live)
  }

  /// A live keypoint session of `exercise` on the canonical skeleton, in `layout` (nil: told
  /// by the points' names), outside any server.
  static func keypointSession(_ exercise: Exercise, layout: String?) throws -> LiveSession {
    let skeleton = CanonicalSkeleton.make()
    let keypoints = KeypointSessionLayout(id: layout)
    let record = SessionRecord(
      id: "s", patient: "p", therapist: nil, exercise: exercise.id, exerciseVersion: 1,
      skeleton: SessionSkeleton.encode(skeleton, keypoints: keypoints), created: 0)
    return try LiveSession(
      record: record, exercise: exercise, skeleton: skeleton, keypoints: keypoints,
      limits: ServerLimits())
  }

  /// Expects `live` to find the repetitions `file` found, each scored within half a point.
  static func expectScoredAlike(_ live: TakeResult, _ file: TakeResult) {
    #expect(live.repetitions.count == file.repetitions.count)
    for (a, b) in zip(live.repetitions, file.repetitions) {
      #expect(abs(a.score - b.score) < 0.5, "repetition \(a.index): \(a.score) vs \(b.score)")
    }
  }

  @Test("a keypoint stream scores as the same keypoints from a file; bad frames are counted")
  func streamEqualsFile() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let clip = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...4)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let (times, frames) = Self.keypoints(of: clip)
    let take = try KeypointTake(
      layout: .uiprmdKinect, times: times, frames: frames, confidence: nil, source: "test")
    let file = TakeScorer(exercise: exercise).score(try take.solved())
    #expect(file.repetitions.count >= 3)
    try await t.run { c in
      let (id, live) = try await Self.streamedSession(t, c, frames: frames, times: times) {
        f, others, messages, outbound in
        if f == 40 {
          // Bad keypoint frames between good ones: each refused with its reason.
          let seq = f + 1
          let bad: [(String, String)] = [
            (
              "{\"seq\":\(seq),\"t\":\(times[f] + 0.001),\"layout\":\"coco17\",\"keypoints\":{\"left_knee\":[0,0,0]}}",
              "layout_mismatch"
            ),
            (
              "{\"seq\":\(seq),\"t\":\(times[f] + 0.001),\"keypoints\":{\"Waist\":[0,1]}}",
              "non_finite"
            ),
            (
              "{\"seq\":\(seq),\"t\":\(times[f] + 0.001),\"keypoints\":{\"Tail\":[0,1,2]}}",
              "unknown_joint"
            ),
            ("{\"seq\":\(seq),\"t\":\(times[f] + 0.001),\"values\":[1,2,3]}", "malformed"),
          ]
          for (text, reason) in bad {
            try await outbound.writeTextMessage(text)
            let rejection = try #require(
              try await messages.until(type: "rejected", collecting: &others))
            #expect(rejection["reason"] as? String == reason, "\(text)")
          }
        }
      }
      Self.expectScoredAlike(live, file)
      for (a, b) in zip(live.repetitions, file.repetitions) {
        #expect(abs(a.startTime - b.startTime) < 1e-6)
      }
      let view = try await c.json(
        .get, "/v1/sessions/\(id)", token: t.ann, as: LiveClient.Session.self)
      #expect(view.rejected["layout_mismatch"] == 1)
      #expect(view.rejected["non_finite"] == 1)
      #expect(view.rejected["unknown_joint"] == 1)
      #expect(view.rejected["malformed"] == 1)
      #expect(try await t.server.store.frameCount(session: id) == frames.count)
    }
  }

  /// A client that sends its layout's points in another unit (here UI-PRMD's centimetres as
  /// millimetres): before, every point was refused as an impossible bone and nothing said why.
  @Test(
    "keypoints in another unit than the layout's are taken in the body's; the client is told once")
  func unitTheBodyTells() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let clip = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...3)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let (times, centimetres) = Self.keypoints(of: clip)
    let millimetres = centimetres.map { $0.map { $0.map { $0 * 10 } } }
    let solved = try KeypointTake(
      layout: .uiprmdKinect, times: times, frames: centimetres, confidence: nil, source: "cm"
    ).solved()
    let file = TakeScorer(exercise: exercise).score(solved)
    #expect(file.repetitions.count >= 2)
    try await t.run { c in
      let (id, live) = try await Self.streamedSession(
        t, c, frames: millimetres, times: times,
        heard: { heard in
          let notices = heard.filter { $0["type"] as? String == "notice" }
          #expect(notices.map { $0["code"] as? String } == ["unit_corrected"], "\(notices)")
          #expect((notices.first?["message"] as? String)?.contains("0.001 m") == true)
        })
      Self.expectScoredAlike(live, file)
      let view = try await c.json(
        .get, "/v1/sessions/\(id)", token: t.ann, as: LiveClient.Session.self)
      // Only what the solver finds implausible in the centimetres too (a Kinect glitch).
      #expect(view.rejected["implausible_keypoint", default: 0] == solved.implausible)
      #expect(view.rejected.keys.allSatisfy { $0 == "implausible_keypoint" }, "\(view.rejected)")
    }
  }

  /// A 3-D pose model's output is often in its camera's frame (x right, y down, z away) under
  /// skeleton names, which the generic layout reads with y up: upside down, no repetition was
  /// found. Read with y down from the first frame that shows it, offline and live alike.
  @Test("keypoints in a camera's frame under skeleton names are turned upright; told once")
  func cameraFrameTurnedUpright() throws {
    let clip = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...3)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let (times, centimetres) = Self.keypoints(of: clip)
    // Skeleton names no fixed layout has: read as `named`, y up assumed.
    let names = KeypointLayout.uiprmdKinect.names.map { "cam:\($0)" }
    let layout = try #require(KeypointLayout.recognise(names))
    #expect(layout.id == "named" && layout.axesAreAssumed)
    let camera = centimetres.map { $0.map { $0.map { SIMD3($0.x, -$0.y, -$0.z) } } }
    let upright = try KeypointTake(
      layout: layout, times: times, frames: centimetres, confidence: nil, source: "upright"
    ).solved()
    let turned = try KeypointTake(
      layout: layout, times: times, frames: camera, confidence: nil, source: "camera"
    ).solved()
    #expect(!upright.turnedUpright && turned.turnedUpright)
    let file = TakeScorer(exercise: exercise).score(upright)
    #expect(file.repetitions.count >= 2)
    #expect(
      TakeScorer(exercise: exercise).score(turned).repetitions.map(\.score)
        == file.repetitions.map(\.score))
    let live = try Self.keypointSession(exercise, layout: nil)
    let (connection, _) = live.attachStream()
    var told: [Notice.Code] = []
    for f in camera.indices {
      let outcome = live.take(
        json: Self.frameJSON(seq: f, time: times[f], names: names, points: camera[f], layout: nil),
        received: times[f], storage: .writable, connection: connection)
      if case .rejected(let rejection) = outcome { Issue.record("frame \(f): \(rejection)") }
      told += live.owed(to: connection).outbox.notices.map(\.code)
    }
    #expect(told == [.turnedUpright])
    Self.expectScoredAlike(live.finish(), file)
  }

  /// A patient whose exercised arm the camera does not show is told which part, once it has
  /// been unseen for a while, and told again when it is seen; the repetitions done after it
  /// came into view are found (UI-PRMD's Kinect shoulder abduction, the right arm's elbow and
  /// hand gone for the first 7 s of ten repetitions, then the whole patient for 3 s: a frame
  /// that cannot be solved is scored as showing nothing, as a file's is).
  @Test("a stream is told which measured part the sensor does not show, and when it is seen")
  func notSeenTold() throws {
    let clip = try ServerData.kinectTake(movement: 7, subject: 1, episodes: 1...10)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let (times, frames) = Self.keypoints(of: clip)
    let names = KeypointLayout.uiprmdKinect.names
    let arm = ["RightForearm", "RightHand"].compactMap { names.firstIndex(of: $0) }
    #expect(arm.count == 2)
    // The arm unseen for the first 7 s; the whole patient out of the picture from 15 to 18 s.
    let hidden = frames.enumerated().map { f, points in
      times[f] < 7
        ? points.enumerated().map { arm.contains($0) ? nil : $1 }
        : times[f] >= 15 && times[f] < 18 ? points.map { _ in nil } : points
    }
    let live = try Self.keypointSession(exercise, layout: "uiprmd-kinect")
    let (connection, _) = live.attachStream()
    var told: [Notice] = []
    for f in hidden.indices {
      let outcome = live.take(
        json: Self.frameJSON(seq: f, time: times[f], names: names, points: hidden[f]),
        received: times[f], storage: .writable, connection: connection)
      if case .rejected(let rejection) = outcome { Issue.record("frame \(f): \(rejection)") }
      told += live.owed(to: connection).outbox.notices
    }
    #expect(told.map(\.code) == [.notSeen, .seenAgain, .notSeen, .seenAgain], "\(told)")
    #expect(
      told.first?.message
        == "The camera does not show your right shoulder: if you are exercising that side, turn so that it can see it"
    )
    #expect(
      told.dropFirst(2).first?.message == "The camera does not show you: come back into the picture"
    )
    let result = live.finish()
    #expect(
      result.repetitions.count >= 3,
      "\(result.repetitions.map { ($0.startTime, $0.endTime, $0.score) }) \(times.last ?? 0)")
    #expect(
      result.repetitions.allSatisfy { $0.startTime >= 6 },
      "\(result.repetitions.map { ($0.startTime, $0.score, $0.cues.first?.text ?? "") })")
  }

  @Test("a keypoint session restored from its stored frames scores as it did live")
  func replayEqualsLive() throws {
    let clip = try ServerData.kinectTake(movement: 7, subject: 2, episodes: 1...3)
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let (times, frames) = Self.keypoints(of: clip)
    let names = KeypointLayout.uiprmdKinect.names
    let skeleton = CanonicalSkeleton.make()
    let layout = KeypointSessionLayout(id: "uiprmd-kinect")
    let record = SessionRecord(
      id: "s", patient: "p", therapist: nil, exercise: exercise.id, exerciseVersion: 1,
      skeleton: SessionSkeleton.encode(skeleton, keypoints: layout), created: 0)
    #expect(SessionSkeleton.keypoints(record.skeleton) == layout)
    #expect(try SessionSkeleton.decode(record.skeleton).count == skeleton.count)
    let live = try LiveSession(
      record: record, exercise: exercise, skeleton: skeleton, keypoints: layout,
      limits: ServerLimits())
    var stored: [StoredFrame] = []
    for f in frames.indices {
      // Half a second without the right wrist in the middle of the take.
      var points = frames[f]
      if f >= 60 && f < 75 { points[13] = nil }
      let outcome = live.take(
        json: Self.frameJSON(seq: f, time: times[f], names: names, points: points),
        received: Double(f) / 30, storage: .writable)
      guard case .scored(_, let frame, _) = outcome else {
        Issue.record("frame \(f) not scored: \(outcome)")
        return
      }
      #expect(frame.channels.count == skeleton.channelCount + KeypointFrameBlock.width)
      stored.append(frame)
    }
    let restored = try LiveSession(
      record: record, exercise: exercise, skeleton: skeleton, keypoints: layout,
      limits: ServerLimits())
    #expect(restored.replay(stored) == 0)
    let a = live.finish()
    let b = restored.finish()
    #expect(a.repetitions.count == b.repetitions.count)
    #expect(a.repetitions.count >= 2)
    for (x, y) in zip(a.repetitions, b.repetitions) {
      #expect(abs(x.score - y.score) < 1e-9)
    }
  }
}
