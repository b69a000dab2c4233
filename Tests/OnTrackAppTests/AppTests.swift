import AllocationCounter
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackProgramme
import OnTrackProtocol
import OnTrackScoring
import OnTrackSimulation
import Testing

@testable import OnTrackApp

enum AppData {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let fixtures = root.appendingPathComponent("Tests/OnTrackAppTests/Fixtures")

  static func exercise(_ id: String = "uiprmd-m07-shoulder-abduction") throws -> Exercise {
    try Exercise.load(contentsOf: root.appendingPathComponent("Assets/exercises/\(id).json"))
  }

  static func simulated(_ variation: String = "perfect") throws -> PlaySession {
    try PlaySession(
      exercise: exercise(), simulating: PatientSimulator.Variation.named(variation) ?? .init(),
      seed: 3)
  }

  /// The reference performed over and over, with the right upper arm turned `degrees` forward
  /// about the shoulder: an exaggerated error of one limb.
  static func wrongArmTake(degrees: Float) throws -> Clip {
    let reference = try #require(try exercise().referenceClip)
    let skeleton = reference.skeleton
    let arm = try #require(skeleton.index(of: "RightArm"))
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    for _ in 0..<4 {
      for f in 0..<reference.frameCount {
        var pose = reference.pose(atFrame: f)
        pose.rotations[arm] =
          Quaternion(angle: degrees * .pi / 180, axis: [0, 1, 0]) * pose.rotations[arm]
        rotations += pose.rotations
        translations += pose.translations
      }
    }
    return try Clip(
      skeleton: skeleton, frameTime: reference.frameTime, rotations: rotations,
      translations: translations)
  }
}

/// One renderer for the whole suite: SDL allows one video subsystem at a time.
@MainActor let sharedRenderer: Result<HeadlessRenderer, AppError> = Result {
  () throws(AppError) -> HeadlessRenderer in try HeadlessRenderer(width: 1280, height: 720)
}

func close(_ a: SIMD4<UInt8>, _ rgb: (Int, Int, Int), within: Int) -> Bool {
  abs(Int(a.x) - rgb.0) <= within && abs(Int(a.y) - rgb.1) <= within
    && abs(Int(a.z) - rgb.2) <= within
}

@Suite("Avatar app, rendered headless", .serialized)
@MainActor
struct AppTests {
  func renderer() throws -> HeadlessRenderer { try sharedRenderer.get() }

  @Test(
    "a programme day drawn headless: pain asked by keys, the guide, sets with a rest, summaries, in order and filed"
  )
  func programmeDay() throws {
    let renderer = try renderer()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-day-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let outbox = try ProgrammeOutbox(folder: folder)
    let exercise = try AppData.exercise()
    let flow = DayFlow(
      plan: [
        DayFlow.Planned(
          item: ProgrammeItem(exercise: exercise.id, sets: 2, repetitions: 2, restSeconds: 2),
          exercise: exercise)
      ], programme: nil, programmeVersion: nil, date: "2026-12-02", outbox: outbox)
    let day = ProgrammeDayScene(
      flow: flow, simulating: PatientSimulator.Variation.named("perfect") ?? .init())
    try day.advance(by: HeadlessRenderer.step)
    #expect(day.overlay?.title == "Pain before you start")
    // The panel is drawn: dark in the middle of the picture, where the floor would be light.
    let asked = try #require(renderer.render(day))
    #expect(
      close(asked.pixel(x: 640, y: 330), (36, 40, 48), within: 16), "\(asked.pixel(x: 640, y: 330))"
    )
    day.type(digit: 1)
    day.type(digit: 0)
    #expect(day.painDigits == "10")
    try day.confirmPain()
    #expect(flow.painBefore == 10)
    // The HUD counts the programme's repetitions, not the exercise's default.
    #expect(day.session?.exercise.repetitions == 2)

    var stages: [DayFlow.Stage] = []
    var steps = 0
    while !flow.isFinished, steps < 200_000 {
      steps += 1
      if stages.last != flow.stage { stages.append(flow.stage) }
      if flow.asksPain {
        day.type(digit: 3)
        try day.confirmPain()
        continue
      }
      try day.advance(by: HeadlessRenderer.step)
    }
    #expect(
      stages == [
        .demonstrate(item: 0), .exercising(item: 0, set: 0), .setSummary(item: 0, set: 0),
        .rest(item: 0, nextSet: 1), .exercising(item: 0, set: 1), .setSummary(item: 0, set: 1),
        .painAfter,
      ])
    #expect(flow.painAfter == 3)
    #expect(flow.sets.map(\.repetitions) == [2, 2])
    #expect(flow.sets.allSatisfy { ($0.meanScore ?? 0) > 80 })
    #expect(flow.isComplete)
    #expect(try outbox.sets().count == 2)
    let filed = try #require(try outbox.days().first)
    #expect(filed.day.painBefore == 10 && filed.day.painAfter == 3 && filed.setKeys.count == 2)
    #expect(day.overlay?.title == "Today's session is done")
    #expect(renderer.render(day) != nil)
  }

  @Test(
    "the avatars are drawn where forward kinematics projects their joints; empty space stays empty")
  func avatarsWhereKinematicsSays() throws {
    let renderer = try renderer()
    let session = try AppData.simulated()
    HeadlessRenderer.run(session, to: 2.5)
    let image = renderer.render(session)
    let body = session.patientModelBody
    var hits = 0
    var probes = 0
    for landmark in [
      BodyLandmark.leftHip, .rightKnee, .leftKnee, .rightShoulder, .leftElbow, .head,
    ] {
      guard let joint = body.joint(landmark) else { continue }
      for patient in [true, false] {
        guard let p = renderer.projectedJoint(session, patient: patient, joint: joint) else {
          continue
        }
        probes += 1
        let pixel = image.pixel(x: Int(p.x), y: Int(p.y))
        // Neither the sky nor the floor colour.
        if !close(pixel, (237, 240, 245), within: 6) && !close(pixel, (219, 222, 227), within: 8) {
          hits += 1
        }
      }
    }
    #expect(probes == 12)
    #expect(hits >= 11, "\(hits) of \(probes) joint projections land on an avatar")
    // Above the heads, between the avatars: the background.
    if let head = body.joint(.head),
      let p = renderer.projectedJoint(session, patient: true, joint: head)
    {
      #expect(close(image.pixel(x: Int(p.x) - 150, y: Int(p.y) - 50), (237, 240, 245), within: 8))
    }
  }

  @Test("an exaggerated error turns the limb vermillion; the same limb done right is blue")
  func errorColours() throws {
    let renderer = try renderer()
    let exercise = try AppData.exercise()
    var debugPoint = SIMD2<Float>.zero
    func upperArmPixel(_ take: Clip, _ label: String) throws -> SIMD4<UInt8> {
      let session = try PlaySession(exercise: exercise, source: .take(take))
      HeadlessRenderer.run(session, to: 2.2)
      let image = renderer.render(session)
      if let path = ProcessInfo.processInfo.environment["ONTRACK_DEBUG_IMAGE"] {
        try image.writePNG(to: URL(fileURLWithPath: path + "-\(label).png"))
      }
      let skeleton = take.skeleton
      // The forearm: turned with the upper arm, and not hidden by the shoulder ball when the arm
      // points at the camera.
      let shoulder = try #require(skeleton.index(of: "RightForeArm"))
      let elbow = try #require(skeleton.index(of: "RightHand"))
      let a = try #require(renderer.projectedJoint(session, patient: true, joint: shoulder))
      let b = try #require(renderer.projectedJoint(session, patient: true, joint: elbow))
      let middle = (a + b) / 2
      debugPoint = middle
      return image.pixel(x: Int(middle.x), y: Int(middle.y))
    }
    let wrong = try upperArmPixel(try AppData.wrongArmTake(degrees: 80), "wrong")
    #expect(
      Int(wrong.x) > Int(wrong.y) + 50 && Int(wrong.x) > Int(wrong.z) + 50,
      "wrong arm pixel \(wrong) at \(debugPoint)")
    let right = try upperArmPixel(try AppData.wrongArmTake(degrees: 0), "right")
    // The colour-blind-safe scale: vermillion when off, blue when right.
    #expect(
      Int(right.z) > Int(right.x) + 40 && Int(right.z) > Int(right.y) + 10,
      "correct arm pixel \(right) at \(debugPoint)")
  }

  @Test("the HUD shows the repetition count (compared with a reference crop)")
  func hudRepetitionCount() throws {
    let renderer = try renderer()
    let session = try AppData.simulated()
    var t = 0.0
    while session.repetitionsDone < 3 && t < 60 {
      t += 0.5
      HeadlessRenderer.run(session, to: t)
    }
    #expect(session.repetitionsDone == 3)
    #expect(session.currentRepetition == 4)
    let image = renderer.render(session)
    let crop = Crop(image, x: 36, y: 66, width: 300, height: 34)
    let golden = AppData.fixtures.appendingPathComponent("hud-repetition-4-of-10.png")
    if ProcessInfo.processInfo.environment["ONTRACK_UPDATE_GOLDEN"] != nil {
      try crop.image.writePNG(to: golden)
    }
    let expected = try Image.readPNG(golden)
    #expect(crop.meanDifference(expected) < 0.8, "difference \(crop.meanDifference(expected))")
    // A different count draws differently.
    let early = try AppData.simulated()
    HeadlessRenderer.run(early, to: 0.5)
    #expect(
      Crop(renderer.render(early), x: 36, y: 66, width: 300, height: 34).meanDifference(expected)
        > 1.2)
  }

  @Test("the scene survives a lost context: everything rebuilt draws the same picture")
  func lostContext() throws {
    let renderer = try renderer()
    let session = try AppData.simulated()
    HeadlessRenderer.run(session, to: 1.5)
    let before = renderer.render(session)
    try renderer.rebuild()
    let after = renderer.render(session)
    #expect(Crop(before, x: 0, y: 0, width: 1280, height: 720).meanDifference(after) < 1)
  }

  @Test("a shader that fails to compile is reported with its file name and the driver's log")
  func shaderErrors() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-shaders-\(getpid())")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("Shaders"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for file in [
      "mannequin.vert", "mannequin.frag", "floor.vert", "floor.frag", "grid.vert", "grid.frag",
      "shadow.vert", "shadow.frag", "hud.vert", "hud.frag",
    ] {
      try FileManager.default.copyItem(
        at: AppData.root.appendingPathComponent("Shaders/\(file)"),
        to: folder.appendingPathComponent("Shaders/\(file)"))
    }
    try FileManager.default.createSymbolicLink(
      at: folder.appendingPathComponent("Assets"),
      withDestinationURL: AppData.root.appendingPathComponent("Assets"))
    try Data("#version 330 core\nvoid main() { this is not glsl; }\n".utf8)
      .write(to: folder.appendingPathComponent("Shaders/floor.frag"))
    _ = try renderer()  // keep the shared context alive; test a second scene in it
    #expect {
      try HeadlessRenderer(width: 320, height: 180, resources: folder)
    } throws: { error in
      guard case .shader(let file, let log)? = error as? AppError else { return false }
      return file.hasSuffix("floor.frag") && !log.isEmpty
    }
  }

  @Test("the session's per-frame work allocates nothing between repetitions")
  func sessionAllocations() throws {
    let session = try AppData.simulated("demo")
    // Past the side decision (it replays the frames held until the movement began) and the
    // first repetition.
    while session.repetitionsDone == 0 && session.time < 30 { session.advance(by: 1.0 / 60) }
    #expect(session.repetitionsDone == 1)
    var allocations: UInt64 = 0
    var frames = 0
    for _ in 0..<600 {
      let done = session.repetitionsDone
      let before = ontrack_thread_allocation_count()
      session.advance(by: 1.0 / 60)
      let after = ontrack_thread_allocation_count()
      if session.repetitionsDone == done {
        allocations += after - before
        frames += 1
      }
    }
    #expect(frames > 500)
    #expect(allocations == 0, "\(allocations) allocations in \(frames) frames")
  }

  @Test("pause, speed limits, restart")
  func controls() throws {
    let session = try AppData.simulated()
    session.advance(by: 1)
    session.paused = true
    session.advance(by: 5)
    #expect(abs(session.time - 1) < 1e-9)
    session.paused = false
    session.speed = 10
    #expect(session.speed == 2)
    session.speed = 0.01
    #expect(session.speed == 0.25)
    try session.restart()
    #expect(session.time == 0 && session.repetitionsDone == 0)
  }
}

/// A rectangle of an image, compared by mean absolute channel difference.
struct Crop {
  var image: Image

  init(_ source: Image, x: Int, y: Int, width: Int, height: Int) {
    var rgba = [UInt8](repeating: 0, count: width * height * 4)
    for row in 0..<height {
      for column in 0..<(width * 4) {
        rgba[row * width * 4 + column] = source.rgba[((y + row) * source.width + x) * 4 + column]
      }
    }
    image = Image(width: width, height: height, rgba: rgba)
  }

  func meanDifference(_ other: Image) -> Double {
    guard other.width == image.width, other.height == image.height else { return .infinity }
    var total = 0
    for (a, b) in zip(image.rgba, other.rgba) { total += abs(Int(a) - Int(b)) }
    return Double(total) / Double(image.rgba.count)
  }
}

@Suite("Avatar app, a tilted camera")
struct TiltedCameraTests {
  /// The scorer levels a camera that looks down at the patient (`SensorLevelling`); the
  /// patient's avatar is drawn as it levelled them, not leaning with the camera.
  @Test("a tilted camera's patient is drawn standing as the scorer levels them")
  func tiltedPatientIsDrawnLevel() throws {
    let exercise = try AppData.exercise()
    let reference = try #require(exercise.referenceClip)
    var simulator = PatientSimulator(reference: reference, variation: .init(), seed: 3)
    let take = try simulator.take(repetitions: 2)
    let n = take.skeleton.count
    let turn = Quaternion(angle: 12 * .pi / 180, axis: [1, 0, 0])
    var rotations = take.rotations
    var translations = take.translations
    for f in 0..<take.frameCount {
      rotations[f * n] = turn * rotations[f * n]
      translations[f * n] = turn.act(on: translations[f * n])
    }
    let tilted = try Clip(
      skeleton: take.skeleton, frameTime: take.frameTime, rotations: rotations,
      translations: translations)
    let level = try PlaySession(exercise: exercise, source: .take(take))
    let seen = try PlaySession(exercise: exercise, source: .take(tilted))
    HeadlessRenderer.run(level, to: 2)
    HeadlessRenderer.run(seen, to: 2)
    #expect(seen.scorer.sensorLevelling.map { $0.w < 1 } == true)
    let body = level.patientModelBody
    for landmark in [BodyLandmark.head, .leftAnkle, .rightWrist] {
      let joint = try #require(body.joint(landmark))
      let a = level.drawnPosition(patient: true, joint: joint)
      let b = seen.drawnPosition(patient: true, joint: joint)
      // Before: drawn 0.45–0.49 m off, leaning with the camera.
      #expect(simd_distance(a, b) < 0.03, "\(landmark): \(b) against \(a)")
    }
  }
}

@Suite("Avatar app, what the camera does not show")
struct CannotSeeTests {
  /// A keypoint recording whose right arm (the exercised one) the camera does not show for
  /// its first 8 s: the cue says so, and the coach is to say it, until the arm is seen; then
  /// repetitions are found.
  @Test("the cue says which measured part the camera does not show, until it is seen")
  func cueSaysWhatIsUnseen() throws {
    let exercise = try AppData.exercise()
    let reference = try #require(exercise.referenceClip)
    var simulator = PatientSimulator(reference: reference, variation: .init(), seed: 3)
    let take = try simulator.take(repetitions: 5)
    let skeleton = take.skeleton
    let hidden = ["RightForeArm", "RightHand"]
    var csv = "frame,time"
    for joint in skeleton.joints { csv += ",\(joint.name).x,\(joint.name).y,\(joint.name).z" }
    csv += "\n"
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    for f in 0..<take.frameCount {
      take.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      let time = Double(f) * take.frameTime
      csv += "\(f),\(time)"
      for (j, w) in world.enumerated() {
        let gone = time < 8 && hidden.contains { skeleton.joints[j].name.hasPrefix($0) }
        csv += gone ? ",,," : ",\(w.translation.x),\(w.translation.y),\(w.translation.z)"
      }
      csv += "\n"
    }
    #expect(hidden.allSatisfy { name in skeleton.joints.contains { $0.name == name } })
    let solved = try KeypointFiles.csv(bytes: Array(csv.utf8), file: "arm.csv").solved()
    let session = try PlaySession(exercise: exercise, source: KeypointRecordingSource(solved))
    let words =
      "The camera does not show your right shoulder: if you are exercising that side, turn so that it can see it"
    var narrator = SessionNarrator()
    var cues: [String] = []
    var said: [String] = []
    while session.time < 14 && !session.finished {
      HeadlessRenderer.run(session, to: session.time + 0.1)
      if cues.last != session.cue { cues.append(session.cue) }
      if let utterance = narrator.update(session, duration: { _ in 1 }) {
        said.append(utterance.text)
      }
    }
    #expect(cues.contains(words), "\(cues)")
    #expect(said.contains(words), "\(said)")
    // Seen again: the cue moves on, and the repetitions done are found.
    #expect(session.cue != words)
    #expect(session.repetitionsDone >= 1)
  }
}

@Suite("Avatar app, live remote session")
struct RemoteSessionTests {
  @Test(
    "frames from a remote feed move the patient and are scored; the end of the stream ends the set")
  func remoteFeed() throws {
    let exercise = try AppData.exercise()
    let reference = try #require(exercise.referenceClip)
    let skeleton = reference.skeleton
    let feed = RemoteFeed(skeleton: skeleton)
    let session = try PlaySession(exercise: exercise, source: .remote(feed))
    let encoder = ChannelEncoder(skeleton: skeleton)
    var values: [Float] = []
    // Three repetitions with half a second of rest around each, as a stream would send them.
    var frame = 0
    for _ in 0..<3 {
      for f in -15..<(reference.frameCount + 15) {
        encoder.encode(
          reference.pose(atFrame: min(max(f, 0), reference.frameCount - 1)), into: &values)
        feed.push(values: values, time: Double(frame) * reference.frameTime)
        frame += 1
      }
    }
    session.advance(by: 1.0 / 60)
    #expect(session.repetitionsDone >= 2)
    #expect(!session.finished)
    // The patient stands in the last pose received (the reference's last frame), placed where
    // the first frame stood.
    let body = session.patientModelBody
    let wrist = try #require(body.joint(.rightWrist))
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(
      skeleton: skeleton, pose: reference.pose(atFrame: reference.frameCount - 1), into: &world)
    let start = reference.pose(atFrame: 0).translations[0]
    let drawn = session.drawnPosition(patient: true, joint: wrist)
    let expected =
      world[wrist].translation - SIMD3(start.x, 0, start.z) + session.slot(patient: true)
    #expect(simd_distance(drawn, expected) < 1e-3)
    feed.end(status: "Session finished")
    session.advance(by: 1.0 / 60)
    #expect(session.repetitionsDone == 3)
    #expect(session.finished)
    #expect(session.cue == "Session finished" || session.cue == "Set complete")
    #expect((session.lastScore ?? 0) > 95)
  }
}

private func simd_distance(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
  ((a - b) * (a - b)).sum().squareRoot()
}
