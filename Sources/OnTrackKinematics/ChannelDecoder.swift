import Foundation

/// Turns one frame of raw channel values (BVH order: each joint's channels in its listed order,
/// joints in skeleton order) into a `Pose`, without allocating: the job a live stream runs on
/// every frame it receives.
///
/// Rotation values are degrees, composed in channel order (intrinsic); position values are in
/// the skeleton's `lengthUnit` and replace the matching component of the rest offset. Computed
/// in `Float` for speed; file readers use a double-precision path for exact round trips.
public struct ChannelDecoder: Sendable {
  public let skeleton: Skeleton
  // Flattened per-joint layout: up to three rotation axes and columns, three position columns.
  private let rotationAxes: [Int8]  // 3 per joint, −1 = unused
  private let rotationColumns: [Int32]  // 3 per joint
  private let positionColumns: [Int32]  // 3 per joint (x, y, z), −1 = from the offset
  private let metres: Float
  private let offsets: [SIMD3<Float>]

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    var axes = [Int8](repeating: -1, count: skeleton.count * 3)
    var rotationColumns = [Int32](repeating: 0, count: skeleton.count * 3)
    var positionColumns = [Int32](repeating: -1, count: skeleton.count * 3)
    for (j, joint) in skeleton.joints.enumerated() {
      var k = 0
      for (c, channel) in joint.channels.enumerated() {
        let column = Int32(skeleton.channelOffsets[j] + c)
        if channel.isRotation {
          axes[j * 3 + k] = Int8(channel.axis)
          rotationColumns[j * 3 + k] = column
          k += 1
        } else {
          positionColumns[j * 3 + channel.axis] = column
        }
      }
    }
    self.rotationAxes = axes
    self.rotationColumns = rotationColumns
    self.positionColumns = positionColumns
    self.metres = Float(skeleton.lengthUnit.metres)
    self.offsets = skeleton.joints.map(\.offset)
  }

  /// The number of values one frame must have.
  public var channelCount: Int { skeleton.channelCount }

  /// Decodes `values` (exactly `channelCount` of them) into `pose` (sized for the skeleton).
  ///
  /// - Returns: `false`, leaving `pose` unchanged, if the count is wrong or a value is not
  ///   finite; the caller reports the frame as rejected.
  @discardableResult
  public func decode(_ values: UnsafeBufferPointer<Float>, into pose: inout Pose) -> Bool {
    guard values.count == channelCount, pose.count == skeleton.count else { return false }
    for v in values where !v.isFinite { return false }
    let degrees = Float.pi / 180
    let n = skeleton.count
    rotationAxes.withUnsafeBufferPointer { axes in
      rotationColumns.withUnsafeBufferPointer { rotationColumns in
        positionColumns.withUnsafeBufferPointer { positionColumns in
          pose.rotations.withUnsafeMutableBufferPointer { rotations in
            pose.translations.withUnsafeMutableBufferPointer { translations in
              offsets.withUnsafeBufferPointer { offsets in
                for j in 0..<n {
                  var q = Quaternion.identity
                  for k in 0..<3 {
                    let axis = Int(axes[j * 3 + k])
                    if axis < 0 { break }
                    let half = values[Int(rotationColumns[j * 3 + k])] * degrees * 0.5
                    let (s, c) = sineCosine(half)
                    q = q.rotated(axis: axis, sine: s, cosine: c)
                  }
                  rotations[j] = q
                  var t = offsets[j]
                  for axis in 0..<3 {
                    let column = Int(positionColumns[j * 3 + axis])
                    if column >= 0 { t[axis] = values[column] * metres }
                  }
                  translations[j] = t
                }
              }
            }
          }
        }
      }
    }
    return true
  }

  /// Convenience over an array (no allocation).
  @discardableResult
  public func decode(_ values: [Float], into pose: inout Pose) -> Bool {
    values.withUnsafeBufferPointer { decode($0, into: &pose) }
  }
}
