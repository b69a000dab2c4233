import CGLCore
import Foundation
import OnTrackKinematics

/// Draws mannequins with two instanced draw calls per batch (limb cylinders, joint spheres).
/// Instance data go into buffers sized at creation, so drawing allocates nothing.
final class MannequinRenderer {
  private let gl: GLFunctions
  private let program: ShaderProgram
  private let viewProjectionLocation: GLint
  private let lightLocation: GLint
  private let cameraLocation: GLint
  private var sphereVAO: GLuint = 0
  private var cylinderVAO: GLuint = 0
  private var buffers: [GLuint] = []
  private var sphereInstanceBuffer: GLuint = 0
  private var cylinderInstanceBuffer: GLuint = 0
  private let sphereIndexCount: GLsizei
  private let cylinderIndexCount: GLsizei
  /// Floats per instance: a 4×4 model matrix and an RGBA colour.
  static let instanceFloats = 20
  let capacity: Int
  private var sphereInstances: [Float]
  private var cylinderInstances: [Float]
  private(set) var sphereCount = 0
  private(set) var cylinderCount = 0

  init(gl: GLFunctions, shaders: URL, capacity: Int = 1024) throws(AppError) {
    self.gl = gl
    self.capacity = capacity
    program = try ShaderProgram(gl: gl, name: "mannequin", folder: shaders)
    viewProjectionLocation = program.location("viewProjection")
    lightLocation = program.location("lightDirection")
    cameraLocation = program.location("cameraPosition")
    sphereInstances = [Float](repeating: 0, count: capacity * Self.instanceFloats)
    cylinderInstances = [Float](repeating: 0, count: capacity * Self.instanceFloats)
    let sphere = Meshes.sphere()
    let cylinder = Meshes.cylinder()
    sphereIndexCount = GLsizei(sphere.indices.count)
    cylinderIndexCount = GLsizei(cylinder.indices.count)
    (sphereVAO, sphereInstanceBuffer) = makeVAO(sphere.vertices, sphere.indices)
    (cylinderVAO, cylinderInstanceBuffer) = makeVAO(cylinder.vertices, cylinder.indices)
  }

  private func makeVAO(_ vertices: [Float], _ indices: [UInt16]) -> (GLuint, GLuint) {
    var vao: GLuint = 0
    gl.genVertexArrays(1, &vao)
    gl.bindVertexArray(vao)
    var ids = [GLuint](repeating: 0, count: 3)
    gl.genBuffers(3, &ids)
    buffers += ids
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), ids[0])
    vertices.withUnsafeBytes {
      gl.bufferData(GLenum(GL_ARRAY_BUFFER), $0.count, $0.baseAddress, GLenum(GL_STATIC_DRAW))
    }
    let stride = GLsizei(6 * MemoryLayout<Float>.size)
    gl.vertexAttribPointer(0, 3, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, nil)
    gl.enableVertexAttribArray(0)
    gl.vertexAttribPointer(
      1, 3, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, UnsafeRawPointer(bitPattern: 12))
    gl.enableVertexAttribArray(1)
    gl.bindBuffer(GLenum(GL_ELEMENT_ARRAY_BUFFER), ids[1])
    indices.withUnsafeBytes {
      gl.bufferData(
        GLenum(GL_ELEMENT_ARRAY_BUFFER), $0.count, $0.baseAddress, GLenum(GL_STATIC_DRAW))
    }
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), ids[2])
    gl.bufferData(
      GLenum(GL_ARRAY_BUFFER), capacity * Self.instanceFloats * MemoryLayout<Float>.size, nil,
      GLenum(GL_DYNAMIC_DRAW))
    let instanceStride = GLsizei(Self.instanceFloats * MemoryLayout<Float>.size)
    for k in 0..<5 {
      let location = GLuint(2 + k)
      gl.vertexAttribPointer(
        location, 4, GLenum(GL_FLOAT), GLboolean(GL_FALSE), instanceStride,
        UnsafeRawPointer(bitPattern: 16 * k))
      gl.enableVertexAttribArray(location)
      gl.vertexAttribDivisor(location, 1)
    }
    gl.bindVertexArray(0)
    return (vao, ids[2])
  }

  func delete() {
    var vaos = [sphereVAO, cylinderVAO]
    gl.deleteVertexArrays(2, &vaos)
    gl.deleteBuffers(GLsizei(buffers.count), &buffers)
    program.delete()
  }

  /// Starts a new batch.
  func begin() {
    sphereCount = 0
    cylinderCount = 0
  }

  /// Adds a sphere of `radius` metres at `center`.
  func addSphere(center: SIMD3<Float>, radius: Float, color: SIMD4<Float>) {
    guard sphereCount < capacity else { return }
    let base = sphereCount * Self.instanceFloats
    sphereInstances.withUnsafeMutableBufferPointer { out in
      out[base] = radius
      out[base + 1] = 0
      out[base + 2] = 0
      out[base + 3] = 0
      out[base + 4] = 0
      out[base + 5] = radius
      out[base + 6] = 0
      out[base + 7] = 0
      out[base + 8] = 0
      out[base + 9] = 0
      out[base + 10] = radius
      out[base + 11] = 0
      out[base + 12] = center.x
      out[base + 13] = center.y
      out[base + 14] = center.z
      out[base + 15] = 1
      out[base + 16] = color.x
      out[base + 17] = color.y
      out[base + 18] = color.z
      out[base + 19] = color.w
    }
    sphereCount += 1
  }

  /// Adds a limb cylinder of `radius` metres from `a` to `b`.
  func addLimb(from a: SIMD3<Float>, to b: SIMD3<Float>, radius: Float, color: SIMD4<Float>) {
    guard cylinderCount < capacity else { return }
    let d = b - a
    let span = length(d)
    guard span > 1e-5 else { return }
    let y = d / span
    let helper: SIMD3<Float> = abs(y.y) < 0.9 ? [0, 1, 0] : [1, 0, 0]
    let x = normalize(cross(helper, y))
    let z = cross(x, y)
    let base = cylinderCount * Self.instanceFloats
    cylinderInstances.withUnsafeMutableBufferPointer { out in
      out[base] = x.x * radius
      out[base + 1] = x.y * radius
      out[base + 2] = x.z * radius
      out[base + 3] = 0
      out[base + 4] = d.x
      out[base + 5] = d.y
      out[base + 6] = d.z
      out[base + 7] = 0
      out[base + 8] = z.x * radius
      out[base + 9] = z.y * radius
      out[base + 10] = z.z * radius
      out[base + 11] = 0
      out[base + 12] = a.x
      out[base + 13] = a.y
      out[base + 14] = a.z
      out[base + 15] = 1
      out[base + 16] = color.x
      out[base + 17] = color.y
      out[base + 18] = color.z
      out[base + 19] = color.w
    }
    cylinderCount += 1
  }

  /// Draws the batch. `translucent` batches blend and do not write depth (the ghost).
  func draw(
    viewProjection: Matrix4, camera: SIMD3<Float>, light: SIMD3<Float>, translucent: Bool
  ) {
    program.use()
    viewProjection.withFloats {
      gl.uniformMatrix4fv(viewProjectionLocation, 1, GLboolean(GL_FALSE), $0)
    }
    gl.uniform3f(lightLocation, light.x, light.y, light.z)
    gl.uniform3f(cameraLocation, camera.x, camera.y, camera.z)
    if translucent {
      gl.enable(GLenum(GL_BLEND))
      gl.blendFunc(GLenum(GL_SRC_ALPHA), GLenum(GL_ONE_MINUS_SRC_ALPHA))
      gl.depthMask(GLboolean(GL_FALSE))
    }
    upload(sphereInstances, count: sphereCount, buffer: sphereInstanceBuffer)
    gl.bindVertexArray(sphereVAO)
    gl.drawElementsInstanced(
      GLenum(GL_TRIANGLES), sphereIndexCount, GLenum(GL_UNSIGNED_SHORT), nil, GLsizei(sphereCount))
    upload(cylinderInstances, count: cylinderCount, buffer: cylinderInstanceBuffer)
    gl.bindVertexArray(cylinderVAO)
    gl.drawElementsInstanced(
      GLenum(GL_TRIANGLES), cylinderIndexCount, GLenum(GL_UNSIGNED_SHORT), nil,
      GLsizei(cylinderCount))
    gl.bindVertexArray(0)
    if translucent {
      gl.depthMask(GLboolean(GL_TRUE))
      gl.disable(GLenum(GL_BLEND))
    }
  }

  private func upload(_ data: [Float], count: Int, buffer: GLuint) {
    guard count > 0 else { return }
    gl.bindBuffer(GLenum(GL_ARRAY_BUFFER), buffer)
    data.withUnsafeBytes {
      gl.bufferSubData(
        GLenum(GL_ARRAY_BUFFER), 0, count * Self.instanceFloats * MemoryLayout<Float>.size,
        $0.baseAddress)
    }
  }
}
