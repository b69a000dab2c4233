import CGLCore
import Foundation

/// The ground: a flat quad at y = 0, a 50 cm grid of fading lines, and soft contact shadows
/// under each avatar. Lines and shadows are separate small primitives rather than per-pixel
/// work on the whole floor, which keeps software rendering (llvmpipe) above 60 frames a second.
final class FloorRenderer {
  private let gl: GLFunctions
  private let floorProgram: ShaderProgram
  private let gridProgram: ShaderProgram
  private let shadowProgram: ShaderProgram
  private var vaos = [GLuint](repeating: 0, count: 3)
  private var buffers = [GLuint](repeating: 0, count: 4)
  private let gridVertexCount: GLsizei
  private let floorMatrix: GLint
  private let floorColor: GLint
  private let gridMatrix: GLint
  private let gridColor: GLint
  private let shadowMatrix: GLint
  /// Up to eight shadows: x, z, radius (m), darkness.
  private var shadows = [Float](repeating: 0, count: 32)
  private var shadowCount = 0

  init(gl: GLFunctions, shaders: URL) throws(AppError) {
    self.gl = gl
    floorProgram = try ShaderProgram(gl: gl, name: "floor", folder: shaders)
    gridProgram = try ShaderProgram(gl: gl, name: "grid", folder: shaders)
    shadowProgram = try ShaderProgram(gl: gl, name: "shadow", folder: shaders)
    floorMatrix = floorProgram.location("viewProjection")
    floorColor = floorProgram.location("floorColor")
    gridMatrix = gridProgram.location("viewProjection")
    gridColor = gridProgram.location("lineColor")
    shadowMatrix = shadowProgram.location("viewProjection")
    gl.genVertexArrays(3, &vaos)
    gl.genBuffers(4, &buffers)
    // Floor quad (x, y, z, alpha).
    let s: Float = 30
    let quad: [Float] = [
      -s, 0, -s, 1, s, 0, -s, 1, s, 0, s, 1, -s, 0, -s, 1, s, 0, s, 1, -s, 0, s, 1,
    ]
    Self.upload(gl, vao: vaos[0], buffer: buffers[0], data: quad)
    // Grid lines every 50 cm within 7 m, in 50 cm pieces whose alpha fades with distance.
    var lines: [Float] = []
    let reach: Float = 7
    let step: Float = 0.5
    func fade(_ x: Float, _ z: Float) -> Float { max(0, 1 - (x * x + z * z).squareRoot() / reach) }
    var k = -reach
    while k <= reach + 1e-3 {
      var t = -reach
      while t < reach - 1e-3 {
        lines += [k, 0.001, t, fade(k, t), k, 0.001, t + step, fade(k, t + step)]
        lines += [t, 0.001, k, fade(t, k), t + step, 0.001, k, fade(t + step, k)]
        t += step
      }
      k += step
    }
    gridVertexCount = GLsizei(lines.count / 4)
    Self.upload(gl, vao: vaos[1], buffer: buffers[1], data: lines)
    // Shadow quads: a unit corner list and an instance buffer.
    gl.bindVertexArray(vaos[2])
    let corners: [Float] = [-1, -1, 1, -1, 1, 1, -1, -1, 1, 1, -1, 1]
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), buffers[2])
    corners.withUnsafeBytes {
      gl.bufferData(GLenum(GL_ARRAY_BUFFER), $0.count, $0.baseAddress, GLenum(GL_STATIC_DRAW))
    }
    gl.vertexAttribPointer(0, 2, GLenum(GL_FLOAT), GLboolean(GL_FALSE), 8, nil)
    gl.enableVertexAttribArray(0)
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), buffers[3])
    gl.bufferData(
      GLenum(GL_ARRAY_BUFFER), 32 * MemoryLayout<Float>.size, nil, GLenum(GL_DYNAMIC_DRAW))
    gl.vertexAttribPointer(1, 4, GLenum(GL_FLOAT), GLboolean(GL_FALSE), 16, nil)
    gl.enableVertexAttribArray(1)
    gl.vertexAttribDivisor(1, 1)
    gl.bindVertexArray(0)
  }

  private static func upload(_ gl: GLFunctions, vao: GLuint, buffer: GLuint, data: [Float]) {
    gl.bindVertexArray(vao)
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), buffer)
    data.withUnsafeBytes {
      gl.bufferData(GLenum(GL_ARRAY_BUFFER), $0.count, $0.baseAddress, GLenum(GL_STATIC_DRAW))
    }
    gl.vertexAttribPointer(0, 3, GLenum(GL_FLOAT), GLboolean(GL_FALSE), 16, nil)
    gl.enableVertexAttribArray(0)
    gl.vertexAttribPointer(
      1, 1, GLenum(GL_FLOAT), GLboolean(GL_FALSE), 16, UnsafeRawPointer(bitPattern: 12))
    gl.enableVertexAttribArray(1)
    gl.bindVertexArray(0)
  }

  func delete() {
    gl.deleteVertexArrays(3, &vaos)
    gl.deleteBuffers(4, &buffers)
    floorProgram.delete()
    gridProgram.delete()
    shadowProgram.delete()
  }

  func clearShadows() { shadowCount = 0 }

  func addShadow(x: Float, z: Float, radius: Float, darkness: Float) {
    guard shadowCount < 8, darkness > 0.005 else { return }
    shadows[shadowCount * 4] = x
    shadows[shadowCount * 4 + 1] = z
    shadows[shadowCount * 4 + 2] = radius
    shadows[shadowCount * 4 + 3] = darkness
    shadowCount += 1
  }

  /// Draws the floor, its grid and the shadows.
  func draw(viewProjection: Matrix4) {
    floorProgram.use()
    viewProjection.withFloats { gl.uniformMatrix4fv(floorMatrix, 1, GLboolean(GL_FALSE), $0) }
    gl.uniform3f(floorColor, 0.86, 0.87, 0.89)
    gl.bindVertexArray(vaos[0])
    gl.drawArrays(GLenum(GL_TRIANGLES), 0, 6)

    gl.enable(GLenum(GL_BLEND))
    gl.blendFunc(GLenum(GL_SRC_ALPHA), GLenum(GL_ONE_MINUS_SRC_ALPHA))
    gl.depthMask(GLboolean(GL_FALSE))
    gridProgram.use()
    viewProjection.withFloats { gl.uniformMatrix4fv(gridMatrix, 1, GLboolean(GL_FALSE), $0) }
    gl.uniform3f(gridColor, 0.55, 0.58, 0.64)
    gl.bindVertexArray(vaos[1])
    gl.drawArrays(GLenum(GL_LINES), 0, gridVertexCount)

    if shadowCount > 0 {
      shadowProgram.use()
      viewProjection.withFloats { gl.uniformMatrix4fv(shadowMatrix, 1, GLboolean(GL_FALSE), $0) }
      gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), buffers[3])
      shadows.withUnsafeBytes {
        gl.bufferSubData(GLenum(GL_ARRAY_BUFFER), 0, shadowCount * 16, $0.baseAddress)
      }
      gl.bindVertexArray(vaos[2])
      gl.drawArraysInstanced(GLenum(GL_TRIANGLES), 0, 6, GLsizei(shadowCount))
    }
    gl.bindVertexArray(0)
    gl.depthMask(GLboolean(GL_TRUE))
    gl.disable(GLenum(GL_BLEND))
  }
}
