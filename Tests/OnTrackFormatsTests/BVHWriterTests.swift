import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

/// The numbers after `Frame Time:` in BVH text, by frame.
func motionValues(_ text: String) -> [[Double]] {
  guard let range = text.range(of: "Frame Time:") else { return [] }
  let lines = text[range.upperBound...].split(whereSeparator: \.isNewline).dropFirst()
  return lines.map { $0.split(whereSeparator: \.isWhitespace).compactMap { Double($0) } }
    .filter { !$0.isEmpty }
}

@Suite("BVH writer")
struct BVHWriterTests {
  @Test(
    "write → read gives the same skeleton, rotations to 1e-4° and positions", arguments: bvhFacts)
  func roundTrip(facts: BVHFileFacts) throws {
    let original = try readBVH(TestData.bvh(facts.path))
    let text = BVHWriter().text(for: original)
    let back = try BVHReader().read(text: text, fileName: "written.bvh")
    let a = original.skeleton
    let b = back.skeleton
    #expect(a.joints.map(\.name) == b.joints.map(\.name))
    #expect(a.joints.map(\.parent) == b.joints.map(\.parent))
    #expect(a.joints.map(\.channels) == b.joints.map(\.channels))
    #expect(a.joints.map(\.isEndSite) == b.joints.map(\.isEndSite))
    #expect(a.lengthUnit == b.lengthUnit)
    let unit = Float(a.lengthUnit.metres)
    for (ja, jb) in zip(a.joints, b.joints) {
      #expect(length(ja.offset - jb.offset) <= 1e-6 * unit + 1e-7 * length(ja.offset))
    }
    #expect(back.frameCount == original.frameCount)
    #expect(abs(back.frameTime - original.frameTime) < 1e-15)
    var worstDegrees: Float = 0
    var worstMetres: Float = 0
    for i in 0..<original.rotations.count {
      worstDegrees = max(
        worstDegrees, original.rotations[i].angle(to: back.rotations[i]) * 180 / .pi)
      worstMetres = max(worstMetres, length(original.translations[i] - back.translations[i]))
    }
    #expect(worstDegrees < 1e-4, "worst rotation difference \(worstDegrees)°")
    #expect(worstMetres < 1e-5 * unit + 1e-6, "worst translation difference \(worstMetres) m")
  }

  /// Near gimbal lock the first and third angles are ill-conditioned (only their sum or
  /// difference is defined), so single-precision rotations reproduce them only to about
  /// 1e-7 rad / cos(middle); away from it (|middle| < 80°) they match to 1e-4°.
  @Test(
    "written Euler angles equal the file's own wherever the file's triple is canonical",
    arguments: [
      "cmu_fairmotion/01_01.bvh", "pymo_demo/AV_8Walk_Meredith_HVHA_Rep1.bvh",
      "mocapbank_bvh_python/test_mocapbank_crlf.bvh", "bandai_namco/dataset-2_walk_normal_001.bvh",
    ])
  func anglesMatchFile(path: String) throws {
    let url = TestData.bvh(path)
    let source = try String(contentsOf: url, encoding: .utf8)
    let clip = try readBVH(url)
    let written = motionValues(BVHWriter().text(for: clip))
    let original = motionValues(source)
    #expect(written.count == original.count)
    var compared = 0
    for (f, (a, b)) in zip(original, written).enumerated() {
      for (j, joint) in clip.skeleton.joints.enumerated() {
        let columns = joint.channels.indices.filter { joint.channels[$0].isRotation }
          .map { clip.skeleton.channelOffsets[j] + $0 }
        guard columns.count == 3 else { continue }
        let triple = columns.map { a[$0] }
        let canonical = abs(triple[1]) < 80 && triple.allSatisfy { abs($0) < 179.9 }
        guard canonical else { continue }
        for c in columns {
          #expect(abs(a[c] - b[c]) < 1e-4, "frame \(f) joint \(joint.name): \(a[c]) vs \(b[c])")
          compared += 1
        }
      }
    }
    #expect(compared > 1000)
  }

  @Test("a skeleton not in pre-order is written with frame values in the written joint order")
  func nonPreorderSkeleton() throws {
    typealias J = Skeleton.Joint
    let skeleton = try Skeleton(joints: [
      J(name: "root", parent: nil, offset: .zero, channels: [.yPosition, .zRotation]),
      J(name: "a", parent: 0, offset: [1, 0, 0], channels: [.zRotation]),
      J(name: "b", parent: 0, offset: [-1, 0, 0], channels: [.zRotation]),
      J(name: "a2", parent: 1, offset: [1, 0, 0], channels: [.zRotation]),
    ])
    let rotations: [Quaternion] = [
      Quaternion(angle: 0.1, axis: [0, 0, 1]), Quaternion(angle: 0.2, axis: [0, 0, 1]),
      Quaternion(angle: 0.3, axis: [0, 0, 1]), Quaternion(angle: 0.4, axis: [0, 0, 1]),
    ]
    let clip = try Clip(
      skeleton: skeleton, frameTime: 0.5, rotations: rotations,
      translations: [[0, 2, 0], [1, 0, 0], [-1, 0, 0], [1, 0, 0]])
    let back = try BVHReader(options: .init(lengthUnit: .metre)).read(
      text: BVHWriter().text(for: clip))
    #expect(back.skeleton.joints.map(\.name) == ["root", "a", "a2", "b"])
    let angle = { (name: String) in
      back.rotations[back.skeleton.index(of: name) ?? 0].angle
    }
    #expect(abs(angle("a2") - 0.4) < 1e-6 && abs(angle("b") - 0.3) < 1e-6)
    #expect(back.translations[0].y == 2)
  }
}
