import ArgumentParser
import Foundation
import OnTrackServer
import OnTrackServerCommands

/// Frame-commit throughput of the stores: what bounds how many streams a deployment holds.
struct StoreBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "store",
    abstract: "Group-commit throughput of SQLite and PostgreSQL (frames a second).",
    discussion: """
      Writes --frames frames of 61 channels (a Perception Neuron pose) in group commits of \
      --batch frames across --sessions sessions, as the frame writer does, and reads them back. \
      SQLite in a temporary folder always; PostgreSQL too with --postgres URL (a database \
      this benchmark may fill; it creates its tables).
      """)

  @Option(help: "A PostgreSQL database to measure as well: postgres://USER@HOST/DB.")
  var postgres: String?

  @Option(help: "Frames to write.")
  var frames = 60_000

  @Option(help: "Frames per group commit.")
  var batch = 200

  @Option(help: "Sessions the frames are spread over.")
  var sessions = 100

  func run() async throws {
    guard frames > 0, batch > 0, sessions > 0, frames <= 10_000_000 else {
      throw ValidationError("--frames, --batch and --sessions must be positive")
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var stores: [(String, any ServerStore)] = [
      ("SQLite (WAL, synchronous=NORMAL)", try SQLiteStore(folder: folder))
    ]
    if let postgres {
      stores.append(
        ("PostgreSQL (fsync on, synchronous_commit on)", try await PostgresStore(url: postgres)))
    }
    Output.write(
      "| store | frames | batch | commit frames/s | commit ms (median batch) | read frames/s |\n")
    Output.write("|---|---:|---:|---:|---:|---:|\n")
    for (name, store) in stores {
      let run = UUID().uuidString.prefix(8)
      let ids = (0..<sessions).map { "bench-\(run)-\($0)" }
      for id in ids {
        try await store.addSession(
          SessionRecord(
            id: id, patient: "bench", therapist: nil, exercise: "bench", exerciseVersion: 1,
            skeleton: "bench", created: Date().timeIntervalSince1970),
          maximumOpen: .max, maximumOpenPerPatient: .max)
      }
      let channels = (0..<61).map { Float($0) * 0.37 }
      var seq = [Int](repeating: 0, count: sessions)
      var batchTimes: [Double] = []
      let clock = ContinuousClock()
      let start = clock.now
      var written = 0
      while written < frames {
        var frameBatch = FrameBatch()
        for k in 0..<min(batch, frames - written) {
          let s = (written + k) % sessions
          seq[s] += 1
          frameBatch.frames.append(
            StoredFrame(
              session: ids[s], seq: seq[s], time: Double(seq[s]) / 60, received: 0,
              channels: channels))
        }
        let t0 = clock.now
        try await store.commit(frameBatch)
        batchTimes.append((clock.now - t0).seconds)
        written += frameBatch.frames.count
      }
      let seconds = (clock.now - start).seconds
      let readStart = clock.now
      var read = 0
      for id in ids { read += try await store.frames(session: id, from: 0).count }
      let readSeconds = (clock.now - readStart).seconds
      batchTimes.sort()
      let median = batchTimes[batchTimes.count / 2] * 1000
      Output.write(
        "| \(name) | \(written) | \(batch) | \(Int(Double(written) / seconds)) | \(Output.fixed(median, 2)) | \(Int(Double(read) / readSeconds)) |\n"
      )
      try await store.close()
    }
  }
}
