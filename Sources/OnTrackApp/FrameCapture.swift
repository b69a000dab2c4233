import CGLCore
import CSDL2
import Foundation

/// An offscreen framebuffer (colour texture + depth) to draw into and read back: headless
/// rendering and screenshots.
final class FrameCapture {
  private let gl: GLFunctions
  let width: Int32
  let height: Int32
  private var framebuffer: GLuint = 0
  private var color: GLuint = 0
  private var depth: GLuint = 0
  private var pixels: [UInt8]

  init(gl: GLFunctions, width: Int32, height: Int32) throws(AppError) {
    self.gl = gl
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 4)
    gl.genFramebuffers(1, &framebuffer)
    gl.bindFramebuffer(GLenum(GL_FRAMEBUFFER), framebuffer)
    gl.genTextures(1, &color)
    gl.bindTexture(GLenum(GL_TEXTURE_2D), color)
    gl.texImage2D(
      GLenum(GL_TEXTURE_2D), 0, GL_RGBA8, width, height, 0, GLenum(GL_RGBA),
      GLenum(GL_UNSIGNED_BYTE), nil)
    gl.texParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MIN_FILTER), GL_LINEAR)
    gl.framebufferTexture2D(
      GLenum(GL_FRAMEBUFFER), GLenum(GL_COLOR_ATTACHMENT0), GLenum(GL_TEXTURE_2D), color, 0)
    gl.genRenderbuffers(1, &depth)
    gl.bindRenderbuffer(GLenum(GL_RENDERBUFFER), depth)
    gl.renderbufferStorage(GLenum(GL_RENDERBUFFER), GLenum(GL_DEPTH_COMPONENT24), width, height)
    gl.framebufferRenderbuffer(
      GLenum(GL_FRAMEBUFFER), GLenum(GL_DEPTH_ATTACHMENT), GLenum(GL_RENDERBUFFER), depth)
    let status = gl.checkFramebufferStatus(GLenum(GL_FRAMEBUFFER))
    guard status == GLenum(GL_FRAMEBUFFER_COMPLETE) else {
      throw .openGL(
        "the offscreen framebuffer is incomplete (status 0x\(String(status, radix: 16)))")
    }
  }

  func bind() { gl.bindFramebuffer(GLenum(GL_FRAMEBUFFER), framebuffer) }

  func delete() {
    gl.deleteFramebuffers(1, &framebuffer)
    gl.deleteTextures(1, &color)
    gl.deleteRenderbuffers(1, &depth)
  }

  /// The framebuffer's pixels, RGBA, top row first.
  func read() -> Image {
    bind()
    gl.pixelStorei(GLenum(GL_PACK_ALIGNMENT), 1)
    pixels.withUnsafeMutableBytes {
      gl.readPixels(0, 0, width, height, GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), $0.baseAddress)
    }
    // OpenGL's rows start at the bottom.
    let w = Int(width)
    let h = Int(height)
    var flipped = [UInt8](repeating: 0, count: pixels.count)
    for y in 0..<h {
      let source = (h - 1 - y) * w * 4
      flipped[(y * w * 4)..<((y + 1) * w * 4)] = pixels[source..<(source + w * 4)]
    }
    return Image(width: w, height: h, rgba: flipped)
  }
}

/// An RGBA image, top row first.
public struct Image: Sendable {
  public var width: Int
  public var height: Int
  public var rgba: [UInt8]

  public init(width: Int, height: Int, rgba: [UInt8]) {
    self.width = width
    self.height = height
    self.rgba = rgba
  }

  public func pixel(x: Int, y: Int) -> SIMD4<UInt8> {
    let i = (y * width + x) * 4
    return SIMD4(rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3])
  }

  /// Writes a PNG (SDL_image).
  public func writePNG(to url: URL) throws(AppError) {
    var copy = rgba
    let saved: Int32 = copy.withUnsafeMutableBytes { bytes in
      guard
        let surface = SDL_CreateRGBSurfaceWithFormatFrom(
          bytes.baseAddress, Int32(width), Int32(height), 32, Int32(width * 4),
          SDL_PIXELFORMAT_ABGR8888.rawValue)
      else { return -1 }
      defer { SDL_FreeSurface(surface) }
      return IMG_SavePNG(surface, url.path)
    }
    guard saved == 0 else { throw .sdl("cannot write \(url.path): \(GraphicsContext.lastError())") }
  }

  /// Reads a PNG (SDL_image).
  public static func readPNG(_ url: URL) throws(AppError) -> Image {
    guard let loaded = IMG_Load(url.path) else {
      throw .sdl("cannot read \(url.path): \(GraphicsContext.lastError())")
    }
    defer { SDL_FreeSurface(loaded) }
    guard let surface = SDL_ConvertSurfaceFormat(loaded, SDL_PIXELFORMAT_ABGR8888.rawValue, 0)
    else {
      throw .sdl("cannot convert \(url.path): \(GraphicsContext.lastError())")
    }
    defer { SDL_FreeSurface(surface) }
    let w = Int(surface.pointee.w)
    let h = Int(surface.pointee.h)
    var rgba = [UInt8](repeating: 0, count: w * h * 4)
    if let base = surface.pointee.pixels {
      for y in 0..<h {
        let row = base.advanced(by: y * Int(surface.pointee.pitch)).assumingMemoryBound(
          to: UInt8.self)
        for x in 0..<(w * 4) { rgba[y * w * 4 + x] = row[x] }
      }
    }
    return Image(width: w, height: h, rgba: rgba)
  }
}
