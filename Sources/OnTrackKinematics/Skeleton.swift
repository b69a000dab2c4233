/// A hierarchy of joints in topological order: joint 0 is the root and every other joint's
/// parent has a smaller index, so one forward pass visits parents before children.
///
/// Offsets are in metres in the parent's frame (right-handed, Y up at the root). End Sites (the
/// tips BVH stores after a leaf joint, such as the top of the head) are joints too, flagged
/// `isEndSite`, with no channels; they are named `<owner>_End`. Keeping them in the joint list
/// means forward kinematics gives their positions with no special case, and the list order is
/// the file order, which a BVH writer needs to round-trip a file.
public struct Skeleton: Hashable, Sendable {
  /// One joint (or End Site) of a skeleton.
  public struct Joint: Hashable, Sendable {
    /// The name as the source rig spells it (`"LeftUpLeg"`, `"mixamorig:Hips"`, `"lhip"`).
    public var name: String
    /// The parent's index, `nil` for the root.
    public var parent: Int?
    /// Rest translation from the parent joint, in metres, in the parent's frame.
    public var offset: SIMD3<Float>
    /// The animated channels in file order; empty for End Sites.
    public var channels: [Channel]
    /// True for a BVH End Site: a tip position with no channels and no children.
    public var isEndSite: Bool

    public init(
      name: String, parent: Int?, offset: SIMD3<Float>, channels: [Channel] = [],
      isEndSite: Bool = false
    ) {
      self.name = name
      self.parent = parent
      self.offset = offset
      self.channels = channels
      self.isEndSite = isEndSite
    }
  }

  /// The joints in topological (and, for BVH, file) order.
  public let joints: [Joint]
  /// `parentIndices[j]` is the parent of joint `j`, or −1 for the root. The hot-path form of
  /// `joints[j].parent`.
  public let parentIndices: [Int32]
  /// Where each joint's channels start in a frame's flat channel vector.
  public let channelOffsets: [Int]
  /// The total number of channels of one frame.
  public let channelCount: Int
  /// The unit the source file was in; writers convert metres back to it.
  public var lengthUnit: LengthUnit

  private let indexByName: [String: Int]

  /// Builds and validates a skeleton.
  ///
  /// - Throws: `SkeletonError` if there are no joints, joint 0 is not the only root, a parent
  ///   does not precede its child, an End Site has children or channels, a channel repeats in a
  ///   joint, an offset is not finite, or two joints (not End Sites) share a name.
  public init(joints: [Joint], lengthUnit: LengthUnit = .metre) throws(SkeletonError) {
    guard !joints.isEmpty else { throw .empty }
    var byName: [String: Int] = [:]
    var parents: [Int32] = []
    var offsets: [Int] = []
    var channelTotal = 0
    parents.reserveCapacity(joints.count)
    offsets.reserveCapacity(joints.count)
    for (index, joint) in joints.enumerated() {
      if let parent = joint.parent {
        guard parent >= 0, parent < index else {
          throw .parentNotBeforeChild(joint: joint.name, index: index)
        }
        if joints[parent].isEndSite { throw .endSiteHasChildren(joints[parent].name) }
      } else if index != 0 {
        throw .multipleRoots(joint.name)
      }
      guard joint.offset.x.isFinite, joint.offset.y.isFinite, joint.offset.z.isFinite else {
        throw .nonFiniteOffset(joint.name)
      }
      if joint.isEndSite {
        guard joint.parent != nil else { throw .endSiteIsRoot }
        guard joint.channels.isEmpty else { throw .endSiteHasChannels(joint.name) }
      } else {
        if byName[joint.name] != nil { throw .duplicateName(joint.name) }
        byName[joint.name] = index
      }
      if Set(joint.channels).count != joint.channels.count {
        throw .duplicateChannel(joint.name)
      }
      parents.append(Int32(joint.parent ?? -1))
      offsets.append(channelTotal)
      channelTotal += joint.channels.count
    }
    // End Sites are found by name only when no real joint has that name.
    for (index, joint) in joints.enumerated() where joint.isEndSite && byName[joint.name] == nil {
      byName[joint.name] = index
    }
    self.joints = joints
    self.parentIndices = parents
    self.channelOffsets = offsets
    self.channelCount = channelTotal
    self.lengthUnit = lengthUnit
    self.indexByName = byName
  }

  /// The number of joints, End Sites included.
  public var count: Int { joints.count }

  /// The number of joints that are not End Sites.
  public var jointCount: Int { joints.count(where: { !$0.isEndSite }) }

  /// The number of End Sites.
  public var endSiteCount: Int { joints.count(where: \.isEndSite) }

  /// The index of the joint named `name` (exact match), or `nil`.
  public func index(of name: String) -> Int? {
    indexByName[name]
  }

  /// The indices of the direct children of joint `index`, in order.
  public func children(of index: Int) -> [Int] {
    joints.indices.filter { joints[$0].parent == index }
  }

  /// The rest pose: identity rotations, every joint at its offset.
  public var restPose: Pose {
    Pose(
      rotations: Array(repeating: .identity, count: count),
      translations: joints.map(\.offset))
  }

  /// The largest side of the axis-aligned box around the rest pose, in metres.
  public var restExtent: Float {
    var world = [SIMD3<Float>](repeating: .zero, count: count)
    for (index, joint) in joints.enumerated() {
      world[index] = joint.offset + (joint.parent.map { world[$0] } ?? .zero)
    }
    guard let first = world.first else { return 0 }
    var low = first
    var high = first
    for p in world {
      low = pointwiseMin(low, p)
      high = pointwiseMax(high, p)
    }
    return (high - low).max()
  }

  /// A copy whose offsets are multiplied by `factor` (unit conversion, body-size scaling).
  public func scaled(by factor: Float) -> Skeleton {
    // Scaling keeps every structural invariant, so re-validation cannot fail.
    let scaledJoints = joints.map { joint in
      var copy = joint
      copy.offset *= factor
      return copy
    }
    return Skeleton(validated: scaledJoints, from: self)
  }

  private init(validated joints: [Joint], from other: Skeleton) {
    self.joints = joints
    self.parentIndices = other.parentIndices
    self.channelOffsets = other.channelOffsets
    self.channelCount = other.channelCount
    self.lengthUnit = other.lengthUnit
    self.indexByName = other.indexByName
  }
}

/// Why a joint list is not a valid skeleton.
public enum SkeletonError: Error, Hashable, Sendable, CustomStringConvertible {
  case empty
  case multipleRoots(String)
  case parentNotBeforeChild(joint: String, index: Int)
  case endSiteIsRoot
  case endSiteHasChildren(String)
  case endSiteHasChannels(String)
  case duplicateName(String)
  case duplicateChannel(String)
  case nonFiniteOffset(String)

  public var description: String {
    switch self {
    case .empty: "the skeleton has no joints"
    case .multipleRoots(let name): "joint '\(name)' is a second root; only joint 0 may be a root"
    case .parentNotBeforeChild(let name, let index):
      "joint '\(name)' (index \(index)) has a parent that does not come before it"
    case .endSiteIsRoot: "an End Site cannot be the root"
    case .endSiteHasChildren(let name): "End Site '\(name)' has children"
    case .endSiteHasChannels(let name): "End Site '\(name)' has channels"
    case .duplicateName(let name): "duplicate joint name '\(name)'"
    case .duplicateChannel(let name): "joint '\(name)' lists the same channel twice"
    case .nonFiniteOffset(let name): "joint '\(name)' has a non-finite offset"
    }
  }
}
