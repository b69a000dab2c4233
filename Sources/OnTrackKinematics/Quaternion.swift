import Foundation

/// A rotation in 3-D space stored as a unit quaternion `w + xi + yj + zk`.
///
/// Conventions (the whole core obeys them): right-handed coordinates, Y up, angles in
/// radians. `a * b` is the Hamilton product, so `(a * b).act(on: v) == a.act(on: b.act(on: v))`:
/// the right operand is applied first. A quaternion and its negation describe the same rotation.
///
/// The runtime type is single precision on `SIMD4<Float>` (x, y, z, w); conversions that
/// lose precision easily (Euler angles) are computed in `Double` internally.
@frozen
public struct Quaternion: Hashable, Sendable {
  /// The components in the order (x, y, z, w): imaginary part first, real part last.
  public var components: SIMD4<Float>

  @inlinable
  public init(_ components: SIMD4<Float>) {
    self.components = components
  }

  @inlinable
  public init(x: Float, y: Float, z: Float, w: Float) {
    self.components = SIMD4(x, y, z, w)
  }

  @inlinable
  public init(real: Float, imaginary: SIMD3<Float>) {
    self.components = SIMD4(imaginary, real)
  }

  /// The rotation of `angle` radians about `axis` (counter-clockwise looking down the axis).
  ///
  /// `axis` need not be unit length; a zero axis gives the identity.
  @inlinable
  public init(angle: Float, axis: SIMD3<Float>) {
    let length = (axis * axis).sum().squareRoot()
    guard length > 0, angle.isFinite else {
      self = .identity
      return
    }
    let half = angle * 0.5
    self.init(real: cos(half), imaginary: axis * (sin(half) / length))
  }

  /// The rotation that does nothing.
  public static let identity = Quaternion(x: 0, y: 0, z: 0, w: 1)

  @inlinable public var x: Float { components.x }
  @inlinable public var y: Float { components.y }
  @inlinable public var z: Float { components.z }
  @inlinable public var w: Float { components.w }

  /// The real (scalar) part, `cos(angle / 2)` for a unit quaternion.
  @inlinable public var real: Float { components.w }

  /// The imaginary (vector) part, `axis · sin(angle / 2)` for a unit quaternion.
  @inlinable public var imaginary: SIMD3<Float> {
    SIMD3(components.x, components.y, components.z)
  }

  /// Hamilton product: the rotation `rhs` followed by `lhs`.
  @inlinable @inline(__always)
  public static func * (lhs: Quaternion, rhs: Quaternion) -> Quaternion {
    let a = lhs.components
    let b = rhs.components
    let t1 = SIMD4(a.w, a.w, a.w, a.w) * b
    let t2 = SIMD4(a.x, a.y, a.z, -a.x) * SIMD4(b.w, b.w, b.w, b.x)
    let t3 = SIMD4(a.y, a.z, a.x, -a.y) * SIMD4(b.z, b.x, b.y, b.y)
    let t4 = SIMD4(a.z, a.x, a.y, a.z) * SIMD4(b.y, b.z, b.x, b.z)
    return Quaternion(t1 + t2 + t3 - t4)
  }

  /// The conjugate `w − xi − yj − zk`; the inverse rotation of a unit quaternion.
  @inlinable
  public var conjugate: Quaternion {
    Quaternion(components * SIMD4(-1, -1, -1, 1))
  }

  /// The multiplicative inverse (conjugate divided by the squared norm).
  @inlinable
  public var inverse: Quaternion {
    let n2 = (components * components).sum()
    return Quaternion(conjugate.components / n2)
  }

  /// The Euclidean norm of the four components.
  @inlinable
  public var length: Float {
    (components * components).sum().squareRoot()
  }

  /// This quaternion scaled to unit length; the identity if the length is zero or not finite.
  @inlinable
  public var normalized: Quaternion {
    let n = length
    guard n > 0, n.isFinite else { return .identity }
    return Quaternion(components / n)
  }

  /// Four-component dot product; `|dot|` is `cos(θ/2)` of the angle θ between two rotations.
  @inlinable
  public func dot(_ other: Quaternion) -> Float {
    (components * other.components).sum()
  }

  /// `self * R_axis(θ)` for a rotation about a coordinate axis (0 = X, 1 = Y, 2 = Z) given by
  /// `sine = sin(θ/2)`, `cosine = cos(θ/2)`: the product written out with the zeros removed,
  /// a quarter of the work of a general product (Euler decoding composes three of these).
  @inlinable @inline(__always)
  public func rotated(axis: Int, sine s: Float, cosine c: Float) -> Quaternion {
    let (x, y, z, w) = (components.x, components.y, components.z, components.w)
    switch axis {
    case 0:
      return Quaternion(x: x * c + w * s, y: y * c + z * s, z: z * c - y * s, w: w * c - x * s)
    case 1:
      return Quaternion(x: x * c - z * s, y: y * c + w * s, z: z * c + x * s, w: w * c - y * s)
    default:
      return Quaternion(x: x * c + y * s, y: y * c - x * s, z: z * c + w * s, w: w * c - z * s)
    }
  }

  /// Rotates the vector `v` by this (unit) quaternion: `q v q*`.
  ///
  /// Uses `v + 2w(u × v) + 2u × (u × v)` with `u` the imaginary part: two cross products
  /// instead of two quaternion products.
  @inlinable @inline(__always)
  public func act(on v: SIMD3<Float>) -> SIMD3<Float> {
    let u = imaginary
    let t = 2 * cross(u, v)
    return v + components.w * t + cross(u, t)
  }

  /// The rotation angle in radians, in [0, π], shortest way round.
  public var angle: Float {
    let s = (imaginary * imaginary).sum().squareRoot()
    return 2 * Float(atan2(Double(s), Double(abs(components.w))))
  }

  /// The geodesic distance to `other` on the rotation group, in radians, in [0, π]: the angle
  /// of the rotation that takes this orientation to `other`. Accurate for small angles too.
  public func angle(to other: Quaternion) -> Float {
    (conjugate * other).angle
  }

  /// Spherical linear interpolation along the shorter arc.
  ///
  /// `t = 0` gives `a`, `t = 1` gives `b` (or `-b`, the same rotation). Falls back to a
  /// normalised linear blend when the two are nearly equal, where `sin θ` would lose precision.
  public static func slerp(_ a: Quaternion, _ b: Quaternion, t: Float) -> Quaternion {
    var cosTheta = a.dot(b)
    var end = b.components
    if cosTheta < 0 {
      cosTheta = -cosTheta
      end = -end
    }
    if cosTheta > 0.9995 {
      return Quaternion(a.components + (end - a.components) * t).normalized
    }
    let theta = acos(Double(cosTheta))
    let sinTheta = sin(theta)
    let wa = Float(sin(Double(1 - t) * theta) / sinTheta)
    let wb = Float(sin(Double(t) * theta) / sinTheta)
    return Quaternion(a.components * wa + end * wb)
  }

  /// True if every component is a finite number.
  @inlinable
  public var isFinite: Bool {
    components.x.isFinite && components.y.isFinite && components.z.isFinite
      && components.w.isFinite
  }
}

/// The cross product `a × b` (right-handed).
@inlinable @inline(__always)
public func cross(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> SIMD3<Float> {
  SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

/// The dot product `a · b`.
@inlinable
public func dot(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
  (a * b).sum()
}

/// The Euclidean length of `v`.
@inlinable
public func length(_ v: SIMD3<Float>) -> Float {
  (v * v).sum().squareRoot()
}

/// The angle between `a` and `b`, radians (0…π), `atan2(|a × b|, a · b)`: accurate near 0
/// and π, where `acos` of the dot product is not; the vectors need not be unit.
@inlinable
public func angleBetween(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float {
  atan2(length(cross(a, b)), dot(a, b))
}

/// `v` scaled to unit length, or zero if `v` is zero.
@inlinable
public func normalize(_ v: SIMD3<Float>) -> SIMD3<Float> {
  let n = length(v)
  return n > 0 ? v / n : .zero
}
