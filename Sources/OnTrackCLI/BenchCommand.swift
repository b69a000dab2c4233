import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackServerCommands

struct BenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Release-build benchmarks, printed beside the reference peers.",
    discussion: "Build with `swift build -c release` first; debug builds are 10–50× slower.",
    subcommands: [
      FKBenchCommand.self, DTWBenchCommand.self, StreamBenchCommand.self, RenderBenchCommand.self,
      KeypointBenchCommand.self, StoreBenchCommand.self,
    ])
}

/// Times a closure: repeats it until `minimumSeconds` have passed (at least 3 runs) and returns
/// the median seconds per run.
enum Stopwatch {
  static func median(minimumSeconds: Double = 0.5, _ body: () -> Void) -> Double {
    var samples: [Double] = []
    let clock = ContinuousClock()
    let started = clock.now
    repeat {
      let t0 = clock.now
      body()
      samples.append((clock.now - t0).seconds)
    } while samples.count < 3 || (clock.now - started).seconds < minimumSeconds
    samples.sort()
    return samples[samples.count / 2]
  }
}

/// Where the shared reference peers live and how to run them.
struct PeerOptions: ParsableArguments {
  @Option(
    help:
      "Python with the peers' requirements (default: $ONTRACK_PEERS_PYTHON or /tmp/peers-venv/bin/python)."
  )
  var peersPython: String?

  @Option(
    help: "The shared folder holding peers/ (default: ../shared next to the working directory).")
  var shared: String = "../shared"

  @Flag(help: "Do not run the peers.")
  var noPeers = false

  var python: String? {
    if noPeers { return nil }
    let candidates = [
      peersPython, ProcessInfo.processInfo.environment["ONTRACK_PEERS_PYTHON"],
      "/tmp/peers-venv/bin/python",
    ]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs `peers/<script>` with `arguments`; standard output, or `nil` with a note on failure.
  func run(_ script: String, _ arguments: [String]) -> String? {
    runFile("\(shared)/peers/\(script)", arguments)
  }

  /// Runs a Python file with the peers' interpreter.
  func runFile(_ path: String, _ arguments: [String]) -> String? {
    guard let python else {
      FileHandle.standardError.write(Data("note: no peers Python found; peers skipped\n".utf8))
      return nil
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [path] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["OMP_NUM_THREADS"] = "1"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
      try process.run()
    } catch {
      FileHandle.standardError.write(Data("note: cannot run the peers: \(error)\n".utf8))
      return nil
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
  }
}

struct FKBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fk",
    abstract: "Nanoseconds per joint transform of forward kinematics, beside numpy/numba.",
    discussion: """
      Times, single-threaded, over every frame of each file: parsing; the local-to-world pass \
      alone (pose → world transforms, as ozz-animation's LocalToModelJob); and decoding raw \
      Euler channel values plus that pass (what the numpy and numba peers time). A "joint \
      transform" is one node, End Sites included, as the peers count.
      """)

  @Argument(
    help: "BVH files (default: the CMU 31-joint clip and the 165-joint rig in ../shared/data/bvh).")
  var files: [String] = []

  @OptionGroup var peers: PeerOptions

  @Flag(help: "Print JSON instead of markdown.")
  var json = false

  struct Row: Codable {
    var step: String
    var medianMilliseconds: Double
    var nanosecondsPerJointTransform: Double?
  }

  struct FileResult: Codable {
    var file: String
    var joints: Int
    var endSites: Int
    var frames: Int
    var rows: [Row]
    var peerMarkdown: String?
  }

  func run() async throws {
    let paths =
      files.isEmpty
      ? [
        "\(peers.shared)/data/bvh/cmu_fairmotion/01_01.bvh",
        "\(peers.shared)/data/bvh/cmu_dazfriendly_rgbdacquisition/49_04.bvh",
      ] : files
    var results: [FileResult] = []
    for path in paths {
      var result = try FKBenchmark.measure(path: path)
      result.peerMarkdown = peers.run(
        "bench_peers.py", ["--bvh", path, "--skip-dtw", "--repeat", "7"])
      results.append(result)
    }
    if json {
      Output.write(try Output.json(results))
      return
    }
    var lines: [String] = []
    for result in results {
      lines.append("### Forward kinematics: `\(result.file)`\n")
      lines.append(
        "\(result.joints) joints + \(result.endSites) End Sites = \(result.joints + result.endSites) joint transforms per frame, \(result.frames) frames\n"
      )
      lines.append("| OnTrack (Swift, Float, one thread) | median ms | ns / joint transform |")
      lines.append("|---|---:|---:|")
      for row in result.rows {
        let ns = row.nanosecondsPerJointTransform.map { Output.fixed($0, 2) } ?? ""
        lines.append("| \(row.step) | \(Output.fixed(row.medianMilliseconds, 3)) | \(ns) |")
      }
      lines.append("")
      if let peer = result.peerMarkdown {
        lines.append("Peers, same file, same run (`bench_peers.py --bvh FILE --skip-dtw`):\n")
        lines.append(peerTable(peer))
        if let ratio = ratioLine(result: result, peer: peer) { lines.append(ratio) }
      }
      lines.append("")
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }

  /// The peers' table rows without their machine line.
  func peerTable(_ markdown: String) -> String {
    markdown.split(separator: "\n").filter { $0.hasPrefix("|") }.joined(separator: "\n") + "\n"
  }

  /// "numpy x, numba y slower than OnTrack" from the peers' ns/node-frame column.
  func ratioLine(result: FileResult, peer: String) -> String? {
    guard
      let ours = result.rows.first(where: { $0.step.hasPrefix("decode") })?
        .nanosecondsPerJointTransform
    else { return nil }
    var parts: [String] = []
    for line in peer.split(separator: "\n") where line.hasPrefix("| FK:") {
      let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      guard cells.count >= 5, let ns = Double(cells[4]) else { continue }
      let name = cells[0].replacingOccurrences(of: "FK: ", with: "")
      parts.append("\(name): \(Output.fixed(ns / ours, 1))×")
    }
    guard !parts.isEmpty else { return nil }
    return "\nPeer time ÷ OnTrack time (decode + FK, like for like): "
      + parts.joined(separator: "; ") + "\n"
  }
}

/// The forward-kinematics measurements, separated from printing.
enum FKBenchmark {
  static func measure(path: String) throws -> FKBenchCommand.FileResult {
    let url = URL(fileURLWithPath: path)
    let bytes = [UInt8](try Data(contentsOf: url))
    var clip: Clip?
    let parseSeconds = Stopwatch.median(minimumSeconds: 1) {
      clip = try? BVHReader().read(bytes: bytes, fileName: path)
    }
    guard let clip else { throw ValidationError("\(path): cannot be read") }
    let skeleton = clip.skeleton
    let n = skeleton.count
    let frames = clip.frameCount
    // Local poses, prepared outside the timed region (ozz samples before local-to-model too).
    let poses = (0..<frames).map { clip.pose(atFrame: $0) }
    var world = [RigidTransform](repeating: .identity, count: n)
    var checksum: Float = 0
    let fkSeconds = Stopwatch.median {
      for pose in poses {
        ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
        checksum += world[n - 1].translation.x
      }
    }
    // Raw channel values in degrees and file units, as a stream or a BVH line delivers them.
    let channels = ChannelValues.make(clip: clip)
    let decoder = ChannelDecoder(skeleton: skeleton)
    var pose = skeleton.restPose
    let c = skeleton.channelCount
    let decodeSeconds = Stopwatch.median {
      channels.withUnsafeBufferPointer { all in
        for f in 0..<frames {
          let row = UnsafeBufferPointer(rebasing: all[(f * c)..<((f + 1) * c)])
          decoder.decode(row, into: &pose)
          ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
          checksum += world[n - 1].translation.x
        }
      }
    }
    if checksum == .infinity { print("") }  // keeps the work observable to the optimiser
    let transforms = Double(frames * n)
    return FKBenchCommand.FileResult(
      file: path, joints: skeleton.jointCount, endSites: skeleton.endSiteCount, frames: frames,
      rows: [
        .init(step: "parse (BVHReader, whole file)", medianMilliseconds: parseSeconds * 1e3),
        .init(
          step: "local-to-world only (pose → world transforms)",
          medianMilliseconds: fkSeconds * 1e3,
          nanosecondsPerJointTransform: fkSeconds / transforms * 1e9),
        .init(
          step: "decode Euler channels + local-to-world",
          medianMilliseconds: decodeSeconds * 1e3,
          nanosecondsPerJointTransform: decodeSeconds / transforms * 1e9),
      ])
  }
}

/// Raw channel values (degrees, file units) of every frame of a clip, frame-major.
enum ChannelValues {
  static func make(clip: Clip) -> [Float] {
    let skeleton = clip.skeleton
    let n = skeleton.count
    var values: [Float] = []
    values.reserveCapacity(clip.frameCount * skeleton.channelCount)
    let orders = skeleton.joints.map(\.channels.rotationOrder)
    let perMetre = Float(1 / skeleton.lengthUnit.metres)
    for f in 0..<clip.frameCount {
      for (j, joint) in skeleton.joints.enumerated() where !joint.channels.isEmpty {
        let angles = orders[j].map { clip.rotations[f * n + j].eulerAngles(order: $0) } ?? .zero
        var k = 0
        for channel in joint.channels {
          if channel.isRotation {
            values.append(Float(angles[k] * 180 / .pi))
            k += 1
          } else {
            values.append(clip.translations[f * n + j][channel.axis] * perMetre)
          }
        }
      }
    }
    return values
  }
}
