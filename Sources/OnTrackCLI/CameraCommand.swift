import ArgumentParser
import Foundation
import HummingbirdWSClient
import Logging
import OnTrackApp
import OnTrackClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import OnTrackServerCommands

struct CameraCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "camera",
    abstract: "A patient with only a webcam: pose estimation from a camera or a video.",
    subcommands: [CameraRunCommand.self, CameraInstallCommand.self],
    defaultSubcommand: CameraRunCommand.self)
}

struct CameraInstallCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install",
    abstract: "Install the pose estimator (MediaPipe 0.10.14 with OpenCV) into .build/camera-venv.",
    discussion: """
      Runs Scripts/camera/install.sh: a Python 3.8–3.12 virtual environment with pinned \
      packages; MediaPipe's pose model ships inside its wheel, so nothing is downloaded at run \
      time. Idempotent (a second run checks and returns in a second).
      """)

  func run() async throws {
    guard let root = InstallLocation.root(containing: "Scripts/camera/install.sh") else {
      throw ValidationError("Scripts/camera/install.sh not found")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [root.appendingPathComponent("Scripts/camera/install.sh").path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw ValidationError("the camera install failed (status \(process.terminationStatus))")
    }
  }
}

struct CameraRunCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Track the patient on a webcam or a video and score the exercise.",
    discussion: """
      The pose helper (MediaPipe BlazePose, `ontrack camera install`) turns each camera frame \
      into 33 3-D landmarks; they are solved onto the canonical skeleton and scored as they \
      come. Without --server the avatar window opens (--headless: print repetitions instead); \
      with --server and --token the keypoints stream into a new session there. --out keeps \
      the keypoints as JSON lines (`ontrack score --exercise E take.jsonl` scores them later). \
      A camera that disappears ends the set with the reason; what was scored is kept.
      """)

  @Option(help: "/dev/videoN (or N), a video file, an image, or a folder of images.")
  var source: String = "/dev/video0"

  @Option(help: "An exercise id from the library, or a path to a definition (.json).")
  var exercise: String = "uiprmd-m07-shoulder-abduction"

  @Option(help: "The exercise library folder.")
  var library: String = BundledExercises.path

  @Flag(help: "No window: print each repetition as it is scored, then the set and timings.")
  var headless = false

  @Flag(help: "With --headless: print the result as JSON.")
  var json = false

  @Option(help: "Also write the keypoints to this JSON-lines file.")
  var out: String?

  @Option(help: "Stream to a server session instead: http://HOST:PORT.")
  var server: String?

  @Option(help: "The patient's token (with --server).")
  var token: String?

  @Option(help: "Process at most this many frames a second (0: as fast as the machine goes).")
  var fpsLimit: Double = 0

  @Option(help: "Stop after this many frames (0: no limit).")
  var maxFrames: Int = 0

  @Option(help: "Requested camera size, WxH.")
  var size: String?

  @Option(help: "Window size, WxH.")
  var window: String = "1280x720"

  func validate() throws {
    if server != nil && token == nil { throw ValidationError("--server needs --token") }
    if json && !headless { throw ValidationError("--json goes with --headless") }
  }

  func helperOptions() throws -> CameraHelper.Options {
    var options = CameraHelper.Options(source: source)
    options.fpsLimit = fpsLimit
    options.maximumFrames = maxFrames
    if let size {
      let (w, h) = try parseSize(size)
      options.width = Int(w)
      options.height = Int(h)
    }
    return options
  }

  func run() async throws {
    let helper: CameraHelper
    do {
      helper = try CameraHelper(try helperOptions())
    } catch let failure as CameraHelper.Failure {
      throw ValidationError(failure.message)
    }
    defer { helper.stop() }
    let recorder = try out.map { try KeypointRecorder(path: $0) }
    if let server, let token {
      try await stream(helper, recorder: recorder, server: server, token: token)
      return
    }
    let exercise = try Exercise.find(self.exercise, library: URL(fileURLWithPath: library))
    if headless {
      try await scoreHeadless(helper, recorder: recorder, exercise: exercise)
      return
    }
    let source = try Self.liveSource(helper, recorder: recorder)
    let session = try PlaySession(exercise: exercise, source: source)
    let (width, height) = try parseSize(window)
    try Player(session: session, width: width, height: height).run()
    recorder?.close()
  }

  /// The app's patient source fed by the pose helper: its keypoint frames as they come (each
  /// also kept by `recorder`), and its end in words.
  static func liveSource(_ helper: CameraHelper, recorder: KeypointRecorder? = nil) throws
    -> LiveKeypointSource
  {
    try LiveKeypointSource(layout: "blazepose33") {
      let (frames, ended) = helper.drain()
      for frame in frames { recorder?.write(frame) }
      return (
        frames.compactMap { frame in
          frame.keypoints.map {
            LiveKeypointSource.Frame(
              time: frame.t, points: $0, confidence: frame.confidence, layout: frame.layout)
          }
        }, ended.map { words($0, helper.failure) }
      )
    }
  }

  static func words(_ ended: String, _ failure: CameraHelper.Failure?) -> String {
    if let failure { return failure.message }
    switch ended {
    case "end of input", "max frames": return "Set complete"
    default: return "Camera stopped: \(ended)"
    }
  }

  // MARK: Headless

  /// Timings of the camera path, for BENCHMARKS.md.
  struct Timings: Encodable {
    var frames = 0
    var framesWithPerson = 0
    var seconds = 0.0
    var framesPerSecond = 0.0
    /// Camera frame captured → keypoints out of the helper, ms (median, 95th percentile).
    var helperLatency: [Double] = []
    /// Camera frame captured → the avatar's pose solved, ms.
    var poseLatency: [Double] = []
    /// Solving one frame here, µs (median).
    var solveMicroseconds = 0.0
  }

  struct HeadlessReport: Encodable {
    var result: TakeResult
    var timings: Timings
    var refused: Int
  }

  func scoreHeadless(_ helper: CameraHelper, recorder: KeypointRecorder?, exercise: Exercise)
    async throws
  {
    let skeleton = CanonicalSkeleton.make()
    var stream = try KeypointStream(skeleton: skeleton, layout: "blazepose33")
    var scorer = try StreamingScorer(exercise: exercise)
    var pose = skeleton.restPose
    var landmarks = LandmarkFrame()
    var seen = [Int](repeating: 0, count: BodyPoint.allCases.count)
    var timings = Timings()
    var helperLatency: [Double] = []
    var poseLatency: [Double] = []
    var solveTimes: [Double] = []
    var refused = 0
    var firstTime: Double?
    let started = CameraHelper.now()
    while let frame = await helper.next() {
      recorder?.write(frame)
      timings.frames += 1
      guard let points = frame.keypoints else { continue }
      timings.framesWithPerson += 1
      let start = firstTime ?? frame.t
      firstTime = start
      let before = CameraHelper.now()
      let solved: Bool
      do {
        solved = try stream.push(
          points: points, confidence: frame.confidence, layout: frame.layout,
          time: frame.t - start, into: &pose)
      } catch {
        refused += 1
        continue
      }
      let after = CameraHelper.now()
      solveTimes.append((after - before) * 1e6)
      if let helperMs = frame.latency_ms {
        helperLatency.append(helperMs)
        poseLatency.append(helperMs + (after - frame.received) * 1000)
      }
      guard solved else { continue }
      for point in BodyPoint.allCases where stream.solver.tracked & point.bit != 0 {
        seen[point.rawValue] += 1
      }
      for l in 0..<landmarks.positions.count { landmarks.positions[l] = stream.solver.landmarks[l] }
      landmarks.untracked = stream.solver.untrackedLandmarks
      let update = scorer.push(landmarks: landmarks, at: frame.t - start)
      if update.completedRepetitions > 0 && !json {
        for r in scorer.repetitions.suffix(update.completedRepetitions) {
          Output.write(
            "repetition \(r.index): \(Output.fixed(r.score, 1)) — \(r.cues.map(\.text).joined(separator: "; "))\n"
          )
        }
      }
    }
    recorder?.close()
    _ = scorer.finish()
    if let failure = helper.failure, timings.frames == 0 {
      throw ValidationError(failure.message)
    }
    timings.seconds = CameraHelper.now() - started
    timings.framesPerSecond = Double(timings.frames) / max(timings.seconds, 1e-9)
    timings.helperLatency = Self.summary(helperLatency)
    timings.poseLatency = Self.summary(poseLatency)
    timings.solveMicroseconds = Self.summary(solveTimes).first ?? 0
    var result = scorer.result
    let withPerson = max(timings.framesWithPerson, 1)
    result.tracking = Dictionary(
      uniqueKeysWithValues: BodyPoint.allCases.compactMap { point -> (String, Double)? in
        guard KeypointLayout.blazePose33.sources[point] != nil else { return nil }
        return ("\(point)", Double(seen[point.rawValue]) / Double(withPerson))
      })
    if json {
      Output.write(
        try Output.json(HeadlessReport(result: result, timings: timings, refused: refused)))
      return
    }
    Output.write(ScoreCommand.table(result, exercise: exercise, take: source))
    Output.write(
      "\(timings.frames) frames (\(timings.framesWithPerson) with a person) in \(Output.fixed(timings.seconds, 1)) s: \(Output.fixed(timings.framesPerSecond, 1)) frames/s; capture → pose \(Output.fixed(timings.poseLatency.first ?? .nan, 1)) ms median\n"
    )
    if let failure = helper.failure { Output.write("Camera: \(failure.message)\n") }
  }

  /// Median and 95th percentile.
  static func summary(_ values: [Double]) -> [Double] {
    guard !values.isEmpty else { return [] }
    let sorted = values.sorted()
    return [sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 95 / 100)]]
  }

  // MARK: Server

  func stream(_ helper: CameraHelper, recorder: KeypointRecorder?, server: String, token: String)
    async throws
  {
    guard let url = URL(string: server) else { throw ValidationError("bad URL \(server)") }
    let client = ServerClient(base: try ServerClient.base(of: url), token: token)
    let session = try await client.createSession(
      CreateSessionRequest(exercise: exercise, skeleton: "keypoints:blazepose33"))
    Output.write("session \(session.id): streaming \(source)\n")
    var logger = Logger(label: "ontrack.camera")
    logger.logLevel = .warning
    let socket = client.webSocketURL("/v1/sessions/\(session.id)/stream")
    try await WebSocketClient.connect(
      url: socket, configuration: client.webSocketConfiguration(maxFrameSize: 1 << 20),
      logger: logger
    ) { inbound, outbound, _ in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          var seq = 0
          var first: Double?
          let encoder = JSONEncoder()
          while let frame = await helper.next() {
            recorder?.write(frame)
            guard let points = frame.keypoints else { continue }
            let start = first ?? frame.t
            first = start
            let message = StreamFrame(
              seq: seq, t: frame.t - start, keypoints: points, confidence: frame.confidence,
              layout: frame.layout)
            try await outbound.writeTextMessage(
              String(decoding: try encoder.encode(message), as: UTF8.self))
            seq += 1
          }
        }
        group.addTask {
          for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message, let decoded = try? ServerMessage.decode(text)
            else { continue }
            switch decoded {
            case .repetition(let r):
              Output.write(
                "repetition \(r.index): \(Output.fixed(r.score, 1)) — \(r.cues.map(\.text).joined(separator: "; "))\n"
              )
            case .rejected(let rejection):
              Output.write("rejected: \(rejection.reason.rawValue): \(rejection.message)\n")
            default: break
            }
          }
        }
        try await group.next()
        // Give the server a moment to answer the last frames.
        try await Task.sleep(for: .milliseconds(500))
        group.cancelAll()
      }
      try? await outbound.close(.normalClosure, reason: nil)
    }
    recorder?.close()
    let result = try await client.finish(session.id)
    Output.write(
      "\(result.summary.repetitions) repetitions, mean score \(result.summary.meanScore.map { Output.fixed($0, 1) } ?? "–")\n"
    )
    if let failure = helper.failure { Output.write("Camera: \(failure.message)\n") }
  }
}

/// Writes keypoint frames as JSON lines (`KeypointFiles`).
final class KeypointRecorder: @unchecked Sendable {
  // Written from one task at a time (the loop that reads the helper).
  private let handle: FileHandle
  private let encoder = JSONEncoder()

  struct Line: Encodable {
    var t: Double
    var layout: String?
    var keypoints: [String: [Double]?]
    var confidence: [String: Double]?
  }

  init(path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else {
      throw ValidationError("cannot write \(path)")
    }
    self.handle = handle
    encoder.outputFormatting = [.sortedKeys]
  }

  func write(_ frame: CameraHelper.Frame) {
    guard let points = frame.keypoints,
      let data = try? encoder.encode(
        Line(t: frame.t, layout: frame.layout, keypoints: points, confidence: frame.confidence))
    else { return }
    handle.write(data + Data([0x0A]))
  }

  func close() { try? handle.close() }
}
