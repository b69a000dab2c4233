// libFuzzer target for the device wire formats the server reads from the network (see
// DEVELOPERS.md, "Fuzzing"): Axis Neuron broadcast lines and VMC/OSC datagrams.
//
// The first byte picks the format. Any input must be rejected with a typed error or read into
// finite values; a crash, a hang or unbounded memory is a bug.
import OnTrackFormats
import OnTrackKinematics

let unity = DeviceRigs.unityHumanoid()
let axisReader = AxisNeuronFrameReader(valueCount: 180)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeviceFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  if data[0] & 1 == 0 {
    var values: [Float] = []
    if (try? axisReader.read(bytes, into: &values)) != nil {
      precondition(values.count == 180 && values.allSatisfy(\.isFinite))
    }
    return 0
  }
  guard let messages = try? OSCPacket.messages(in: bytes) else { return 0 }
  var assembler = VMCPoseAssembler(skeleton: unity)
  var pose = unity.restPose
  if (try? assembler.apply(messages, to: &pose)) != nil {
    precondition(pose.rotations.allSatisfy(\.isFinite))
    // What was read writes back and reads again.
    precondition((try? OSCPacket.messages(in: OSCPacket.bundle(messages))) != nil)
  }
  return 0
}
