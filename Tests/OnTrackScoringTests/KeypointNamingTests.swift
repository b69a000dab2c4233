import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import Testing

/// Keypoints named as other skeletons and sensors name their joints, recognised without
/// `--layout`. Before, a file whose names shared half a fixed layout's was read as that
/// layout: Unity's humanoid and Xsens MVN's segment names as UI-PRMD's Kinect joints (in
/// centimetres, without elbows: `LeftLowerArm` and `LeftForeArm` are not `LeftForearm`),
/// SMPL's and Human3.6M's snake-case names as COCO-17's (no head, no trunk); SMPL's
/// `left_foot` (its toes) was an ankle beside `left_ankle`, and Azure Kinect's joints came
/// upside down (millimetres, y down, read as a skeleton's y up).
@Suite("Keypoints named as other skeletons and sensors name them")
struct KeypointNamingTests {
  /// Where a convention's point is, from OnTrack's body points.
  enum Place: Sendable {
    case at(BodyPoint)
    /// `a` + (`b` − `a`) × `t`.
    case between(BodyPoint, BodyPoint, Float)
  }

  struct Convention: Sendable {
    let points: [(name: String, place: Place)]
    /// Metres per unit.
    var unit: Float = 1
    var yDown = false
    /// The axes the file is written in (a body's y up becomes this axis) and whether it is a
    /// mirror image (x negated: a left-handed frame).
    var axes: KeypointLayout.Axes = .yUp
    var mirrored = false
    /// The layout it is expected to be read as.
    let layout: String
    /// Body points and the source point each must be read from.
    let expected: [BodyPoint: String]
  }

  static let conventions: [String: Convention] = [
    "unity-humanoid": Convention(
      points: [
        ("Hips", .at(.pelvis)), ("Spine", .at(.spine)), ("Chest", .at(.chest)),
        ("UpperChest", .between(.chest, .neck, 0.5)), ("Neck", .at(.neck)), ("Head", .at(.head)),
      ]
        + sides { s, n in
          [
            ("\(n)Shoulder", .between(.neck, s(.leftShoulder), 0.5)),
            ("\(n)UpperArm", .at(s(.leftShoulder))), ("\(n)LowerArm", .at(s(.leftElbow))),
            ("\(n)Hand", .at(s(.leftWrist))), ("\(n)UpperLeg", .at(s(.leftHip))),
            ("\(n)LowerLeg", .at(s(.leftKnee))), ("\(n)Foot", .at(s(.leftAnkle))),
            ("\(n)Toes", .at(s(.leftToe))),
          ]
        }, layout: "named",
      expected: [
        .pelvis: "Hips", .leftElbow: "LeftLowerArm", .rightElbow: "RightLowerArm",
        .leftWrist: "LeftHand", .leftAnkle: "LeftFoot", .rightToe: "RightToes",
      ]),
    "xsens-mvn": Convention(
      points: [
        ("Pelvis", .at(.pelvis)), ("L5", .between(.pelvis, .spine, 0.5)), ("L3", .at(.spine)),
        ("T12", .between(.spine, .chest, 0.5)), ("T8", .at(.chest)), ("Neck", .at(.neck)),
        ("Head", .at(.head)),
      ]
        + sides { s, n in
          [
            ("\(n)Shoulder", .between(.chest, s(.leftShoulder), 0.4)),
            ("\(n)UpperArm", .at(s(.leftShoulder))), ("\(n)ForeArm", .at(s(.leftElbow))),
            ("\(n)Hand", .at(s(.leftWrist))), ("\(n)UpperLeg", .at(s(.leftHip))),
            ("\(n)LowerLeg", .at(s(.leftKnee))), ("\(n)Foot", .at(s(.leftAnkle))),
            ("\(n)Toe", .at(s(.leftToe))),
          ]
        }, layout: "named",
      expected: [
        .pelvis: "Pelvis", .leftShoulder: "LeftUpperArm", .leftElbow: "LeftForeArm",
        .rightWrist: "RightHand", .leftToe: "LeftToe",
      ]),
    "smpl": Convention(
      points: [
        ("pelvis", .at(.pelvis)), ("spine1", .between(.pelvis, .spine, 0.6)),
        ("spine2", .at(.spine)), ("spine3", .between(.spine, .chest, 0.6)), ("neck", .at(.neck)),
        ("head", .at(.head)),
      ]
        + sides { s, n in
          let side = n.lowercased()
          return [
            ("\(side)_hip", .at(s(.leftHip))), ("\(side)_knee", .at(s(.leftKnee))),
            ("\(side)_ankle", .at(s(.leftAnkle))), ("\(side)_foot", .at(s(.leftToe))),
            ("\(side)_collar", .between(.chest, s(.leftShoulder), 0.4)),
            ("\(side)_shoulder", .at(s(.leftShoulder))), ("\(side)_elbow", .at(s(.leftElbow))),
            ("\(side)_wrist", .at(s(.leftWrist))),
            ("\(side)_hand", .between(s(.leftElbow), s(.leftWrist), 1.3)),
          ]
        }, layout: "named",
      expected: [
        .head: "head", .leftAnkle: "left_ankle", .leftToe: "left_foot",
        .rightWrist: "right_wrist", .rightHand: "right_hand", .pelvis: "pelvis",
      ]),
    "human36m": Convention(
      points: [
        ("Hip", .at(.pelvis)), ("RHip", .at(.rightHip)), ("RKnee", .at(.rightKnee)),
        ("RFoot", .at(.rightAnkle)), ("LHip", .at(.leftHip)), ("LKnee", .at(.leftKnee)),
        ("LFoot", .at(.leftAnkle)), ("Spine", .at(.spine)), ("Thorax", .at(.chest)),
        ("Neck/Nose", .at(.neck)), ("Head", .at(.head)), ("LShoulder", .at(.leftShoulder)),
        ("LElbow", .at(.leftElbow)), ("LWrist", .at(.leftWrist)),
        ("RShoulder", .at(.rightShoulder)), ("RElbow", .at(.rightElbow)),
        ("RWrist", .at(.rightWrist)),
      ], layout: "named",
      expected: [.pelvis: "Hip", .leftAnkle: "LFoot", .chest: "Thorax", .rightElbow: "RElbow"]),
    "azure-kinect": Convention(
      points: [
        ("PELVIS", .at(.pelvis)), ("SPINE_NAVEL", .at(.spine)), ("SPINE_CHEST", .at(.chest)),
        ("NECK", .at(.neck)), ("HEAD", .at(.head)), ("NOSE", .between(.neck, .head, 1.4)),
      ]
        + sides { s, n in
          let side = n.uppercased()
          return [
            ("CLAVICLE_\(side)", .between(.chest, s(.leftShoulder), 0.4)),
            ("SHOULDER_\(side)", .at(s(.leftShoulder))), ("ELBOW_\(side)", .at(s(.leftElbow))),
            ("WRIST_\(side)", .at(s(.leftWrist))),
            ("HAND_\(side)", .between(s(.leftElbow), s(.leftWrist), 1.3)),
            ("HANDTIP_\(side)", .between(s(.leftElbow), s(.leftWrist), 1.6)),
            ("THUMB_\(side)", .between(s(.leftElbow), s(.leftWrist), 1.4)),
            ("HIP_\(side)", .at(s(.leftHip))), ("KNEE_\(side)", .at(s(.leftKnee))),
            ("ANKLE_\(side)", .at(s(.leftAnkle))), ("FOOT_\(side)", .at(s(.leftToe))),
            ("EYE_\(side)", .between(.neck, .head, 1.5)), ("EAR_\(side)", .at(.head)),
          ]
        }, unit: 0.001, yDown: true, layout: "azure-kinect",
      expected: [
        .leftWrist: "WRIST_LEFT", .leftAnkle: "ANKLE_LEFT", .leftToe: "FOOT_LEFT",
        .chest: "SPINE_CHEST",
      ]),
  ]

  /// Both sides' points: `make` writes the left side's with `s` turning a left point into the
  /// side's own, and `n` the side's name (`Left`, `Right`).
  static func sides(
    _ make: ((BodyPoint) -> BodyPoint, String) -> [(name: String, place: Place)]
  ) -> [(name: String, place: Place)] {
    make({ $0 }, "Left") + make({ $0.mirrored }, "Right")
  }

  @Test(
    "each convention's names are read as the points they are",
    arguments: conventions.keys.sorted())
  func recognised(convention id: String) throws {
    let convention = try #require(Self.conventions[id])
    let layout = try #require(KeypointLayout.recognise(convention.points.map(\.name)))
    #expect(layout.id == convention.layout)
    for (point, name) in convention.expected {
      #expect(layout.sources[point].map { $0.map { layout.names[$0] } } == [name], "\(point)")
    }
    // Every limb joint is found.
    for point in [BodyPoint.leftShoulder, .leftElbow, .leftWrist, .leftHip, .leftKnee, .leftAnkle] {
      #expect(layout.sources[point] != nil && layout.sources[point.mirrored] != nil, "\(point)")
    }
  }

  @Test("the sensors' own layouts are still recognised by their names")
  func fixedLayoutsStay() {
    for layout in KeypointLayout.all {
      #expect(KeypointLayout.recognise(layout.names)?.id == layout.id, "\(layout.id)")
    }
  }

  /// A simulated perfect performance written in each convention's names, unit and axes, read
  /// without `--layout`: scored as from its joint angles.
  @Test(
    "a performance in another convention's names scores as from its angles",
    arguments: [
      "uiprmd-m07-shoulder-abduction", "uiprmd-m09-shoulder-rotation", "uiprmd-m01-deep-squat",
      "lbp-glute-bridge",
      "lbp-lateral-tilt",
    ])
  func scoresAsFromAngles(exercise id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    #expect(fromAngles.repetitions.count == 3)
    for (name, convention) in Self.conventions.sorted(by: { $0.key < $1.key }) {
      let take = try KeypointFiles.csv(
        bytes: try Self.csv(clip, convention), file: "\(name).csv")
      #expect(take.layout.id == convention.layout, "\(name)")
      let result = TakeScorer(exercise: exercise).score(try take.solved())
      #expect(result.repetitions.count == 3, "\(id) in \(name)'s names")
      for (x, y) in zip(result.repetitions, fromAngles.repetitions) {
        #expect(x.score >= y.score - 3, "\(id) in \(name)'s names: \(x.score) \(x.cues)")
      }
    }
  }

  /// VideoPose3D's and MotionBERT's output: Human3.6M's joints in the camera's frame (x
  /// right, y down, z away). Read with y up, as `named` assumes, the patient stood on their
  /// head and no repetition was found; the body's first upright frame now tells (a take that
  /// only lies down is read as given: README).
  @Test(
    "Human3.6M joints in a camera's frame are turned upright",
    arguments: [
      "uiprmd-m07-shoulder-abduction", "uiprmd-m01-deep-squat", "uiprmd-m05-sit-to-stand",
      "lbp-lateral-tilt",
    ])
  func cameraFrame(exercise id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    var convention = try #require(Self.conventions["human36m"])
    convention.yDown = true
    let take = try KeypointFiles.csv(bytes: try Self.csv(clip, convention), file: "h36m.csv")
    let solved = try take.solved()
    #expect(solved.turnedUpright)
    let result = TakeScorer(exercise: exercise).score(solved)
    #expect(result.repetitions.count == 3)
    for (x, y) in zip(result.repetitions, fromAngles.repetitions) {
      #expect(x.score >= y.score - 3, "\(id): \(x.score) \(x.cues)")
    }
    // Given with y up, nothing is turned.
    let upright = try KeypointFiles.csv(
      bytes: try Self.csv(clip, try #require(Self.conventions["human36m"])), file: "up.csv")
    #expect(try !upright.solved().turnedUpright)
  }

  /// A lab's or a game engine's frame: z or x up, or left-handed (Unity's), a camera's y down
  /// for a patient on the floor. Read as y up and right-handed, a perfect squat given with z
  /// up scored 0 ("Keep your trunk still and upright") and mirrored 5 ("Don't bend so much at
  /// your right hip"); the exercise's starting posture now tells the up axis, the feet and
  /// bent knees the handedness (`KeypointConverter`).
  @Test(
    "keypoints with another axis up, or a mirror image, are read as the body they show",
    arguments: [
      "uiprmd-m01-deep-squat", "uiprmd-m07-shoulder-abduction", "lbp-glute-bridge",
      "lbp-bird-dog",
    ])
  func otherFrames(exercise id: String) throws {
    // Each reading is a rotation (handedness kept) and `unapply` undoes it.
    let v = SIMD3<Float>(0.3, -0.5, 0.8)
    for axes in [KeypointLayout.Axes.yUp, .yDown, .zUp, .zDown, .xUp, .xDown] {
      #expect(length(axes.apply(axes.unapply(v)) - v) < 1e-6, "\(axes)")
      let (a, b) = (axes.apply(SIMD3(1, 0, 0)), axes.apply(SIMD3(0, 1, 0)))
      #expect(length(cross(a, b) - axes.apply(SIMD3(0, 0, 1))) < 1e-6, "\(axes)")
    }
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    let fromAngles = try TakeScorer(exercise: exercise).score(clip)
    #expect(fromAngles.repetitions.count == 3)
    let base = try #require(Self.conventions["unity-humanoid"])
    let frames: [(KeypointLayout.Axes, Bool)] = [
      (.yUp, false), (.yUp, true), (.zUp, false), (.zUp, true), (.xDown, false),
      (.xUp, true), (.yDown, true),
    ]
    for (axes, mirrored) in frames {
      var convention = base
      convention.axes = axes
      convention.mirrored = mirrored
      let name = "\(id) \(axes.upName) up\(mirrored ? ", mirrored" : "")"
      var take = try KeypointFiles.csv(bytes: try Self.csv(clip, convention), file: "x.csv")
      take.startPosture = exercise.startPosture
      let solved = try take.solved()
      #expect(solved.turnedUpright == (axes != .yUp), "\(name): \(solved.readingNotes)")
      #expect(
        solved.readingNotes.contains { $0.contains("mirror image") } == mirrored,
        "\(name): \(solved.readingNotes)")
      let result = TakeScorer(exercise: exercise).score(solved)
      #expect(result.repetitions.count == 3, "\(name)")
      for (x, y) in zip(result.repetitions, fromAngles.repetitions) {
        #expect(x.score >= y.score - 3, "\(name): \(x.score) \(x.cues)")
      }
    }
    // Without the exercise's posture, a body along z is taken as lying down, as before.
    var lab = base
    lab.axes = .zUp
    let unknown = try KeypointFiles.csv(bytes: try Self.csv(clip, lab), file: "lab.csv")
    #expect(try !unknown.solved().turnedUpright)
  }

  /// A live stream of the same mirrored points, z up (standing) or y down (lying on the back:
  /// which side faces up waits for the handedness), is read alike once its first frames have
  /// told: the last frame's landmarks where the file's are.
  @Test(
    "a live keypoint stream tells the up axis and a mirror image as a file does",
    arguments: [
      ("uiprmd-m01-deep-squat", KeypointLayout.Axes.zUp), ("lbp-glute-bridge", .yDown),
    ])
  func streamTellsFrames(exercise id: String, axes: KeypointLayout.Axes) throws {
    let exercise = try ScoringData.exercise(id)
    let clip = try ScoringData.simulatedTake(of: exercise, seed: 3, frameRate: 30)
    var convention = try #require(Self.conventions["unity-humanoid"])
    convention.axes = axes
    convention.mirrored = true
    var take = try KeypointFiles.csv(bytes: try Self.csv(clip, convention), file: "x.csv")
    take.startPosture = exercise.startPosture
    let solved = try take.solved()
    let skeleton = CanonicalSkeleton.make()
    var stream = try KeypointStream(
      skeleton: skeleton, layout: nil, startPosture: exercise.startPosture)
    var pose = skeleton.restPose
    for (f, frame) in take.frames.enumerated() {
      var points: [String: [Double]?] = [:]
      for (k, name) in take.layout.names.enumerated() {
        points[name] = frame[k].map { [Double($0.x), Double($0.y), Double($0.z)] }
      }
      _ = try stream.push(
        points: points, confidence: nil, layout: nil, time: take.times[f], into: &pose)
    }
    #expect(stream.turnedUpright && stream.mirrored, "\(stream.readingNotes)")
    let count = BodyLandmark.allCases.count
    let last = solved.landmarks.suffix(count)
    for (a, b) in zip(stream.solver.landmarks, last) {
      #expect(length(a - b) < 0.02, "\(a) \(b)")
    }
  }

  /// `clip` as a keypoint CSV in `convention`'s names, unit and axes.
  static func csv(_ clip: Clip, _ convention: Convention) throws -> [UInt8] {
    let named = try KeypointFiles.csv(
      bytes: KeypointScoringTests.fkCSV(clip, unit: 1), file: "n.csv")
    var frame = KeypointFrame()
    var text = "frame,time"
    for (name, _) in convention.points { text += ",\(name).x,\(name).y,\(name).z" }
    text += "\n"
    for (f, positions) in named.frames.enumerated() {
      named.layout.bodyPoints(positions: positions, confidence: nil, scale: 1, into: &frame)
      text += "\(f),\(named.times[f])"
      for (_, place) in convention.points {
        let p: SIMD3<Float>? =
          switch place {
          case .at(let point): frame[point]
          case .between(let a, let b, let t):
            frame[a].flatMap { a in frame[b].map { b in a + (b - a) * t } }
          }
        guard var p else {
          text += ",,,"
          continue
        }
        if convention.yDown { p = SIMD3(p.x, -p.y, -p.z) }
        if convention.mirrored { p.x = -p.x }
        p = convention.axes.unapply(p) / convention.unit
        text += ",\(p.x),\(p.y),\(p.z)"
      }
      text += "\n"
    }
    return Array(text.utf8)
  }
}
