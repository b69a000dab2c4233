import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring
import OnTrackServerCommands

struct DTWBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dtw",
    abstract: "Banded multivariate DTW beside dtaidistance's C implementation, same sequences.",
    discussion: """
      Random-walk sequences (1000×1000 and 6000×600 frames; 20, 40, 60 features) are written \
      to CSV and timed in OnTrack and, through Benchmarks/dtaidistance_timing.py, in \
      dtaidistance (use_c=True, no pruning), definition DTW_SQEUC_SYM1, Sakoe–Chiba radius as \
      listed. Single thread, medians.
      """)

  @OptionGroup var peers: PeerOptions

  @Option(help: "Band radii to run ('none' for no band).")
  var radius: [String] = ["none", "10", "100"]

  @Flag(help: "Print JSON.")
  var json = false

  struct Row: Codable {
    var n: Int
    var m: Int
    var features: Int
    var radius: Int?
    var cells: Int
    var ontrackMilliseconds: Double
    var ontrackDistance: Double
    var dtaidistanceMilliseconds: Double?
    var dtaidistanceDistance: Double?
  }

  func run() async throws {
    var rows: [Row] = []
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ontrack-bench-dtw")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var dtw = DynamicTimeWarping()
    for (n, m) in [(1000, 1000), (6000, 600)] {
      for width in [20, 40, 60] {
        let a = randomWalk(n, width, seed: UInt64(n + width))
        let b = randomWalk(m, width, seed: UInt64(m * 7 + width))
        let aFile = folder.appendingPathComponent("a-\(n)-\(width).csv")
        let bFile = folder.appendingPathComponent("b-\(m)-\(width).csv")
        try csv(a, width).write(to: aFile, atomically: true, encoding: .utf8)
        try csv(b, width).write(to: bFile, atomically: true, encoding: .utf8)
        let am = DTWMatrix(rows: n, width: width, values: a)
        let bm = DTWMatrix(rows: m, width: width, values: b)
        for r in radius {
          let band = Int(r)
          var distance: Float = 0
          let seconds = Stopwatch.median(minimumSeconds: 0.3) {
            distance = dtw.distance(am, bm, radius: band)
          }
          var row = Row(
            n: n, m: m, features: width, radius: band, cells: cells(n, m, band),
            ontrackMilliseconds: seconds * 1e3, ontrackDistance: Double(distance))
          var arguments = [aFile.path, bFile.path]
          if let band { arguments += ["--radius", "\(band)"] }
          if let output = peers.runFile("Benchmarks/dtaidistance_timing.py", arguments),
            let data = output.data(using: .utf8),
            let peer = try? JSONDecoder().decode([String: Double].self, from: data)
          {
            row.dtaidistanceMilliseconds = peer["milliseconds"]
            row.dtaidistanceDistance = peer["distance"]
          }
          rows.append(row)
        }
      }
    }
    if json {
      Output.write(try Output.json(rows))
      return
    }
    var lines = [
      "| n × m | features | band | cells | OnTrack ms | dtaidistance C ms | speed-up | ns / cell (OnTrack) | distances agree |",
      "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows {
      let peer = row.dtaidistanceMilliseconds.map { Output.fixed($0, 2) } ?? "–"
      let speedup =
        row.dtaidistanceMilliseconds.map { Output.fixed($0 / row.ontrackMilliseconds, 1) + "×" }
        ?? "–"
      let agree =
        row.dtaidistanceDistance.map {
          abs($0 - row.ontrackDistance) <= 1e-4 * $0
            ? "yes" : "no (\($0) vs \(row.ontrackDistance))"
        } ?? "–"
      lines.append(
        "| \(row.n)×\(row.m) | \(row.features) | \(row.radius.map { "R=\($0)" } ?? "none") | \(row.cells) | \(Output.fixed(row.ontrackMilliseconds, 2)) | \(peer) | \(speedup) | \(Output.fixed(row.ontrackMilliseconds * 1e6 / Double(row.cells), 2)) | \(agree) |"
      )
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }

  func cells(_ n: Int, _ m: Int, _ radius: Int?) -> Int {
    guard let radius else { return n * m }
    return (0..<n).reduce(0) { total, i in
      let low = max(0, i - radius - max(0, n - m))
      let high = min(m - 1, i + radius + max(0, m - n))
      return total + max(0, high - low + 1)
    }
  }

  func randomWalk(_ count: Int, _ width: Int, seed: UInt64) -> [Float] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var position = [Double](repeating: 0, count: width)
    var out: [Float] = []
    out.reserveCapacity(count * width)
    for _ in 0..<count {
      for k in 0..<width {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        position[k] += Double(state >> 11) / Double(1 << 53) - 0.5
        out.append(Float(position[k]))
      }
    }
    return out
  }

  func csv(_ values: [Float], _ width: Int) -> String {
    var text = ""
    for r in 0..<(values.count / width) {
      text += values[(r * width)..<((r + 1) * width)].map { "\($0)" }.joined(separator: ",") + "\n"
    }
    return text
  }
}

struct StreamBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stream",
    abstract: "Microseconds per frame of live scoring, per exercise, on real UI-PRMD motion.",
    discussion: """
      Feeds ten consecutive Kinect repetitions of one subject, frame by frame as poses, to a \
      StreamingScorer for each bundled exercise (forward kinematics, features, subsequence \
      DTW, live colouring and repetition scoring included) and reports the median, 99th \
      percentile and mean time per frame.
      """)

  @Option(help: "The UI-PRMD folder (holding raw/).")
  var dataset: String = "../shared/data/uiprmd"

  @Option(help: "The exercise library folder.")
  var exercises: String = BundledExercises.path

  @Flag(help: "Print JSON.")
  var json = false

  struct Row: Codable {
    var exercise: String
    var frames: Int
    var repetitions: Int
    var medianMicroseconds: Double
    var p99Microseconds: Double
    var meanMicroseconds: Double
  }

  func run() async throws {
    let folder = URL(fileURLWithPath: exercises)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasPrefix("uiprmd-m") && $0.hasSuffix(".json") }.sorted()
    var rows: [Row] = []
    for file in files {
      let exercise = try Exercise.load(contentsOf: folder.appendingPathComponent(file))
      let movement = Int(file.dropFirst("uiprmd-m".count).prefix(2)) ?? 1
      let take = try UIPRMDReader.readKinectTake(
        root: URL(fileURLWithPath: dataset).appendingPathComponent("raw"), movement: movement,
        subject: 1, episodes: 1...10)
      let skeleton = take.skeleton
      var samples: [Double] = []
      var repetitions = 0
      for _ in 0..<5 {
        var scorer = try StreamingScorer(exercise: exercise, skeleton: skeleton)
        var pose = skeleton.restPose
        let clock = ContinuousClock()
        for f in 0..<take.frameCount {
          take.copyFrame(f, into: &pose)
          let start = clock.now
          _ = scorer.push(pose: pose, at: Double(f) * take.frameTime)
          samples.append((clock.now - start).seconds * 1e6)
        }
        scorer.finish()
        repetitions = scorer.repetitions.count
      }
      samples.sort()
      rows.append(
        Row(
          exercise: exercise.id, frames: take.frameCount, repetitions: repetitions,
          medianMicroseconds: samples[samples.count / 2],
          p99Microseconds: samples[Int(Double(samples.count - 1) * 0.99)],
          meanMicroseconds: samples.reduce(0, +) / Double(samples.count)))
    }
    if json {
      Output.write(try Output.json(rows))
      return
    }
    var lines = [
      "| exercise | frames | repetitions found | median µs / frame | p99 µs | mean µs |",
      "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows {
      lines.append(
        "| \(r.exercise) | \(r.frames) | \(r.repetitions) | \(Output.fixed(r.medianMicroseconds, 1)) | \(Output.fixed(r.p99Microseconds, 1)) | \(Output.fixed(r.meanMicroseconds, 1)) |"
      )
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}

struct KeypointBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keypoints",
    abstract: "Microseconds per frame of the keypoint solver, beside forward kinematics.",
    discussion: """
      UI-PRMD subject 1's ten joined Kinect repetitions of each movement, as keypoints (the 22 \
      joints' world positions): per frame, the layout conversion and the solve onto the \
      canonical skeleton (gaps, lengths, limits, smoothing, rotations), and for comparison the \
      forward kinematics of the solved pose. Medians over every frame, five passes.
      """)

  @Option(help: "The UI-PRMD folder (holding raw/).")
  var dataset: String = "../shared/data/uiprmd"

  @Flag(help: "Print JSON.")
  var json = false

  struct Row: Codable {
    var movement: Int
    var frames: Int
    var convertMicroseconds: Double
    var solveMicroseconds: Double
    /// The solver estimating and undoing a monocular model's depth scale (`DepthScale`).
    var solveWithDepthScaleMicroseconds: Double
    var forwardKinematicsMicroseconds: Double
  }

  func run() async throws {
    var rows: [Row] = []
    let layout = KeypointLayout.uiprmdKinect.with(metresPerUnit: 1)
    for movement in 1...10 {
      let take = try UIPRMDReader.readKinectTake(
        root: URL(fileURLWithPath: dataset).appendingPathComponent("raw"), movement: movement,
        subject: 1, episodes: 1...10)
      let source = take.skeleton
      let indices = layout.names.map { source.index(of: $0) }
      var world = [RigidTransform](repeating: .identity, count: source.count)
      var pose = source.restPose
      var frames: [[SIMD3<Float>?]] = []
      for f in 0..<take.frameCount {
        take.copyFrame(f, into: &pose)
        ForwardKinematics.computeWorldTransforms(skeleton: source, pose: pose, into: &world)
        frames.append(indices.map { $0.map { world[$0].translation } })
      }
      let skeleton = CanonicalSkeleton.make()
      var convert: [Double] = []
      var solve: [Double] = []
      var fk: [Double] = []
      var solveDepth: [Double] = []
      var canonicalWorld = [RigidTransform](repeating: .identity, count: skeleton.count)
      let clock = ContinuousClock()
      for _ in 0..<5 {
        var converter = KeypointConverter(layout: layout)
        var solver = KeypointSolver(skeleton: skeleton)
        var keypoints = KeypointFrame()
        var solved = skeleton.restPose
        for (f, frame) in frames.enumerated() {
          let t0 = clock.now
          converter.convert(positions: frame, confidence: nil, into: &keypoints)
          let t1 = clock.now
          solver.solve(keypoints, at: Double(f) * take.frameTime, into: &solved)
          let t2 = clock.now
          ForwardKinematics.computeWorldTransforms(
            skeleton: skeleton, pose: solved, into: &canonicalWorld)
          let t3 = clock.now
          convert.append((t1 - t0).seconds * 1e6)
          solve.append((t2 - t1).seconds * 1e6)
          fk.append((t3 - t2).seconds * 1e6)
        }
        var depthSolver = KeypointSolver(skeleton: skeleton)
        depthSolver.correctsDepthScale = true
        for (f, frame) in frames.enumerated() {
          converter.convert(positions: frame, confidence: nil, into: &keypoints)
          let t0 = clock.now
          depthSolver.solve(keypoints, at: Double(f) * take.frameTime, into: &solved)
          solveDepth.append((clock.now - t0).seconds * 1e6)
        }
      }
      func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
      rows.append(
        Row(
          movement: movement, frames: frames.count, convertMicroseconds: median(convert),
          solveMicroseconds: median(solve), solveWithDepthScaleMicroseconds: median(solveDepth),
          forwardKinematicsMicroseconds: median(fk)))
    }
    if json {
      Output.write(try Output.json(rows))
      return
    }
    var lines = [
      "| movement | frames | convert µs/frame | solve µs/frame | solve with the depth scale µs/frame | FK of the solved pose µs/frame |",
      "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows {
      lines.append(
        "| m\(UIPRMDReader.twoDigits(r.movement)) | \(r.frames) | \(Output.fixed(r.convertMicroseconds, 2)) | \(Output.fixed(r.solveMicroseconds, 2)) | \(Output.fixed(r.solveWithDepthScaleMicroseconds, 2)) | \(Output.fixed(r.forwardKinematicsMicroseconds, 2)) |"
      )
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}
