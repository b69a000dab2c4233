/// Turns a `Pose` back into one frame of channel values (the inverse of `ChannelDecoder`):
/// each joint's rotation as Euler angles in degrees in its channel order, position channels in
/// the skeleton's length unit. Used to store and export recorded frames.
public struct ChannelEncoder: Sendable {
  public let skeleton: Skeleton
  private let orders: [EulerOrder?]
  private let perMetre: Float

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    orders = skeleton.joints.map(\.channels.rotationOrder)
    perMetre = Float(1 / skeleton.lengthUnit.metres)
  }

  /// Writes `skeleton.channelCount` values into `values` (resized if needed).
  public func encode(_ pose: Pose, into values: inout [Float]) {
    if values.count != skeleton.channelCount {
      values = [Float](repeating: 0, count: skeleton.channelCount)
    }
    let toDegrees = 180 / Double.pi
    for (j, joint) in skeleton.joints.enumerated() where !joint.channels.isEmpty {
      let angles = orders[j].map { pose.rotations[j].eulerAngles(order: $0) } ?? .zero
      var k = 0
      var column = skeleton.channelOffsets[j]
      for channel in joint.channels {
        if channel.isRotation {
          values[column] = Float(angles[k] * toDegrees)
          k += 1
        } else {
          values[column] = pose.translations[j][channel.axis] * perMetre
        }
        column += 1
      }
    }
  }
}
