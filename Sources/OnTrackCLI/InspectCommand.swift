import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackServerCommands

struct InspectCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inspect",
    abstract: "Show a motion file's joints, channels, frames, frame rate, duration and height.")

  @Argument(help: "A BVH file.")
  var file: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() async throws {
    let clip = try MotionLoader.loadBVH(file)
    let report = InspectReport(file: file, clip: clip)
    Output.write(json ? try Output.json(report) : report.text)
  }
}

/// What `inspect` reports about a clip; lengths in the file's units unless named `…Metres`.
struct InspectReport: Codable {
  struct Joint: Codable {
    var name: String
    var parent: String?
    var channels: [String]
    var offset: [Double]
    var endSite: Bool
  }

  var file: String
  var root: String
  var jointCount: Int
  var endSiteCount: Int
  var channelCount: Int
  var frameCount: Int
  var frameRate: Double
  var frameTime: Double
  var duration: Double
  var lengthUnit: String
  var metresPerUnit: Double
  /// Largest vertical (Y) extent of all joints over all frames, in file units.
  var boundingHeight: Double
  var boundingHeightMetres: Double
  var joints: [Joint]

  init(file: String, clip: Clip) {
    let skeleton = clip.skeleton
    let unit = skeleton.lengthUnit
    self.file = file
    root = skeleton.joints[0].name
    jointCount = skeleton.jointCount
    endSiteCount = skeleton.endSiteCount
    channelCount = skeleton.channelCount
    frameCount = clip.frameCount
    frameRate = clip.frameRate
    frameTime = clip.frameTime
    duration = clip.duration
    lengthUnit = unit.name
    metresPerUnit = unit.metres
    let height = Double(ClipMeasurements.boundingHeight(of: clip))
    boundingHeightMetres = height
    boundingHeight = height / unit.metres
    joints = skeleton.joints.map { joint in
      Joint(
        name: joint.name, parent: joint.parent.map { skeleton.joints[$0].name },
        channels: joint.channels.map(\.rawValue),
        offset: (0..<3).map { Double(joint.offset[$0]) / unit.metres }, endSite: joint.isEndSite)
    }
  }

  var text: String {
    var lines: [String] = []
    lines.append("file        \(file)")
    lines.append("joints      \(jointCount) + \(endSiteCount) End Sites (root '\(root)')")
    lines.append("channels    \(channelCount) per frame")
    lines.append(
      "frames      \(frameCount) at \(Output.fixed(frameRate, 3)) fps (frame time \(frameTime) s)")
    lines.append("duration    \(Output.fixed(duration, 3)) s")
    lines.append(
      "height      \(Output.fixed(boundingHeight, 3)) units = \(Output.fixed(boundingHeightMetres, 3)) m (unit: \(lengthUnit), \(metresPerUnit) m)"
    )
    lines.append("hierarchy")
    var depth: [String: Int] = [:]
    for joint in joints {
      let d = joint.parent.map { (depth[$0] ?? 0) + 1 } ?? 0
      if !joint.endSite { depth[joint.name] = d }
      let indent = String(repeating: "  ", count: d + 1)
      let label = joint.endSite ? "End Site" : joint.name
      let channels = joint.channels.isEmpty ? "" : "  [\(joint.channels.joined(separator: " "))]"
      lines.append(indent + label + channels)
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Measurements over a whole clip.
enum ClipMeasurements {
  /// The largest vertical (Y) extent of the joints over all frames, metres.
  static func boundingHeight(of clip: Clip) -> Float {
    let skeleton = clip.skeleton
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var best: Float = 0
    for f in 0..<clip.frameCount {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      var low = Float.infinity
      var high = -Float.infinity
      for w in world {
        low = min(low, w.translation.y)
        high = max(high, w.translation.y)
      }
      best = max(best, high - low)
    }
    return best
  }
}
