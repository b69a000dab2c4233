import CGLCore
import Foundation

/// Renders sessions without a window (SDL's offscreen driver, EGL, Mesa) into images: for
/// `ontrack render`, the demo on machines without a display, and tests that look at the screen.
public final class HeadlessRenderer {
  let context: GraphicsContext
  private(set) var capture: FrameCapture
  private(set) var scene: SceneRenderer
  private let resources: URL
  public var orbit = OrbitCamera()
  /// The display clock's step, seconds: sessions advance at this rate whatever the frame rate.
  public static let step = 1.0 / 60

  /// - Parameter resources: The folder holding `Shaders/` and `Assets/` (found automatically
  ///   if `nil`).
  public init(width: Int32, height: Int32, resources: URL? = nil) throws(AppError) {
    context = try GraphicsContext(title: "OnTrack", width: 64, height: 64, headless: true)
    let root: URL
    if let resources { root = resources } else { root = try Resources.root() }
    self.resources = root
    capture = try FrameCapture(gl: context.gl, width: width, height: height)
    scene = try SceneRenderer(gl: context.gl, resources: root, height: height)
    rendererName = context.rendererName
    context.release()
  }

  /// Throws away the OpenGL context and every GPU object and builds them again, as after a
  /// lost context.
  public func rebuild() throws(AppError) {
    let (width, height) = (capture.width, capture.height)
    context.makeCurrent()
    defer { context.release() }
    try context.recreateContext()
    capture = try FrameCapture(gl: context.gl, width: width, height: height)
    scene = try SceneRenderer(gl: context.gl, resources: resources, height: height)
  }

  deinit {
    context.makeCurrent()
    scene.delete()
    capture.delete()
    context.release()
  }

  /// The renderer the driver reports.
  public private(set) var rendererName: String

  /// Advances `session` to `time` seconds on the display clock (fixed steps), or until the set
  /// is finished (the clock stops there).
  public static func run(_ session: PlaySession, to time: Double) {
    while session.time + step / 2 < time && !session.finished {
      session.advance(by: min(step, time - session.time))
    }
    session.advance(by: 0)
  }

  /// Draws the session as it is now and returns the image.
  public func render(_ session: PlaySession, showHelp: Bool = false) -> Image {
    context.makeCurrent()
    defer { context.release() }
    capture.bind()
    scene.showHelp = showHelp
    scene.draw(session, orbit: orbit, width: capture.width, height: capture.height)
    context.gl.finish()
    return capture.read()
  }

  /// Draws a programme day's scene with its panel and returns the image (nil before the day
  /// has a scene).
  public func render(_ day: ProgrammeDayScene) -> Image? {
    guard let session = day.session else { return nil }
    context.makeCurrent()
    defer { context.release() }
    capture.bind()
    scene.overlay = day.overlay
    defer { scene.overlay = nil }
    scene.draw(session, orbit: orbit, width: capture.width, height: capture.height)
    context.gl.finish()
    return capture.read()
  }

  /// Draws without reading back (for timing the renderer alone).
  public func drawOnly(_ session: PlaySession) {
    context.makeCurrent()
    defer { context.release() }
    capture.bind()
    scene.draw(session, orbit: orbit, width: capture.width, height: capture.height)
    context.gl.finish()
  }

  /// Where `joint` of the patient (or guide) lands on the image, in pixels.
  public func projectedJoint(_ session: PlaySession, patient: Bool, joint: Int) -> SIMD2<Float>? {
    let camera = scene.camera(session, orbit, width: capture.width, height: capture.height)
    let p = session.drawnPosition(patient: patient, joint: joint)
    let m = camera.viewProjection
    let c = m.columns.0 * p.x + m.columns.1 * p.y + m.columns.2 * p.z + m.columns.3
    guard c.w > 0 else { return nil }
    return SIMD2(
      (c.x / c.w * 0.5 + 0.5) * Float(capture.width),
      (0.5 - c.y / c.w * 0.5) * Float(capture.height))
  }
}
