import ArgumentParser
import Foundation
import OnTrackFormats
import OnTrackKinematics

struct ConvertCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert between BVH and joint-angle CSV; optionally trim, resample or mirror.",
    discussion: """
      Formats by extension: .bvh, .csv (joint-angle CSV: time in seconds, then one column per \
      channel named <joint>.<channel>, rotations in degrees composed in column order, positions \
      in metres). Reading CSV needs --skeleton, a BVH file whose hierarchy the angles belong to.
      """)

  @Argument(help: "Input file (.bvh or .csv).")
  var input: String

  @Argument(help: "Output file (.bvh or .csv).")
  var output: String

  @Option(help: "BVH file giving the skeleton for a CSV input.")
  var skeleton: String?

  @Option(help: "Keep only the time span A:B in seconds (either may be omitted).")
  var trim: String?

  @Option(help: "Resample to this many frames per second.")
  var frameRate: Double?

  @Flag(help: "Mirror left and right (reflect across the sagittal plane).")
  var mirror = false

  func run() async throws {
    var clip = try load()
    if let trim {
      let parts = trim.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2 else { throw ValidationError("--trim takes A:B in seconds") }
      let start = parts[0].isEmpty ? 0 : Double(parts[0])
      let end = parts[1].isEmpty ? clip.lastFrameTime : Double(parts[1])
      guard let start, let end else { throw ValidationError("--trim takes A:B in seconds") }
      clip = try clip.trimmed(from: start, to: end)
    }
    if let frameRate { clip = try clip.resampled(frameRate: frameRate) }
    if mirror { clip = clip.mirrored() }
    let url = URL(fileURLWithPath: output)
    switch url.pathExtension.lowercased() {
    case "bvh":
      try BVHWriter().write(clip, to: url)
    case "csv":
      try Data(JointAngleCSV.bytes(for: clip)).write(to: url)
    default:
      throw ValidationError("\(output): unknown output format (use .bvh or .csv)")
    }
    FileHandle.standardError.write(
      Data("wrote \(output): \(clip.frameCount) frames at \(clip.frameRate) fps\n".utf8))
  }

  func load() throws -> Clip {
    let url = URL(fileURLWithPath: input)
    switch url.pathExtension.lowercased() {
    case "bvh":
      return try BVHReader().read(contentsOf: url)
    case "csv":
      guard let skeleton else {
        throw ValidationError("reading joint-angle CSV needs --skeleton FILE.bvh")
      }
      let reference = try BVHReader().read(contentsOf: URL(fileURLWithPath: skeleton))
      let reading = try JointAngleCSV.read(contentsOf: url, skeleton: reference.skeleton)
      if !reading.jointsWithoutColumns.isEmpty {
        FileHandle.standardError.write(
          Data(
            "note: no columns for \(reading.jointsWithoutColumns.joined(separator: ", ")); they stay at rest\n"
              .utf8))
      }
      if let leftOut = TimeOrder.words("line", reading.linesLeftOut) {
        FileHandle.standardError.write(
          Data("note: left out \(leftOut), whose time was not after the one before\n".utf8))
      }
      return reading.clip
    default:
      throw ValidationError("\(input): unknown input format (use .bvh or .csv)")
    }
  }
}
