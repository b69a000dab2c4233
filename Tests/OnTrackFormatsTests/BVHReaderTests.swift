import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

/// What shared/data/bvh/README.md says each file holds.
struct BVHFileFacts: Sendable, CustomStringConvertible {
  var path: String
  var joints: Int
  var endSites: Int
  var frames: Int
  var fps: Double
  var description: String { path }
}

let bvhFacts: [BVHFileFacts] = [
  .init(
    path: "bandai_namco/dataset-1_bow_normal_001.bvh", joints: 22, endSites: 5, frames: 138, fps: 30
  ),
  .init(
    path: "bandai_namco/dataset-2_raise-up-both-hands_elderly_001.bvh", joints: 22, endSites: 5,
    frames: 142, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_raise-up-both-hands_exhausted_001.bvh", joints: 22, endSites: 5,
    frames: 92, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_raise-up-both-hands_normal_001.bvh", joints: 22, endSites: 5,
    frames: 51, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_raise-up-both-hands_normal_002.bvh", joints: 22, endSites: 5,
    frames: 57, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_raise-up-left-hand_normal_001.bvh", joints: 22, endSites: 5,
    frames: 55, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_raise-up-right-hand_normal_001.bvh", joints: 22, endSites: 5,
    frames: 59, fps: 30),
  .init(
    path: "bandai_namco/dataset-2_walk_normal_001.bvh", joints: 22, endSites: 5, frames: 273,
    fps: 30),
  .init(
    path: "cmu_dazfriendly_rgbdacquisition/102_01cc.bvh", joints: 31, endSites: 7, frames: 278,
    fps: 120),
  .init(
    path: "cmu_dazfriendly_rgbdacquisition/49_04.bvh", joints: 165, endSites: 47, frames: 252,
    fps: 25),
  .init(path: "cmu_fairmotion/01_01.bvh", joints: 31, endSites: 7, frames: 2752, fps: 120),
  .init(path: "misc_bvh_toolbox/walk01.bvh", joints: 19, endSites: 5, frames: 101, fps: 24),
  .init(
    path: "mixamo_rig_bvh_python/test_freebvh.bvh", joints: 55, endSites: 15, frames: 69, fps: 30),
  .init(
    path: "mocapbank_bvh_python/test_mocapbank_crlf.bvh", joints: 19, endSites: 5, frames: 455,
    fps: 30),
  .init(
    path: "pymo_demo/AV_8Walk_Meredith_HVHA_Rep1.bvh", joints: 23, endSites: 7, frames: 1064,
    fps: 120.005),
  .init(
    path: "xia2015_cmu_skeleton_deepmotionediting/depressed_18_000.bvh", joints: 31, endSites: 7,
    frames: 105, fps: 120.005),
  .init(
    path: "xia2015_cmu_skeleton_deepmotionediting/neutral_01_000.bvh", joints: 31, endSites: 7,
    frames: 327, fps: 120.005),
  .init(
    path: "xia2015_cmu_skeleton_deepmotionediting/old_13_000.bvh", joints: 31, endSites: 7,
    frames: 189, fps: 120.005),
]

/// Compares `ontrack fk` positions with a reference table, to `tolerance` of the figure's size.
func expectPositionsMatch(
  _ clip: Clip, reference: PositionTable, tolerance: Double = 1e-4,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let firstFrame = reference.rows.first.map({ Int($0[0]) }) else {
    Issue.record("empty reference", sourceLocation: sourceLocation)
    return
  }
  let frames = firstFrame..<(firstFrame + reference.rows.count)
  let table = WorldPositions(clip: clip, frames: frames)
  #expect(table.header == reference.header, sourceLocation: sourceLocation)
  var worst = 0.0
  var size = 0.0
  for (r, row) in reference.rows.enumerated() {
    size = max(size, reference.extent(row: r))
    for (c, value) in row.enumerated().dropFirst(2) {
      worst = max(worst, abs(table.rows[r][c] - value))
    }
    #expect(abs(table.rows[r][1] - row[1]) < 1e-9, "time", sourceLocation: sourceLocation)
  }
  #expect(
    worst <= tolerance * size, "max error \(worst) vs size \(size)", sourceLocation: sourceLocation)
}

/// World positions in file units, laid out like the peer's CSV.
struct WorldPositions {
  var header: [String]
  var rows: [[Double]]

  init(clip: Clip, frames: Range<Int>) {
    let skeleton = clip.skeleton
    header =
      ["frame", "time"]
      + skeleton.joints.flatMap { j in ["x", "y", "z"].map { "\(j.name).\($0)" } }
    let perMetre = 1 / skeleton.lengthUnit.metres
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    rows = frames.map { f in
      ForwardKinematics.computeWorldTransforms(
        skeleton: skeleton, pose: clip.pose(atFrame: f), into: &world)
      return [Double(f), Double(f) * clip.frameTime]
        + world.flatMap { w in (0..<3).map { Double(w.translation[$0]) * perMetre } }
    }
  }
}

@Suite("BVH reader")
struct BVHReaderTests {
  @Test(
    "every shared BVH file loads with the joints, End Sites, frames and rate it declares",
    arguments: bvhFacts)
  func loadsSharedFile(facts: BVHFileFacts) throws {
    let clip = try readBVH(TestData.bvh(facts.path))
    #expect(clip.skeleton.jointCount == facts.joints)
    #expect(clip.skeleton.endSiteCount == facts.endSites)
    #expect(clip.frameCount == facts.frames)
    #expect(abs(clip.frameRate - facts.fps) < 0.01)
  }

  @Test("the shared folder holds exactly the files listed")
  func sharedFolderIsCovered() {
    let names = Set(TestData.bvhFiles.map { $0.lastPathComponent })
    #expect(names == Set(bvhFacts.map { URL(fileURLWithPath: $0.path).lastPathComponent }))
  }

  @Test(
    "world positions match the float64 scipy reference to 1e-4 of the figure's size",
    arguments: bvhFacts)
  func matchesReferenceFK(facts: BVHFileFacts) throws {
    let name = URL(fileURLWithPath: facts.path).deletingPathExtension().lastPathComponent
    let reference = try String(
      contentsOf: TestData.fixtures.appendingPathComponent("fk-reference/\(name).csv"),
      encoding: .utf8)
    let clip = try readBVH(TestData.bvh(facts.path))
    expectPositionsMatch(clip, reference: PositionTable(text: reference))
  }

  @Test(
    "random skeletons in every rotation order, 6-channel joints and hostile layouts",
    arguments: 1...6)
  func matchesReferenceOnRandomFiles(seed: Int) throws {
    let file = TestData.fixtures.appendingPathComponent("random/random_\(seed).bvh")
    let reference = try String(
      contentsOf: TestData.fixtures.appendingPathComponent("random/random_\(seed).fk.csv"),
      encoding: .utf8)
    let clip = try BVHReader(options: .init(lengthUnit: .centimetre)).read(contentsOf: file)
    expectPositionsMatch(clip, reference: PositionTable(text: reference))
  }

  @Test(
    "every frame of every shared file matches the peer, computed in this run",
    .enabled(if: TestData.peersPython != nil, "needs the peers' Python (ONTRACK_PEERS_PYTHON)"))
  func matchesPeerOnEveryFrame() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-fk-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for file in TestData.bvhFiles {
      let out = folder.appendingPathComponent(
        file.deletingPathExtension().lastPathComponent + ".csv")
      #expect(try TestData.runPeer("bvh_fk_reference.py", [file.path, "--out", out.path]) == 0)
      let reference = PositionTable(text: try String(contentsOf: out, encoding: .utf8))
      #expect(reference.rows.count == (try readBVH(file)).frameCount, "\(file.lastPathComponent)")
      expectPositionsMatch(try readBVH(file), reference: reference)
    }
  }

  @Test("lengths are converted to metres with a unit guessed from the figure")
  func unitGuess() throws {
    let cmu = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh"))
    #expect(cmu.skeleton.lengthUnit == .cmu)
    let bandai = try readBVH(TestData.bvh("bandai_namco/dataset-2_walk_normal_001.bvh"))
    #expect(bandai.skeleton.lengthUnit == .centimetre)
    let metres = try BVHReader(options: .init(lengthUnit: .metre)).read(
      contentsOf: TestData.bvh("bandai_namco/dataset-2_walk_normal_001.bvh"))
    #expect(
      abs(metres.skeleton.joints[2].offset.x / bandai.skeleton.joints[2].offset.x - 100) < 1e-3)
  }
}

/// A small valid file; tests mutate single lines of it. Line numbers in comments.
let validBVH = """
  HIERARCHY
  ROOT Hips
  {
    OFFSET 0 0 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    JOINT Chest
    {
      OFFSET 0 10 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 5 0
      }
    }
  }
  MOTION
  Frames: 2
  Frame Time: 0.0333333
  0 90 0 0 0 0 10 20 30
  1 91 0 5 0 0 15 25 35

  """

/// `validBVH` with line `number` (1-based) replaced by `text` (nil deletes it).
func replacingLine(_ number: Int, with text: String?) -> String {
  var lines = validBVH.components(separatedBy: "\n")
  if let text { lines[number - 1] = text } else { lines.remove(at: number - 1) }
  return lines.joined(separator: "\n")
}

struct MalformedCase: Sendable, CustomStringConvertible {
  var description: String
  var text: String
  var kind: MotionFormatError.Kind
  var line: Int
  var mentions: String
}

let malformedCases: [MalformedCase] = [
  .init(
    description: "missing closing brace", text: replacingLine(14, with: nil), kind: .syntax,
    line: 15,
    mentions: "missing '}' for joint 'Hips'"),
  .init(
    description: "missing opening brace", text: replacingLine(7, with: ""), kind: .syntax, line: 8,
    mentions: "expected '{'"),
  .init(
    description: "too many values on a frame line",
    text: replacingLine(19, with: "0 90 0 0 0 0 10 20 30 40"),
    kind: .valueCount, line: 19, mentions: "has 10 values, expected 9"),
  .init(
    description: "too few values on a frame line",
    text: replacingLine(19, with: "0 90 0 0 0 0 10 20"),
    kind: .valueCount, line: 19, mentions: "has 8 values, expected 9"),
  .init(
    description: "last frame truncated", text: replacingLine(20, with: "1 91 0 5"),
    kind: .valueCount, line: 20, mentions: "truncated: 4 of 9"),
  .init(
    description: "non-numeric token", text: replacingLine(20, with: "1 91 0 five 0 0 15 25 35"),
    kind: .nonNumeric, line: 20, mentions: "'five'"),
  .init(
    description: "NaN in a frame", text: replacingLine(20, with: "1 91 0 5 0 NaN 15 25 35"),
    kind: .nonFinite, line: 20, mentions: "'NaN'"),
  .init(
    description: "infinity in an OFFSET", text: replacingLine(8, with: "OFFSET 0 inf 0"),
    kind: .nonFinite, line: 8, mentions: "OFFSET y of 'Chest'"),
  .init(
    description: "zero frame time", text: replacingLine(18, with: "Frame Time: 0"),
    kind: .invalidFrameTime, line: 18, mentions: "positive"),
  .init(
    description: "negative frame time", text: replacingLine(18, with: "Frame Time: -0.01"),
    kind: .invalidFrameTime, line: 18, mentions: "positive"),
  .init(
    description: "a frame time no sensor gives (1e-300 s)",
    text: replacingLine(18, with: "Frame Time: 1e-300"),
    kind: .invalidFrameTime, line: 18, mentions: "0.0001"),
  .init(
    description: "a frame time of centuries", text: replacingLine(18, with: "Frame Time: 1e300"),
    kind: .invalidFrameTime, line: 18, mentions: "to 10"),
  .init(
    description: "unknown channel name",
    text: replacingLine(9, with: "CHANNELS 3 Zrotation Wrotation Yrotation"),
    kind: .unknownChannel, line: 9, mentions: "'Wrotation'"),
  .init(
    description: "duplicate joint name", text: replacingLine(6, with: "JOINT Hips"),
    kind: .duplicateName, line: 6, mentions: "duplicate joint name 'Hips'"),
  .init(
    description: "empty MOTION",
    text: replacingLine(17, with: "Frames: 0").components(separatedBy: "\n").prefix(18).joined(
      separator: "\n"),
    kind: .emptyMotion, line: 17, mentions: "no frames"),
  .init(
    description: "MOTION with nothing after it",
    text: validBVH.components(separatedBy: "\n").prefix(16).joined(separator: "\n"),
    kind: .syntax, line: 16, mentions: "unexpected end of file"),
  .init(
    description: "more frames declared than present", text: replacingLine(17, with: "Frames: 3"),
    kind: .frameCountMismatch, line: 17, mentions: "'Frames: 3' but 2 frames present"),
  .init(
    description: "fewer frames declared than present", text: replacingLine(17, with: "Frames: 1"),
    kind: .frameCountMismatch, line: 17, mentions: "'Frames: 1' but 2 frames present"),
  .init(
    description: "file cut inside the hierarchy",
    text: validBVH.components(separatedBy: "\n").prefix(9).joined(separator: "\n"),
    kind: .syntax, line: 9, mentions: "unexpected end of file"),
  .init(
    description: "joint without OFFSET", text: replacingLine(8, with: ""),
    kind: .syntax, line: 10, mentions: "joint 'Chest' has no OFFSET"),
  .init(
    description: "too many channels",
    text: replacingLine(9, with: "CHANNELS 7 Zrotation Xrotation Yrotation"),
    kind: .limitExceeded, line: 9, mentions: "0 to 6"),
  .init(
    description: "a channel listed twice",
    text: replacingLine(9, with: "CHANNELS 3 Zrotation Zrotation Yrotation"),
    kind: .duplicateName, line: 9, mentions: "Zrotation twice"),
  .init(
    description: "non-numeric frame count", text: replacingLine(17, with: "Frames: many"),
    kind: .nonNumeric, line: 17, mentions: "'many'"),
  .init(
    description: "no HIERARCHY keyword", text: replacingLine(1, with: "HIERARCHIE"),
    kind: .syntax, line: 1, mentions: "expected 'HIERARCHY'"),
  .init(description: "empty file", text: "", kind: .syntax, line: 1, mentions: "empty"),
  .init(
    description: "a second ROOT",
    text: validBVH.replacingOccurrences(of: "MOTION", with: "ROOT Other { OFFSET 0 0 0 }\nMOTION"),
    kind: .syntax, line: 16, mentions: "second ROOT"),
]

@Suite("BVH reader: malformed input")
struct BVHMalformedTests {
  @Test("the valid base file reads")
  func baseIsValid() throws {
    let clip = try BVHReader().read(text: validBVH)
    #expect(clip.frameCount == 2)
    #expect(clip.skeleton.count == 3)
  }

  @Test(
    "each defect is an error naming the file, the line and the reason", arguments: malformedCases)
  func reportsDefect(_ defect: MalformedCase) {
    guard let error = bvhError(defect.text) else {
      Issue.record("no error for: \(defect.description)")
      return
    }
    #expect(error.kind == defect.kind, "\(error)")
    #expect(error.line == defect.line, "\(error)")
    #expect(error.file == "test.bvh")
    #expect(error.description.contains(defect.mentions), "\(error)")
    #expect(error.description.hasPrefix("test.bvh:"))
  }

  @Test("joints nested deeper than the limit are refused at the line that opens one too many")
  func nestingLimit() throws {
    func chain(_ depth: Int) -> String {
      var text = "HIERARCHY\nROOT J0\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n"
      for j in 1..<depth { text += "JOINT J\(j)\n{\nOFFSET 0 1 0\nCHANNELS 1 Zrotation\n" }
      text += String(repeating: "}\n", count: depth)
      return text + "MOTION\nFrames: 1\nFrame Time: 0.04\n"
        + Array(repeating: "0", count: depth + 2).joined(separator: " ") + "\n"
    }
    let reader = BVHReader(options: .init(maximumDepth: 8))
    #expect(try reader.read(text: chain(8)).skeleton.count == 8)
    #expect {
      try reader.read(text: chain(9), fileName: "deep.bvh")
    } throws: { error in
      guard let error = error as? MotionFormatError else { return false }
      // Joint J8 is opened on line 6 + 4 * 7 = 34.
      return error.kind == .limitExceeded && error.line == 34
        && error.description.contains("nested more than 8 deep (inside 'J7')")
    }
    // The default takes every real rig (the deepest in the shared data nests 15).
    #expect(try BVHReader().read(text: chain(200)).skeleton.count == 200)
  }

  @Test("a missing file is an I/O error naming it")
  func missingFile() {
    #expect {
      try BVHReader().read(contentsOf: URL(fileURLWithPath: "/nonexistent/walk.bvh"))
    } throws: { error in
      (error as? MotionFormatError)?.kind == .io
        && (error as? MotionFormatError)?.file == "/nonexistent/walk.bvh"
    }
  }
}

@Suite("BVH reader: traps found in real files")
struct BVHTrapTests {
  /// FK positions of every frame, metres.
  func positions(_ text: String) throws -> [[SIMD3<Float>]] {
    let clip = try BVHReader(options: .init(lengthUnit: .centimetre)).read(
      text: text, fileName: "trap.bvh")
    var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
    return (0..<clip.frameCount).map { f in
      ForwardKinematics.computeWorldTransforms(
        skeleton: clip.skeleton, pose: clip.pose(atFrame: f), into: &world)
      return world.map(\.translation)
    }
  }

  static let variants: [(String, String)] = [
    (
      "glued Frames:2 and Frame Time:0.0333333",
      validBVH.replacingOccurrences(of: "Frames: 2", with: "Frames:2")
        .replacingOccurrences(of: "Frame Time: 0.0333333", with: "Frame Time:0.0333333")
    ),
    ("a tab after Frames:", validBVH.replacingOccurrences(of: "Frames: 2", with: "Frames:\t2")),
    (
      "Frames : with a spaced colon",
      validBVH.replacingOccurrences(of: "Frames: 2", with: "Frames : 2")
    ),
    ("no leading zero", validBVH.replacingOccurrences(of: "0.0333333", with: ".0333333")),
    ("no final newline", String(validBVH.dropLast())),
    ("CRLF line ends", validBVH.replacingOccurrences(of: "\n", with: "\r\n")),
    ("CR-only line ends", validBVH.replacingOccurrences(of: "\n", with: "\r")),
    ("a UTF-8 byte-order mark", "\u{FEFF}" + validBVH),
    (
      "braces on the joint lines",
      validBVH.replacingOccurrences(of: "ROOT Hips\n{", with: "ROOT Hips{")
        .replacingOccurrences(of: "JOINT Chest\n  {", with: "JOINT Chest {")
        .replacingOccurrences(of: "End Site\n    {", with: "End Site {")
    ),
    (
      "frame values wrapped over lines",
      validBVH.replacingOccurrences(of: "0 90 0 0 0 0 10 20 30", with: "0 90 0\n0 0 0\n10 20 30")
    ),
    ("tabs everywhere", validBVH.replacingOccurrences(of: " ", with: "\t")),
    (
      "exponents and signs",
      validBVH.replacingOccurrences(of: "1 91 0 5", with: "+1.0e0 9.1E1 -0 5.")
    ),
  ]

  @Test(
    "each layout trap reads to the same motion as the plain file", arguments: 0..<variants.count)
  func sameMotion(index: Int) throws {
    let (name, text) = Self.variants[index]
    let expected = try positions(validBVH)
    let actual = try positions(text)
    #expect(actual.count == expected.count, "\(name)")
    for (a, b) in zip(actual.joined(), expected.joined()) {
      #expect(length(a - b) < 1e-6, "\(name)")
    }
  }

  @Test("joint names with colons and spaces, leaves without End Sites, 0–2 rotation channels")
  func unusualHierarchies() throws {
    let text = """
      HIERARCHY
      ROOT mixamorig:Hips
      {
        OFFSET 0 0 0
        CHANNELS 3 Xposition Yposition Zposition
        JOINT Left Up Leg
        {
          OFFSET 10 0 0
          CHANNELS 1 Yrotation
          JOINT LeftLeg
          {
            OFFSET 0 -40 0
            CHANNELS 2 Xrotation Zrotation
          }
        }
        JOINT Tail
        {
          OFFSET 0 0 -10
          CHANNELS 0
        }
      }
      MOTION
      Frames: 1
      Frame Time: 0.1
      0 100 0 90 90 0
      """
    let clip = try BVHReader(options: .init(lengthUnit: .centimetre)).read(text: text)
    #expect(
      clip.skeleton.joints.map(\.name) == ["mixamorig:Hips", "Left Up Leg", "LeftLeg", "Tail"])
    #expect(clip.skeleton.endSiteCount == 0)
    var world = [RigidTransform](repeating: .identity, count: 4)
    ForwardKinematics.computeWorldTransforms(
      skeleton: clip.skeleton, pose: clip.pose(atFrame: 0), into: &world)
    // Root at 1 m; a joint's own rotation moves only its children: the hip's 90° about Y leaves
    // the straight-down shin where it was.
    #expect(length(world[1].translation - SIMD3(0.1, 1, 0)) < 1e-6)
    #expect(length(world[2].translation - SIMD3(0.1, 0.6, 0)) < 1e-6)
    #expect(length(world[3].translation - SIMD3(0, 1, -0.1)) < 1e-6)
    let shin = world[1].rotation.act(on: [1, 0, 0])
    #expect(length(shin - SIMD3(0, 0, -1)) < 1e-6)
  }
}
