import OnTrackKinematics

/// Why a VMC packet could not be applied to the pose.
public struct VMCError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    case malformed, nonFinite, unknownBone
  }

  public var kind: Kind
  public var message: String

  public var description: String { message }
}

/// Turns VMC protocol messages (OSC; Virtual Motion Capture's "Ext" messages) into poses of the
/// Unity humanoid rig (`DeviceRigs.unityHumanoid()`).
///
/// - `/VMC/Ext/Root/Pos s:name f:px py pz f:qx qy qz qw [f:scale… f:offset…]` — the avatar's
///   root transform.
/// - `/VMC/Ext/Bone/Pos s:bone f:px py pz f:qx qy qz qw` — one bone's local transform (Unity
///   `HumanBodyBones` names).
/// - `/VMC/Ext/T f:seconds` — the sender's clock.
/// - `/OnTrack/Pair s:code` (OnTrack's own, ignored by other receivers) — a pairing code that
///   binds the sender to a session (read by the server's listener, not here).
///
/// Unity is left-handed (X right, Y up, Z forward); OnTrack is right-handed with Y up and the
/// character's left at +X. A point converts as (−x, y, z) and a rotation as (x, −y, −z, w).
/// Other addresses are ignored, as the protocol asks of receivers.
public struct VMCPoseAssembler: Sendable {
  public let skeleton: Skeleton
  private var rootPosition = SIMD3<Float>.zero
  private var rootRotation = Quaternion.identity
  private var hipsPosition: SIMD3<Float>
  private var hipsRotation = Quaternion.identity

  /// What one packet carried besides bones.
  public struct PacketInfo: Sendable, Equatable {
    public var time: Double?
    public var bones = 0
  }

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
    hipsPosition = skeleton.joints[0].offset
  }

  /// Converts a Unity (left-handed) point to OnTrack's right-handed frame.
  public static func point(fromUnity p: SIMD3<Float>) -> SIMD3<Float> { SIMD3(-p.x, p.y, p.z) }

  /// Converts a Unity (left-handed) rotation to OnTrack's right-handed frame (and back: the
  /// conversion is its own inverse).
  public static func rotation(fromUnity q: Quaternion) -> Quaternion {
    Quaternion(x: q.x, y: -q.y, z: -q.z, w: q.w)
  }

  /// Applies the messages of one packet to `pose` (bones not mentioned keep their last value).
  /// On error `pose` may hold part of the packet; callers keep a copy of the last good pose.
  public mutating func apply(_ messages: [OSCMessage], to pose: inout Pose) throws(VMCError)
    -> PacketInfo
  {
    var info = PacketInfo()
    var rootChanged = false
    for message in messages {
      switch message.address {
      case "/VMC/Ext/Bone/Pos":
        let (name, position, rotation) = try transform(message)
        if name == "Hips" {
          hipsPosition = position
          hipsRotation = rotation
          rootChanged = true
        } else {
          guard let j = skeleton.index(of: name), !skeleton.joints[j].isEndSite else {
            throw VMCError(kind: .unknownBone, message: "unknown bone '\(name.prefix(40))'")
          }
          pose.rotations[j] = rotation
        }
        info.bones += 1
      case "/VMC/Ext/Root/Pos":
        let (_, position, rotation) = try transform(message)
        rootPosition = position
        rootRotation = rotation
        rootChanged = true
      case "/VMC/Ext/T":
        guard let t = message.arguments.first?.number, t.isFinite else {
          throw VMCError(kind: .malformed, message: "/VMC/Ext/T needs a finite time")
        }
        info.time = t
      default:
        continue
      }
    }
    if rootChanged {
      pose.rotations[0] = (rootRotation * hipsRotation).normalized
      pose.translations[0] = rootPosition + rootRotation.act(on: hipsPosition)
    }
    return info
  }

  private func transform(_ message: OSCMessage) throws(VMCError)
    -> (String, SIMD3<Float>, Quaternion)
  {
    let a = message.arguments
    guard a.count >= 8, let name = a[0].string else {
      throw VMCError(
        kind: .malformed, message: "\(message.address) needs a name and 7 numbers")
    }
    var v = SIMD8<Float>()
    for k in 0..<7 {
      guard let x = a[k + 1].number else {
        throw VMCError(
          kind: .malformed, message: "\(message.address) argument \(k + 2) is not a number")
      }
      guard x.isFinite, abs(x) < 1e4 else {
        throw VMCError(
          kind: .nonFinite, message: "\(message.address) '\(name.prefix(40))' has \(x)")
      }
      v[k] = Float(x)
    }
    let q = Quaternion(x: v[3], y: v[4], z: v[5], w: v[6])
    let length = q.length
    guard length > 0.5, length < 2 else {
      throw VMCError(
        kind: .malformed, message: "rotation of '\(name.prefix(40))' is not a unit quaternion")
    }
    return (
      name, Self.point(fromUnity: SIMD3(v[0], v[1], v[2])), Self.rotation(fromUnity: q.normalized)
    )
  }
}

/// Writes VMC bundles as a performer sends them (for simulated devices and tests).
public enum VMCPacketWriter {
  /// One frame: `/OnTrack/Pair` (if a pairing `code` is given), the root at the origin, every joint
  /// in `bones` (and `Hips`) with its local transform converted to Unity's left-handed frame,
  /// and `/VMC/Ext/T`.
  public static func bundle(
    pairing code: String?, rig: Skeleton, pose: Pose, bones: [Int], time: Double
  ) -> [UInt8] {
    func transform(_ name: String, _ p: SIMD3<Float>, _ q: Quaternion) -> [OSCArgument] {
      let up = VMCPoseAssembler.point(fromUnity: p)
      let uq = VMCPoseAssembler.rotation(fromUnity: q)
      return [
        .string(name), .float(up.x), .float(up.y), .float(up.z), .float(uq.x), .float(uq.y),
        .float(uq.z), .float(uq.w),
      ]
    }
    var messages: [OSCMessage] = []
    if let code { messages.append(OSCMessage("/OnTrack/Pair", [.string(code)])) }
    messages.append(OSCMessage("/VMC/Ext/Root/Pos", transform("root", .zero, .identity)))
    messages.append(
      OSCMessage("/VMC/Ext/Bone/Pos", transform("Hips", pose.translations[0], pose.rotations[0])))
    for j in bones where j != 0 {
      messages.append(
        OSCMessage(
          "/VMC/Ext/Bone/Pos",
          transform(rig.joints[j].name, pose.translations[j], pose.rotations[j])))
    }
    messages.append(OSCMessage("/VMC/Ext/T", [.float(Float(time))]))
    return OSCPacket.bundle(messages)
  }
}
