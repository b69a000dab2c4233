// libFuzzer target for the BVH reader (see DEVELOPERS.md, "Fuzzing").
//
// Any input must either be rejected with a MotionFormatError or read into a clip; a clip must
// survive being written and read again with the same shape. A crash, a hang, unbounded memory
// or a write/read disagreement is a bug.
import OnTrackFormats
import OnTrackKinematics

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBVHReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let clip = try? BVHReader().read(bytes: bytes, fileName: "fuzz.bvh") else { return 0 }
  // Exercise the rest of the core on whatever was accepted.
  var pose = clip.skeleton.restPose
  var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
  clip.sample(at: clip.duration / 2, into: &pose)
  ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
  _ = clip.mirrored()
  let text = BVHWriter().bytes(for: clip)
  let options = BVHReader.Options(lengthUnit: clip.skeleton.lengthUnit)
  guard let again = try? BVHReader(options: options).read(bytes: text, fileName: "rewritten.bvh")
  else {
    fatalError("a clip the reader accepted was written as BVH the reader rejects")
  }
  precondition(again.frameCount == clip.frameCount && again.skeleton.count == clip.skeleton.count)
  return 0
}
