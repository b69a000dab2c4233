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
  private let simulating: PatientSimulator.Variation?
  private let context: GraphicsContext
  private let resources: URL
  private var scene: SceneRenderer
  private let voice = CoachVoice()
  private var session: PlaySession?
  private var sessionStage: DayFlow.Stage?
  private var announced: DayFlow.Stage?
  private var painDigits = ""
  private var setCounter = 0

  /// - Parameter simulating: a simulated patient's variation; `nil` has no patient source yet
  ///   (the camera is not wired into programme days: see README) and is refused.
  public init(flow: DayFlow, simulating: PatientSimulator.Variation?) throws {
    guard let simulating else {
      throw AppError.resource(
        "a programme day in the window needs a patient source: pass --simulate (the camera is not wired into programme days yet), or use --headless"
      )
    }
    self.flow = flow
    self.simulating = simulating
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
        if event.type == SDL_QUIT.rawValue { return }
        if event.type == SDL_KEYDOWN.rawValue, !(try handleKey(event.key.keysym.sym)) { return }
      }
      let now = SDL_GetPerformanceCounter()
      let dt = min(Double(now - last) / frequency, 0.1)
      last = now
      try flow.advance(by: dt)
      try prepareSession()
      if let session {
        if case .exercising = flow.stage {
          session.advance(by: dt)
        } else if case .demonstrate = flow.stage {
          session.advance(by: dt)
        }
        if case .exercising = flow.stage { voice.update(session) }
      }
      announce()
      if flow.sets.count > filed {
        filed = flow.sets.count
        if let set = flow.sets.last { await afterSet(set) }
      }
      scene.overlay = overlay()
      scene.voiceStatus =
        voice.muted ? "Voice off (S)" : (voice.unavailable.map { "No voice: \($0)" })
      let size = context.drawableSize
      context.gl.bindFramebuffer(GLenum(GL_FRAMEBUFFER), 0)
      if let session {
        scene.draw(session, orbit: OrbitCamera(), width: size.width, height: size.height)
      }
      context.swap()
    }
  }

  /// The scene for the stage: the guide's repetition shown twice over while demonstrating,
  /// the patient during a set; kept still behind the rests and summaries.
  private func prepareSession() throws {
    guard let item = flow.currentItem ?? (flow.plan.isEmpty ? nil : 0) else { return }
    let exercise = flow.plan[item].exercise
    guard let reference = exercise.referenceClip else { return }
    switch flow.stage {
    case .demonstrate where sessionStage != flow.stage:
      session = try PlaySession(exercise: exercise, source: RecordingSource(reference))
      sessionStage = flow.stage
    case .exercising where sessionStage != flow.stage:
      setCounter += 1
      let source = ForwardingSource(
        SimulatedPatientSource(
          reference: reference, variation: simulating ?? .init(), seed: UInt64(setCounter))
      ) { [flow] pose, time in try? flow.take(pose: pose, at: time) }
      session = try PlaySession(exercise: exercise, source: source)
      sessionStage = flow.stage
    case _ where session == nil:
      session = try PlaySession(exercise: exercise, source: RecordingSource(reference))
      sessionStage = flow.stage
    default: break
    }
  }

  /// Says each stage once as it begins.
  private func announce() {
    guard announced != flow.stage else { return }
    announced = flow.stage
    switch flow.stage {
    case .painBefore: voice.say("How much pain do you have now, from zero to ten?")
    case .demonstrate(let i):
      voice.say(
        "\(flow.plan[i].exercise.definition.name). Watch the guide once. \(flow.plan[i].exercise.definition.description ?? "")"
      )
    case .exercising(let i, let set):
      voice.say("Set \(set + 1) of \(flow.plan[i].item.sets). Go.")
    case .rest(let i, _): voice.say("Rest for \(Int(flow.plan[i].item.restSeconds)) seconds.")
    case .setSummary: break
    case .painAfter: voice.say("Well done. How much pain do you have now, from zero to ten?")
    case .summary: voice.say("That is today's session done.")
    }
  }

  private func overlay() -> SceneRenderer.Overlay? {
    let painKeys = "0–9 (1 then 0 for 10) and Enter   ·   Enter alone skips   ·   Esc quit"
    switch flow.stage {
    case .painBefore, .painAfter:
      return .init(
        title: flow.stage == .painBefore ? "Pain before you start" : "Pain now",
        lines: [
          "0 = no pain, 10 = the worst pain imaginable",
          painDigits.isEmpty ? "Type a number" : "Your rating: \(painDigits)",
        ], keys: painKeys)
    case .demonstrate(let i):
      return .init(
        title: flow.plan[i].exercise.definition.name,
        lines: [
          "Watch the guide do one repetition",
          "Then \(flow.plan[i].item.sets) × \(flow.plan[i].item.repetitions)",
        ], keys: "Space  start now   ·   S voice   ·   Esc quit")
    case .exercising: return nil
    case .setSummary(let i, let set):
      guard let done = flow.sets.last else { return nil }
      var lines = [
        "\(done.repetitions) of \(done.prescribed) repetitions",
        done.meanScore.map { "Average score \(Int($0.rounded()))" } ?? "No score",
      ]
      if let cue = done.cue { lines.append(cue) }
      return .init(
        title: "Set \(set + 1) of \(flow.plan[i].item.sets) done", lines: lines,
        keys: "Space  go on   ·   Esc quit")
    case .rest(let i, let next):
      return .init(
        title: "Rest",
        lines: [
          "\(Int((flow.remaining ?? 0).rounded(.up))) s",
          "Next: set \(next + 1) of \(flow.plan[i].item.sets)",
        ], keys: "Space  skip the rest   ·   Esc quit")
    case .summary:
      var lines = [
        "Pain \(flow.painBefore.map(String.init) ?? "–") → \(flow.painAfter.map(String.init) ?? "–")"
      ]
      for set in flow.sets.suffix(6) {
        lines.append(
          "\(set.exerciseName) set \(set.set + 1): \(set.repetitions)/\(set.prescribed), \(set.meanScore.map { String(Int($0.rounded())) } ?? "–")"
        )
      }
      return .init(
        title: flow.isComplete ? "Today's session is done" : "Today's session (not all sets)",
        lines: lines, keys: "Esc  close")
    }
  }

  /// Returns false to quit.
  private func handleKey(_ key: SDL_Keycode) throws -> Bool {
    let code = Int(key)
    if flow.asksPain {
      if code >= Int(SDLK_0.rawValue), code <= Int(SDLK_9.rawValue) {
        painDigits = String((painDigits + String(code - Int(SDLK_0.rawValue))).suffix(2))
        if let value = Int(painDigits), value > 10 {
          painDigits = String(code - Int(SDLK_0.rawValue))
        }
        return true
      }
      if key == SDL_Keycode(SDLK_RETURN.rawValue) || key == SDL_Keycode(SDLK_KP_ENTER.rawValue) {
        if let value = Int(painDigits) { try flow.enterPain(value) } else { try flow.skipPain() }
        painDigits = ""
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

/// A patient source that also hands every frame to `forward` (the programme day's recorder).
final class ForwardingSource: PatientSource {
  private let inner: any PatientSource
  private let forward: (Pose, Double) -> Void

  init(_ inner: any PatientSource, forward: @escaping (Pose, Double) -> Void) {
    self.inner = inner
    self.forward = forward
  }

  var skeleton: Skeleton { inner.skeleton }
  var guideRest: Double? { inner.guideRest }

  func advance(to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void)
    -> PatientSourceStatus
  {
    inner.advance(to: time, shown: &shown) { pose, t, landmarks in
      forward(pose, t)
      take(pose, t, landmarks)
    }
  }

  func restart() { inner.restart() }
}
