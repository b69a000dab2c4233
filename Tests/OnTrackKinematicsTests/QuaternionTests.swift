import Foundation
import OnTrackKinematics
import PropertyBased
import Testing

@Suite("Quaternion")
struct QuaternionTests {
  @Test("a rotation composed with its inverse is the identity")
  func inverseComposesToIdentity() async {
    await propertyCheck(count: 500, input: rotations) { q in
      #expect(degreesBetween(q * q.inverse, .identity) < 0.01)
      #expect(degreesBetween(q.inverse * q, .identity) < 0.01)
    }
  }

  @Test("rotating a vector preserves its length and inverse rotation undoes it")
  func actIsAnIsometry() async {
    await propertyCheck(count: 500, input: rotations, vectors) { q, v in
      let w = q.act(on: v)
      #expect(abs(length(w) - length(v)) < 1e-5)
      #expect(isClose(q.conjugate.act(on: w), v, 1e-5))
    }
  }

  @Test("the product applies the right operand first")
  func productOrder() async {
    await propertyCheck(count: 300, input: rotations, rotations, vectors) { a, b, v in
      #expect(isClose((a * b).act(on: v), a.act(on: b.act(on: v)), 1e-5))
    }
  }

  @Test("right-handed: +90° about Z takes X to Y, about X takes Y to Z, about Y takes Z to X")
  func rightHanded() {
    #expect(isClose(rotation(90, [0, 0, 1]).act(on: [1, 0, 0]), [0, 1, 0]))
    #expect(isClose(rotation(90, [1, 0, 0]).act(on: [0, 1, 0]), [0, 0, 1]))
    #expect(isClose(rotation(90, [0, 1, 0]).act(on: [0, 0, 1]), [1, 0, 0]))
  }

  @Test("slerp hits its endpoints and moves along the shorter arc at constant speed")
  func slerp() async {
    await propertyCheck(count: 300, input: rotations, rotations, Gen.float(in: 0...1)) { a, b, t in
      #expect(degreesBetween(Quaternion.slerp(a, b, t: 0), a) < 0.01)
      #expect(degreesBetween(Quaternion.slerp(a, b, t: 1), b) < 0.01)
      let total = degreesBetween(a, b)
      let partial = Quaternion.slerp(a, b, t: t)
      #expect(total <= 180.01)
      #expect(abs(degreesBetween(a, partial) - t * total) < 0.05)
      #expect(abs(degreesBetween(partial, b) - (1 - t) * total) < 0.05)
    }
  }

  @Test("slerp takes the shorter way between q and a rotation given as −q'")
  func slerpShortestArc() {
    let a = rotation(10, [0, 1, 0])
    let b = Quaternion(-rotation(30, [0, 1, 0]).components)
    let mid = Quaternion.slerp(a, b, t: 0.5)
    #expect(degreesBetween(mid, rotation(20, [0, 1, 0])) < 0.001)
  }

  @Test("the geodesic angle recovers the angle of a relative rotation, small angles included")
  func geodesicAngle() async {
    await propertyCheck(
      count: 300, input: rotations, Gen.float(in: 0.0001...179), Gen.float(in: -1...1).simd3
    ) { q, degrees, axis in
      guard length(axis) > 0.1 else { return }
      let r = q * rotation(degrees, axis)
      #expect(abs(degreesBetween(q, r) - degrees) < max(0.02, degrees * 1e-4))
    }
  }

  @Test("axis-angle: a zero axis or non-finite angle gives the identity")
  func degenerateAxisAngle() {
    #expect(Quaternion(angle: 1, axis: .zero) == .identity)
    #expect(Quaternion(angle: .nan, axis: [1, 0, 0]) == .identity)
    #expect(Quaternion(SIMD4(0, 0, 0, 0)).normalized == .identity)
  }

  @Test("sineCosine agrees with the C library to about one ulp")
  func sineCosine() async {
    await propertyCheck(count: 2000, input: Gen.float(in: -20000...20000)) { x in
      let (s, c) = OnTrackKinematics.sineCosine(x)
      #expect(abs(s - sin(x)) <= 2.5e-7 * max(1, abs(x) / 1000))
      #expect(abs(c - cos(x)) <= 2.5e-7 * max(1, abs(x) / 1000))
    }
    await propertyCheck(count: 500, input: Gen.float(in: -9000...9000).simd4) { v in
      let x = SIMD8(lowHalf: v, highHalf: v * 0.001)
      let (s, c) = OnTrackKinematics.sineCosine(x)
      for i in 0..<8 {
        let (si, ci) = OnTrackKinematics.sineCosine(x[i])
        #expect(s[i] == si && c[i] == ci, "lane \(i), x = \(x[i])")
      }
    }
    for x: Float in [0, .pi / 4, .pi / 2, .pi, -.pi, 3 * .pi / 2, 1e-20] {
      let (s, c) = OnTrackKinematics.sineCosine(x)
      #expect(abs(s - sin(x)) < 2e-7 && abs(c - cos(x)) < 2e-7)
    }
  }
}
