import Foundation
import Hummingbird
import HummingbirdTesting
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Testing

@testable import OnTrackServer

@Suite("Exercise library and reports")
struct LibraryAndReportTests {
  struct Detail: Decodable {
    var id: String
    var version: Int
    var versions: [Int]
    var definition: ExerciseDefinition
    var referenceFrames: Int
    var referenceDuration: Double
  }

  struct Created: Decodable {
    var id: String
    var version: Int
  }

  @Test("a therapist records a reference from a session, versions it, exports and deletes it")
  func recordVersionExportDelete() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 10, subject: 1, episodes: 1...3)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    try await t.run { c in
      // The therapist performs the movement in a session of their own.
      let recording = try await c.createSession(
        token: t.lee, exercise: "uiprmd-m10-shoulder-scaption",
        extra: ",\"skeletonBVH\":\(try StreamTests.quoted(skeletonBVH))")
      _ = try await c.webSocket("/v1/sessions/\(recording.id)/stream", token: t.lee) {
        messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        try await messages.waitForAck(through: take.frameCount - 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      // The recording exports as BVH on the session skeleton, as long as the stream.
      let exported = try await c.request(
        .get, "/v1/sessions/\(recording.id)/recording.bvh", token: t.lee)
      #expect(exported.status == .ok)
      let clip = try BVHReader().read(text: String(buffer: exported.body))
      #expect(clip.skeleton.channelCount == take.skeleton.channelCount)
      #expect(abs(clip.duration - take.duration) < 2 * take.frameTime)
      var pose = clip.skeleton.restPose
      clip.copyFrame(40, into: &pose)
      for j in 0..<clip.skeleton.count {
        #expect(pose.rotations[j].angle(to: take.pose(atFrame: 40).rotations[j]) < 0.001)
      }

      // One repetition cut from it becomes a new exercise.
      let definition = """
        {"id":"scaption-lee","name":"Scaption (Lee)","measures":[{"measure":"rightShoulderFlexion","tolerance":12}],
         "laterality":"right"}
        """
      let firstRep = try ServerData.kinectTake(movement: 10, subject: 1, episodes: 1...1)
      let body = """
        {"definition":\(definition),"fromSession":"\(recording.id)","trim":[0,\(firstRep.duration)]}
        """
      let created = try await c.json(
        .post, "/v1/exercises", token: t.lee, body: body, as: Created.self)
      #expect(created.id == "scaption-lee" && created.version == 1)
      let v1 = try await c.json(.get, "/v1/exercises/scaption-lee", token: t.ann, as: Detail.self)
      #expect(abs(v1.referenceDuration - firstRep.duration) < 3 * take.frameTime)
      #expect(v1.definition.measures?.first?.tolerance == 12)

      // A session scored against version 1 keeps it after an update.
      let session = try await c.createSession(token: t.ann, exercise: "scaption-lee")
      #expect(session.exerciseVersion == 1)
      let updated = definition.replacingOccurrences(
        of: "\"tolerance\":12", with: "\"tolerance\":20")
      let reference = String(
        buffer: try await c.request(.get, "/v1/exercises/scaption-lee/reference.bvh", token: t.ann)
          .body)
      _ = try BVHReader().read(text: reference)
      let put = try await c.json(
        .put, "/v1/exercises/scaption-lee", token: t.lee,
        body: "{\"definition\":\(updated),\"reference\":\(try StreamTests.quoted(reference))}",
        as: Created.self)
      #expect(put.version == 2)
      let v2 = try await c.json(.get, "/v1/exercises/scaption-lee", token: t.ann, as: Detail.self)
      #expect(v2.version == 2 && v2.versions == [1, 2])
      #expect(v2.definition.measures?.first?.tolerance == 20)
      let old = try await c.json(
        .get, "/v1/exercises/scaption-lee?version=1", token: t.ann, as: Detail.self)
      #expect(old.definition.measures?.first?.tolerance == 12)
      let kept = try await c.json(
        .get, "/v1/sessions/\(session.id)", token: t.ann, as: LiveClient.Session.self)
      #expect(kept.exerciseVersion == 1)
      let newer = try await c.createSession(token: t.ann, exercise: "scaption-lee")
      #expect(newer.exerciseVersion == 2)

      // Deleting hides it from the list and from new sessions; old sessions still report.
      #expect(
        try await c.request(.delete, "/v1/exercises/scaption-lee", token: t.lee).status
          == .noContent)
      let list = try await c.json(.get, "/v1/exercises", token: t.ann, as: [Created].self)
      #expect(!list.contains { $0.id == "scaption-lee" })
      #expect(list.count == 25)
      #expect(
        try await c.request(
          .post, "/v1/sessions", token: t.ann, json: #"{"exercise":"scaption-lee"}"#
        ).status == .notFound)
      #expect(
        try await c.request(.get, "/v1/sessions/\(session.id)/report", token: t.ann).status == .ok)
      #expect(
        try await c.request(.delete, "/v1/exercises/scaption-lee", token: t.lee).status == .notFound
      )
    }
  }

  @Test("a wrong definition or reference is refused with the reason")
  func validation() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let reference = try String(
      contentsOf: ServerData.exercises.appendingPathComponent("uiprmd-m07-shoulder-abduction.bvh"),
      encoding: .utf8)
    let quoted = try StreamTests.quoted(reference)
    try await t.run { c in
      let cases: [(String, HTTPResponse.Status, String)] = [
        (
          #"{"definition":{"name":"X","measures":[{"measure":"nose"}]},"reference":\#(quoted)}"#,
          .badRequest, "nose"
        ),
        (
          #"{"definition":{"name":"X","repetitions":-3},"reference":\#(quoted)}"#, .badRequest,
          "repetitions"
        ),
        (#"{"definition":{"name":"X"},"reference":"HIERARCHY\nROOT Hips {"}"#, .badRequest, "Hips"),
        (#"{"definition":{"name":"X"}}"#, .badRequest, "reference"),
        (#"{"definition":{"id":"../etc","name":"X"},"reference":\#(quoted)}"#, .badRequest, "id"),
        (
          #"{"definition":{"id":"uiprmd-m07-shoulder-abduction","name":"X"},"reference":\#(quoted)}"#,
          .conflict, "PUT"
        ),
        (#"{"definition":{"name":"X"},"fromSession":"nope"}"#, .notFound, "nope"),
      ]
      for (body, status, word) in cases {
        let response = try await c.request(.post, "/v1/exercises", token: t.lee, json: body)
        let message = String(buffer: response.body)
        #expect(response.status == status, "\(body.prefix(80)): \(message)")
        #expect(message.contains(word), "\(message)")
      }
      #expect(
        try await c.request(.post, "/v1/sessions", token: t.ann, json: #"{"exercise":"nope"}"#)
          .status
          == .notFound)
      let badSkeleton = try await c.request(
        .post, "/v1/sessions", token: t.ann,
        json: #"{"exercise":"uiprmd-m07-shoulder-abduction","skeleton":"octopus"}"#)
      #expect(badSkeleton.status == .badRequest)
      #expect(String(buffer: badSkeleton.body).contains("octopus"))
    }
  }

  @Test("the report shows repetitions, primary angles against the reference, and range of motion")
  func report() async throws {
    let t = try await TestServer()
    defer { t.removeFolder() }
    let take = try ServerData.kinectTake(movement: 7, subject: 3, episodes: 1...4)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    try await t.run { c in
      let session = try await c.createSession(
        token: t.ann, extra: ",\"skeletonBVH\":\(try StreamTests.quoted(skeletonBVH))")
      _ = try await c.webSocket("/v1/sessions/\(session.id)/stream", token: t.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        try await outbound.writeTextMessage(ServerData.valuesFrame(take, 0, encoder: encoder))
        var others: [[String: Any]] = []
        _ = try await messages.until(type: "rejected", collecting: &others)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let result = try await c.json(
        .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
      #expect(result.repetitions.count >= 3)

      let json = try await c.request(.get, "/v1/sessions/\(session.id)/report", token: t.lee)
      #expect(json.status == .ok)
      let report = try JSONDecoder().decode(SessionReport.self, from: Data(buffer: json.body))
      #expect(report.session.frames == take.frameCount)
      #expect(report.session.rejected["out_of_order"] == 1)
      #expect(report.result?.repetitions.count == result.repetitions.count)
      let series = try #require(report.series)
      let abduction = try #require(series.measures.first { $0.measure == "rightShoulderAbduction" })
      // The patient's arm goes up well over 60° and the reference's curve is drawn over every
      // repetition, near the patient's peak.
      #expect((abduction.patient.max() ?? 0) - (abduction.patient.min() ?? 0) > 60)
      let referencePeak = abduction.reference.compactMap { $0 }.max() ?? 0
      #expect(abs(referencePeak - (abduction.patient.max() ?? 0)) < 40)
      #expect(abduction.reference.contains { $0 == nil })
      let rom = try #require(report.rangeOfMotion.first { $0.measure == "rightShoulderAbduction" })
      #expect(rom.reached > 60 && rom.reference > 60)

      let html = try await c.request(
        .get, "/v1/sessions/\(session.id)/report?format=html", token: t.ann)
      let page = String(buffer: html.body)
      #expect(html.headers[.contentType]?.hasPrefix("text/html") == true)
      #expect(page.contains("<svg") && page.contains("<polyline"))
      #expect(page.contains("Standing shoulder abduction"))
      #expect(page.contains("right shoulder abduction"))
      for repetition in result.repetitions {
        #expect(page.contains("<tr><td>\(repetition.index)</td>"))
      }
      #expect(page.contains("1 frames rejected (out_of_order 1)"))
    }
  }
}
