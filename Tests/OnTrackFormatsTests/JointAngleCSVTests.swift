import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

@Suite("Joint-angle CSV")
struct JointAngleCSVTests {
  @Test(
    "BVH → CSV → BVH keeps every rotation and position",
    arguments: [
      "cmu_fairmotion/01_01.bvh", "bandai_namco/dataset-2_raise-up-left-hand_normal_001.bvh",
      "cmu_dazfriendly_rgbdacquisition/49_04.bvh",
    ])
  func roundTrip(path: String) throws {
    let clip = try readBVH(TestData.bvh(path))
    let csv = JointAngleCSV.bytes(for: clip)
    let reading = try JointAngleCSV.read(
      bytes: csv, skeleton: clip.skeleton, fileName: "angles.csv")
    #expect(reading.jointsWithoutColumns.isEmpty)
    let back = reading.clip
    #expect(back.frameCount == clip.frameCount)
    #expect(abs(back.frameTime - clip.frameTime) < 1e-9)
    for i in 0..<clip.rotations.count {
      #expect(clip.rotations[i].angle(to: back.rotations[i]) * 180 / .pi < 1e-4)
      #expect(length(clip.translations[i] - back.translations[i]) < 2e-6)
    }
  }

  /// A row written twice and one whose time went back are left out (before: the whole file
  /// was refused); the rest is the take as it was.
  @Test("rows whose time does not advance are left out, by their lines; the rest read as clean")
  func stutteredRows() throws {
    let clip = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh"))
    let csv = JointAngleCSV.bytes(for: clip)
    var lines = String(decoding: csv, as: UTF8.self).split(separator: "\n").map(String.init)
    #expect(lines.count > 200)
    lines.insert(lines[150], at: 151)
    lines.insert(lines[20], at: 100)
    let stuttered = Array((lines.joined(separator: "\n") + "\n").utf8)
    let reading = try JointAngleCSV.read(
      bytes: stuttered, skeleton: clip.skeleton, fileName: "angles.csv")
    #expect(reading.linesLeftOut == [101, 153])
    // A clock's glitch: one row far ahead, the rows after it kept.
    var glitched = String(decoding: csv, as: UTF8.self).split(separator: "\n").map(String.init)
    var cells = glitched[60].split(separator: ",", omittingEmptySubsequences: false).map(
      String.init)
    cells[0] = "999"
    glitched[60] = cells.joined(separator: ",")
    let glitch = try JointAngleCSV.read(
      bytes: Array((glitched.joined(separator: "\n") + "\n").utf8), skeleton: clip.skeleton,
      fileName: "glitch.csv")
    #expect(glitch.linesLeftOut == [61])
    #expect(glitch.clip.frameCount == clip.frameCount - 1)
    #expect(reading.clip.frameCount == clip.frameCount)
    #expect(abs(reading.clip.frameTime - clip.frameTime) < 1e-9)
    for i in 0..<clip.rotations.count {
      #expect(clip.rotations[i].angle(to: reading.clip.rotations[i]) * 180 / .pi < 1e-4)
    }
  }

  @Test("the header states each joint's channels in composition order")
  func header() throws {
    let clip = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh"))
    let text = String(
      decoding: JointAngleCSV.bytes(for: try clip.trimmed(frames: 0..<2)), as: UTF8.self)
    let header = text.split(separator: "\n")[0]
    #expect(
      header.hasPrefix(
        "time,Hips.Xposition,Hips.Yposition,Hips.Zposition,Hips.Zrotation,Hips.Yrotation,Hips.Xrotation,LHipJoint.Zrotation"
      ))
  }

  @Test("columns in another order than the skeleton's compose in the CSV's order")
  func ownColumnOrder() throws {
    let clip = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh"))
    let csv = "time,LeftArm.Xrotation,LeftArm.Zrotation\n0,90,90\n0.1,0,0\n"
    let reading = try JointAngleCSV.read(bytes: Array(csv.utf8), skeleton: clip.skeleton)
    let j = try #require(clip.skeleton.index(of: "LeftArm"))
    let expected =
      Quaternion(angle: .pi / 2, axis: [1, 0, 0]) * Quaternion(angle: .pi / 2, axis: [0, 0, 1])
    #expect(reading.clip.rotations[j].angle(to: expected) < 1e-5)
    #expect(reading.jointsWithoutColumns.contains("Hips"))
    #expect(abs(reading.clip.frameTime - 0.1) < 1e-12)
  }

  struct BadCSV: Sendable, CustomStringConvertible {
    var description: String
    var text: String
    var kind: MotionFormatError.Kind
    var line: Int?
  }

  static let bad: [BadCSV] = [
    .init(
      description: "unknown joint", text: "time,Tail.Xrotation\n0,1\n", kind: .unknownJoint, line: 1
    ),
    .init(
      description: "unknown channel", text: "time,Hips.Wrotation\n0,1\n", kind: .unknownChannel,
      line: 1),
    .init(description: "no time column", text: "Hips.Xrotation\n1\n", kind: .syntax, line: 1),
    .init(
      description: "short row", text: "time,Hips.Xrotation\n0,1\n0.1\n", kind: .valueCount, line: 3),
    .init(
      description: "non-numeric", text: "time,Hips.Xrotation\n0,1\n0.1,abc\n", kind: .nonNumeric,
      line: 3),
    .init(
      description: "NaN", text: "time,Hips.Xrotation\n0,1\n0.1,nan\n", kind: .nonFinite, line: 3),
    .init(
      description: "time going back", text: "time,Hips.Xrotation\n0,1\n0.1,2\n0.05,3\n",
      kind: .invalidData, line: 4),
    .init(description: "no rows", text: "time,Hips.Xrotation\n", kind: .emptyMotion, line: nil),
    .init(
      description: "End Site column", text: "time,Head_End.Xrotation\n0,1\n", kind: .unknownJoint,
      line: 1),
  ]

  @Test("bad CSV is an error naming the line and reason", arguments: bad)
  func rejects(_ bad: BadCSV) throws {
    let skeleton = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh")).skeleton
    #expect {
      try JointAngleCSV.read(bytes: Array(bad.text.utf8), skeleton: skeleton, fileName: "take.csv")
    } throws: { error in
      guard let error = error as? MotionFormatError else { return false }
      return error.kind == bad.kind && error.line == bad.line && error.file == "take.csv"
    }
  }
}
