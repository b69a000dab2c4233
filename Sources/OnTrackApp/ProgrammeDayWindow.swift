import CGLCore
import CSDL2
import Foundation
import OnTrackKinematics
import OnTrackProgramme
import OnTrackScoring
import OnTrackSimulation

/// Today's session of a programme in the window: the `DayFlow`'s stages over the avatar scene.
/// Pain is asked with the number keys (1 then 0 for ten; Enter skips), the guide shows one
/// repetition of each exercise, the patient does the sets (scored and coloured as in `Player`)
/// with a rest between them and a summary after each, then pain again and the day's summary.
/// The voice announces each stage (S mutes, [ ] volume) and coaches during sets.
public final class ProgrammeDayWindow {
  private let flow: DayFlow
  private let day: ProgrammeDayScene
  private let context: GraphicsContext
  private let resources: URL
  private var scene: SceneRenderer
  private let voice = CoachVoice()
  private var announced: DayFlow.Stage?

  /// - Parameter patient: who does the sets: a simulated patient, or a live source (the
  ///   camera) kept running all day.
  public init(flow: DayFlow, patient: ProgrammeDayScene.Patient) throws {
    self.flow = flow
    day = ProgrammeDayScene(flow: flow, patient: patient)
    context = try GraphicsContext(
      title: "OnTrack — today's session", width: 1280, height: 720, headless: false)
    resources = try Resources.root()
    scene = try SceneRenderer(
      gl: context.gl, resources: resources, height: context.drawableSize.height)
  }

  deinit {
    scene.delete()
  }

  /// Runs until the day's summary is closed (Esc) or the window closes; `afterSet` is called
  /// once each set is filed (the upload attempt).
  public func run(afterSet: @escaping (DayFlow.SetSummary) async -> Void) async throws {
    var last = SDL_GetPerformanceCounter()
    let frequency = Double(SDL_GetPerformanceFrequency())
    var event = SDL_Event()
    var filed = flow.sets.count
    while true {
      while SDL_PollEvent(&event) != 0 {
        var quit = event.type == SDL_QUIT.rawValue
        if event.type == SDL_KEYDOWN.rawValue, !(try handleKey(event.key.keysym.sym)) {
          quit = true
        }
        if quit {
          // What was done is kept: the set under way and the day as it stands.
          try flow.stopEarly()
          if let set = flow.sets.last, flow.sets.count > filed { await afterSet(set) }
          return
        }
      }
      let now = SDL_GetPerformanceCounter()
      let dt = min(Double(now - last) / frequency, 0.1)
      last = now
      try day.advance(by: dt)
      if let session = day.session, case .exercising = flow.stage { voice.update(session) }
      if announced != flow.stage {
        announced = flow.stage
        if let text = day.announcement(flow.stage) { voice.say(text) }
      }
      if flow.sets.count > filed {
        filed = flow.sets.count
        if let set = flow.sets.last { await afterSet(set) }
      }
      scene.overlay = day.overlay
      scene.voiceStatus =
        voice.muted ? "Voice off (S)" : (voice.unavailable.map { "No voice: \($0)" })
      let size = context.drawableSize
      context.gl.bindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
      if let session = day.session {
        scene.draw(session, orbit: OrbitCamera(), width: size.width, height: size.height)
      }
      context.swap()
    }
  }

  /// Returns false to quit.
  private func handleKey(_ key: SDL_Keycode) throws -> Bool {
    let code = Int(key)
    if flow.asksPain {
      if code >= Int(SDLK_0.rawValue), code <= Int(SDLK_9.rawValue) {
        day.type(digit: code - Int(SDLK_0.rawValue))
        return true
      }
      if key == SDL_Keycode(SDLK_RETURN.rawValue) || key == SDL_Keycode(SDLK_KP_ENTER.rawValue) {
        try day.confirmPain()
        return true
      }
    }
    switch key {
    case SDL_Keycode(SDLK_ESCAPE.rawValue): return false
    case SDL_Keycode(SDLK_SPACE.rawValue): try flow.skip()
    case SDL_Keycode(SDLK_s.rawValue): voice.muted.toggle()
    case SDL_Keycode(SDLK_LEFTBRACKET.rawValue): voice.volume = max(0, voice.volume - 0.1)
    case SDL_Keycode(SDLK_RIGHTBRACKET.rawValue): voice.volume = min(1, voice.volume + 0.1)
    default: break
    }
    return true
  }
}
