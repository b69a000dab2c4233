import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

@testable import OnTrackCLI

@Suite("ontrack fk / inspect")
struct CommandTests {
  @Test("fk --csv writes exactly the peer's header and its numbers", arguments: bvhFacts)
  func fkHeaderMatchesPeer(facts: BVHFileFacts) throws {
    let name = URL(fileURLWithPath: facts.path).deletingPathExtension().lastPathComponent
    let reference = PositionTable(
      text: try String(
        contentsOf: TestData.fixtures.appendingPathComponent("fk-reference/\(name).csv"),
        encoding: .utf8))
    let clip = try readBVH(TestData.bvh(facts.path))
    let first = Int(reference.rows[0][0])
    let range = FrameRange(argument: "\(first):\(first + reference.rows.count)")?.resolve(
      count: clip.frameCount)
    let csv = WorldPositionTable(clip: clip, frames: try #require(range)).csv()
    let ours = PositionTable(text: String(decoding: csv, as: UTF8.self))
    #expect(ours.header == reference.header)
    #expect(ours.rows.count == reference.rows.count)
    for (r, row) in ours.rows.enumerated() {
      for (c, v) in row.enumerated() {
        #expect(abs(v - reference.rows[r][c]) <= 1e-4 * reference.extent(row: r))
      }
    }
  }

  @Test(
    "--frames follows Python slice rules",
    arguments: [
      ("0:10", 0..<10), ("-5:", 95..<100), (":3", 0..<3), ("90:200", 90..<100), ("50:40", 50..<50),
      (":", 0..<100), ("-200:5", 0..<5),
    ])
  func frameSlices(argument: String, expected: Range<Int>) throws {
    #expect(try #require(FrameRange(argument: argument)).resolve(count: 100) == expected)
  }

  @Test("--frames rejects what is not A:B", arguments: ["5", "a:b", "1:2:3", ""])
  func badSlices(argument: String) {
    #expect(FrameRange(argument: argument) == nil)
  }

  @Test("inspect reports counts, rate, duration and a standing figure's height")
  func inspect() throws {
    let clip = try readBVH(TestData.bvh("cmu_fairmotion/01_01.bvh"))
    let report = InspectReport(file: "01_01.bvh", clip: clip)
    #expect(report.jointCount == 31 && report.endSiteCount == 7)
    #expect(report.channelCount == 6 + 30 * 3)
    #expect(report.frameCount == 2752)
    #expect(abs(report.frameRate - 120) < 0.01)
    #expect(abs(report.duration - 22.933) < 0.001)
    // A jumping adult: the tallest frame (arms up) is taller than the body.
    #expect(report.boundingHeightMetres > 1.5 && report.boundingHeightMetres < 2.5)
    #expect(report.text.contains("31 + 7 End Sites"))
    let bandai = InspectReport(
      file: "walk", clip: try readBVH(TestData.bvh("bandai_namco/dataset-2_walk_normal_001.bvh")))
    #expect(bandai.lengthUnit == "cm")
    #expect(bandai.boundingHeight > 140 && bandai.boundingHeight < 190)
  }
}
