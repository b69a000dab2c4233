import Foundation
import OnTrackFormats
import Synchronization

/// Runs the pose helper (`Scripts/camera/pose_helper.py`, MediaPipe's BlazePose in its own
/// virtual environment, installed by `Scripts/camera/install.sh`) on a webcam, a video file or
/// images, and hands over its keypoint frames as they come.
///
/// The helper writes one JSON line per frame on its standard output
/// (`{"seq", "t", "layout": "blazepose33", "keypoints": {…}, "confidence": {…}, "latency_ms"}`,
/// `"keypoints": null` when no person is seen) and JSON events on its standard error
/// (`start`, `end`, `error` with a message and an exit code). `CameraHelper` reads both on its
/// own threads, keeps the frames for `drain()` (the app, once per display frame) or `next()`
/// (a headless loop), and turns the helper's exit into a clear reason: no camera, no model,
/// the camera stopped.
public final class CameraHelper: Sendable {
  /// One frame from the helper.
  public struct Frame: Sendable, Decodable {
    public var seq: Int
    /// Seconds: the camera's capture clock, or the video's presentation time.
    public var t: Double
    public var layout: String?
    /// `nil`: no person in the frame.
    public var keypoints: [String: [Double]?]?
    public var confidence: [String: Double]?
    /// Pixel positions in the camera image (with `Options.pixels`).
    public var image: [String: [Double]]?
    /// Capture to line written, in the helper, milliseconds.
    public var latency_ms: Double?
    /// When the line arrived here (monotonic seconds, `CameraHelper.now()`).
    public var received: Double = 0

    enum CodingKeys: String, CodingKey {
      case seq, t, layout, keypoints, confidence, image, latency_ms
    }
  }

  /// Why the helper could not run or stopped.
  public struct Failure: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { message }

    public init(code: Int32, message: String) {
      self.code = code
      self.message = message
    }
  }

  public struct Options: Sendable {
    /// `/dev/videoN` (or `N`), a video file, an image, or a folder of images.
    public var source: String
    /// Process at most this many frames a second (0: as fast as possible).
    public var fpsLimit: Double = 0
    public var width = 0
    public var height = 0
    /// Stop after this many frames (0: no limit).
    public var maximumFrames = 0
    /// Loop a video or image list.
    public var loop = false
    /// Also report each landmark's pixel position (`image`), for overlays and tests.
    public var pixels = false

    public init(source: String) { self.source = source }
  }

  /// The helper's Python and script: `$ONTRACK_CAMERA_PYTHON` or `.build/camera-venv` in the
  /// repository (or installed copy) that holds `Scripts/camera/pose_helper.py`.
  public static func locate() throws(Failure) -> (python: URL, script: URL) {
    guard let root = InstallLocation.root(containing: "Scripts/camera/pose_helper.py") else {
      throw Failure(
        code: 4, message: "the camera helper (Scripts/camera/pose_helper.py) is not installed")
    }
    let script = root.appendingPathComponent("Scripts/camera/pose_helper.py")
    let python =
      ProcessInfo.processInfo.environment["ONTRACK_CAMERA_PYTHON"].map {
        URL(fileURLWithPath: $0)
      } ?? root.appendingPathComponent(".build/camera-venv/bin/python")
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
      throw Failure(
        code: 4,
        message:
          "the camera's pose estimator is not installed: run `ontrack camera install` (or bash \(root.path)/Scripts/camera/install.sh)"
      )
    }
    return (python, script)
  }

  /// Monotonic seconds.
  public static func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
  }

  private struct State {
    var frames: [Frame] = []
    var ended: String?
    var failure: Failure?
    var started: [String: JSONValueBox] = [:]
    var waiting: CheckedContinuation<Frame?, Never>?
    var stderrDone = false
    var stdoutDone = false
  }

  /// A JSON scalar from the helper's events.
  public enum JSONValueBox: Sendable {
    case number(Double)
    case text(String)
  }

  private let process: Process
  private let state = Mutex(State())

  /// Starts the helper on `options.source`.
  ///
  /// - Throws: `Failure` if the helper is not installed or cannot be started.
  public init(_ options: Options) throws(Failure) {
    let (python, script) = try Self.locate()
    process = Process()
    process.executableURL = python
    var arguments = [script.path, "--source", options.source]
    if options.fpsLimit > 0 { arguments += ["--fps-limit", "\(options.fpsLimit)"] }
    if options.width > 0 { arguments += ["--width", "\(options.width)"] }
    if options.height > 0 { arguments += ["--height", "\(options.height)"] }
    if options.maximumFrames > 0 { arguments += ["--max-frames", "\(options.maximumFrames)"] }
    if options.loop { arguments.append("--loop") }
    if !options.pixels { arguments.append("--no-image") }
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw Failure(code: 1, message: "cannot start the camera helper: \(error)")
    }
    let out = stdout.fileHandleForReading
    let err = stderr.fileHandleForReading
    Thread.detachNewThread { [self] in
      readLines(out) { self.frameLine($0) }; finishOut()
    }
    Thread.detachNewThread { [self] in
      readLines(err) { self.eventLine($0) }; finishErr()
    }
  }

  deinit { stop() }

  /// The helper's process id.
  public var processIdentifier: Int32 { process.processIdentifier }

  /// Stops the helper (SIGTERM; it ends its output cleanly).
  public func stop() {
    if process.isRunning { process.terminate() }
  }

  /// Every frame since the last call, and why the helper ended once it has.
  public func drain() -> (frames: [Frame], ended: String?) {
    state.withLock { s in
      let frames = s.frames
      s.frames.removeAll(keepingCapacity: true)
      return (
        frames,
        s.frames.isEmpty && s.stdoutDone && s.stderrDone ? (s.ended ?? "Camera stopped") : nil
      )
    }
  }

  /// The next frame, or `nil` once the helper has ended (then `failure` says why, if it failed).
  public func next() async -> Frame? {
    await withCheckedContinuation { (continuation: CheckedContinuation<Frame?, Never>) in
      let ready: Frame?? = state.withLock { s in
        if !s.frames.isEmpty { return .some(s.frames.removeFirst()) }
        if s.stdoutDone && s.stderrDone { return .some(nil) }
        s.waiting = continuation
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }

  /// Why the helper failed (its error event and exit code), if it did.
  public var failure: Failure? { state.withLock { $0.failure } }
  /// Why it ended, in words ("end of input", "Camera stopped delivering frames", …).
  public var endedReason: String? { state.withLock { $0.ended } }

  private func frameLine(_ line: [UInt8]) {
    guard var frame = try? JSONDecoder().decode(Frame.self, from: Data(line)) else { return }
    frame.received = Self.now()
    let waiting: CheckedContinuation<Frame?, Never>? = state.withLock { s in
      if let w = s.waiting {
        s.waiting = nil
        return w
      }
      s.frames.append(frame)
      // A display that falls behind keeps the newest few seconds only.
      if s.frames.count > 600 { s.frames.removeFirst(s.frames.count - 600) }
      return nil
    }
    waiting?.resume(returning: frame)
  }

  private func eventLine(_ line: [UInt8]) {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
      let event = object["event"] as? String
    else { return }
    state.withLock { s in
      switch event {
      case "error":
        let code = (object["code"] as? Int).map(Int32.init) ?? 1
        let message = object["message"] as? String ?? "the camera helper failed"
        s.failure = Failure(code: code, message: message)
        s.ended = message
      case "end":
        s.ended = (object["reason"] as? String) ?? "end of input"
      case "start":
        for (key, value) in object {
          if let d = value as? Double { s.started[key] = .number(d) }
          if let t = value as? String { s.started[key] = .text(t) }
        }
      default: break
      }
    }
  }

  private func finishOut() {
    let waiting = state.withLock { s in
      s.stdoutDone = true
      return s.stderrDone ? s.waiting.take() : nil
    }
    waiting?.resume(returning: nil)
  }

  private func finishErr() {
    process.waitUntilExit()
    let status = process.terminationStatus
    let waiting = state.withLock { s in
      s.stderrDone = true
      if status != 0 && s.failure == nil {
        s.failure = Failure(code: status, message: "the camera helper exited with status \(status)")
        s.ended = s.failure?.message
      }
      return s.stdoutDone && s.frames.isEmpty ? s.waiting.take() : nil
    }
    waiting?.resume(returning: nil)
  }
}

/// Reads `handle` to its end, calling `body` with each line (without its newline).
private func readLines(_ handle: FileHandle, _ body: ([UInt8]) -> Void) {
  var buffer: [UInt8] = []
  while true {
    let data = handle.availableData
    if data.isEmpty { break }
    buffer.append(contentsOf: data)
    var start = 0
    while let newline = buffer[start...].firstIndex(of: 0x0A) {
      if newline > start { body(Array(buffer[start..<newline])) }
      start = newline + 1
    }
    buffer.removeFirst(start)
    // A line longer than 1 MiB is no frame: drop it.
    if buffer.count > 1 << 20 { buffer.removeAll() }
  }
  if !buffer.isEmpty { body(buffer) }
}
