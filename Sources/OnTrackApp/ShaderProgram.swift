import CGLCore
import Foundation

/// A linked GLSL program built from `Shaders/<name>.vert` and `Shaders/<name>.frag`.
struct ShaderProgram {
  let id: GLuint
  private let gl: GLFunctions

  /// Compiles and links; a failure names the file and carries the driver's log.
  init(gl: GLFunctions, name: String, folder: URL) throws(AppError) {
    self.gl = gl
    let vertex = try Self.compile(
      gl, folder.appendingPathComponent("\(name).vert"), GLenum(GL_VERTEX_SHADER))
    let fragment = try Self.compile(
      gl, folder.appendingPathComponent("\(name).frag"), GLenum(GL_FRAGMENT_SHADER))
    let program = gl.createProgram()
    gl.attachShader(program, vertex)
    gl.attachShader(program, fragment)
    gl.linkProgram(program)
    gl.deleteShader(vertex)
    gl.deleteShader(fragment)
    var status: GLint = 0
    gl.getProgramiv(program, GLenum(GL_LINK_STATUS), &status)
    guard status == GL_TRUE else {
      let log = Self.log(length: { gl.getProgramiv(program, GLenum(GL_INFO_LOG_LENGTH), $0) }) {
        gl.getProgramInfoLog(program, $0, nil, $1)
      }
      gl.deleteProgram(program)
      throw .shader(file: folder.appendingPathComponent("\(name).vert/.frag").path, log: log)
    }
    id = program
  }

  static func compile(_ gl: GLFunctions, _ url: URL, _ kind: GLenum) throws(AppError) -> GLuint {
    let source: String
    do {
      source = try String(contentsOf: url, encoding: .utf8)
    } catch {
      throw .resource("cannot read the shader \(url.path): \(error.localizedDescription)")
    }
    let shader = gl.createShader(kind)
    source.withCString { text in
      var pointer: UnsafePointer<GLchar>? = text
      gl.shaderSource(shader, 1, &pointer, nil)
    }
    gl.compileShader(shader)
    var status: GLint = 0
    gl.getShaderiv(shader, GLenum(GL_COMPILE_STATUS), &status)
    guard status == GL_TRUE else {
      let log = Self.log(length: { gl.getShaderiv(shader, GLenum(GL_INFO_LOG_LENGTH), $0) }) {
        gl.getShaderInfoLog(shader, $0, nil, $1)
      }
      gl.deleteShader(shader)
      throw .shader(file: url.path, log: log)
    }
    return shader
  }

  static func log(
    length: (UnsafeMutablePointer<GLint>) -> Void,
    fetch: (GLsizei, UnsafeMutablePointer<GLchar>) -> Void
  ) -> String {
    var size: GLint = 0
    length(&size)
    guard size > 1 else { return "(no log)" }
    var buffer = [GLchar](repeating: 0, count: Int(size))
    buffer.withUnsafeMutableBufferPointer { pointer in
      if let base = pointer.baseAddress { fetch(GLsizei(size), base) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  func use() { gl.useProgram(id) }

  func location(_ name: String) -> GLint { gl.getUniformLocation(id, name) }

  func delete() { gl.deleteProgram(id) }
}
