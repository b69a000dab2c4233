import CGLCore
import CSDL2
import Foundation

/// Text styles of the HUD, by role.
enum TextStyle: Int, CaseIterable {
  /// Small labels and help text.
  case small
  /// Exercise name, repetition count, scores.
  case medium
  /// The cue a patient reads while moving.
  case large
  /// The big score number.
  case huge

  /// Pixel size at a 720-pixel-high window.
  var baseSize: Float {
    switch self {
    case .small: 18
    case .medium: 26
    case .large: 40
    case .huge: 64
    }
  }

  var bold: Bool { self != .small }
}

/// Every glyph the HUD uses, rendered once with SDL_ttf into one single-channel texture, so
/// text costs no allocation and one draw call per frame.
final class GlyphAtlas {
  struct Glyph {
    var u0: Float, v0: Float, u1: Float, v1: Float
    var width: Float, height: Float, advance: Float
  }

  private let gl: GLFunctions
  private(set) var texture: GLuint = 0
  /// `glyphs[style][codepoint]` for the codepoints in `characters`.
  private var glyphs: [[UInt32: Glyph]] = []

  /// Printable ASCII and the few other characters the HUD writes.
  static let characters: [UInt32] =
    Array(32...126) + [0x2013, 0x00D7, 0x00B0, 0x2026, 0x2019, 0x00B7, 0x2014]

  /// - Parameter scale: Window height ÷ 720.
  init(gl: GLFunctions, fonts: URL, scale: Float) throws(AppError) {
    self.gl = gl
    if TTF_WasInit() == 0 && TTF_Init() != 0 {
      throw .sdl("SDL_ttf: \(GraphicsContext.lastError())")
    }
    let regular = fonts.appendingPathComponent("DejaVuSans.ttf").path
    let bold = fonts.appendingPathComponent("DejaVuSans-Bold.ttf").path
    var rendered:
      [(style: Int, codepoint: UInt32, pixels: [UInt8], width: Int, height: Int, advance: Int)] = []
    for style in TextStyle.allCases {
      let size = Int32(max(8, (style.baseSize * scale).rounded()))
      guard let font = TTF_OpenFont(style.bold ? bold : regular, size) else {
        throw .resource(
          "cannot open the font \(style.bold ? bold : regular): \(GraphicsContext.lastError())")
      }
      defer { TTF_CloseFont(font) }
      for codepoint in Self.characters {
        var minX: Int32 = 0
        var maxX: Int32 = 0
        var minY: Int32 = 0
        var maxY: Int32 = 0
        var advance: Int32 = 0
        guard TTF_GlyphIsProvided32(font, codepoint) != 0,
          TTF_GlyphMetrics32(font, codepoint, &minX, &maxX, &minY, &maxY, &advance) == 0
        else { continue }
        let white = SDL_Color(r: 255, g: 255, b: 255, a: 255)
        guard let surface = TTF_RenderGlyph32_Blended(font, codepoint, white) else { continue }
        defer { SDL_FreeSurface(surface) }
        let w = Int(surface.pointee.w)
        let h = Int(surface.pointee.h)
        let pitch = Int(surface.pointee.pitch)
        var pixels = [UInt8](repeating: 0, count: w * h)
        if let base = surface.pointee.pixels {
          for y in 0..<h {
            let row = base.advanced(by: y * pitch).assumingMemoryBound(to: UInt32.self)
            for x in 0..<w { pixels[y * w + x] = UInt8(truncatingIfNeeded: row[x] >> 24) }
          }
        }
        rendered.append((style.rawValue, codepoint, pixels, w, h, Int(advance)))
      }
    }
    // Pack row by row into a 1024-wide atlas.
    let atlasWidth = 1024
    var x = 0
    var y = 0
    var rowHeight = 0
    var places: [(Int, Int)] = []
    for glyph in rendered {
      if x + glyph.width + 1 > atlasWidth {
        x = 0
        y += rowHeight + 1
        rowHeight = 0
      }
      places.append((x, y))
      x += glyph.width + 1
      rowHeight = max(rowHeight, glyph.height)
    }
    let atlasHeight = max(1, y + rowHeight + 1)
    var atlas = [UInt8](repeating: 0, count: atlasWidth * atlasHeight)
    glyphs = Array(repeating: [:], count: TextStyle.allCases.count)
    for (glyph, (gx, gy)) in zip(rendered, places) {
      for row in 0..<glyph.height {
        for column in 0..<glyph.width {
          atlas[(gy + row) * atlasWidth + gx + column] = glyph.pixels[row * glyph.width + column]
        }
      }
      glyphs[glyph.style][glyph.codepoint] = Glyph(
        u0: Float(gx) / Float(atlasWidth), v0: Float(gy) / Float(atlasHeight),
        u1: Float(gx + glyph.width) / Float(atlasWidth),
        v1: Float(gy + glyph.height) / Float(atlasHeight),
        width: Float(glyph.width), height: Float(glyph.height), advance: Float(glyph.advance))
    }
    gl.genTextures(1, &texture)
    gl.bindTexture(GLenum(GL_TEXTURE_2D), texture)
    gl.pixelStorei(GLenum(GL_UNPACK_ALIGNMENT), 1)
    atlas.withUnsafeBytes {
      gl.texImage2D(
        GLenum(GL_TEXTURE_2D), 0, GL_R8, GLsizei(atlasWidth), GLsizei(atlasHeight), 0,
        GLenum(GL_RED), GLenum(GL_UNSIGNED_BYTE), $0.baseAddress)
    }
    gl.texParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MIN_FILTER), GL_LINEAR)
    gl.texParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MAG_FILTER), GL_LINEAR)
    gl.texParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_S), GL_CLAMP_TO_EDGE)
    gl.texParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_T), GL_CLAMP_TO_EDGE)
  }

  func delete() {
    gl.deleteTextures(1, &texture)
  }

  func glyph(_ codepoint: UInt32, _ style: TextStyle) -> Glyph? {
    glyphs[style.rawValue][codepoint] ?? glyphs[style.rawValue][63]  // "?"
  }
}
