import CGLCore
import Foundation
import OnTrackKinematics
import OnTrackScoring

/// The viewer's camera: an orbit around the avatars (yaw and pitch in radians, distance as a
/// multiple of the framing distance).
public struct OrbitCamera: Sendable {
  public var yaw: Float = 0
  public var pitch: Float = 0.12
  public var zoom: Float = 1

  public init() {}
}

/// Draws a `PlaySession` into the current framebuffer: floor, patient, guide ghost, HUD.
/// Every GPU object is made at init; a frame allocates nothing.
final class SceneRenderer {
  let gl: GLFunctions
  private let mannequins: MannequinRenderer
  private let floor: FloorRenderer
  let hud: HUDRenderer
  let scale: Float
  private var line = TextLine()
  private var clock = TextLine(capacity: 32)
  /// The cue as last laid out (`cueLines`), kept until the cue or the room changes.
  private var cueLayout:
    (text: String, room: Float, lines: [String], style: TextStyle, widest: Float) = (
      "", 0, [], .large, 0
    )
  /// True to show the key help overlay.
  var showHelp = false
  /// Larger HUD text (the T key), for patients who read small text badly.
  var largeText: Bool
  /// The voice's state when it is not speaking normally ("Voice off (S)").
  var voiceStatus: String?
  /// A panel over the scene (a programme day's question, rest or summary); it replaces the
  /// set summary while shown.
  var overlay: Overlay?

  struct Overlay {
    var title: String
    var lines: [String]
    /// The keys that work now.
    var keys: String
  }

  init(gl: GLFunctions, resources: URL, height: Int32, largeText: Bool = false)
    throws(AppError)
  {
    self.gl = gl
    self.largeText = largeText
    let shaders = resources.appendingPathComponent("Shaders")
    scale = max(0.5, Float(height) / 720) * (largeText ? 1.35 : 1)
    mannequins = try MannequinRenderer(gl: gl, shaders: shaders)
    floor = try FloorRenderer(gl: gl, shaders: shaders)
    hud = try HUDRenderer(
      gl: gl, shaders: shaders, fonts: resources.appendingPathComponent("Assets/fonts"),
      scale: scale)
  }

  func delete() {
    mannequins.delete()
    floor.delete()
    hud.delete()
  }

  /// Colour of a body part by its error relative to tolerance, on a scale colour-blind
  /// patients can read (Okabe & Ito's blue, orange and vermillion, which differ in lightness
  /// too, not green → red, which one man in twelve cannot tell apart): blue up to half the
  /// tolerance, orange at the tolerance, vermillion at twice it.
  static func severityColor(_ s: Float) -> SIMD4<Float> {
    let good = SIMD4<Float>(0.00, 0.45, 0.70, 1)
    let watch = SIMD4<Float>(0.90, 0.62, 0.00, 1)
    let off = SIMD4<Float>(0.84, 0.37, 0.00, 1)
    if s <= 0.5 { return good }
    if s <= 1 { return good + (watch - good) * ((s - 0.5) / 0.5) }
    return watch + (off - watch) * min((s - 1), 1)
  }

  /// The score's colour, on the same scale, always shown with its word (`scoreWord`).
  static func scoreColor(_ score: Double) -> SIMD4<Float> {
    score >= 80
      ? [0.35, 0.70, 0.95, 1] : (score >= 60 ? [0.95, 0.70, 0.10, 1] : [0.95, 0.45, 0.15, 1])
  }

  /// `cue` laid out within `room` pixels (`measure` gives a text's width in a style): one
  /// large line if it fits, else one medium line, else two medium lines split at the word
  /// boundary nearest the middle (after a colon or comma if one is near it), small if those
  /// do not fit either (or the cue has no space to split at).
  static func cueLines(
    _ cue: String, within room: Float,
    measure: (String.UnicodeScalarView, TextStyle) -> Float
  ) -> (lines: [String], style: TextStyle) {
    if measure(cue.unicodeScalars, .large) <= room { return ([cue], .large) }
    if measure(cue.unicodeScalars, .medium) <= room { return ([cue], .medium) }
    let characters = Array(cue)
    let middle = characters.count / 2
    var best: Int?
    var bestCost = Int.max
    for (k, c) in characters.enumerated() where c == " " {
      let punctuated = k > 0 && (characters[k - 1] == ":" || characters[k - 1] == ",")
      let cost = abs(k - middle) - (punctuated ? characters.count / 6 : 0)
      if cost < bestCost {
        bestCost = cost
        best = k
      }
    }
    guard let split = best else { return ([cue], .small) }
    let lines = [String(characters[..<split]), String(characters[(split + 1)...])]
    let fits = lines.allSatisfy { measure($0.unicodeScalars, .medium) <= room }
    return (lines, fits ? .medium : .small)
  }

  /// The score in a word, so that colour is never the only cue.
  static func scoreWord(_ score: Double) -> String {
    score >= 80 ? "Good" : (score >= 60 ? "Fair" : "Work on it")
  }

  /// The camera matrices for a `width`×`height` target.
  func camera(_ session: PlaySession, _ orbit: OrbitCamera, width: Int32, height: Int32)
    -> (viewProjection: Matrix4, eye: SIMD3<Float>)
  {
    let aspect = Float(width) / Float(max(height, 1))
    let fovY: Float = 0.62
    // Aim a little below the figures' middle so they sit between the top panels and the cue.
    // Floor exercises are seen from the side and from a little higher, framed lower.
    let side = session.view == .side
    let focus = SIMD3<Float>(0, side ? 0.42 : 0.86, 0)
    // Frame two figures (2.8 m wide; two lying bodies 4.2 m) or one, 2.2 m tall (lying 1.2 m)
    // with room for the HUD, whichever needs more room.
    let wide: Float =
      session.layout == .sideBySide ? (side ? 4.2 : 2.8) : (side ? 2.2 : 1.6)
    let fitHeight = (side ? 0.9 : 1.42) / tan(fovY / 2)
    let fitWidth = (wide / 2) / (tan(fovY / 2) * aspect)
    let distance = max(fitHeight, fitWidth) * orbit.zoom
    let yaw = orbit.yaw + (side ? Float.pi / 2 : 0)
    let pitch = orbit.pitch + (side ? 0.12 : 0)
    let eye =
      focus
      + SIMD3(
        distance * cos(pitch) * sin(yaw), distance * sin(pitch),
        distance * cos(pitch) * cos(yaw))
    var projection = Matrix4.perspective(fovY: fovY, aspect: aspect, near: 0.05, far: 60)
    if session.mirror { projection = Matrix4.scale([-1, 1, 1]) * projection }
    let view = Matrix4.lookAt(eye: eye, target: focus, up: [0, 1, 0])
    return (projection * view, eye)
  }

  /// Draws one frame of `session` into a `width`×`height` framebuffer (already bound).
  func draw(_ session: PlaySession, orbit: OrbitCamera, width: Int32, height: Int32) {
    gl.viewport(0, 0, width, height)
    gl.clearColor(0.93, 0.94, 0.96, 1)
    gl.clear(GLbitfield(GL_COLOR_BUFFER_BIT) | GLbitfield(GL_DEPTH_BUFFER_BIT))
    gl.enable(GLenum(GL_DEPTH_TEST))
    gl.depthFunc(GLenum(GL_LESS))
    let (viewProjection, eye) = camera(session, orbit, width: width, height: height)
    let light = normalize(SIMD3<Float>(0.4, 1, 0.7))

    floor.clearShadows()
    for patient in [false, true] {
      let model = patient ? session.patientModel : session.guideModel
      let pelvis = session.drawnPosition(patient: patient, joint: 0)
      floor.addShadow(x: pelvis.x, z: pelvis.z, radius: 0.42, darkness: patient ? 0.28 : 0.14)
      for landmark in [BodyLandmarkChoice.leftAnkle, .rightAnkle] {
        if let j = landmark.joint(model) {
          let p = session.drawnPosition(patient: patient, joint: j)
          // Contact cue: darker the closer the foot is to the floor.
          let darkness = max(0, 0.35 - p.y) * (patient ? 0.9 : 0.45)
          floor.addShadow(x: p.x, z: p.z, radius: 0.14, darkness: darkness)
        }
      }
    }
    floor.draw(viewProjection: viewProjection)

    // The patient, solid and coloured by error.
    mannequins.begin()
    let severity = session.scorer.currentBoneSeverity
    let measured = session.scorer.measuredBones
    let neutral = SIMD4<Float>(0.56, 0.60, 0.68, 1)
    addAvatar(session, patient: true) { bone in
      measured[bone] ? Self.severityColor(severity[bone]) : neutral
    }
    mannequins.draw(viewProjection: viewProjection, camera: eye, light: light, translucent: false)
    // The guide, a translucent ghost.
    mannequins.begin()
    addAvatar(session, patient: false) { _ in SIMD4<Float>(0.30, 0.52, 0.95, 0.5) }
    mannequins.draw(viewProjection: viewProjection, camera: eye, light: light, translucent: true)

    drawHUD(session, viewProjection: viewProjection, width: Float(width), height: Float(height))
  }

  private func addAvatar(_ session: PlaySession, patient: Bool, color: (Int) -> SIMD4<Float>) {
    let model = patient ? session.patientModel : session.guideModel
    for segment in model.segments {
      mannequins.addLimb(
        from: session.drawnPosition(patient: patient, joint: segment.from),
        to: session.drawnPosition(patient: patient, joint: segment.to), radius: segment.radius,
        color: color(segment.bone))
    }
    for ball in model.balls {
      mannequins.addSphere(
        center: session.drawnPosition(patient: patient, joint: ball.joint), radius: ball.radius,
        color: color(ball.bone))
    }
    let head = session.drawnPosition(patient: patient, joint: model.head)
    var center = head + SIMD3(0, 0.09, 0)
    if let tip = model.headTip {
      center = (head + session.drawnPosition(patient: patient, joint: tip)) * 0.5
    }
    mannequins.addSphere(
      center: center, radius: 0.105,
      color: color(Self.headBone))
  }

  /// Projects a world point to pixels (origin top left); `nil` behind the camera.
  private func project(_ p: SIMD3<Float>, _ m: Matrix4, _ width: Float, _ height: Float) -> SIMD2<
    Float
  >? {
    let c = m.columns.0 * p.x + m.columns.1 * p.y + m.columns.2 * p.z + m.columns.3
    guard c.w > 0.01 else { return nil }
    return SIMD2((c.x / c.w * 0.5 + 0.5) * width, (0.5 - c.y / c.w * 0.5) * height)
  }

  private func drawHUD(_ session: PlaySession, viewProjection: Matrix4, width: Float, height: Float)
  {
    hud.begin()
    let s = scale
    let panel = SIMD4<Float>(0.10, 0.12, 0.16, 0.78)
    let white = SIMD4<Float>(1, 1, 1, 1)
    let soft = SIMD4<Float>(0.82, 0.86, 0.92, 1)
    let margin = 20 * s

    // Exercise, repetition, last score.
    let name = session.exercise.definition.name
    let panelWidth = max(hud.measure(name.unicodeScalars, .medium), 300 * s) + 40 * s
    hud.roundedRect(
      x: margin, y: margin, width: panelWidth, height: 112 * s, radius: 14 * s, color: panel)
    hud.text(
      name.unicodeScalars, x: margin + 20 * s, y: margin + 12 * s, style: .medium, color: white)
    line.clear()
    line.append("Repetition ")
    line.append(session.currentRepetition)
    line.append(" of ")
    line.append(session.exercise.repetitions)
    hud.text(line, x: margin + 20 * s, y: margin + 46 * s, style: .medium, color: soft)
    line.clear()
    if session.mirror { line.append("Mirror view") } else { line.append("Camera view") }
    if session.speed != 1 {
      line.append(" · speed ")
      line.append(tenths: session.speed)
      line.append("×" as Unicode.Scalar)
    }
    hud.text(line, x: margin + 20 * s, y: margin + 80 * s, style: .small, color: soft)

    // Last repetition's score.
    let scoreWidth = 170 * s
    let scoreX = width - margin - scoreWidth
    hud.roundedRect(
      x: scoreX, y: margin, width: scoreWidth, height: 122 * s, radius: 14 * s, color: panel)
    hud.centeredText(
      "Last score".unicodeScalars, centerX: scoreX + scoreWidth / 2, y: margin + 8 * s,
      style: .small, color: soft)
    line.clear()
    if let score = session.lastScore {
      line.append(Int(score.rounded()))
      hud.centeredText(
        line, centerX: scoreX + scoreWidth / 2, y: margin + 30 * s, style: .huge,
        color: Self.scoreColor(score))
      hud.centeredText(
        Self.scoreWord(score).unicodeScalars, centerX: scoreX + scoreWidth / 2,
        y: margin + 93 * s, style: .small, color: soft)
    } else {
      line.append("–" as Unicode.Scalar)
      hud.centeredText(
        line, centerX: scoreX + scoreWidth / 2, y: margin + 30 * s, style: .huge, color: soft)
    }

    // Labels over the avatars.
    for patient in [false, true] {
      let model = patient ? session.patientModel : session.guideModel
      let top = session.drawnPosition(patient: patient, joint: model.head) + SIMD3(0, 0.3, 0)
      if let point = project(top, viewProjection, width, height) {
        let label = patient ? "You" : "Guide"
        let w = hud.measure(label.unicodeScalars, .small) + 20 * s
        hud.roundedRect(
          x: point.x - w / 2, y: point.y - 14 * s, width: w, height: 28 * s, radius: 14 * s,
          color: patient ? SIMD4(0.10, 0.12, 0.16, 0.7) : SIMD4(0.30, 0.45, 0.80, 0.75))
        hud.centeredText(
          label.unicodeScalars, centerX: point.x, y: point.y - 11 * s, style: .small, color: white)
      }
    }

    // Hold timer: seconds held of the target while the posture is within tolerance; paused,
    // with the reason, when it is not.
    var below = margin
    if let hold = session.hold {
      clock.clear()
      // Not reached yet: what to hold; running: the count; broken off: paused, and why.
      let reached = hold.holding || hold.held > 0
      if reached {
        clock.append(hold.holding ? "Hold " : "Paused ")
        clock.append(tenths: hold.held)
        clock.append(" of ")
      } else {
        clock.append("Hold for ")
      }
      clock.append(Int(hold.target.rounded()))
      clock.append(" s")
      let w = hud.measure(clock, .large) + 40 * s
      let colour: SIMD4<Float> =
        !reached
        ? panel
        : (hold.holding ? SIMD4(0.12, 0.42, 0.70, 0.92) : SIMD4(0.62, 0.40, 0.05, 0.92))
      hud.roundedRect(
        x: (width - w) / 2, y: margin, width: w, height: 60 * s, radius: 14 * s, color: colour)
      hud.centeredText(clock, centerX: width / 2, y: margin + 8 * s, style: .large, color: white)
      below = margin + 68 * s
      if let why = hold.why {
        let ww = min(hud.measure(why.unicodeScalars, .small) + 30 * s, width - 2 * margin)
        hud.roundedRect(
          x: (width - ww) / 2, y: below, width: ww, height: 30 * s, radius: 10 * s, color: panel)
        hud.centeredText(
          why.unicodeScalars, centerX: width / 2, y: below + 5 * s, style: .small, color: white)
        below += 38 * s
      }
    }
    // Which side is next, for exercises on alternating sides.
    if let next = session.nextSide, !session.finished {
      let text = next == .left ? "Next: left side" : "Next: right side"
      let w = hud.measure(text.unicodeScalars, .small) + 30 * s
      hud.roundedRect(
        x: (width - w) / 2, y: below, width: w, height: 30 * s, radius: 10 * s, color: panel)
      hud.centeredText(
        text.unicodeScalars, centerX: width / 2, y: below + 5 * s, style: .small, color: white)
    }

    // The cue and the progress bar.
    if !session.finished {
      // One large line if it fits, else one or two medium lines (a long cue, such as what
      // the camera does not show, stays inside the window).
      let room = width - 2 * margin - 60 * s
      if cueLayout.text != session.cue || cueLayout.room != room {
        let (lines, style) = Self.cueLines(session.cue, within: room) { hud.measure($0, $1) }
        let widest = lines.map { hud.measure($0.unicodeScalars, style) }.max() ?? 0
        cueLayout = (session.cue, room, lines, style, widest)
      }
      let (lines, style, widest) = (cueLayout.lines, cueLayout.style, cueLayout.widest)
      let lineHeight: Float = style == .large ? 46 * s : 32 * s
      let boxHeight = lineHeight * Float(lines.count) + 24 * s
      let cueWidth = min(widest + 60 * s, width - 2 * margin)
      let cueY = height - margin - 50 * s - boxHeight
      hud.roundedRect(
        x: (width - cueWidth) / 2, y: cueY, width: cueWidth, height: boxHeight,
        radius: 18 * s, color: panel)
      for (k, line) in lines.enumerated() {
        hud.centeredText(
          line.unicodeScalars, centerX: width / 2, y: cueY + 12 * s + Float(k) * lineHeight,
          style: style, color: white)
      }
    }
    let barY = height - margin - 26 * s
    let barWidth = width - 2 * margin
    hud.roundedRect(
      x: margin, y: barY, width: barWidth, height: 14 * s, radius: 7 * s,
      color: SIMD4(0.10, 0.12, 0.16, 0.35))
    let fill = Float(session.setProgress) * barWidth
    if fill > 2 {
      hud.roundedRect(
        x: margin, y: barY, width: fill, height: 14 * s, radius: 7 * s,
        color: SIMD4(0.25, 0.62, 0.95, 1))
    }
    let reps = session.exercise.repetitions
    if reps > 1 && reps <= 50 {
      for k in 1..<reps {
        hud.rect(
          x: margin + barWidth * Float(k) / Float(reps) - 1, y: barY, width: 2, height: 14 * s,
          color: SIMD4(1, 1, 1, 0.8))
      }
    }

    if session.paused && !session.finished {
      hud.roundedRect(
        x: width / 2 - 110 * s, y: height / 2 - 40 * s, width: 220 * s, height: 80 * s,
        radius: 18 * s, color: panel)
      hud.centeredText(
        "Paused".unicodeScalars, centerX: width / 2, y: height / 2 - 24 * s, style: .large,
        color: white)
    }
    if let overlay {
      drawOverlay(overlay, width: width, height: height)
    } else if session.finished {
      drawSummary(session, width: width, height: height)
    }
    if showHelp { drawHelp(width: width, height: height) }
    hud.text(
      "? help".unicodeScalars, x: width - margin - 70 * s, y: margin + 120 * s, style: .small,
      color: SIMD4(0.25, 0.28, 0.34, 0.9))
    if let status = voiceStatus {
      hud.text(
        status.unicodeScalars, x: margin, y: height - margin - 56 * s, style: .small,
        color: SIMD4(0.25, 0.28, 0.34, 0.9))
    }
    hud.draw(width: width, height: height)
  }

  private func drawSummary(_ session: PlaySession, width: Float, height: Float) {
    let s = scale
    let w = min(620 * s, width - 40 * s)
    let h = 330 * s
    let x = (width - w) / 2
    let y = (height - h) / 2 - 30 * s
    hud.roundedRect(
      x: x, y: y, width: w, height: h, radius: 22 * s, color: SIMD4(0.10, 0.12, 0.16, 0.92))
    let white = SIMD4<Float>(1, 1, 1, 1)
    let soft = SIMD4<Float>(0.82, 0.86, 0.92, 1)
    hud.centeredText(
      "Set complete".unicodeScalars, centerX: width / 2, y: y + 20 * s, style: .large, color: white)
    let summary = session.summary
    line.clear()
    line.append(summary.repetitions)
    line.append(" of ")
    line.append(summary.prescribed)
    line.append(" repetitions")
    hud.centeredText(line, centerX: width / 2, y: y + 80 * s, style: .medium, color: soft)
    if let mean = summary.meanScore, let best = summary.bestScore, let worst = summary.worstScore {
      line.clear()
      line.append("Average ")
      line.append(Int(mean.rounded()))
      line.append("   best ")
      line.append(Int(best.rounded()))
      line.append("   lowest ")
      line.append(Int(worst.rounded()))
      hud.centeredText(
        line, centerX: width / 2, y: y + 120 * s, style: .medium, color: Self.scoreColor(mean))
    }
    var rowY = y + 170 * s
    for cue in summary.commonCues.prefix(2) {
      hud.centeredText(cue.unicodeScalars, centerX: width / 2, y: rowY, style: .small, color: soft)
      rowY += 28 * s
    }
    hud.centeredText(
      "R  restart     Esc  quit".unicodeScalars, centerX: width / 2, y: y + h - 44 * s,
      style: .small,
      color: SIMD4(0.6, 0.75, 1, 1))
  }

  private func drawOverlay(_ overlay: Overlay, width: Float, height: Float) {
    let s = scale
    let lineHeight: Float = largeText ? 40 : 30
    let widest = max(
      hud.measure(overlay.title.unicodeScalars, .large),
      overlay.lines.map { hud.measure($0.unicodeScalars, .medium) }.max() ?? 0)
    let w = min(max(620 * s, widest + 60 * s), width - 40 * s)
    let h = (110 + Float(overlay.lines.count) * lineHeight + 60) * s
    let x = (width - w) / 2
    let y = max(20 * s, (height - h) / 2 - 30 * s)
    hud.roundedRect(
      x: x, y: y, width: w, height: h, radius: 22 * s, color: SIMD4(0.10, 0.12, 0.16, 0.92))
    hud.centeredText(
      overlay.title.unicodeScalars, centerX: width / 2, y: y + 20 * s, style: .large,
      color: SIMD4(1, 1, 1, 1))
    var rowY = y + 90 * s
    for text in overlay.lines {
      hud.centeredText(
        text.unicodeScalars, centerX: width / 2, y: rowY, style: .medium,
        color: SIMD4(0.82, 0.86, 0.92, 1))
      rowY += lineHeight * s
    }
    hud.centeredText(
      overlay.keys.unicodeScalars, centerX: width / 2, y: y + h - 44 * s, style: .small,
      color: SIMD4(0.6, 0.75, 1, 1))
  }

  /// The head's place in `FeatureLayout.bones` (its colour follows that bone's error).
  private static let headBone = FeatureLayout.bones.firstIndex(of: .head) ?? 0

  static let helpLines: [(String, String)] = [
    ("Space", "pause / resume"), ("+ / −", "speed 0.25× … 2×"), ("R", "restart the set"),
    ("M", "mirror view on / off"), ("V", "side by side / overlay"), ("F", "full screen"),
    ("S", "voice on / off"), ("[ ]", "voice quieter / louder"), ("T", "large text"),
    ("Drag, wheel", "orbit and zoom the camera"), ("C", "reset the camera"), ("?", "this help"),
    ("Esc", "quit"),
  ]

  private func drawHelp(width: Float, height: Float) {
    let s = scale
    let w = 520 * s
    let h = (60 + Float(Self.helpLines.count) * 30 + 20) * s
    let x = (width - w) / 2
    let y = (height - h) / 2
    hud.roundedRect(
      x: x, y: y, width: w, height: h, radius: 18 * s, color: SIMD4(0.10, 0.12, 0.16, 0.94))
    hud.centeredText(
      "Keys".unicodeScalars, centerX: width / 2, y: y + 14 * s, style: .medium,
      color: SIMD4(1, 1, 1, 1))
    for (k, (key, meaning)) in Self.helpLines.enumerated() {
      let rowY = y + (60 + Float(k) * 30) * s
      hud.text(
        key.unicodeScalars, x: x + 30 * s, y: rowY, style: .small, color: SIMD4(0.6, 0.75, 1, 1))
      hud.text(
        meaning.unicodeScalars, x: x + 200 * s, y: rowY, style: .small,
        color: SIMD4(0.9, 0.92, 0.96, 1))
    }
  }
}

/// The ankle landmarks, for contact shadows.
enum BodyLandmarkChoice {
  case leftAnkle, rightAnkle

  func joint(_ model: AvatarModel) -> Int? {
    switch self {
    case .leftAnkle: model.body.joint(.leftAnkle)
    case .rightAnkle: model.body.joint(.rightAnkle)
    }
  }
}
