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
  // Flattened layout. Rotation channels of all joints, in joint order and composition order:
  // their frame columns and axes; joint j owns rotation channels
  // rotationStarts[j] ..< rotationStarts[j + 1].
  private let rotationColumns: [Int32]
  private let rotationAxes: [Int8]
  private let rotationStarts: [Int32]
  private let positionColumns: [Int32]  // 3 per joint (x, y, z), −1 = from the offset
  private let offsets: [SIMD3<Float>]
  private let metres: Float

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    var rotationColumns: [Int32] = []
    var rotationAxes: [Int8] = []
    var rotationStarts: [Int32] = [0]
    var positionColumns = [Int32](repeating: -1, count: skeleton.count * 3)
    for (j, joint) in skeleton.joints.enumerated() {
      for (c, channel) in joint.channels.enumerated() {
        let column = Int32(skeleton.channelOffsets[j] + c)
        if channel.isRotation {
          rotationColumns.append(column)
          rotationAxes.append(Int8(channel.axis))
        } else {
          positionColumns[j * 3 + channel.axis] = column
        }
      }
      rotationStarts.append(Int32(rotationColumns.count))
    }
    self.rotationColumns = rotationColumns
    self.rotationAxes = rotationAxes
    self.rotationStarts = rotationStarts
    self.positionColumns = positionColumns
    self.offsets = skeleton.joints.map(\.offset)
    self.metres = Float(skeleton.lengthUnit.metres)
  }

  /// The number of values one frame must have.
  public var channelCount: Int { skeleton.channelCount }

  /// Decodes `values` (exactly `channelCount` of them) into `pose` (sized for the skeleton).
  ///
  /// Sines and cosines of all half-angles are computed eight at a time into a stack buffer,
  /// then each joint composes its axis rotations; nothing is allocated on the heap.
  ///
  /// - Returns: `false`, leaving `pose` unchanged, if the count is wrong or a value is not
  ///   finite; the caller reports the frame as rejected.
  @discardableResult
  public func decode(_ values: UnsafeBufferPointer<Float>, into pose: inout Pose) -> Bool {
    guard values.count == channelCount, pose.count == skeleton.count else { return false }
    for v in values where !v.isFinite { return false }
    let rotationCount = rotationColumns.count
    let padded = (rotationCount + 7) & ~7
    let halfRadians = Float.pi / 360
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(3 * padded, 8)) { scratch in
      guard let base = scratch.baseAddress else { return }
      let halves = base
      let sines = base + padded
      let cosines = base + 2 * padded
      rotationColumns.withUnsafeBufferPointer { columns in
        for k in 0..<rotationCount { halves[k] = values[Int(columns[k])] * halfRadians }
      }
      for k in rotationCount..<padded { halves[k] = 0 }
      var k = 0
      while k < padded {
        let lanes = UnsafeRawPointer(halves + k).loadUnaligned(as: SIMD8<Float>.self)
        let (s, c) = sineCosine(lanes)
        UnsafeMutableRawPointer(sines + k).storeBytes(of: s, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(cosines + k).storeBytes(of: c, as: SIMD8<Float>.self)
        k += 8
      }
      let n = skeleton.count
      rotationAxes.withUnsafeBufferPointer { axes in
        rotationStarts.withUnsafeBufferPointer { starts in
          positionColumns.withUnsafeBufferPointer { positionColumns in
            offsets.withUnsafeBufferPointer { offsets in
              pose.rotations.withUnsafeMutableBufferPointer { rotations in
                pose.translations.withUnsafeMutableBufferPointer { translations in
                  for j in 0..<n {
                    var q = Quaternion.identity
                    for k in Int(starts[j])..<Int(starts[j + 1]) {
                      q = q.rotated(axis: Int(axes[k]), sine: sines[k], cosine: cosines[k])
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
    }
    return true
  }

  /// Convenience over an array (no allocation).
  @discardableResult
  public func decode(_ values: [Float], into pose: inout Pose) -> Bool {
    values.withUnsafeBufferPointer { decode($0, into: &pose) }
  }
}
