import Foundation
import HummingbirdWSClient
import Logging
import OnTrackProgramme
import OnTrackProtocol

/// Sends what a `ProgrammeOutbox` holds to the server, removing each item only once the
/// server has it all: a set becomes a session (created under the set's key, so a repeated
/// upload finds it), its frames are streamed from where the server's copy ends and
/// acknowledged, and it is finished; then each day whose sets are all up is recorded with their
/// session ids. Whatever fails stays for the next attempt.
public struct ProgrammeUploader: Sendable {
  public let client: ServerClient
  public let outbox: ProgrammeOutbox
  /// Frames a second sent (below the server's per-session cap).
  public var rate: Double = 200
  /// Frames sent in one WebSocket message (`StreamFrameBatch`): a recorded set is not live,
  /// so it goes in batches, which cost the server a third of the CPU a frame sent alone does
  /// (BENCHMARKS.md, "Frames in batches") and are answered once each.
  public var framesPerMessage = 32
  /// The most bytes of frames put in one message (the server closes a stream on a message
  /// over 1 MiB).
  static let largestMessageBytes = 256 * 1024
  let logger: Logger

  public init(client: ServerClient, outbox: ProgrammeOutbox, logger: Logger) {
    self.client = client
    self.outbox = outbox
    self.logger = logger
  }

  /// What one attempt did.
  public struct Report: Sendable, Equatable {
    public var setsUploaded = 0
    public var daysRecorded = 0
    public var setsLeft = 0
    public var daysLeft = 0
    /// Why something was left, if anything was.
    public var error: String?
  }

  /// Uploads everything it can; never throws (what is left is counted and said).
  public func drain() async -> Report {
    var report = Report()
    var uploaded: [String: String] = [:]
    do {
      for set in try outbox.sets() {
        do {
          let session = try await upload(set)
          // Remember the session before forgetting the set, so a day recorded later still
          // names it.
          try outbox.markSent(set: set.key, session: session)
          try outbox.remove(set: set.key)
          uploaded[set.key] = session
          report.setsUploaded += 1
        } catch {
          report.setsLeft += 1
          report.error = report.error ?? "set \(set.key.prefix(8)): \(error)"
        }
      }
      for pending in try outbox.days() {
        // A day waits for its sets (still in the outbox) to be up.
        do {
          let ids = pending.setKeys.compactMap { uploaded[$0] ?? outbox.sentSession(set: $0) }
          guard ids.count == pending.setKeys.count else {
            throw Waiting(count: pending.setKeys.count - ids.count)
          }
          var day = pending.day
          day.sessions = ids
          if let programme = pending.programme {
            _ = try await client.recordDay(day, programme: programme)
          }
          try outbox.remove(day: day.key)
          for key in pending.setKeys { try outbox.remove(sent: key) }
          report.daysRecorded += 1
        } catch {
          report.daysLeft += 1
          report.error = report.error ?? "day \(pending.day.date): \(error)"
        }
      }
    } catch {
      report.error = report.error ?? "\(error)"
    }
    return report
  }

  struct Waiting: Error, CustomStringConvertible {
    var count: Int
    var description: String { "\(count) of its sets are not uploaded yet" }
  }

  /// Uploads one set and returns its session id.
  func upload(_ set: ProgrammeOutbox.PendingSet) async throws -> String {
    var view = try await client.createSession(
      CreateSessionRequest(
        exercise: set.exercise, version: set.exerciseVersion, skeletonBVH: set.skeletonBVH,
        programme: set.programme, clientKey: set.key))
    if view.open {
      try await stream(set, session: view.id)
      _ = try await client.finish(view.id)
      view = try await client.session(view.id)
    }
    logger.info(
      "set uploaded",
      metadata: [
        "session": "\(view.id)", "exercise": "\(set.exercise)", "frames": "\(set.frames.count)",
      ])
    return view.id
  }

  /// Streams the set's frames the server does not have yet and waits until the last is
  /// acknowledged (stored).
  private func stream(_ set: ProgrammeOutbox.PendingSet, session: String) async throws {
    let last = set.frames.count - 1
    guard last >= 0 else { return }
    let url = client.webSocketURL("/v1/sessions/\(session)/stream")
    let configuration = client.webSocketConfiguration(maxFrameSize: 1 << 20)
    let interval = Duration.seconds(1 / max(rate, 1))
    for _ in 0..<5 {
      let acknowledged = AcknowledgedSeq()
      try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
        inbound, outbound, _ in
        var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
        guard case .text(let first)? = try await messages.next(),
          case .session(let hello) = try ServerMessage.decode(first)
        else { throw ServerClient.Failure(status: 0, message: "the stream sent no hello") }
        acknowledged.update(hello.durableSeq)
        let clock = ContinuousClock()
        var next = clock.now
        let resume = max(hello.lastSeq + 1, 0)
        let batch = max(1, min(framesPerMessage, StreamFrameBatch.maximumFrames))
        var seq = resume
        while seq <= last {
          // Up to `batch` frames, and no more bytes than `largestMessageBytes` (a frame of a
          // large skeleton goes alone).
          var frames: [String] = []
          var bytes = 0
          while seq <= last, frames.count < batch {
            let frame = StreamFrame.valuesJSON(
              seq: seq, time: set.times[seq], values: set.frames[seq])
            if !frames.isEmpty, bytes + frame.utf8.count > Self.largestMessageBytes { break }
            frames.append(frame)
            bytes += frame.utf8.count
            seq += 1
          }
          try await outbound.writeTextMessage(
            frames.count == 1 ? frames[0] : StreamFrameBatch.json(frames: frames))
          next += interval * frames.count
          try await clock.sleep(until: next)
        }
        // Wait for the acknowledgement of the last frame (the group commit follows shortly).
        let deadline = clock.now + .seconds(15)
        while acknowledged.value < last, clock.now < deadline {
          guard case .text(let text)? = try await messages.next() else { break }
          if case .ack(let seq)? = try? ServerMessage.decode(text) { acknowledged.update(seq) }
        }
        try? await outbound.close(.normalClosure, reason: nil)
      }
      if acknowledged.value >= last { return }
    }
    throw ServerClient.Failure(status: 0, message: "the server did not acknowledge every frame")
  }
}

/// The highest acknowledged sequence number seen on a stream.
final class AcknowledgedSeq: @unchecked Sendable {
  // Used by one task at a time (the connection's handler).
  private(set) var value = -1
  func update(_ seq: Int) { value = max(value, seq) }
}
