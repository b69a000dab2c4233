import ArgumentParser
import Foundation
import OnTrackApp
import OnTrackScoring
import OnTrackServerCommands
import OnTrackSimulation

/// The options `play` and `render` share: what to show.
struct SessionOptions: ParsableArguments {
  @Option(help: "An exercise id from the library, or a path to a definition (.json).")
  var exercise: String = "uiprmd-m07-shoulder-abduction"

  @Option(
    help:
      "A take to replay as the patient (BVH, joint-angle CSV, UI-PRMD angles file, or keypoints: CSV, JSON lines, .trc, UI-PRMD Vicon markers)."
  )
  var take: String?

  @Option(help: "The layout of a keypoint take, if its point names do not tell.")
  var layout: String?

  @Flag(help: "Stream the reference through a simulated patient (no hardware needed).")
  var simulate = false

  @Option(help: "The simulated patient: demo, slow, shallow, noisy, compensate, drop, perfect.")
  var variation: String = "demo"

  @Option(help: "The exercise library folder.")
  var library: String = BundledExercises.path

  @Option(help: "Watch a live session on a server: http://HOST:PORT/v1/sessions/ID.")
  var connect: String?

  @Option(help: "The token for --connect (the patient's, or their therapist's).")
  var token: String?

  func validate() throws {
    if take != nil && simulate { throw ValidationError("choose one of --take and --simulate") }
    if connect != nil && (take != nil || simulate) {
      throw ValidationError("--connect shows a live session; drop --take and --simulate")
    }
    if connect != nil && token == nil { throw ValidationError("--connect needs --token") }
    if PatientSimulator.Variation.named(variation) == nil {
      throw ValidationError("unknown variation '\(variation)'")
    }
  }

  func session() async throws -> PlaySession {
    if let connect, let token {
      return try await RemoteSession.connect(url: connect, token: token)
    }
    let exercise = try Exercise.find(self.exercise, library: URL(fileURLWithPath: library))
    if let take {
      let loaded = try TakeLoader.loadSaying(
        take, csvSkeleton: exercise.referenceClip?.skeleton, layout: layout,
        startPosture: exercise.startPosture)
      if let solved = loaded.keypoints {
        return try PlaySession(exercise: exercise, source: KeypointRecordingSource(solved))
      }
      return try PlaySession(exercise: exercise, source: .take(loaded.clip))
    }
    let variation = PatientSimulator.Variation.named(variation) ?? PatientSimulator.Variation()
    return try PlaySession(exercise: exercise, simulating: variation, seed: 7)
  }
}

struct PlayCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "play",
    abstract: "Open the avatar window: follow the guide, see your errors, repetitions and score.",
    discussion: """
      Keys: Space pause, +/− speed (0.25×–2×), R restart, M mirror, V side by side/overlay, \
      F full screen, C reset camera, ? help, Esc quit. Drag to orbit, wheel to zoom. Without \
      --take, --simulate is assumed.
      """)

  @OptionGroup var options: SessionOptions

  @Option(help: "Window size, WxH.")
  var size: String = "1280x720"

  func run() async throws {
    let (width, height) = try parseSize(size)
    let session = try await options.session()
    try Player(session: session, width: width, height: height).run()
  }
}

struct RenderCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "render",
    abstract: "Draw the same scene without a window, to PNG (one image, or a sequence).",
    discussion: """
      Uses SDL's offscreen video driver with an EGL OpenGL context (Mesa works without any X \
      server). The session runs on the display clock from time zero to --at (or through \
      --duration for --frames).
      """)

  @OptionGroup var options: SessionOptions

  @Option(help: "Seconds into the session to draw.")
  var at: Double = 3

  @Option(help: "The PNG to write.")
  var out: String = "out/frame.png"

  @Option(help: "Image size, WxH.")
  var size: String = "1280x720"

  @Option(help: "Write a PNG sequence into this folder instead of one image.")
  var frames: String?

  @Option(help: "Frames per second of the sequence.")
  var fps: Double = 15

  @Option(help: "Seconds of session in the sequence.")
  var duration: Double = 12

  func run() async throws {
    let (width, height) = try parseSize(size)
    guard at >= 0, at.isFinite, fps > 0, fps <= 120, duration > 0, duration <= 3600 else {
      throw ValidationError(
        "--at, --fps and --duration must be positive (fps ≤ 120, duration ≤ 3600 s)")
    }
    let session = try await options.session()
    let renderer = try HeadlessRenderer(width: width, height: height)
    if let frames {
      let folder = URL(fileURLWithPath: frames)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let count = Int(duration * fps)
      for k in 0..<count {
        try await advance(session, to: Double(k) / fps)
        let name = String(format: "frame_%05d.png", k)
        try renderer.render(session).writePNG(to: folder.appendingPathComponent(name))
      }
      Output.write("wrote \(count) frames to \(folder.path)\n")
      return
    }
    try await advance(session, to: at)
    let url = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try renderer.render(session).writePNG(to: url)
    Output.write("wrote \(url.path) (\(width)×\(height), t = \(at) s, \(renderer.rendererName))\n")
  }
}

extension RenderCommand {
  /// Moves the session to `time`: on the display clock at once, or, for a live session
  /// (`--connect`), in real time while frames arrive.
  func advance(_ session: PlaySession, to time: Double) async throws {
    guard options.connect != nil else {
      HeadlessRenderer.run(session, to: time)
      return
    }
    let clock = ContinuousClock()
    var last = clock.now
    while session.time < time && !session.finished {
      try await Task.sleep(for: .milliseconds(10))
      let now = clock.now
      session.advance(by: min((now - last).seconds, time - session.time))
      last = now
    }
    session.advance(by: 0)
  }
}

func parseSize(_ text: String) throws -> (Int32, Int32) {
  let parts = text.lowercased().split(separator: "x")
  guard parts.count == 2, let w = Int32(parts[0]), let h = Int32(parts[1]), (64...7680).contains(w),
    (64...4320).contains(h)
  else { throw ValidationError("size must be WxH, 64–7680 × 64–4320, not '\(text)'") }
  return (w, h)
}

struct RenderBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "render",
    abstract:
      "Frame time of the avatar scene (both avatars and the HUD) under the current OpenGL driver.",
    discussion: """
      Draws a simulated session headless (offscreen framebuffer, the same renderer as the \
      window) for --seconds of wall time and reports the median and 99th-percentile time per \
      frame, session update included, and frames per second. Under Mesa's llvmpipe this is \
      the software renderer.
      """)

  @Option(help: "Frame size, WxH.")
  var size: String = "1280x720"

  @Option(help: "Seconds to run.")
  var seconds: Double = 6

  @Option(help: "An exercise id from the library.")
  var exercise: String = "uiprmd-m07-shoulder-abduction"

  func run() async throws {
    let (width, height) = try parseSize(size)
    let chosen = try Exercise.find(exercise, library: URL(fileURLWithPath: BundledExercises.path))
    let session = try PlaySession(
      exercise: chosen, simulating: PatientSimulator.Variation.named("demo") ?? .init(), seed: 1)
    let renderer = try HeadlessRenderer(width: width, height: height)
    let clock = ContinuousClock()
    var samples: [Double] = []
    let start = clock.now
    while (clock.now - start).seconds < seconds {
      let t0 = clock.now
      session.advance(by: HeadlessRenderer.step)
      if session.finished { try session.restart() }
      renderer.drawOnly(session)
      samples.append((clock.now - t0).seconds * 1e3)
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let p99 = samples[Int(Double(samples.count - 1) * 0.99)]
    Output.write(
      """
      | renderer | size | frames | median ms / frame | p99 ms | frames per second (median) |
      |---|---|---:|---:|---:|---:|
      | \(renderer.rendererName) | \(width)×\(height) | \(samples.count) | \(Output.fixed(median, 2)) | \(Output.fixed(p99, 2)) | \(Output.fixed(1000 / median, 0)) |

      """)
  }
}
