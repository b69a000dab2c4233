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
  let k = (x * (2 / Float.pi)).rounded()
  // π/2 split into three parts whose products with small integers are exact in Float.
  var r = x - k * 1.5703125
  r -= k * 4.837512969970703125e-4
  r -= k * 7.54978995489188216e-8
  let z = r * r
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z
    - 0.5 * z + 1
  switch Int(k) & 3 {
  case 0: return (s, c)
  case 1: return (c, -s)
  case 2: return (-s, -c)
  default: return (-c, s)
  }
}
