import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Testing

@testable import OnTrackServer

/// The wire: what the server writes by hand for speed is exactly what the Codable types read.
@Suite("Wire protocol")
struct ProtocolTests {
  @Test("the per-frame message written without an encoder decodes as its Codable type")
  func frameMessage() throws {
    let names = ["trunk", "leftUpperArm", "rightUpperArm"]
    for values: [Float]? in [nil, [1.5, -2.25, 1e6]] {
      var out: [UInt8] = []
      FrameResult.appendJSON(
        seq: 9_007_199_254_740_992, time: 12.345678, progress: 0.4567, repetitions: 3,
        names: names, measured: [true, false, true], errors: [12.34, 99, 3.21],
        severity: [0.456, 9, 1.234], values: values, to: &out)
      let message = try ServerMessage.decode(String(decoding: out, as: UTF8.self))
      guard case .frame(let frame) = message else {
        Issue.record("not a frame: \(message)")
        continue
      }
      #expect(frame.seq == 9_007_199_254_740_992)
      #expect(frame.t == 12.345678)
      #expect(frame.progress == 0.457)
      #expect(frame.repetitions == 3)
      #expect(frame.errors == ["trunk": 12.3, "rightUpperArm": 3.2])
      #expect(frame.severity == ["trunk": 0.46, "rightUpperArm": 1.23])
      #expect(frame.values == values)
      #expect(frame.taken == nil)
    }
    // The answer to a batch names how many of its frames were taken.
    var out: [UInt8] = []
    FrameResult.appendJSON(
      seq: 5, time: 0.25, progress: 0, repetitions: 0, names: names,
      measured: [false, false, true],
      errors: [0, 0, 1], severity: [0, 0, 0.5], values: nil, taken: 7, to: &out)
    let batch = try ServerMessage.decode(String(decoding: out, as: UTF8.self))
    guard case .frame(let frame) = batch else {
      Issue.record("not a frame: \(batch)")
      return
    }
    #expect(frame.taken == 7 && frame.seq == 5)
  }

  @Test("a values frame written by hand reads back as a StreamFrame and through the fast path")
  func valuesFrame() throws {
    let values: [Float] = [0, -1.25, 360, 0.001]
    let text = StreamFrame.valuesJSON(seq: 42, time: 1.5, values: values)
    let frame = try JSONDecoder().decode(StreamFrame.self, from: Data(text.utf8))
    #expect(frame.seq == 42 && frame.t == 1.5)
    #expect(frame.values.map { $0.map(Float.init) } == values)
    var scratch = [Float](repeating: 0, count: 4)
    var utf8 = text
    let header = utf8.withUTF8 { ValuesFrameJSON.parse($0, into: &scratch) }
    #expect(header == ValuesFrameJSON.Header(seq: 42, time: 1.5, count: 4))
    #expect(scratch == values)
  }

  @Test("a frame's seq is read without decoding it, and only a plain whole number counts")
  func peekSeq() {
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":42,"t":1.5,"values":[1,2]}"#) == 42)
    #expect(StreamFrameDecoder.peekSeq(#"{"t":1, "seq" :\#n 7}"#) == 7)
    #expect(StreamFrameDecoder.peekSeq(#"{"rotations":{"seq":[1,0,0,0]},"seq":3}"#) == 3)
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":-1}"#) == nil)
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":"5"}"#) == nil)
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":99999999999999999999}"#) == nil)
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":9007199254740993}"#) == nil)
    #expect(StreamFrameDecoder.peekSeq(#"{"seq":9007199254740992}"#) == 9_007_199_254_740_992)
    #expect(StreamFrameDecoder.peekSeq("not json \"seq") == nil)
    #expect(StreamFrameDecoder.peekSeq("") == nil)
  }

  @Test("every server message survives encoding and decoding")
  func roundTrips() throws {
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let take = try #require(exercise.referenceClip)
    let result = try TakeScorer(exercise: exercise).score(
      try Clip(joining: [take, take, take]))
    let repetition = try #require(result.repetitions.first)
    let messages: [ServerMessage] = [
      .session(
        SessionHello(
          session: "s", patient: "ann", exercise: "e", exerciseVersion: 2, skeleton: "HIERARCHY",
          channels: 66, lastSeq: 4, durableSeq: 3, repetitions: 1)),
      .frame(
        FrameResult(
          seq: 1, t: 0.5, progress: 0.25, repetitions: 0, errors: ["trunk": 1],
          severity: ["trunk": 0.1], values: [1, 2])),
      .frame(
        FrameResult(
          seq: 9, t: 0.7, progress: 0.5, repetitions: 1, errors: [:], severity: [:], taken: 4)),
      .repetition(repetition),
      .rejected(Rejection(reason: .rateLimited, message: "slow down", seq: 9)),
      .ack(seq: 17),
      .notice(Notice(code: .storageUnavailable, message: "retrying")),
      .finished(session: "s"),
    ]
    for message in messages {
      #expect(try ServerMessage.decode(message.json) == message, "\(message.kind)")
    }
    // The repetition message the server writes from the stored JSON is the same message.
    let encoded = LiveSession.EncodedRepetition.encode([repetition][...], session: "s")
    #expect(
      try ServerMessage.decode(try #require(encoded.first).message) == .repetition(repetition))
  }
}
