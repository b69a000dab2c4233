import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation
import Testing

/// Keypoint input scored like any motion capture: the same takes from their angles and as
/// keypoints, another sensor's markers, and landmarks the sensor lost.
@Suite("Scoring keypoints")
struct KeypointScoringTests {
  struct Committed: Decodable {
    var auc: [String: Double]
  }

  static func committed() throws -> Committed {
    try JSONDecoder().decode(
      Committed.self,
      from: Data(contentsOf: ScoringData.fixtures.appendingPathComponent("uiprmd-committed.json")))
  }

  @Test("UI-PRMD Kinect as keypoints: AUC as from angles; a lost landmark draws no cue")
  func kinectAsKeypoints() throws {
    let results = try KeypointEvaluation.kinect(
      dataset: ScoringData.uiprmd, exercises: ScoringData.exercises)
    #expect(results.count == 10)
    // 2 cm of jitter per axis on every point: within 0.05 of the angles. AUC on five movements
    // (README, "Keypoints, cameras and other sensors"), within 0.13 on all.
    let withinTarget = results.filter { r in r.anglesAUC - r.jitterAUC <= 0.05 }
    #expect(withinTarget.count >= 5, "within 0.05: \(withinTarget.map(\.movement))")
    for r in results {
      #expect(r.anglesAUC - r.jitterAUC <= 0.13, "m\(r.movement) jitter \(r.jitterAUC)")
      #expect(
        abs(r.keypointsAUC - r.anglesAUC) <= 0.02,
        "m\(r.movement): \(r.keypointsAUC) vs \(r.anglesAUC)")
      #expect(r.falseCues == 0, "m\(r.movement): \(r.falseCues) cues about the lost \(r.dropped)")
      // Losing the movement's key landmark for half a second costs some separation, not all.
      #expect(r.dropoutAUC >= r.anglesAUC - 0.15, "m\(r.movement) dropout \(r.dropoutAUC)")
      // The lowest, the leg raise, sits at 0.800 (just above before the landmark gate, 0.7998
      // after it: the gate holds the solver's toe where it flips 40–65 cm in a frame under
      // 2 cm of jitter); the floor is a hundredth below, for real regressions.
      #expect(r.jitterAUC >= 0.79, "m\(r.movement) jitter \(r.jitterAUC)")
      // Only a camera's points (no spine): the references measured as the camera sees them
      // (`DerivedLandmarks`) separate at least as well as against their own necks (measured
      // −0.001 to +0.067), and a typical correct repetition still scores 80 or more (against
      // the references' own necks: 63–84).
      #expect(r.cameraAUC >= r.cameraOwnNeckAUC - 0.005, "m\(r.movement) camera \(r.cameraAUC)")
      #expect(r.cameraAUC >= r.anglesAUC - 0.06, "m\(r.movement) camera \(r.cameraAUC)")
      #expect(
        (r.medianCorrect["camera"] ?? 0) >= 79.5, "m\(r.movement) camera \(r.medianCorrect)")
    }
  }

  @Test("UI-PRMD Vicon markers scored with the Kinect-built exercises (cross-sensor)")
  func viconCrossSensor() throws {
    let committed = try Self.committed()
    let results = try KeypointEvaluation.vicon(
      vicon: ScoringData.uiprmd.appendingPathComponent("vicon"), exercises: ScoringData.exercises)
    #expect(results.count >= 3)
    for r in results {
      let kinect = try #require(committed.auc["\(r.movement)"])
      #expect(r.auc >= kinect - 0.05, "m\(r.movement): Vicon AUC \(r.auc), Kinect \(kinect)")
      #expect(r.medianCorrect >= 70, "m\(r.movement): median correct \(r.medianCorrect)")
      #expect(r.correct == 100 && r.incorrect == 100)
    }
  }

  /// World positions of every joint of `clip` as a keypoint CSV, as `ontrack fk --csv`
  /// writes it (in the file's unit, here centimetres); seen by a camera turned by `turn`.
  static func fkCSV(
    _ clip: Clip, unit: Float = 100, turn: Quaternion? = nil,
    drop: (Int, Int) -> Bool = { _, _ in false }
  ) -> [UInt8] {
    let skeleton = clip.skeleton
    var text = "frame,time"
    for joint in skeleton.joints { text += ",\(joint.name).x,\(joint.name).y,\(joint.name).z" }
    text += "\n"
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    for f in 0..<clip.frameCount {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      text += "\(f),\(Double(f) * clip.frameTime)"
      for (j, w) in world.enumerated() {
        if drop(f, j) {
          text += ",,,"
        } else {
          let p = (turn?.act(on: w.translation) ?? w.translation) * unit
          text += ",\(p.x),\(p.y),\(p.z)"
        }
      }
      text += "\n"
    }
    return Array(text.utf8)
  }

  @Test("a BVH take and its joints' positions as keypoints score alike")
  func keypointCSVScoresLikeTheBVH() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let bvh = try BVHReader().read(
      contentsOf: ScoringData.root.appendingPathComponent("Assets/examples/squat_demo.bvh"))
    let direct = try TakeScorer(exercise: exercise).score(bvh)
    let take = try KeypointFiles.csv(bytes: Self.fkCSV(bvh), file: "squat.csv")
    #expect(take.layout.id == "named")
    let solved = try take.solved()
    let viaKeypoints = TakeScorer(exercise: exercise).score(solved)
    #expect(viaKeypoints.repetitions.count == direct.repetitions.count)
    #expect(direct.repetitions.count >= 2)
    for (a, b) in zip(direct.repetitions, viaKeypoints.repetitions) {
      #expect(abs(a.score - b.score) <= 3, "\(a.score) vs \(b.score)")
      #expect(abs(a.startTime - b.startTime) <= 0.2)
    }
    // The solved clip itself (as recorded to BVH) scores close too.
    let viaClip = try TakeScorer(exercise: exercise).score(solved.clip)
    #expect(viaClip.repetitions.count == direct.repetitions.count)
    for (a, b) in zip(direct.repetitions, viaClip.repetitions) {
      #expect(abs(a.score - b.score) <= 8, "clip \(b.score) vs \(a.score)")
    }
    #expect(viaKeypoints.tracking?["leftKnee"] == 1)
  }

  /// Loggers often write milliseconds. A `time_ms` column is read as such; milliseconds in a
  /// `time` column (a body moving a thousand times too slowly) are refused, saying so.
  @Test("times in milliseconds: read from a time_ms column, refused with a hint from time")
  func millisecondTimes() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let bvh = try BVHReader().read(
      contentsOf: ScoringData.root.appendingPathComponent("Assets/examples/squat_demo.bvh"))
    let text = String(decoding: Self.fkCSV(bvh), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for k in lines.indices.dropFirst() where !lines[k].isEmpty {
      var cells = lines[k].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      cells[1] = String((Double(cells[1]) ?? .nan) * 1000)
      lines[k] = cells.joined(separator: ",")
    }
    let seconds = try TakeScorer(exercise: exercise).score(
      try KeypointFiles.csv(bytes: Self.fkCSV(bvh), file: "s.csv").solved())
    lines[0] = lines[0].replacingOccurrences(of: "frame,time,", with: "frame,time_ms,")
    let named = try KeypointFiles.csv(
      bytes: Array(lines.joined(separator: "\n").utf8), file: "m.csv")
    let milliseconds = TakeScorer(exercise: exercise).score(try named.solved())
    #expect(milliseconds.repetitions.count == seconds.repetitions.count)
    #expect(seconds.repetitions.count >= 2)
    for (a, b) in zip(seconds.repetitions, milliseconds.repetitions) {
      #expect(abs(a.score - b.score) < 0.5)
    }
    lines[0] = lines[0].replacingOccurrences(of: "frame,time_ms,", with: "frame,time,")
    do {
      _ = try KeypointFiles.csv(bytes: Array(lines.joined(separator: "\n").utf8), file: "n.csv")
      Issue.record("milliseconds read as seconds")
    } catch {
      #expect("\(error)".contains("milliseconds"), "\(error)")
    }
  }

  /// A logger's stutter: a frame written twice, one whose time went back, one without a time.
  /// Before, the whole take was refused for its first such frame.
  @Test("frames whose times do not advance are left out and named; the rest scores as clean")
  func framesWrittenTwice() throws {
    let exercise = try ScoringData.exercise("uiprmd-m01-deep-squat")
    let bvh = try BVHReader().read(
      contentsOf: ScoringData.root.appendingPathComponent("Assets/examples/squat_demo.bvh"))
    let clean = Self.fkCSV(bvh)
    // The CSV's lines (line k + 1 holds frame k, after the header), and back.
    func lines(_ bytes: [UInt8]) -> [String] {
      String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }
    func bytes(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\n") + "\n").utf8) }
    func timed(_ line: String, _ time: String) -> String {
      var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      cells[1] = time
      return cells.joined(separator: ",")
    }
    var stutter = lines(clean)
    #expect(stutter.count == bvh.frameCount + 1)
    let twice = stutter[41]
    let back = stutter[80]
    stutter.insert(timed(stutter[150], "nan"), at: 171)
    stutter.insert(back, at: 121)
    stutter.insert(twice, at: 42)
    let stuttered = bytes(stutter)
    let take = try KeypointFiles.csv(bytes: stuttered, file: "stutter.csv")
    #expect(take.framesLeftOut == [41, 121, 172])
    let reference = try KeypointFiles.csv(bytes: clean, file: "clean.csv")
    #expect(take.times == reference.times)
    let scored = TakeScorer(exercise: exercise).score(try take.solved())
    let cleanScored = TakeScorer(exercise: exercise).score(try reference.solved())
    #expect(scored.repetitions.count == cleanScored.repetitions.count)
    #expect(scored.repetitions.map(\.score) == cleanScored.repetitions.map(\.score))
    #expect(try take.solved().framesLeftOut == [41, 121, 172])
    // A clock's glitch: one time far ahead, then the clock goes on. Only that frame is left
    // out (keeping it would have left out every frame after it).
    var glitched = lines(clean)
    glitched[60] = timed(glitched[60], "99")
    let glitch = try KeypointFiles.csv(bytes: bytes(glitched), file: "glitch.csv")
    #expect(glitch.framesLeftOut == [59])
    #expect(glitch.times.count == reference.times.count - 1)
    // Many such frames are no stutter: the take is refused, naming the first.
    var shuffled = lines(clean)
    shuffled.swapAt(10, 11)
    for k in stride(from: 20, to: shuffled.count, by: 10) { shuffled[k] = shuffled[k - 1] }
    do {
      _ = try KeypointFiles.csv(bytes: bytes(shuffled), file: "shuffled.csv")
      Issue.record("accepted a take with a tenth of its times repeated")
    } catch {
      #expect("\(error)".contains("frame 10:"), "\(error)")
      #expect("\(error)".contains("are these the frames' times"), "\(error)")
    }
  }

  @Test("a wrist out of view for a second: its measures are left out, not cued")
  func lostWristIsNotThePatientsFault() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    let clip = try ScoringData.kinect(movement: 7, subject: 1, episode: 1)
    let skeleton = clip.skeleton
    let wrist = try #require(skeleton.index(of: "RightHand"))
    let elbow = try #require(skeleton.index(of: "RightForearm"))
    let n = clip.frameCount
    // The arm above the elbow vanishes for the middle of the repetition.
    let lost = (n / 4)..<(n * 3 / 4)
    let bytes = Self.fkCSV(clip) { f, j in lost.contains(f) && (j == wrist || j == elbow) }
    let take = try KeypointFiles.csv(bytes: bytes, file: "m07.csv")
    #expect(take.layout.id == "uiprmd-kinect")
    let solved = try take.solved()
    #expect((solved.tracking[.rightElbow] ?? 1) < 0.6)
    let result = TakeScorer(exercise: exercise).score(solved)
    let repetition = try #require(result.repetitions.first)
    let unseen = repetition.unseen ?? []
    #expect(unseen.contains("rightElbowFlexion"), "\(unseen)")
    for cue in repetition.cues {
      let measure = cue.measure.flatMap(BodyMeasure.init(name:))
      #expect(
        measure.map { !$0.landmarks.contains(.rightElbow) && !$0.landmarks.contains(.rightWrist) }
          ?? true, "cue about the unseen arm: \(cue.text)")
    }
  }

  @Test("bad keypoint input: clear errors naming where, or documented handling")
  func badInput() throws {
    // No time column.
    #expect(throws: MotionFormatError.self) {
      try KeypointFiles.csv(
        bytes: Array("frame,LeftKnee.x,LeftKnee.y,LeftKnee.z\n0,1,2,3\n".utf8), file: "a.csv")
    }
    // A point without its z column.
    do {
      _ = try KeypointFiles.csv(
        bytes: Array("time,LeftKnee.x,LeftKnee.y\n0,1,2\n".utf8), file: "b.csv")
      Issue.record("accepted a point without z")
    } catch {
      #expect("\(error)".contains("LeftKnee.z"))
    }
    // Names that are no layout.
    do {
      _ = try KeypointFiles.csv(
        bytes: Array("time,foo.x,foo.y,foo.z\n0,1,2,3\n".utf8), file: "c.csv")
      Issue.record("accepted an unknown layout")
    } catch {
      #expect("\(error)".contains("--layout"))
    }
    // An unknown --layout.
    #expect(throws: MotionFormatError.self) {
      try KeypointFiles.csv(
        bytes: Array("time,LeftKnee.x,LeftKnee.y,LeftKnee.z\n0,1,2,3\n".utf8), file: "d.csv",
        layout: "openpose-99")
    }
    // Times that go back.
    let names = KeypointLayout.blazePose33.names
    var rows = "t"
    for n in names { rows += ",\(n).x,\(n).y,\(n).z" }
    rows += "\n0" + String(repeating: ",0.1,0.2,0.3", count: names.count) + "\n"
    rows += "-1" + String(repeating: ",0.1,0.2,0.3", count: names.count) + "\n"
    #expect(throws: MotionFormatError.self) {
      try KeypointFiles.csv(bytes: Array(rows.utf8), file: "e.csv")
    }
    // Times a few femtoseconds apart, or a day apart, would make the clip they are solved into
    // too large to hold: refused with the reason (before, a crash converting the count).
    func take(times: [String]) -> String {
      var text = "t"
      for n in names { text += ",\(n).x,\(n).y,\(n).z" }
      for t in times { text += "\n\(t)" + String(repeating: ",0.1,0.2,0.3", count: names.count) }
      return text + "\n"
    }
    for (times, words) in [
      (["0", "1e-300", "2e-300", "3e-300"], "frames a second"),
      (["0", "1e-9", "2e-9", "3e-9", "1e9"], "frames a second"),
      (["0", "0.033", "0.067", "0.1", "86400"], "gaps"),
      (["0", "1000", "2000"], "frames a second"),
    ] {
      do {
        _ = try KeypointFiles.csv(bytes: Array(take(times: times).utf8), file: "g.csv")
        Issue.record("accepted times \(times)")
      } catch {
        #expect("\(error)".contains(words), "\(error)")
        #expect("\(error)".contains("g.csv"))
      }
    }
    // A camera that lost the patient for ten seconds in a minute is still a take.
    let lost = (0..<1_500).map { f in String(format: "%.4f", Double(f < 900 ? f : f + 300) / 30) }
    #expect(throws: Never.self) {
      try KeypointFiles.csv(bytes: Array(take(times: lost).utf8), file: "h.csv")
    }
    // A JSON line that is no frame names its line.
    do {
      _ = try KeypointFiles.jsonLines(
        bytes: Array("{\"t\":0,\"keypoints\":{\"left_knee\":[0,0,0]}}\n{\"t\":1}\n".utf8),
        file: "f.jsonl", layout: "blazepose33")
      Issue.record("accepted a line without keypoints")
    } catch {
      #expect(error.line == 2)
    }
    // A point given twice in a line (JSONDecoder would take the first, other readers the
    // last) names its line and the point.
    do {
      _ = try KeypointFiles.jsonLines(
        bytes: Array(
          ("{\"t\":0,\"keypoints\":{\"left_knee\":[0,0,0]}}\n"
            + "{\"t\":1,\"keypoints\":{\"left_knee\":[0,0,0],\"left_knee\":[5,5,5]}}\n").utf8),
        file: "d.jsonl", layout: "blazepose33")
      Issue.record("accepted a line with a point given twice")
    } catch {
      #expect(error.line == 2)
      #expect("\(error)".contains(#""left_knee" occurs twice in $.keypoints"#), "\(error)")
    }
  }

  /// A camera's keypoints (BlazePose, COCO-17) give no neck, and COCO-17 no feet: the solver
  /// places them by rule (the neck at the mid-shoulder point, which moves with the arms; a toe
  /// forward of the ankle in the trunk's frame). Compared with the reference's own, a perfect
  /// deep squat scored 11 through BlazePose ("Keep your head up and still"), a shoulder
  /// extension 82, a cat–camel 47, and COCO-17 found no repetition of a floor exercise; the
  /// scorers now place them alike in the reference (`DerivedLandmarks`), live as offline.
  /// Sensors that give them (Kinect v2, BODY_25) are compared with the reference's own.
  @Test(
    "landmarks a sensor does not give (a camera's neck, COCO-17's feet) do not cost a perfect performance, live as offline",
    arguments: [
      "uiprmd-m01-deep-squat", "uiprmd-m07-shoulder-abduction", "uiprmd-m08-shoulder-extension",
      "lbp-cat-camel", "lbp-press-up", "lbp-lateral-tilt", "lbp-flank-stretch", "lbp-glute-bridge",
      "lbp-knee-rolls", "lbp-bird-dog",
    ])
  func landmarksSensorsDoNotGive(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    #expect(fromAngles.repetitions.count == 3)
    for layout in [KeypointLayout.blazePose33, .coco17, .body25, .kinectV2] {
      let take = try KeypointFiles.csv(
        bytes: try Self.layoutCSV(clip, layout: layout), file: "\(layout.id).csv",
        layout: layout.id)
      let solved = try take.solved()
      let landmarks = ClipFeatures.landmarks(of: solved)
      var expected: DerivedLandmarks = []
      if layout.sources[.neck] == nil { expected.insert(.neck) }
      if layout.sources[.leftToe] == nil { expected.formUnion([.leftToe, .rightToe]) }
      #expect(landmarks[0].derivedLandmarks == expected, "\(layout.id)")
      // A detector's placeholder frame (every point at one place) tells nothing.
      var placeholder = landmarks[0]
      for k in placeholder.positions.indices { placeholder.positions[k] = .zero }
      #expect(placeholder.derivedLandmarks.isEmpty)
      let offline = TakeScorer(exercise: exercise).score(solved)
      #expect(offline.repetitions.count == 3, "\(id) through \(layout.id)")
      for (x, y) in zip(offline.repetitions, fromAngles.repetitions) {
        #expect(x.score >= y.score - 3, "\(id) through \(layout.id): \(x.score) \(x.cues)")
      }
      let live = try ScoringData.streamLive(
        landmarks: landmarks, times: solved.times, exercise: exercise)
      #expect(live.repetitions.map(\.score) == offline.repetitions.map(\.score), "\(layout.id)")
    }
  }

  /// `clip` as a sensor of `layout` would give it, a keypoint CSV in the layout's names, axes
  /// and unit: each body point the layout makes from one source point is that point; one it
  /// makes from two (the head from the ears, a toe from two toes) gets them on either side of
  /// it across the body; the source's other points are left out (empty).
  static func layoutCSV(_ clip: Clip, layout: KeypointLayout) throws -> [UInt8] {
    let named = try KeypointFiles.csv(bytes: Self.fkCSV(clip, unit: 1), file: "n.csv")
    var frame = KeypointFrame()
    var text = "frame,time"
    for n in layout.names { text += ",\(n).x,\(n).y,\(n).z" }
    text += "\n"
    let unit = Float(layout.metresPerUnit ?? 1)
    for (f, positions) in named.frames.enumerated() {
      named.layout.bodyPoints(positions: positions, confidence: nil, scale: 1, into: &frame)
      let lateral: SIMD3<Float> = {
        guard let l = frame[.leftHip], let r = frame[.rightHip] else { return SIMD3(1, 0, 0) }
        return normalize(l - r)
      }()
      var values = [SIMD3<Float>?](repeating: nil, count: layout.names.count)
      for (point, list) in layout.sources {
        guard let p = frame[point] else { continue }
        if list.count == 1 {
          values[list[0]] = p
        } else if list.count == 2 {
          let spread: Float = point == .head ? 0.07 : 0.03
          // The left-named one to the left.
          let a = layout.names[list[0]].lowercased()
          let leftFirst = a.hasPrefix("l") || a.contains("left")
          values[list[0]] = p + lateral * (leftFirst ? spread : -spread)
          values[list[1]] = p - lateral * (leftFirst ? spread : -spread)
        } else {
          for k in list { values[k] = p }
        }
      }
      text += "\(f),\(named.times[f])"
      for v in values {
        if let v {
          let s = layout.axes.unapply(v) / unit
          text += ",\(s.x),\(s.y),\(s.z)"
        } else {
          text += ",,,"
        }
      }
      text += "\n"
    }
    return Array(text.utf8)
  }

  /// A camera beside a patient on the floor sees the far arm and leg badly (a pose model gives
  /// them low visibility, counted as missing). Before, with either side's elbow, wrist, knee,
  /// ankle and foot unseen, no repetition of a squat, a bridge, a press-up, a lateral tilt or a
  /// pelvis circle was found: the held limbs told the matcher the far knee stayed straight.
  /// Exercises whose reference moves the pair symmetrically now see the far limb as the near
  /// one's mirror image (`UnseenLimbMirroring`); its own measures stay unseen.
  @Test(
    "a far arm and leg the camera cannot see: symmetric exercises still found and scored",
    arguments: [
      "lbp-squat", "lbp-glute-bridge", "lbp-press-up", "lbp-lateral-tilt", "lbp-pelvis-circles",
      "uiprmd-m01-deep-squat",
    ])
  func farLimbsUnseen(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    let csv = try Self.layoutCSV(clip, layout: .blazePose33)
    for side in ["left", "right"] {
      let limbs = KeypointLayout.blazePose33.names.filter {
        $0.hasPrefix(side + "_") && !$0.hasSuffix("_hip") && !$0.hasSuffix("_shoulder")
          && !$0.hasSuffix("_ear") && !$0.contains("_eye") && !$0.hasPrefix(side + "_mouth")
      }
      let take = try KeypointFiles.csv(
        bytes: Self.withoutPoints(limbs, before: .infinity, in: csv), file: "\(side).csv",
        layout: "blazepose33")
      let solved = try take.solved()
      let result = TakeScorer(exercise: exercise).score(solved)
      #expect(result.repetitions.count == 3, "\(id), \(side) limbs unseen")
      let live = try ScoringData.streamLive(
        landmarks: ClipFeatures.landmarks(of: solved), times: solved.times, exercise: exercise)
      #expect(live.repetitions.map(\.score) == result.repetitions.map(\.score), "\(id) live")
      for (x, y) in zip(result.repetitions, fromAngles.repetitions) {
        #expect(x.score >= y.score - 3, "\(id), \(side) limbs unseen: \(x.score) \(x.cues)")
        // Nothing is said about what was not seen.
        #expect(x.cues.allSatisfy { !$0.text.lowercased().contains(side) }, "\(x.cues)")
      }
    }
  }

  /// A camera beside a patient who works the far arm or leg sees nothing of it: no repetition
  /// is found, and nothing said why. Live, the patient is now told which part the camera does
  /// not show (`StreamingScorer.cannotSee`, `SightWatch`); not when the unseen side is not
  /// the one exercised, nor when an unseen limb is placed as the other's mirror image and
  /// scored; and told to come back when nothing is seen.
  @Test(
    "a measured part the camera does not show is told live, only when it matters",
    arguments: [
      ("uiprmd-m06-straight-leg-raise", "hip", nil),
      ("uiprmd-m07-shoulder-abduction", "shoulder", nil),
      // The stance leg's knee is measured too: said, once the side is known.
      ("uiprmd-m02-hurdle-step", "hip", "knee"),
    ])
  func unseenWorkingLimbTold(id: String, part: String, otherPart: String?) throws {
    let exercise = try ScoringData.exercise(id)
    let working = try #require(exercise.workingSide)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let csv = try Self.layoutCSV(clip, layout: .blazePose33)
    func live(unseen side: String, from start: Double = -1) throws -> (
      told: [String], repetitions: Int
    ) {
      let limbs = KeypointLayout.blazePose33.names.filter {
        $0.hasPrefix(side + "_") && !$0.hasSuffix("_hip") && !$0.hasSuffix("_shoulder")
          && !$0.hasSuffix("_ear") && !$0.contains("_eye") && !$0.hasPrefix(side + "_mouth")
      }
      let bytes =
        start < 0
        ? Self.withoutPoints(limbs, before: .infinity, in: csv)
        : Self.withoutPoints(KeypointLayout.blazePose33.names, after: start, in: csv)
      let solved = try KeypointFiles.csv(bytes: bytes, file: "\(side).csv", layout: "blazepose33")
        .solved()
      var scorer = try StreamingScorer(exercise: exercise)
      var told: [String] = []
      for (frame, time) in zip(ClipFeatures.landmarks(of: solved), solved.times) {
        _ = scorer.push(landmarks: frame, at: time)
        if let words = scorer.cannotSee, told.last != words { told.append(words) }
      }
      scorer.finish()
      return (told, scorer.repetitions.count)
    }
    let workingSide = working == .left ? "left" : "right"
    let otherSide = working == .left ? "right" : "left"
    let far = try live(unseen: workingSide)
    #expect(far.repetitions == 0, "\(id)")
    #expect(
      far.told == [
        "The camera does not show your \(workingSide) \(part): if you are exercising that side, turn so that it can see it"
      ], "\(id): \(far.told)")
    // The other side unseen: the exercised one is found, and nothing is said unless the
    // exercise measures the other side too.
    let near = try live(unseen: otherSide)
    #expect(near.repetitions == 3, "\(id)")
    #expect(
      near.told
        == (otherPart.map {
          ["The camera does not show your \(otherSide) \($0): move so that it can see it"]
        } ?? []), "\(id): \(near.told)")
    // Gone from the picture after the first repetition.
    let gone = try live(unseen: "", from: 4.5)
    #expect(
      gone.told == ["The camera does not show you: come back into the picture"], "\(gone.told)")
  }

  /// A symmetric exercise's far limbs are placed as the near ones' mirror images and scored:
  /// nothing is said about them.
  @Test("limbs placed as the other side's mirror image are not told as unseen")
  func mirroredLimbsNotTold() throws {
    let exercise = try ScoringData.exercise("lbp-glute-bridge")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let csv = try Self.layoutCSV(clip, layout: .blazePose33)
    let limbs = KeypointLayout.blazePose33.names.filter {
      $0.hasPrefix("left_") && !$0.hasSuffix("_hip") && !$0.hasSuffix("_shoulder")
        && !$0.hasSuffix("_ear") && !$0.contains("_eye") && !$0.hasPrefix("left_mouth")
    }
    let solved = try KeypointFiles.csv(
      bytes: Self.withoutPoints(limbs, before: .infinity, in: csv), file: "l.csv",
      layout: "blazepose33"
    ).solved()
    var scorer = try StreamingScorer(exercise: exercise)
    for (frame, time) in zip(ClipFeatures.landmarks(of: solved), solved.times) {
      _ = scorer.push(landmarks: frame, at: time)
      #expect(scorer.cannotSee == nil, "\(time) s")
      if scorer.cannotSee != nil { break }
    }
    scorer.finish()
    #expect(scorer.repetitions.count == 3)
  }

  /// A camera's points hold no lumbar spine, so the pelvis's own tilt, all a pelvic tilt is
  /// scored on, is never seen through one: each repetition is counted and said to be
  /// unscored, naming what the sensor does not show (before: a silent 0 for each).
  @Test("what a camera cannot measure is counted, not scored, and said")
  func unmeasuredThroughACamera() throws {
    let exercise = try ScoringData.exercise("lbp-pelvic-tilt")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let take = try KeypointFiles.csv(
      bytes: try Self.layoutCSV(clip, layout: .blazePose33), file: "camera.csv",
      layout: "blazepose33")
    let solved = try take.solved()
    let result = TakeScorer(exercise: exercise).score(solved)
    #expect(result.repetitions.count == 3)
    #expect(result.summary.meanScore == nil)
    // Live, nothing is told of what no camera shows (turning would not show it): before, the
    // patient in full view was told to come back into the picture.
    for id in ["lbp-pelvic-tilt", "lbp-cat-camel"] {
      let other = try ScoringData.exercise(id)
      let frames = try KeypointFiles.csv(
        bytes: try Self.layoutCSV(
          try ScoringData.simulatedTake(of: other, seed: 3, frameRate: 30), layout: .blazePose33),
        file: "\(id).csv", layout: "blazepose33"
      ).solved()
      var live = try StreamingScorer(exercise: other)
      var told: Set<String> = []
      for (frame, time) in zip(ClipFeatures.landmarks(of: frames), frames.times) {
        _ = live.push(landmarks: frame, at: time)
        if let words = live.cannotSee { told.insert(words) }
      }
      #expect(told.isEmpty, "\(id): \(told)")
    }
    for repetition in result.repetitions {
      #expect(!repetition.isMeasured)
      #expect(
        repetition.cues.first?.text
          == "Counted, not scored: the sensor does not show your lower back",
        "\(repetition.cues)")
      #expect(repetition.cues.first?.kind == .unseen)
    }
  }

  @Test("which limbs an exercise may mirror is its reference's symmetry")
  func mirroredLimbs() throws {
    for (id, arms, legs) in [
      ("lbp-cat-camel", true, true), ("lbp-glute-bridge", true, true),
      ("lbp-knee-rolls", true, false), ("lbp-bird-dog", false, false),
      ("lbp-flank-stretch", false, true), ("uiprmd-m02-hurdle-step", true, false),
      ("uiprmd-m08-shoulder-extension", false, false), ("uiprmd-m01-deep-squat", false, false),
    ] {
      let exercise = try ScoringData.exercise(id)
      #expect(exercise.unseenLimbs == UnseenLimbMirroring(arms: arms, legs: legs), "\(id)")
    }
  }

  /// A sensor's first frames that miss a point decide nothing for the whole take
  /// (`DerivedLandmarksDecision`). When the first frame decided alone, a camera that saw one
  /// shoulder in it was compared with the reference's own neck (a perfect deep squat through
  /// BlazePose scored 11, a cat–camel 47), BlazePose's toes unseen for 0.3 s lost every
  /// repetition of the cat–camel, and a Kinect v2 or OpenPose without its neck for 0.1 s was
  /// compared with a derived one (cat–camel 95, 86).
  @Test(
    "points missing from a sensor's first frames do not decide which landmarks it gives, live as offline",
    arguments: ["uiprmd-m01-deep-squat", "uiprmd-m08-shoulder-extension", "lbp-cat-camel"])
  func firstFramesMissingAPoint(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    #expect(fromAngles.repetitions.count == 3)
    for (layout, names, seconds, expected) in [
      (KeypointLayout.blazePose33, ["left_shoulder"], 0.1, DerivedLandmarks.neck),
      (.blazePose33, ["left_foot_index", "right_foot_index"], 0.3, .neck),
      (.coco17, ["right_shoulder"], 0.2, [.neck, .leftToe, .rightToe]),
      (.kinectV2, ["Neck"], 0.1, []),
      (.kinectV2, ["Neck"], 0.5, []),
      (.body25, ["Neck"], 0.1, []),
      // The legs entering the picture after 2 s: the toes were decided placed by rule (the
      // solver guessed them for 2 s), and the cat–camel found no repetition.
      (
        .blazePose33,
        [
          "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
          "left_foot_index", "right_foot_index",
        ], 2.0, .neck
      ),
    ] {
      let csv = Self.withoutPoints(
        names, before: seconds, in: try Self.layoutCSV(clip, layout: layout))
      let solved = try KeypointFiles.csv(bytes: csv, file: "m.csv", layout: layout.id).solved()
      let landmarks = ClipFeatures.landmarks(of: solved)
      let what = "\(id) through \(layout.id) without \(names) for \(seconds) s"
      #expect(
        DerivedLandmarksDecision.decided(landmarks: landmarks, times: solved.times) == expected,
        "\(what)")
      let offline = TakeScorer(exercise: exercise).score(solved)
      #expect(offline.repetitions.count == 3, "\(what)")
      // A first repetition begun before the legs were seen is measured on what was seen.
      for (x, y) in zip(offline.repetitions, fromAngles.repetitions).dropFirst(seconds > 1 ? 1 : 0)
      {
        #expect(x.score >= y.score - 3, "\(what): \(x.score) \(x.cues)")
      }
      let live = try ScoringData.streamLive(
        landmarks: landmarks, times: solved.times, exercise: exercise)
      #expect(live.repetitions.map(\.score) == offline.repetitions.map(\.score), "\(what)")
      #expect(live.rejectedFrames == 0)
    }
  }

  /// A camera's pose model guesses depth from one image and flattens the body along the
  /// camera's axis. With BlazePose's depth at 70 %, a perfect glute bridge scored 2 ("Don't
  /// lift so high"), a standing trunk rotation 59, a deep squat 92; the solver now tells the
  /// scale from the limbs' lengths as they turn into depth and undoes it (`DepthScale`), from
  /// the repetition it has seen move on (the first is measured while it learns). Depth that is
  /// only noisy, not flattened, is left as it is.
  @Test(
    "a camera model's flattened depth is told by the limbs and undone; noisy depth is left alone",
    arguments: [
      "lbp-glute-bridge", "lbp-trunk-rotation", "uiprmd-m01-deep-squat", "lbp-knee-to-chest",
      "uiprmd-m09-shoulder-rotation",
    ])
  func flattenedDepth(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    let layout = KeypointLayout.blazePose33
    let take = try KeypointFiles.csv(
      bytes: try Self.layoutCSV(clip, layout: layout), file: "d.csv", layout: layout.id)
    var random: UInt64 = 11
    func seen(depth: Float, jitter: Float, corrected: Bool = true) throws -> KeypointTake {
      let frames = take.frames.map { frame in
        frame.map { point -> SIMD3<Float>? in
          guard var p = point else { return nil }
          p.z *= depth
          for axis in 0..<3 where jitter > 0 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Uniform with the standard deviation `jitter`.
            p[axis] += jitter * 3.4641 * (Float(random >> 40) / Float(1 << 24) - 0.5)
          }
          return p
        }
      }
      return try KeypointTake(
        layout: corrected ? layout : layout.with(metresPerUnit: 1, depthIsEstimated: false),
        times: take.times, frames: frames, confidence: nil, source: "d")
    }
    // Flattened to 70 %: as its angles from the second repetition on (the first is measured
    // while the scale is learnt), where the flattened depth as given cost up to 98 points.
    let solved = try seen(depth: 0.7, jitter: 0).solved()
    #expect(abs(solved.depthScale - 0.7) < 0.03, "\(id): \(solved.depthScale)")
    let result = TakeScorer(exercise: exercise).score(solved)
    #expect(result.repetitions.count == 3, "\(id)")
    for (x, y) in zip(result.repetitions.dropFirst(), fromAngles.repetitions.dropFirst()) {
      #expect(x.score >= y.score - 5, "\(id): \(x.score) against \(y.score) \(x.cues)")
    }
    // Through 1 cm of jitter too; undoing the flattening deepens the jitter along depth by
    // as much (1.4 cm here), which costs what that jitter costs.
    let jittered = TakeScorer(exercise: exercise).score(try seen(depth: 1, jitter: 0.01).solved())
    let noisy = try seen(depth: 0.7, jitter: 0.01).solved()
    #expect(abs(noisy.depthScale - 0.7) < 0.06, "\(id) through 1 cm: \(noisy.depthScale)")
    let noisyResult = TakeScorer(exercise: exercise).score(noisy)
    #expect(noisyResult.repetitions.count == 3, "\(id) through 1 cm")
    for (x, y) in zip(noisyResult.repetitions.dropFirst(), jittered.repetitions.dropFirst()) {
      #expect(x.score >= y.score - 25, "\(id) through 1 cm: \(x.score) against \(y.score)")
    }
    if id == "lbp-glute-bridge" || id == "lbp-knee-to-chest" {
      // As given, these score 33–54 (the hip read as lifted too high, the knee as not drawn
      // in far enough); 1–14 while a hold a little off its posture counted for nothing.
      let given = TakeScorer(exercise: exercise).score(
        try seen(depth: 0.7, jitter: 0.01, corrected: false).solved())
      #expect(given.repetitions.allSatisfy { $0.score < 60 }, "\(id) as given")
      #expect(noisyResult.repetitions.dropFirst().allSatisfy { $0.score >= 75 }, "\(id)")
    }
    for jitter: Float in [0.01, 0.02] {
      #expect(try seen(depth: 1, jitter: jitter).solved().depthScale == 1, "\(id) \(jitter)")
    }
  }

  /// A Kinect's camera space in millimetres, or a pose model's points in centimetres, handed
  /// over as the layout's metres: every point was refused as an impossible bone length and no
  /// repetition was found, without a word. The body's size tells the unit
  /// (`KeypointConverter.unitCorrected`): read in it, offline and live, and said.
  @Test("points in another unit than their layout's are read in the unit the body's size tells")
  func unitTheBodyTells() throws {
    let exercise = try ScoringData.exercise("uiprmd-m07-shoulder-abduction")
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    for (layout, unit) in [(KeypointLayout.kinectV2, 0.001), (.blazePose33, 0.01)] {
      let metres = try KeypointFiles.csv(
        bytes: try Self.layoutCSV(clip, layout: layout), file: "m.csv", layout: layout.id)
      let frames = metres.frames.map { $0.map { $0.map { $0 / Float(unit) } } }
      let other = try KeypointTake(
        layout: layout, times: metres.times, frames: frames, confidence: nil, source: "u.csv")
      let expected = TakeScorer(exercise: exercise).score(try metres.solved())
      let solved = try other.solved()
      #expect(solved.unitCorrected?.given == 1 && solved.unitCorrected?.taken == unit)
      #expect(try metres.solved().unitCorrected == nil)
      let offline = TakeScorer(exercise: exercise).score(solved)
      #expect(offline.repetitions.count == 3, "\(layout.id)")
      for (x, y) in zip(offline.repetitions, expected.repetitions) {
        #expect(abs(x.score - y.score) < 0.5, "\(layout.id): \(x.score) against \(y.score)")
      }
      // Live, frame by frame as the camera helper or a server session sends them.
      var stream = try KeypointStream(skeleton: solved.clip.skeleton, layout: layout.id)
      var live = try StreamingScorer(exercise: exercise)
      var pose = solved.clip.skeleton.restPose
      for (f, frame) in frames.enumerated() {
        var points: [String: [Double]?] = [:]
        for (k, p) in frame.enumerated() {
          points[layout.names[k]] = p.map { [Double($0.x), Double($0.y), Double($0.z)] }
        }
        guard
          try stream.push(
            points: points, confidence: nil, layout: nil, time: other.times[f], into: &pose)
        else { continue }
        var landmarks = LandmarkFrame()
        for l in landmarks.positions.indices { landmarks.positions[l] = stream.solver.landmarks[l] }
        landmarks.untracked = stream.solver.untrackedLandmarks
        _ = live.push(landmarks: landmarks, at: other.times[f])
      }
      live.finish()
      #expect(live.repetitions.count == 3, "\(layout.id) live")
      #expect(stream.solver.implausible == 0)
    }
  }

  /// The decision's rules on their own: a landmark the sensor shows it gives is its own at
  /// once; one shown only placed by rule is so after `window` seconds; one no frame tells
  /// about waits `longestWait`, then counts as the sensor's own; `mostFrames` bounds the wait.
  @Test("which landmarks a sensor does not give: decided from its first frames")
  func derivationDecision() throws {
    var frame = LandmarkFrame()
    frame[.leftShoulder] = [0.2, 1.4, 0]
    frame[.rightShoulder] = [-0.2, 1.4, 0]
    frame[.leftHip] = [0.1, 0.9, 0]
    frame[.rightHip] = [-0.1, 0.9, 0]
    frame[.leftAnkle] = [0.1, 0.1, 0]
    frame[.rightAnkle] = [-0.1, 0.1, 0]
    frame[.leftToe] = [0.1, 0, 0.15]
    frame[.rightToe] = [-0.1, 0, 0.15]
    var derivedNeck = frame
    derivedNeck[.neck] = [0, 1.4, 0]
    var ownNeck = frame
    ownNeck[.neck] = [0, 1.45, -0.02]
    var oneShoulder = derivedNeck
    oneShoulder.untracked = 1 << UInt32(BodyLandmark.leftShoulder.rawValue)
    #expect(derivedNeck.derivationEvidence.derived == .neck)
    #expect(derivedNeck.derivationEvidence.own == [.leftToe, .rightToe])
    #expect(ownNeck.derivationEvidence.own == [.neck, .leftToe, .rightToe])
    #expect(oneShoulder.derivationEvidence.derived.isEmpty)
    // Halfway between a derived neck and a spine's: no evidence either way.
    var between = frame
    between[.neck] = [0, 1.405, 0]
    #expect(between.derivationEvidence.own == [.leftToe, .rightToe])
    #expect(between.derivationEvidence.derived.isEmpty)

    func decide(_ frames: [LandmarkFrame], rate: Double = 30) -> DerivedLandmarksDecision {
      var decision = DerivedLandmarksDecision()
      for (k, f) in frames.enumerated() where decision.decided == nil {
        decision.observe(f, at: Double(k) / rate)
      }
      return decision
    }
    let second = Int(DerivedLandmarksDecision.window * 30) + 1
    // A neck missing from the first 0.2 s (the solver derived it), then the sensor's own.
    var missed = decide(Array(repeating: derivedNeck, count: 6) + [ownNeck])
    #expect(missed.provisional == .neck)
    #expect(missed.decided == [])
    // Derived for a whole window: placed by rule; not before.
    missed = decide(Array(repeating: derivedNeck, count: second - 1))
    #expect(missed.decided == nil)
    #expect(missed.resolved == .neck)
    #expect(decide(Array(repeating: derivedNeck, count: second)).decided == .neck)
    // One shoulder unseen for two seconds tells nothing about the neck; then it is told.
    let late = decide(
      Array(repeating: oneShoulder, count: 60) + Array(repeating: derivedNeck, count: second))
    #expect(late.provisional == [])
    #expect(late.decided == .neck)
    // Never told: the sensor's own after the longest wait, or after `mostFrames` at any rate.
    let wait = Int(DerivedLandmarksDecision.longestWait * 30) + 1
    #expect(decide(Array(repeating: oneShoulder, count: wait - 1)).decided == nil)
    #expect(decide(Array(repeating: oneShoulder, count: wait)).decided == [])
    #expect(
      decide(Array(repeating: oneShoulder, count: DerivedLandmarksDecision.mostFrames), rate: 1e6)
        .decided == [])
  }

  /// `csv` (a `layoutCSV`) with `names`' columns empty in its rows before `seconds`.
  static func withoutPoints(_ names: [String], before seconds: Double, in csv: [UInt8]) -> [UInt8] {
    withoutPoints(names, in: csv) { $0 < seconds }
  }

  /// `csv` with the points `names` left empty in the rows from `seconds` on.
  static func withoutPoints(_ names: [String], after seconds: Double, in csv: [UInt8]) -> [UInt8] {
    withoutPoints(names, in: csv) { $0 >= seconds }
  }

  static func withoutPoints(_ names: [String], in csv: [UInt8], when: (Double) -> Bool)
    -> [UInt8]
  {
    var lines = String(decoding: csv, as: UTF8.self).split(
      separator: "\n", omittingEmptySubsequences: false
    ).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines[0]
    let columns = names.flatMap { n in
      ["x", "y", "z"].compactMap { header.firstIndex(of: "\(n).\($0)") }
    }
    for r in lines.indices.dropFirst() where lines[r].count == header.count {
      guard let t = Double(lines[r][1]), when(t) else { continue }
      for c in columns { lines[r][c] = "" }
    }
    return Array(lines.map { $0.joined(separator: ",") }.joined(separator: "\n").utf8)
  }

  /// `csv` with the left and right columns of the points whose names (without `left_` /
  /// `right_` and the axis) pass `names` exchanged in the rows whose frame index passes `rows`.
  static func swappingSides(
    in csv: [UInt8], names: (String) -> Bool, rows: (Int) -> Bool
  ) -> [UInt8] {
    var lines = String(decoding: csv, as: UTF8.self).split(
      separator: "\n", omittingEmptySubsequences: false
    ).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines[0]
    var pairs: [(Int, Int)] = []
    for (i, h) in header.enumerated() where h.hasPrefix("left_") {
      let base = String(h.dropFirst(5))
      guard let name = base.split(separator: ".").first, names(String(name)),
        let j = header.firstIndex(of: "right_" + base)
      else { continue }
      pairs.append((i, j))
    }
    for r in lines.indices.dropFirst() where lines[r].count == header.count && rows(r - 1) {
      for (i, j) in pairs { lines[r].swapAt(i, j) }
    }
    return Array(lines.map { $0.joined(separator: ",") }.joined(separator: "\n").utf8)
  }

  /// A pose detector confuses left and right for a whole limb or its end (the far and the
  /// near foot of a body seen side-on), most often before it has locked on. Through the
  /// solver, before: every label swapped in the first 2 frames found no repetition of 21 of
  /// the 25 exercises (the whole take read mirrored); the lower legs swapped for 2 frames of
  /// every 30 scored the knee rolls 33 and the leg raise 69 with one repetition of three; the
  /// forearms for 3 frames of 45 the glute bridge 27 and the press-up 44, one repetition each.
  @Test(
    "a detector's left and right swapped — from the first frame, a limb's end — scores as the clean take",
    arguments: [
      "lbp-glute-bridge", "lbp-knee-rolls", "lbp-press-up", "uiprmd-m06-straight-leg-raise",
      "uiprmd-m10-shoulder-scaption",
    ])
  func detectorSwapsSides(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let csv = try Self.layoutCSV(clip, layout: .blazePose33)
    let scorer = TakeScorer(exercise: exercise)
    let clean = scorer.score(
      try KeypointFiles.csv(bytes: csv, file: "clean.csv", layout: "blazepose33").solved())
    let cleanMean = try #require(clean.summary.meanScore)
    let lowerLeg = ["knee", "ankle", "heel", "foot_index"]
    let forearm = ["elbow", "wrist", "pinky", "index", "thumb"]
    let faults: [(String, (String) -> Bool, (Int) -> Bool)] = [
      ("every label, first 2 frames", { _ in true }, { $0 < 2 }),
      ("lower legs, 2 frames of 30", { lowerLeg.contains($0) }, { $0 % 30 == 15 || $0 % 30 == 16 }),
      ("forearms, 3 frames of 45", { forearm.contains($0) }, { $0 % 45 >= 20 && $0 % 45 < 23 }),
    ]
    for (fault, names, rows) in faults {
      let take = try KeypointFiles.csv(
        bytes: Self.swappingSides(in: csv, names: names, rows: rows), file: "swapped.csv",
        layout: "blazepose33")
      let result = scorer.score(try take.solved())
      #expect(result.repetitions.count == 3, "\(id), \(fault)")
      #expect(
        (result.summary.meanScore ?? 0) >= cleanMean - 2,
        "\(id), \(fault): \(result.summary.meanScore ?? 0) vs \(cleanMean)")
      #expect(
        result.repetitions.map(\.mirrored) == clean.repetitions.map(\.mirrored), "\(id), \(fault)")
    }
  }

  /// A pose detector's outliers: in every frame, each point has a 1 % chance of being thrown
  /// ~0.5 m (30 cm per axis). Through the solver, a floor exercise, scored mostly on the trunk
  /// and pelvis, keeps its count and most of its score (before the trunk's points were
  /// checked, an outlier on a hip or the spine moved the whole trunk: the glute bridge scored
  /// 43 and the pelvic tilt 20, five repetitions found, where the clean take scores 100).
  @Test(
    "outliers on the trunk's points are refused, not read as the trunk moving",
    arguments: ["lbp-glute-bridge", "lbp-pelvic-tilt", "uiprmd-m01-deep-squat"])
  func trunkOutliers(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 5, frameRate: 30)
    let clean = try KeypointFiles.csv(bytes: Self.fkCSV(clip), file: "clean.csv").solved()
    let cleanResult = TakeScorer(exercise: exercise).score(clean)
    #expect(cleanResult.repetitions.count == 3)
    // The same CSV (centimetres) with outliers thrown in.
    var rng = SplitMix64(seed: 17)
    let lines = String(decoding: Self.fkCSV(clip), as: UTF8.self).split(separator: "\n")
    var text = String(lines[0]) + "\n"
    for line in lines.dropFirst() {
      var cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      for point in 0..<((cells.count - 2) / 3) where rng.unit() < 0.01 {
        for axis in 0..<3 {
          let c = 2 + 3 * point + axis
          if let v = Double(cells[c]) { cells[c] = String(v + 30 * rng.gaussian()) }
        }
      }
      text += cells.joined(separator: ",") + "\n"
    }
    let thrown = try KeypointFiles.csv(bytes: Array(text.utf8), file: "thrown.csv").solved()
    #expect(thrown.implausible > 0)
    let result = TakeScorer(exercise: exercise).score(thrown)
    let before = cleanResult.summary.meanScore ?? 0
    let after = result.summary.meanScore ?? 0
    #expect(result.repetitions.count == 3, "\(id): \(result.repetitions.count) repetitions")
    #expect(after >= before - 25, "\(id): \(after) with outliers, \(before) without")
  }

  /// A webcam looking down or up at the patient: its keypoints, through the solver, are
  /// levelled against the exercise's starting posture (`SensorLevelling`) and score as the
  /// level camera's (before, 12° of pitch found no repetition of the pelvic tilt); so are a
  /// camera on its side's, for an exercise that starts standing (before, no repetition was
  /// found beyond 60°).
  @Test(
    "a tilted camera's keypoints score as a level one's, through the solver",
    arguments: ["lbp-pelvic-tilt", "lbp-bird-dog", "uiprmd-m07-shoulder-abduction", "lbp-squat"])
  func tiltedCamera(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 5, frameRate: 30)
    let level = TakeScorer(exercise: exercise).score(
      try KeypointFiles.csv(bytes: Self.fkCSV(clip), file: "level.csv").solved())
    #expect(level.repetitions.count == 3)
    let onItsSide: [(Float, Float)] =
      exercise.levelling?.referenceStands == true ? [(0, 90), (0, -90)] : []
    for (pitch, roll) in [(Float(12), Float(4)), (-12, -4)] + onItsSide {
      let turn =
        Quaternion(angle: roll * .pi / 180, axis: SIMD3(0, 0, 1))
        * Quaternion(angle: pitch * .pi / 180, axis: SIMD3(1, 0, 0))
      let tilted = TakeScorer(exercise: exercise).score(
        try KeypointFiles.csv(bytes: Self.fkCSV(clip, turn: turn), file: "tilted.csv").solved())
      #expect(tilted.repetitions.count == 3, "\(id), pitch \(pitch)°, roll \(roll)°")
      let a = level.summary.meanScore ?? 0
      let b = tilted.summary.meanScore ?? 0
      #expect(abs(a - b) <= 5, "\(id), pitch \(pitch)°, roll \(roll)°: \(b), level \(a)")
    }
  }

  @Test("impossible bone lengths are refused and counted; NaN points are missing")
  func impossibleLengths() throws {
    let clip = try ScoringData.kinect(movement: 1, subject: 2, episode: 3)
    let skeleton = clip.skeleton
    let knee = try #require(skeleton.index(of: "LeftLowerLeg"))
    var bytes = Self.fkCSV(clip)
    // After two seconds, the left knee jumps a metre away in every tenth frame.
    var text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for f in stride(from: 70, to: clip.frameCount, by: 10) {
      var cells = lines[f + 1].split(separator: ",").map(String.init)
      let column = 2 + 3 * knee
      if let x = Double(cells[column]) { cells[column] = String(x + 100) }
      cells[column + 1] = "nan"
      lines[f + 1] = cells.joined(separator: ",")
    }
    text = lines.joined(separator: "\n")
    bytes = Array(text.utf8)
    let take = try KeypointFiles.csv(bytes: bytes, file: "jump.csv")
    // NaN makes the point missing in those frames; single-frame gaps are bridged.
    let kneeColumn = try #require(take.layout.names.firstIndex(of: "LeftLowerLeg"))
    #expect(take.frames[70][kneeColumn] == nil)
    #expect(take.frames[71][kneeColumn] != nil)
    let solved = try take.solved()
    #expect(solved.unsolvedFrames == 0)
    #expect(solved.tracking[.leftKnee] == 1)
    // Now only x: a finite point a metre away from where the thigh allows.
    var far = lines
    for f in stride(from: 70, to: clip.frameCount, by: 10) {
      far[f + 1] = far[f + 1].replacingOccurrences(of: ",nan,", with: ",0,")
    }
    let jumped = try KeypointFiles.csv(
      bytes: Array(far.joined(separator: "\n").utf8), file: "far.csv"
    )
    .solved()
    #expect(jumped.implausible > 0)
  }
}
