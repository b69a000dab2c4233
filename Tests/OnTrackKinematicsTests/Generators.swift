import OnTrackKinematics
import PropertyBased

/// Random unit quaternions (uniform enough for properties: normalised boxes in R⁴).
let rotations = Gen.float(in: -1...1).simd4
  .filter { ($0 * $0).sum() > 0.01 }
  .map { Quaternion($0).normalized }

/// Random vectors in a 2 m cube.
let vectors = Gen.float(in: -2...2).simd3

/// Euler angles in radians with the middle angle away from gimbal lock (±89°), where the
/// decomposition is unique.
let eulerTriples = zip(
  Gen.double(in: -3.1...3.1), Gen.double(in: -1.55...1.55), Gen.double(in: -3.1...3.1)
).map { SIMD3($0, $1, $2) }

/// The rotation of `degrees` about `axis`.
func rotation(_ degrees: Float, _ axis: SIMD3<Float>) -> Quaternion {
  Quaternion(angle: degrees * .pi / 180, axis: axis)
}

/// The geodesic angle between two rotations, in degrees.
func degreesBetween(_ a: Quaternion, _ b: Quaternion) -> Float {
  a.angle(to: b) * 180 / .pi
}

func isClose(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ tolerance: Float = 1e-5) -> Bool {
  length(a - b) <= tolerance
}
