import CGLCore
import CSDL2
import Foundation

/// The interactive window: runs a `PlaySession` on the display clock, draws it, and handles
/// keys, mouse, resizing, minimising and a lost OpenGL context.
public final class Player {
  private let context: GraphicsContext
  private let resources: URL
  private var scene: SceneRenderer
  private let session: PlaySession
  private var orbit = OrbitCamera()
  private var fullscreen = false
  private var dragging = false
  private var builtForHeight: Int32
  private let voice = CoachVoice()

  public init(session: PlaySession, width: Int32 = 1280, height: Int32 = 720) throws(AppError) {
    self.session = session
    context = try GraphicsContext(
      title: "OnTrack — \(session.exercise.definition.name)", width: width, height: height,
      headless: false)
    resources = try Resources.root()
    let size = context.drawableSize
    builtForHeight = size.height
    scene = try SceneRenderer(gl: context.gl, resources: resources, height: size.height)
  }

  deinit {
    scene.delete()
  }

  /// Runs until the window closes or Esc is pressed.
  public func run() throws(AppError) {
    var last = SDL_GetPerformanceCounter()
    let frequency = Double(SDL_GetPerformanceFrequency())
    var running = true
    var minimized = false
    var event = SDL_Event()
    while running {
      while SDL_PollEvent(&event) != 0 {
        switch event.type {
        case SDL_QUIT.rawValue:
          running = false
        case SDL_WINDOWEVENT.rawValue:
          switch UInt32(event.window.event) {
          case SDL_WINDOWEVENT_MINIMIZED.rawValue, SDL_WINDOWEVENT_HIDDEN.rawValue:
            minimized = true
          case SDL_WINDOWEVENT_RESTORED.rawValue, SDL_WINDOWEVENT_SHOWN.rawValue,
            SDL_WINDOWEVENT_EXPOSED.rawValue:
            minimized = false
          case SDL_WINDOWEVENT_SIZE_CHANGED.rawValue:
            try rebuildIfScaleChanged()
          default:
            break
          }
        case SDL_KEYDOWN.rawValue:
          running = handleKey(event.key.keysym.sym)
        case SDL_MOUSEBUTTONDOWN.rawValue:
          dragging = true
        case SDL_MOUSEBUTTONUP.rawValue:
          dragging = false
        case SDL_MOUSEMOTION.rawValue where dragging:
          orbit.yaw -= Float(event.motion.xrel) * 0.008 * (session.mirror ? -1 : 1)
          orbit.pitch = min(max(orbit.pitch + Float(event.motion.yrel) * 0.006, -0.2), 1.3)
        case SDL_MOUSEWHEEL.rawValue:
          orbit.zoom = min(max(orbit.zoom * (event.wheel.y > 0 ? 0.9 : 1.1), 0.4), 3)
        default:
          break
        }
      }
      let now = SDL_GetPerformanceCounter()
      let dt = min(Double(now - last) / frequency, 0.1)
      last = now
      if minimized {
        // Nobody watches a minimised window: hold the session and sleep.
        SDL_Delay(50)
        continue
      }
      session.advance(by: dt)
      voice.update(session)
      scene.voiceStatus =
        voice.muted ? "Voice off (S)" : (voice.unavailable.map { "No voice: \($0)" })
      let size = context.drawableSize
      context.gl.bindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
      scene.draw(session, orbit: orbit, width: size.width, height: size.height)
      if context.gl.getError() == GLenum(GL_CONTEXT_LOST) {
        try recoverLostContext()
        continue
      }
      context.swap()
    }
  }

  /// Returns false to quit.
  private func handleKey(_ key: SDL_Keycode) -> Bool {
    switch key {
    case SDL_Keycode(SDLK_ESCAPE.rawValue), SDL_Keycode(SDLK_q.rawValue):
      if scene.showHelp {
        scene.showHelp = false
        return true
      }
      return false
    case SDL_Keycode(SDLK_SPACE.rawValue), SDL_Keycode(SDLK_p.rawValue):
      session.paused.toggle()
    case SDL_Keycode(SDLK_PLUS.rawValue), SDL_Keycode(SDLK_EQUALS.rawValue),
      SDL_Keycode(SDLK_KP_PLUS.rawValue):
      session.speed = min(session.speed * 2, 2)
    case SDL_Keycode(SDLK_MINUS.rawValue), SDL_Keycode(SDLK_KP_MINUS.rawValue):
      session.speed = max(session.speed / 2, 0.25)
    case SDL_Keycode(SDLK_r.rawValue):
      try? session.restart()
    case SDL_Keycode(SDLK_m.rawValue):
      session.mirror.toggle()
    case SDL_Keycode(SDLK_v.rawValue):
      session.layout = session.layout == .sideBySide ? .overlay : .sideBySide
    case SDL_Keycode(SDLK_c.rawValue):
      orbit = OrbitCamera()
    case SDL_Keycode(SDLK_f.rawValue):
      fullscreen.toggle()
      SDL_SetWindowFullscreen(
        context.window, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue : 0)
    case SDL_Keycode(SDLK_SLASH.rawValue), SDL_Keycode(SDLK_QUESTION.rawValue),
      SDL_Keycode(SDLK_h.rawValue):
      scene.showHelp.toggle()
    case SDL_Keycode(SDLK_s.rawValue):
      voice.muted.toggle()
    case SDL_Keycode(SDLK_LEFTBRACKET.rawValue):
      voice.volume = max(0, voice.volume - 0.1)
    case SDL_Keycode(SDLK_RIGHTBRACKET.rawValue):
      voice.volume = min(1, voice.volume + 0.1)
    case SDL_Keycode(SDLK_t.rawValue):
      scene.largeText.toggle()
      try? rebuildForTextSize()
    default:
      break
    }
    return true
  }

  /// Re-rasterises the HUD's text for the large-text setting.
  private func rebuildForTextSize() throws(AppError) {
    let large = scene.largeText
    let help = scene.showHelp
    scene.delete()
    scene = try SceneRenderer(
      gl: context.gl, resources: resources, height: context.drawableSize.height, largeText: large)
    scene.showHelp = help
  }

  /// Text is rasterised for the window height; a big change of size re-rasterises it.
  private func rebuildIfScaleChanged() throws(AppError) {
    let height = context.drawableSize.height
    guard abs(Float(height) / Float(max(builtForHeight, 1)) - 1) > 0.15 else { return }
    scene.delete()
    scene = try SceneRenderer(gl: context.gl, resources: resources, height: height)
    builtForHeight = height
  }

  /// A lost context takes every GPU object with it: make a new context and rebuild.
  private func recoverLostContext() throws(AppError) {
    try context.recreateContext()
    let height = context.drawableSize.height
    scene = try SceneRenderer(gl: context.gl, resources: resources, height: height)
    builtForHeight = height
  }
}
