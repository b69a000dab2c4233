// libFuzzer target for the keypoint take readers (see DEVELOPERS.md, "Fuzzing"): what
// `ontrack score`, `play --take` and `record --from` read from a patient's or a lab's files.
//
// The first byte picks the form: keypoint CSV, JSON lines, OpenSim TRC or UI-PRMD Vicon markers.
// Any input must be rejected with a MotionFormatError or read into a take; an accepted take must
// be solved onto a skeleton or refused with a MotionFormatError, and a solved clip must hold
// finite values. A crash, a hang or unbounded memory is a bug.
import OnTrackFormats
import OnTrackKinematics

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeypointFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size > 0 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let take: KeypointTake?
  switch data[0] % 4 {
  case 0: take = try? KeypointFiles.csv(bytes: bytes, file: "fuzz.csv")
  case 1: take = try? KeypointFiles.jsonLines(bytes: bytes, file: "fuzz.jsonl")
  case 2: take = try? TRCReader.read(bytes: bytes, file: "fuzz.trc")
  default: take = try? UIPRMDReader.readViconMarkers(bytes: bytes, file: "fuzz_positions.txt")
  }
  guard let take, let solved = try? take.solved() else { return 0 }
  let clip = solved.clip
  precondition(clip.frameCount > 0)
  var pose = clip.skeleton.restPose
  clip.sample(at: clip.duration / 2, into: &pose)
  precondition(pose.rotations.allSatisfy(\.isFinite))
  return 0
}
