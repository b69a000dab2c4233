// libFuzzer target for the WebSocket stream frames the server reads from patients (see
// DEVELOPERS.md, "Fuzzing"): `StreamFrameDecoder` on JSON text, the same decoder every
// session runs.
//
// The first byte picks the session skeleton (OnTrack's canonical rig, Perception Neuron,
// Unity humanoid). Any input must be rejected with a reason or decoded into a pose whose every
// number is finite and whose forward kinematics is finite; the sequence number and time must be
// within the bounds the server promises. A crash, a hang or unbounded memory is a bug.
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol

let skeletons = [
  DeviceRigs.unityHumanoid(), DeviceRigs.perceptionNeuron(displacement: false),
  DeviceRigs.perceptionNeuron(displacement: true),
]
let decoders = skeletons.map { StreamFrameDecoder(skeleton: $0, maximumBytes: 64 * 1024) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreamFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let k = Int(data[0]) % decoders.count
  let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
  let skeleton = skeletons[k]
  var pose = skeleton.restPose
  var scratch: [Float] = []
  do {
    let (seq, time) = try decoders[k].decode(text, into: &pose, scratch: &scratch)
    precondition(seq >= 0 && seq <= StreamFrame.maximumSeq)
    precondition(time.isFinite && abs(time) <= Double(StreamFrame.maximumSeq))
    precondition(pose.rotations.allSatisfy(\.isFinite))
    precondition(pose.translations.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite })
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
    precondition(world.allSatisfy { $0.translation.x.isFinite && $0.rotation.isFinite })
  } catch {
    precondition(!error.message.isEmpty)
  }
  return 0
}
