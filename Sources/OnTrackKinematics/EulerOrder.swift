import Foundation

/// The order of three rotations about distinct coordinate axes (Tait–Bryan angles).
///
/// Orders are *intrinsic* and read left to right, as BVH channel lists are: `.zxy` with angles
/// `(a, b, c)` is the rotation `R = Rz(a) · Rx(b) · Ry(c)`, so a vector is turned by `c` about Y
/// first, then by `b` about X, then by `a` about Z (equivalently: rotate the frame about Z, then
/// about the new X, then about the newest Y).
public enum EulerOrder: String, CaseIterable, Sendable, Codable {
  case xyz, xzy, yxz, yzx, zxy, zyx

  /// The axis indices (0 = X, 1 = Y, 2 = Z) in application order of the product, left to right.
  public var axes: (Int, Int, Int) {
    switch self {
    case .xyz: (0, 1, 2)
    case .xzy: (0, 2, 1)
    case .yxz: (1, 0, 2)
    case .yzx: (1, 2, 0)
    case .zxy: (2, 0, 1)
    case .zyx: (2, 1, 0)
    }
  }

  /// The order whose axes are `first`, `second`, `third` (0 = X, 1 = Y, 2 = Z), if distinct.
  public init?(axes first: Int, _ second: Int, _ third: Int) {
    guard let order = EulerOrder.allCases.first(where: { $0.axes == (first, second, third) })
    else { return nil }
    self = order
  }

  /// The order that starts with the given axes (one or two of them) and completes them with the
  /// remaining axes in ascending order. Used to read and write joints with fewer than three
  /// rotation channels.
  public static func completing(_ prefix: [Int]) -> EulerOrder {
    var axes = prefix.filter { (0...2).contains($0) }
    for axis in 0..<3 where !axes.contains(axis) { axes.append(axis) }
    return EulerOrder(axes: axes[0], axes[1], axes[2]) ?? .xyz
  }

  /// True for the cyclic orders (xyz, yzx, zxy).
  var isCyclic: Bool {
    switch self {
    case .xyz, .yzx, .zxy: true
    default: false
    }
  }
}

extension Quaternion {
  /// The rotation `R = R_a1(angles[0]) · R_a2(angles[1]) · R_a3(angles[2])` for the axes of
  /// `order`; angles in radians. Computed in double precision, rounded once to `Float`.
  public init(eulerAngles angles: SIMD3<Double>, order: EulerOrder) {
    let q = DoubleQuaternion(eulerAngles: angles, order: order)
    self.init(x: Float(q.x), y: Float(q.y), z: Float(q.z), w: Float(q.w))
  }

  /// The angles `(a1, a2, a3)` in radians with `R = R_a1(a1) · R_a2(a2) · R_a3(a3)` for the
  /// axes of `order`. The middle angle is in [−π/2, π/2], the others in (−π, π]. At gimbal lock
  /// (middle angle ±π/2) the third angle is set to zero and the first carries the rotation.
  public func eulerAngles(order: EulerOrder) -> SIMD3<Double> {
    DoubleQuaternion(self).eulerAngles(order: order)
  }
}

/// A double-precision quaternion used only where `Float` would lose visible precision
/// (Euler angle conversion). Not part of the runtime path.
struct DoubleQuaternion {
  var x: Double
  var y: Double
  var z: Double
  var w: Double

  init(x: Double, y: Double, z: Double, w: Double) {
    self.x = x
    self.y = y
    self.z = z
    self.w = w
  }

  init(_ q: Quaternion) {
    let n = Double(q.length)
    let s = n > 0 && n.isFinite ? 1 / n : 1
    self.init(
      x: Double(q.x) * s, y: Double(q.y) * s, z: Double(q.z) * s, w: Double(q.w) * s)
  }

  /// Rotation about one coordinate axis by `angle` radians.
  init(axis: Int, angle: Double) {
    let h = angle * 0.5
    let s = sin(h)
    self.init(
      x: axis == 0 ? s : 0, y: axis == 1 ? s : 0, z: axis == 2 ? s : 0, w: cos(h))
  }

  init(eulerAngles angles: SIMD3<Double>, order: EulerOrder) {
    let (a, b, c) = order.axes
    self =
      DoubleQuaternion(axis: a, angle: angles.x) * DoubleQuaternion(axis: b, angle: angles.y)
      * DoubleQuaternion(axis: c, angle: angles.z)
  }

  static func * (p: DoubleQuaternion, q: DoubleQuaternion) -> DoubleQuaternion {
    DoubleQuaternion(
      x: p.w * q.x + p.x * q.w + p.y * q.z - p.z * q.y,
      y: p.w * q.y - p.x * q.z + p.y * q.w + p.z * q.x,
      z: p.w * q.z + p.x * q.y - p.y * q.x + p.z * q.w,
      w: p.w * q.w - p.x * q.x - p.y * q.y - p.z * q.z)
  }

  /// Entry (row, column) of the rotation matrix, without building the matrix.
  func element(_ row: Int, _ column: Int) -> Double {
    switch (row, column) {
    case (0, 0): 1 - 2 * (y * y + z * z)
    case (0, 1): 2 * (x * y - w * z)
    case (0, 2): 2 * (x * z + w * y)
    case (1, 0): 2 * (x * y + w * z)
    case (1, 1): 1 - 2 * (x * x + z * z)
    case (1, 2): 2 * (y * z - w * x)
    case (2, 0): 2 * (x * z - w * y)
    case (2, 1): 2 * (y * z + w * x)
    default: 1 - 2 * (x * x + y * y)
    }
  }

  func eulerAngles(order: EulerOrder) -> SIMD3<Double> {
    let m = element
    let (i, j, k) = order.axes
    // For R = Ri(a) Rj(b) Rk(c): the (i, k) entry is ±sin b; the sign is + for cyclic orders.
    let sign: Double = order.isCyclic ? 1 : -1
    let sinB = sign * m(i, k)
    let cosB = (m(i, i) * m(i, i) + m(i, j) * m(i, j)).squareRoot()
    let b = atan2(sinB, cosB)
    if cosB < 1e-6 {
      // Gimbal lock: only a ± c is determined. Put it all in a: with c = 0, R · Rj(−b) is a
      // pure rotation about axis i.
      let pure = self * DoubleQuaternion(axis: j, angle: -b)
      return SIMD3(pure.angle(about: i), b, 0)
    }
    let a = atan2(-sign * m(j, k), m(k, k))
    // c from what remains once a and b are undone, so that Ri(a) Rj(b) Rk(c) reproduces R
    // even where a is poorly conditioned (close to gimbal lock).
    let rest =
      DoubleQuaternion(axis: j, angle: -b) * DoubleQuaternion(axis: i, angle: -a) * self
    return SIMD3(a, b, rest.angle(about: k))
  }

  /// The angle in (−π, π] of this quaternion read as a rotation about coordinate axis `axis`.
  func angle(about axis: Int) -> Double {
    let s = axis == 0 ? x : (axis == 1 ? y : z)
    var angle = 2 * atan2(s, w)
    if angle > .pi { angle -= 2 * .pi }
    if angle <= -.pi { angle += 2 * .pi }
    return angle
  }
}
