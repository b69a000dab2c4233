import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackServerCommands

struct FKCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fk",
    abstract: "World positions of every joint and End Site, per frame, in the file's units.",
    discussion: """
      With --csv the output has the header `frame,time,<name>.x,<name>.y,<name>.z,...` (End \
      Sites named <owner>_End, file order), the same as \
      `python3 ../shared/peers/bvh_fk_reference.py FILE --out OUT.csv`, so the two can be diffed.
      """)

  @Argument(help: "A BVH file.")
  var file: String

  @Option(help: "Frames A:B (A inclusive, B exclusive, negative from the end), e.g. 0:10 or -5:.")
  var frames: FrameRange?

  @Flag(help: "Print CSV (one row per frame).")
  var csv = false

  @Flag(help: "Print JSON.")
  var json = false

  @Option(help: "Write to this file instead of standard output.")
  var out: String?

  func validate() throws {
    if csv && json { throw ValidationError("choose one of --csv and --json") }
  }

  func run() async throws {
    let clip = try MotionLoader.loadBVH(file)
    let range = (frames ?? FrameRange(start: nil, end: nil)).resolve(count: clip.frameCount)
    let table = WorldPositionTable(clip: clip, frames: range)
    let bytes: [UInt8]
    if csv {
      bytes = table.csv()
    } else if json {
      bytes = Array(try Output.json(table.report()).utf8)
    } else {
      bytes = Array(table.text().utf8)
    }
    if let out {
      try Data(bytes).write(to: URL(fileURLWithPath: out))
    } else {
      Output.write(bytes: bytes)
    }
  }
}

/// World positions of every joint for a range of frames, in the file's units.
struct WorldPositionTable {
  let clip: Clip
  let frames: Range<Int>
  /// positions[(f - frames.lowerBound) * count + j], file units.
  let positions: [SIMD3<Float>]

  init(clip: Clip, frames: Range<Int>) {
    self.clip = clip
    self.frames = frames
    let skeleton = clip.skeleton
    let scale = Float(1 / skeleton.lengthUnit.metres)
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var positions: [SIMD3<Float>] = []
    positions.reserveCapacity(frames.count * skeleton.count)
    for f in frames {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      for w in world { positions.append(w.translation * scale) }
    }
    self.positions = positions
  }

  func csv() -> [UInt8] {
    let joints = clip.skeleton.joints
    var out: [UInt8] = Array("frame,time".utf8)
    for joint in joints {
      for axis in ["x", "y", "z"] { out.append(contentsOf: ",\(joint.name).\(axis)".utf8) }
    }
    out.append(0x0A)
    let n = joints.count
    for (row, f) in frames.enumerated() {
      out.append(contentsOf: "\(f),".utf8)
      out.append(contentsOf: (Double(f) * clip.frameTime).description.utf8)
      for j in 0..<n {
        let p = positions[row * n + j]
        for axis in 0..<3 {
          out.append(UInt8(ascii: ","))
          out.append(contentsOf: p[axis].description.utf8)
        }
      }
      out.append(0x0A)
    }
    return out
  }

  func text() -> String {
    let joints = clip.skeleton.joints
    let width = max(8, joints.map(\.name.count).max() ?? 8)
    var lines: [String] = []
    let n = joints.count
    for (row, f) in frames.enumerated() {
      lines.append(
        "frame \(f)  t = \(Output.fixed(Double(f) * clip.frameTime, 4)) s  (\(clip.skeleton.lengthUnit.name))"
      )
      for (j, joint) in joints.enumerated() {
        let p = positions[row * n + j]
        let name = joint.name.padding(toLength: width, withPad: " ", startingAt: 0)
        let xyz = (0..<3).map { Output.fixed(Double(p[$0]), 4).leftPadded(to: 11) }.joined()
        lines.append("  \(name)\(xyz)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  struct Report: Codable {
    struct Frame: Codable {
      var frame: Int
      var time: Double
      var positions: [[Float]]
    }
    var unit: String
    var joints: [String]
    var frames: [Frame]
  }

  func report() -> Report {
    let n = clip.skeleton.count
    return Report(
      unit: clip.skeleton.lengthUnit.name, joints: clip.skeleton.joints.map(\.name),
      frames: frames.enumerated().map { row, f in
        Report.Frame(
          frame: f, time: Double(f) * clip.frameTime,
          positions: (0..<n).map { j in
            let p = positions[row * n + j]
            return [p.x, p.y, p.z]
          })
      })
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
