import CGLCore
import CSDL2
import Foundation

/// An SDL window with an OpenGL 3.3 core context: visible for `play`, hidden on SDL's offscreen
/// video driver (EGL, no X server) for `render` and tests.
public final class GraphicsContext {
  let window: OpaquePointer
  private(set) var context: SDL_GLContext
  private(set) var gl: GLFunctions

  /// Opens the window and the context.
  ///
  /// - Parameters:
  ///   - headless: Use SDL's offscreen driver and a hidden window.
  public init(title: String, width: Int32, height: Int32, headless: Bool) throws(AppError) {
    if headless {
      SDL_SetHint(SDL_HINT_VIDEODRIVER, "offscreen")
    }
    // Reference-counted: several contexts (a test suite, a rebuilt scene) may coexist.
    guard SDL_InitSubSystem(SDL_INIT_VIDEO) == 0 else { throw .sdl(Self.lastError()) }
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3)
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3)
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, Int32(SDL_GL_CONTEXT_PROFILE_CORE.rawValue))
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1)
    SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 24)
    if !headless {
      SDL_GL_SetAttribute(SDL_GL_MULTISAMPLEBUFFERS, 1)
      SDL_GL_SetAttribute(SDL_GL_MULTISAMPLESAMPLES, 4)
    }
    var flags = SDL_WINDOW_OPENGL.rawValue
    flags |=
      headless
      ? SDL_WINDOW_HIDDEN.rawValue
      : SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_ALLOW_HIGHDPI.rawValue
    let centered = Int32(bitPattern: UInt32(SDL_WINDOWPOS_CENTERED_MASK))
    var created = SDL_CreateWindow(title, centered, centered, width, height, flags)
    if created == nil && !headless {
      // Without multisampling if the driver refuses it.
      SDL_GL_SetAttribute(SDL_GL_MULTISAMPLEBUFFERS, 0)
      SDL_GL_SetAttribute(SDL_GL_MULTISAMPLESAMPLES, 0)
      created = SDL_CreateWindow(title, centered, centered, width, height, flags)
    }
    guard let window = created else {
      let message = Self.lastError()
      SDL_QuitSubSystem(SDL_INIT_VIDEO)
      throw .sdl("cannot open a window: \(message)")
    }
    self.window = window
    guard let context = SDL_GL_CreateContext(window) else {
      let message = Self.lastError()
      SDL_DestroyWindow(window)
      SDL_QuitSubSystem(SDL_INIT_VIDEO)
      throw .sdl("cannot create an OpenGL 3.3 core context: \(message)")
    }
    self.context = context
    do {
      gl = try GLFunctions.load()
    } catch {
      SDL_GL_DeleteContext(context)
      SDL_DestroyWindow(window)
      SDL_QuitSubSystem(SDL_INIT_VIDEO)
      throw error
    }
    SDL_GL_SetSwapInterval(headless ? 0 : 1)
  }

  deinit {
    SDL_GL_DeleteContext(context)
    SDL_DestroyWindow(window)
    SDL_QuitSubSystem(SDL_INIT_VIDEO)
  }

  /// Drops the context and makes a new one (after a lost context); every GPU object must be
  /// created again.
  func recreateContext() throws(AppError) {
    SDL_GL_MakeCurrent(window, nil)
    SDL_GL_DeleteContext(context)
    guard let fresh = SDL_GL_CreateContext(window) else {
      throw .sdl("cannot recreate the OpenGL context: \(Self.lastError())")
    }
    context = fresh
    gl = try GLFunctions.load()
  }

  /// The drawable size in pixels.
  var drawableSize: (width: Int32, height: Int32) {
    var w: Int32 = 0
    var h: Int32 = 0
    SDL_GL_GetDrawableSize(window, &w, &h)
    return (w, h)
  }

  func swap() {
    SDL_GL_SwapWindow(window)
  }

  /// Makes the context current on the calling thread. EGL lets a context be current on one
  /// thread at a time; code that may run on different threads (tests on the main actor, whose
  /// jobs can land on any thread) brackets its GL work with `makeCurrent()` and `release()`.
  func makeCurrent() {
    SDL_GL_MakeCurrent(window, context)
  }

  /// Leaves the context current on no thread.
  func release() {
    SDL_GL_MakeCurrent(window, nil)
  }

  /// The renderer string of the driver ("llvmpipe (LLVM 15.0.6, 256 bits)").
  var rendererName: String {
    guard let text = gl.getString(GLenum(GL_RENDERER)) else { return "unknown" }
    return String(cString: text)
  }

  static func lastError() -> String {
    guard let message = SDL_GetError() else { return "unknown error" }
    return String(cString: message)
  }
}
