import Foundation
import OnTrackKinematics

/// Writes a `Clip` as BVH text: the skeleton's joints in order with their own channel layouts,
/// End Sites as `End Site` blocks, lengths in the skeleton's `lengthUnit`, rotations as Euler
/// angles in degrees in each joint's channel order, six decimals.
///
/// A joint with fewer than three rotation channels gets the angles of its channel axes from a
/// three-axis decomposition that starts with them; exact whenever the rotation has no
/// component about the missing axes (as when it was read from such a file).
public struct BVHWriter: Sendable {
  /// Digits after the decimal point for frame values (6 gives 1e-6 degrees).
  public var decimals: Int

  public init(decimals: Int = 6) {
    self.decimals = decimals
  }

  /// The BVH text of `clip`, as UTF-8 bytes with LF line ends.
  public func bytes(for clip: Clip) -> [UInt8] {
    let skeleton = clip.skeleton
    var out: [UInt8] = []
    out.reserveCapacity(64 * skeleton.count + clip.frameCount * skeleton.channelCount * 12)
    func line(_ depth: Int, _ text: String) {
      out.append(contentsOf: repeatElement(UInt8(ascii: "\t"), count: depth))
      out.append(contentsOf: text.utf8)
      out.append(0x0A)
    }
    let unitsPerMetre = 1 / skeleton.lengthUnit.metres
    func offsetText(_ offset: SIMD3<Float>) -> String {
      var text: [UInt8] = []
      for axis in 0..<3 {
        text.append(UInt8(ascii: " "))
        NumberFormatting.appendFixed(
          Double(offset[axis]) * unitsPerMetre, decimals: decimals, to: &text)
      }
      return String(decoding: text, as: UTF8.self)
    }
    let children = (0..<skeleton.count).map { skeleton.children(of: $0) }
    line(0, "HIERARCHY")
    // Depth-first with an explicit stack: (joint, closing?) entries.
    // Frame values follow the order the joints are written in (pre-order), which is the index
    // order for skeletons read from BVH.
    var writtenOrder: [Int] = []
    var stack: [(joint: Int, depth: Int, close: Bool)] = [(0, 0, false)]
    while let (j, depth, close) = stack.popLast() {
      let joint = skeleton.joints[j]
      if !close { writtenOrder.append(j) }
      if close {
        line(depth, "}")
        continue
      }
      if joint.isEndSite {
        line(depth, "End Site")
        line(depth, "{")
        line(depth + 1, "OFFSET" + offsetText(joint.offset))
        line(depth, "}")
        continue
      }
      line(depth, (joint.parent == nil ? "ROOT " : "JOINT ") + joint.name)
      line(depth, "{")
      line(depth + 1, "OFFSET" + offsetText(joint.offset))
      if !joint.channels.isEmpty || joint.parent == nil {
        let names = joint.channels.map(\.rawValue).joined(separator: " ")
        line(depth + 1, "CHANNELS \(joint.channels.count)" + (names.isEmpty ? "" : " " + names))
      }
      stack.append((j, depth, true))
      for child in children[j].reversed() { stack.append((child, depth + 1, false)) }
    }
    line(0, "MOTION")
    line(0, "Frames: \(clip.frameCount)")
    var timeText: [UInt8] = []
    NumberFormatting.appendShortest(clip.frameTime, to: &timeText)
    line(0, "Frame Time: " + String(decoding: timeText, as: UTF8.self))
    let layouts = skeleton.joints.map { joint in
      (order: joint.channels.rotationOrder, channels: joint.channels)
    }
    let n = skeleton.count
    let toDegrees = 180 / Double.pi
    for f in 0..<clip.frameCount {
      var first = true
      for j in writtenOrder where !layouts[j].channels.isEmpty {
        let rotation = clip.rotations[f * n + j]
        let translation = clip.translations[f * n + j]
        let angles = layouts[j].order.map { rotation.eulerAngles(order: $0) } ?? .zero
        var rotationIndex = 0
        for channel in layouts[j].channels {
          if !first { out.append(UInt8(ascii: " ")) }
          first = false
          let value: Double
          if channel.isRotation {
            value = angles[rotationIndex] * toDegrees
            rotationIndex += 1
          } else {
            value = Double(translation[channel.axis]) * unitsPerMetre
          }
          NumberFormatting.appendFixed(value, decimals: decimals, to: &out)
        }
      }
      out.append(0x0A)
    }
    return out
  }

  /// The BVH text of `clip`.
  public func text(for clip: Clip) -> String {
    String(decoding: bytes(for: clip), as: UTF8.self)
  }

  /// Writes `clip` to `url`.
  public func write(_ clip: Clip, to url: URL) throws(MotionFormatError) {
    do {
      try Data(bytes(for: clip)).write(to: url, options: .atomic)
    } catch {
      throw MotionFormatError(
        .io, file: url.path, reason: "cannot write the file (\(error.localizedDescription))")
    }
  }
}
