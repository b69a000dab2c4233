// libFuzzer target for the WebSocket stream messages the server reads from patients (see
// DEVELOPERS.md, "Fuzzing"): `StreamFrameBatch.split`, then `StreamFrameDecoder` on each
// frame's JSON text, the same code every session runs.
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
  // A message is a frame or a batch of them (`StreamFrameBatch`): every frame of a batch must
  // meet the same promises as a frame alone, and a frame sent in a batch of one decodes alike.
  switch StreamFrameBatch.split(text) {
  case .single:
    let alone = check(text, k)
    if let alone {
      // (The batch's frame is the text without the blanks around it.)
      guard
        case .frames(let batched) = StreamFrameBatch.split(StreamFrameBatch.json(frames: [text]))
      else { preconditionFailure("a frame in a batch of one is not a batch") }
      precondition(batched.count == 1 && check(batched[0], k) == alone)
    }
  case .frames(let frames):
    precondition(!frames.isEmpty && frames.count <= StreamFrameBatch.maximumFrames)
    for frame in frames { _ = check(frame, k) }
  case .refused(let reason):
    precondition(!reason.isEmpty)
  }
  return 0
}

/// Decodes one frame on skeleton `k`: refused with a reason, or a finite pose whose forward
/// kinematics is finite, `seq` and `t` within bounds. Returns `seq` and `t` when decoded.
func check(_ text: String, _ k: Int) -> [Double]? {
  let skeleton = skeletons[k]
  var pose = skeleton.restPose
  var scratch: [Float] = []
  do {
    let (seq, time, _) = try decoders[k].decode(text, into: &pose, scratch: &scratch)
    precondition(seq >= 0 && seq <= StreamFrame.maximumSeq)
    precondition(time.isFinite && abs(time) <= Double(StreamFrame.maximumSeq))
    precondition(pose.rotations.allSatisfy(\.isFinite))
    precondition(pose.translations.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite })
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
    precondition(world.allSatisfy { $0.translation.x.isFinite && $0.rotation.isFinite })
    return [Double(seq), time]
  } catch {
    precondition(!error.message.isEmpty)
    return nil
  }
}
