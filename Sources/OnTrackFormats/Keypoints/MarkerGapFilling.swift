import Foundation

/// Fills short gaps in a recorded marker or keypoint take before joint centres are estimated,
/// as motion-capture software does:
///
/// 1. **Interpolation.** An interior run of at most `maximumGap` missing frames of one point
///    is filled linearly between the frames either side (never extrapolated at the ends).
/// 2. **Rigid clusters.** A point of a (near-)rigid cluster (the four pelvis markers, the four
///    thorax markers, the head band) missing in a frame where at least three of its cluster are
///    seen is reconstructed from the nearest frame in which the whole cluster is seen: the
///    rotation and translation that best carry that frame's visible points onto this frame's
///    (least squares; Horn 1987's quaternion method) applied to the missing one.
///
/// Offline only: both look at frames after the gap. A live stream holds points instead
/// (`KeypointSolver`).
public enum MarkerGapFilling {
  /// `frames[f][k]`: point k in frame f, `nil` when missing.
  public static func interpolate(_ frames: inout [[SIMD3<Float>?]], maximumGap: Int) {
    guard maximumGap > 0, let width = frames.first?.count else { return }
    let count = frames.count
    for k in 0..<width {
      var f = 0
      while f < count {
        guard k < frames[f].count, frames[f][k] == nil else {
          f += 1
          continue
        }
        var end = f
        while end < count, k < frames[end].count, frames[end][k] == nil { end += 1 }
        // Missing f..<end.
        if f > 0, end < count, end - f <= maximumGap, let a = frames[f - 1][k],
          let b = frames[end][k]
        {
          let span = Float(end - f + 1)
          for g in f..<end { frames[g][k] = a + (b - a) * (Float(g - f + 1) / span) }
        }
        f = end
      }
    }
  }

  /// Fills the points `cluster` (indices) from the cluster's rigid motion, where ≥ 3 are seen.
  public static func rigidFill(_ frames: inout [[SIMD3<Float>?]], cluster: [Int]) {
    guard cluster.count >= 4 else { return }
    let complete = frames.indices.filter { f in
      cluster.allSatisfy { $0 < frames[f].count && frames[f][$0] != nil }
    }
    guard !complete.isEmpty else { return }
    var nearest = 0
    for f in frames.indices {
      let seen = cluster.filter { $0 < frames[f].count && frames[f][$0] != nil }
      guard seen.count >= 3, seen.count < cluster.count else { continue }
      while nearest + 1 < complete.count,
        abs(complete[nearest + 1] - f) <= abs(complete[nearest] - f)
      {
        nearest += 1
      }
      let reference = complete[nearest]
      let source = seen.compactMap { frames[reference][$0] }.map(Self.double)
      let target = seen.compactMap { frames[f][$0] }.map(Self.double)
      guard let (rotation, translation) = fit(source, target) else { continue }
      for k in cluster where frames[f][k] == nil {
        guard let p = frames[reference][k] else { continue }
        let moved = rotation.act(Self.double(p)) + translation
        frames[f][k] = SIMD3<Float>(Float(moved.x), Float(moved.y), Float(moved.z))
      }
    }
  }

  private static func double(_ p: SIMD3<Float>) -> SIMD3<Double> {
    SIMD3(Double(p.x), Double(p.y), Double(p.z))
  }

  /// The rotation q and translation t minimising Σ |q·aᵢ + t − bᵢ|² (Horn 1987): q is the
  /// eigenvector of the largest eigenvalue of the 4×4 matrix N built from the cross-covariance
  /// S = Σ (aᵢ − ā)(bᵢ − b̄)ᵀ; t = b̄ − q·ā.
  static func fit(_ a: [SIMD3<Double>], _ b: [SIMD3<Double>]) -> (UnitQuaternion, SIMD3<Double>)? {
    guard a.count == b.count, a.count >= 3 else { return nil }
    let n = Double(a.count)
    let ca = a.reduce(SIMD3<Double>.zero, +) / n
    let cb = b.reduce(SIMD3<Double>.zero, +) / n
    var s = [[Double]](repeating: [0, 0, 0], count: 3)
    for (p, q) in zip(a, b) {
      let u = p - ca
      let v = q - cb
      for i in 0..<3 { for j in 0..<3 { s[i][j] += u[i] * v[j] } }
    }
    let (xx, xy, xz) = (s[0][0], s[0][1], s[0][2])
    let (yx, yy, yz) = (s[1][0], s[1][1], s[1][2])
    let (zx, zy, zz) = (s[2][0], s[2][1], s[2][2])
    let m: [[Double]] = [
      [xx + yy + zz, yz - zy, zx - xz, xy - yx],
      [yz - zy, xx - yy - zz, xy + yx, zx + xz],
      [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
      [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
    ]
    guard let v = largestEigenvector(m) else { return nil }
    let q = UnitQuaternion(w: v[0], x: v[1], y: v[2], z: v[3])
    return (q, cb - q.act(ca))
  }

  /// The eigenvector of the largest eigenvalue of a symmetric 4×4 matrix (cyclic Jacobi).
  static func largestEigenvector(_ matrix: [[Double]]) -> [Double]? {
    var a = matrix
    var v: [[Double]] = (0..<4).map { i in (0..<4).map { $0 == i ? 1.0 : 0.0 } }
    for _ in 0..<50 {
      var off = 0.0
      for i in 0..<4 { for j in (i + 1)..<4 { off += a[i][j] * a[i][j] } }
      if off < 1e-22 { break }
      for p in 0..<3 {
        for q in (p + 1)..<4 where abs(a[p][q]) > 1e-300 {
          let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
          let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
          let c = 1 / (t * t + 1).squareRoot()
          let s = t * c
          for k in 0..<4 {
            let akp = a[k][p]
            let akq = a[k][q]
            a[k][p] = c * akp - s * akq
            a[k][q] = s * akp + c * akq
          }
          for k in 0..<4 {
            let apk = a[p][k]
            let aqk = a[q][k]
            a[p][k] = c * apk - s * aqk
            a[q][k] = s * apk + c * aqk
          }
          for k in 0..<4 {
            let vkp = v[k][p]
            let vkq = v[k][q]
            v[k][p] = c * vkp - s * vkq
            v[k][q] = s * vkp + c * vkq
          }
        }
      }
    }
    var best = 0
    for i in 1..<4 where a[i][i] > a[best][best] { best = i }
    let vector = (0..<4).map { v[$0][best] }
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    guard norm > 0, norm.isFinite else { return nil }
    return vector.map { $0 / norm }
  }
}

/// A rotation as a unit quaternion in double precision, for fitting marker clusters.
struct UnitQuaternion {
  var w: Double
  var x: Double
  var y: Double
  var z: Double

  /// The rotated vector `q v q*`.
  func act(_ v: SIMD3<Double>) -> SIMD3<Double> {
    let u = SIMD3(x, y, z)
    let t = 2 * cross(u, v)
    return v + w * t + cross(u, t)
  }

  private func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
  }
}
