import Foundation

/// Sine and cosine of one `Float` angle together, for per-frame Euler decoding.
///
/// Cody–Waite reduction to `r ∈ [−π/4, π/4]` by the nearest multiple of π/2, then Cephes'
/// single-precision minimax polynomials; within about 1 ulp of `sinf`/`cosf` (tested), several
/// times faster because it inlines and shares the reduction. Arguments beyond ±8192 rad, where
/// the three-part constant loses accuracy, fall back to the C library.
@inlinable @inline(__always)
public func sineCosine(_ x: Float) -> (sin: Float, cos: Float) {
  guard abs(x) < 8192 else { return (sin(x), cos(x)) }
  let k = (x * (2 / Float.pi)).rounded(.toNearestOrEven)
  // π/2 split into three parts whose products with small integers are exact in Float.
  var r = x - k * 1.5703125
  r -= k * 4.837512969970703125e-4
  r -= k * 7.54978995489188216e-8
  let z = r * r
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r
  let c =
    ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z
    - 0.5 * z + 1
  switch Int(k) & 3 {
  case 0: return (s, c)
  case 1: return (c, -s)
  case 2: return (-s, -c)
  default: return (-c, s)
  }
}

/// `sineCosine` on eight lanes at once: the same reduction and polynomials, branch-free
/// quadrant selection. Lanes beyond ±8192 rad fall back to the scalar C library.
@inlinable
public func sineCosine(_ x: SIMD8<Float>) -> (sin: SIMD8<Float>, cos: SIMD8<Float>) {
  let magnitude = x.replacing(with: -x, where: x .< 0)
  if any(magnitude .>= 8192) {
    var s = SIMD8<Float>()
    var c = SIMD8<Float>()
    for i in 0..<8 { (s[i], c[i]) = sineCosine(x[i]) }
    return (s, c)
  }
  let k = (x * (2 / Float.pi)).rounded(.toNearestOrEven)
  var r = x - k * 1.5703125
  r -= k * 4.837512969970703125e-4
  r -= k * 7.54978995489188216e-8
  let z = r * r
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r
  let c =
    ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z
    - 0.5 * z + 1
  // The quadrant k mod 4, kept in floating point (vector float-to-int conversion is slow).
  let quadrant = k - 4 * (k * 0.25).rounded(.down)
  let swap = (quadrant .== 1) .| (quadrant .== 3)
  var sine = s.replacing(with: c, where: swap)
  var cosine = c.replacing(with: s, where: swap)
  // sin is negative in quadrants 2 and 3; cos in quadrants 1 and 2.
  sine.replace(with: -sine, where: quadrant .>= 2)
  cosine.replace(with: -cosine, where: (quadrant .== 1) .| (quadrant .== 2))
  return (sine, cosine)
}
