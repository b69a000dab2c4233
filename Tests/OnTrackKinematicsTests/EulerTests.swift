import Foundation
import OnTrackKinematics
import PropertyBased
import Testing

@Suite("Euler angles")
struct EulerTests {
  @Test("angles → rotation → angles round-trips in every order", arguments: EulerOrder.allCases)
  func roundTrip(order: EulerOrder) async {
    await propertyCheck(count: 400, input: eulerTriples) { angles in
      let q = Quaternion(eulerAngles: angles, order: order)
      let back = q.eulerAngles(order: order)
      for k in 0..<3 {
        #expect(abs(back[k] - angles[k]) < 1e-5, "order \(order), angle \(k)")
      }
    }
  }

  @Test(
    "rotation → angles → rotation round-trips in every order, gimbal lock included",
    arguments: EulerOrder.allCases)
  func rotationRoundTrip(order: EulerOrder) async {
    await propertyCheck(count: 400, input: rotations) { q in
      let back = Quaternion(eulerAngles: q.eulerAngles(order: order), order: order)
      #expect(degreesBetween(q, back) < 0.001)
    }
    for middle in [Double.pi / 2, -Double.pi / 2] {
      let locked = Quaternion(eulerAngles: SIMD3(0.7, middle, -0.3), order: order)
      let back = Quaternion(eulerAngles: locked.eulerAngles(order: order), order: order)
      #expect(degreesBetween(locked, back) < 0.01, "gimbal lock, order \(order)")
    }
  }

  @Test(
    "orders are intrinsic and read left to right: R = R_a1 · R_a2 · R_a3",
    arguments: EulerOrder.allCases)
  func intrinsicComposition(order: EulerOrder) {
    let angles = SIMD3<Double>(0.3, -0.8, 1.9)
    let (a, b, c) = order.axes
    func axis(_ i: Int) -> SIMD3<Float> {
      var v = SIMD3<Float>.zero
      v[i] = 1
      return v
    }
    let expected =
      Quaternion(angle: Float(angles.x), axis: axis(a))
      * Quaternion(angle: Float(angles.y), axis: axis(b))
      * Quaternion(angle: Float(angles.z), axis: axis(c))
    #expect(degreesBetween(Quaternion(eulerAngles: angles, order: order), expected) < 1e-4)
  }

  @Test("fewer than three channels complete the order with the missing axes")
  func completingOrders() {
    #expect(EulerOrder.completing([2]) == .zxy)
    #expect(EulerOrder.completing([1, 0]) == .yxz)
    #expect(EulerOrder.completing([0, 1, 2]) == .xyz)
    #expect([Channel.zRotation, .xPosition, .xRotation].rotationOrder == .zxy)
    #expect([Channel.xPosition].rotationOrder == nil)
  }
}
