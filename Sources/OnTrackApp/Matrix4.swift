import Foundation
import OnTrackKinematics

/// A 4×4 matrix, column-major as OpenGL reads it (`columns.0` is the first column).
struct Matrix4: Sendable {
  var columns: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)

  static let identity = Matrix4(
    columns: ([1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]))

  static func * (a: Matrix4, b: Matrix4) -> Matrix4 {
    func column(_ c: SIMD4<Float>) -> SIMD4<Float> {
      a.columns.0 * c.x + a.columns.1 * c.y + a.columns.2 * c.z + a.columns.3 * c.w
    }
    return Matrix4(
      columns: (column(b.columns.0), column(b.columns.1), column(b.columns.2), column(b.columns.3)))
  }

  /// Right-handed perspective projection (OpenGL clip space); `fovY` in radians.
  static func perspective(fovY: Float, aspect: Float, near: Float, far: Float) -> Matrix4 {
    let f = 1 / tan(fovY / 2)
    return Matrix4(
      columns: (
        [f / aspect, 0, 0, 0], [0, f, 0, 0], [0, 0, (far + near) / (near - far), -1],
        [0, 0, 2 * far * near / (near - far), 0]
      ))
  }

  /// The view matrix of a camera at `eye` looking at `target` with `up` roughly up.
  static func lookAt(eye: SIMD3<Float>, target: SIMD3<Float>, up: SIMD3<Float>) -> Matrix4 {
    let f = normalize(target - eye)
    let s = normalize(cross(f, up))
    let u = cross(s, f)
    return Matrix4(
      columns: (
        [s.x, u.x, -f.x, 0], [s.y, u.y, -f.y, 0], [s.z, u.z, -f.z, 0],
        [-dot(s, eye), -dot(u, eye), dot(f, eye), 1]
      ))
  }

  static func scale(_ s: SIMD3<Float>) -> Matrix4 {
    Matrix4(columns: ([s.x, 0, 0, 0], [0, s.y, 0, 0], [0, 0, s.z, 0], [0, 0, 0, 1]))
  }

  /// Calls `body` with the 16 floats, for `glUniformMatrix4fv`.
  func withFloats<R>(_ body: (UnsafePointer<Float>) -> R) -> R {
    var copy = columns
    return withUnsafePointer(to: &copy) { pointer in
      pointer.withMemoryRebound(to: Float.self, capacity: 16) { body($0) }
    }
  }
}
