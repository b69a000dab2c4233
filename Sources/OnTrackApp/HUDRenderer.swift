import CGLCore
import Foundation

/// Screen-space panels, bars and text in one batch and one draw call; vertex storage is made
/// once, so a frame's HUD allocates nothing.
final class HUDRenderer {
  private let gl: GLFunctions
  private let program: ShaderProgram
  let atlas: GlyphAtlas
  private var vao: GLuint = 0
  private var vbo: GLuint = 0
  private let screenLocation: GLint
  private let glyphsLocation: GLint
  /// Floats per vertex: x, y, u, v, r, g, b, a.
  private static let vertexFloats = 8
  private let capacity: Int
  private var vertices: [Float]
  private var vertexCount = 0

  init(gl: GLFunctions, shaders: URL, fonts: URL, scale: Float, quads: Int = 6000) throws(AppError)
  {
    self.gl = gl
    program = try ShaderProgram(gl: gl, name: "hud", folder: shaders)
    atlas = try GlyphAtlas(gl: gl, fonts: fonts, scale: scale)
    screenLocation = program.location("screenSize")
    glyphsLocation = program.location("glyphs")
    capacity = quads * 6
    vertices = [Float](repeating: 0, count: capacity * Self.vertexFloats)
    gl.genVertexArrays(1, &vao)
    gl.bindVertexArray(vao)
    gl.genBuffers(1, &vbo)
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), vbo)
    gl.bufferData(
      GLenum(GL_ARRAY_BUFFER), capacity * Self.vertexFloats * MemoryLayout<Float>.size, nil,
      GLenum(GL_DYNAMIC_DRAW))
    let stride = GLsizei(Self.vertexFloats * MemoryLayout<Float>.size)
    gl.vertexAttribPointer(0, 2, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, nil)
    gl.vertexAttribPointer(
      1, 2, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, UnsafeRawPointer(bitPattern: 8))
    gl.vertexAttribPointer(
      2, 4, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, UnsafeRawPointer(bitPattern: 16))
    for location in 0..<3 { gl.enableVertexAttribArray(GLuint(location)) }
    gl.bindVertexArray(0)
  }

  func delete() {
    gl.deleteVertexArrays(1, &vao)
    gl.deleteBuffers(1, &vbo)
    atlas.delete()
    program.delete()
  }

  func begin() { vertexCount = 0 }

  private func quad(
    _ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, _ u0: Float, _ v0: Float, _ u1: Float,
    _ v1: Float, _ c: SIMD4<Float>
  ) {
    guard vertexCount + 6 <= capacity else { return }
    vertices.withUnsafeMutableBufferPointer { out in
      var k = vertexCount * Self.vertexFloats
      func vertex(_ x: Float, _ y: Float, _ u: Float, _ v: Float) {
        out[k] = x
        out[k + 1] = y
        out[k + 2] = u
        out[k + 3] = v
        out[k + 4] = c.x
        out[k + 5] = c.y
        out[k + 6] = c.z
        out[k + 7] = c.w
        k += Self.vertexFloats
      }
      vertex(x0, y0, u0, v0)
      vertex(x1, y0, u1, v0)
      vertex(x1, y1, u1, v1)
      vertex(x0, y0, u0, v0)
      vertex(x1, y1, u1, v1)
      vertex(x0, y1, u0, v1)
    }
    vertexCount += 6
  }

  /// A solid rectangle (pixels, origin top left).
  func rect(x: Float, y: Float, width: Float, height: Float, color: SIMD4<Float>) {
    quad(x, y, x + width, y + height, -1, -1, -1, -1, color)
  }

  /// A rectangle with rounded corners made of a few strips.
  func roundedRect(
    x: Float, y: Float, width: Float, height: Float, radius: Float, color: SIMD4<Float>
  ) {
    let r = min(radius, height / 2, width / 2)
    rect(x: x, y: y + r, width: width, height: height - 2 * r, color: color)
    let steps = 6
    for k in 0..<steps {
      let t0 = Float(k) / Float(steps)
      let t1 = Float(k + 1) / Float(steps)
      let inset = r - (r * r - (r * (1 - (t0 + t1) / 2)) * (r * (1 - (t0 + t1) / 2))).squareRoot()
      rect(
        x: x + inset, y: y + r * t0, width: width - 2 * inset, height: r * (t1 - t0), color: color)
      rect(
        x: x + inset, y: y + height - r * t1, width: width - 2 * inset, height: r * (t1 - t0),
        color: color)
    }
  }

  /// The width in pixels of `text` in `style`.
  func measure<S: Sequence>(_ text: S, _ style: TextStyle) -> Float
  where S.Element == Unicode.Scalar {
    var width: Float = 0
    for scalar in text { width += atlas.glyph(scalar.value, style)?.advance ?? 0 }
    return width
  }

  /// Draws `text` with its top-left corner at (x, y); returns the width.
  @discardableResult
  func text<S: Sequence>(
    _ text: S, x: Float, y: Float, style: TextStyle, color: SIMD4<Float>
  ) -> Float where S.Element == Unicode.Scalar {
    var pen = x.rounded()
    let top = y.rounded()
    for scalar in text {
      guard let g = atlas.glyph(scalar.value, style) else { continue }
      if g.width > 0 {
        quad(pen, top, pen + g.width, top + g.height, g.u0, g.v0, g.u1, g.v1, color)
      }
      pen += g.advance
    }
    return pen - x
  }

  /// Draws `text` centred on `centerX`.
  func centeredText<S: Sequence>(
    _ text: S, centerX: Float, y: Float, style: TextStyle, color: SIMD4<Float>
  ) where S.Element == Unicode.Scalar {
    let width = measure(text, style)
    self.text(text, x: centerX - width / 2, y: y, style: style, color: color)
  }

  func draw(width: Float, height: Float) {
    guard vertexCount > 0 else { return }
    gl.disable(GLenum(GL_DEPTH_TEST))
    gl.enable(GLenum(GL_BLEND))
    gl.blendFunc(GLenum(GL_SRC_ALPHA), GLenum(GL_ONE_MINUS_SRC_ALPHA))
    program.use()
    gl.uniform2f(screenLocation, width, height)
    gl.uniform1i(glyphsLocation, 0)
    gl.activeTexture(GLenum(GL_TEXTURE0))
    gl.bindTexture(GLenum(GL_TEXTURE_2D), atlas.texture)
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), vbo)
    vertices.withUnsafeBytes {
      gl.bufferSubData(
        GLenum(GL_ARRAY_BUFFER), 0, vertexCount * Self.vertexFloats * MemoryLayout<Float>.size,
        $0.baseAddress)
    }
    gl.bindVertexArray(vao)
    gl.drawArrays(GLenum(GL_TRIANGLES), 0, GLsizei(vertexCount))
    gl.bindVertexArray(0)
    gl.disable(GLenum(GL_BLEND))
    gl.enable(GLenum(GL_DEPTH_TEST))
  }
}

/// A fixed-capacity line of text built without allocating: literals, numbers, copied strings.
struct TextLine: Sequence {
  private var scalars: [Unicode.Scalar]
  private(set) var count = 0

  init(capacity: Int = 160) {
    scalars = Array(repeating: " ", count: capacity)
  }

  mutating func clear() { count = 0 }

  mutating func append(_ scalar: Unicode.Scalar) {
    guard count < scalars.count else { return }
    scalars[count] = scalar
    count += 1
  }

  mutating func append(_ text: String) {
    for scalar in text.unicodeScalars { append(scalar) }
  }

  mutating func append(_ text: StaticString) {
    text.withUTF8Buffer { bytes in
      for b in bytes where b < 0x80 { append(Unicode.Scalar(b)) }
    }
  }

  mutating func append(_ value: Int) {
    if value < 0 { append("-" as Unicode.Scalar) }
    var magnitude = abs(value)
    var digits: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { raw in
      let d = raw.bindMemory(to: Int.self)
      repeat {
        d[n] = magnitude % 10
        magnitude /= 10
        n += 1
      } while magnitude > 0 && n < 10
      for k in stride(from: n - 1, through: 0, by: -1) {
        append(Unicode.Scalar(UInt8(48 + d[k])))
      }
    }
  }

  /// Appends `value` with one decimal.
  mutating func append(tenths value: Double) {
    let scaled = Int((value * 10).rounded())
    append(scaled / 10)
    append("." as Unicode.Scalar)
    append(abs(scaled % 10))
  }

  func makeIterator() -> ArraySlice<Unicode.Scalar>.Iterator {
    scalars[0..<count].makeIterator()
  }
}
