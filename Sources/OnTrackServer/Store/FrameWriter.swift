import Foundation
import Logging

/// Writes frames and repetitions to the store in group commits, on a thread of its own, and
/// tells each session how far its frames are durable.
///
/// Scoring never waits for the disk: a frame is scored and answered at once, queued here, and
/// acknowledged (`LiveSession.acknowledged(upTo:)`) after the transaction that holds it
/// commits. While one commit runs, the next batch gathers, so the commit rate adapts to load
/// (one transaction per frame when idle, hundreds of frames per transaction under load).
final class FrameWriter: @unchecked Sendable {
  // @unchecked: every mutable field is guarded by `condition`.
  private let store: Store
  private let logger: Logger
  private let condition = NSCondition()
  private var pending = Batch()
  private var flushWaiters: [CheckedContinuation<Void, Never>] = []
  private var stopped = false
  private var thread: Thread?
  private var failures = 0

  struct Batch {
    var frames: [Store.StoredFrame] = []
    var repetitions: [(session: String, index: Int, result: String)] = []
    var rejected: [String: String] = [:]
    var acknowledgements: [String: (session: LiveSession, seq: Int)] = [:]
    var isEmpty: Bool { frames.isEmpty && repetitions.isEmpty && rejected.isEmpty }
  }

  init(store: Store, logger: Logger) {
    self.store = store
    self.logger = logger
  }

  func start() {
    condition.lock()
    defer { condition.unlock() }
    guard thread == nil else { return }
    let thread = Thread { [self] in run() }
    thread.name = "ontrack-frame-writer"
    self.thread = thread
    thread.start()
  }

  /// Writes what is queued, then stops the thread.
  func stop() async {
    await flush()
    markStopped()
  }

  private func markStopped() {
    condition.lock()
    stopped = true
    condition.signal()
    condition.unlock()
  }

  /// Queues a scored frame (and any repetitions it completed) of `session`.
  func enqueue(_ frame: Store.StoredFrame, repetitions: [(Int, String)], session: LiveSession) {
    condition.lock()
    pending.frames.append(frame)
    for (index, result) in repetitions {
      pending.repetitions.append((frame.session, index, result))
    }
    pending.acknowledgements[frame.session] = (session, frame.seq)
    condition.signal()
    condition.unlock()
  }

  /// Queues a session's rejection counts (JSON) to store with the next commit.
  func enqueueRejected(session: String, counts: String) {
    condition.lock()
    pending.rejected[session] = counts
    condition.signal()
    condition.unlock()
  }

  /// Returns once everything queued before the call is committed.
  func flush() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      condition.lock()
      if pending.isEmpty && !writing {
        condition.unlock()
        continuation.resume()
        return
      }
      flushWaiters.append(continuation)
      condition.signal()
      condition.unlock()
    }
  }

  private var writing = false

  /// How long a commit waits for more frames to join it.
  static let gatherSeconds = 0.005

  private func run() {
    while true {
      condition.lock()
      while pending.isEmpty && flushWaiters.isEmpty && !stopped {
        condition.wait()
      }
      if stopped && pending.isEmpty {
        condition.unlock()
        return
      }
      if flushWaiters.isEmpty && !stopped {
        // Let a few milliseconds of frames gather: one transaction for many frames costs far
        // less than one each, and acknowledgements are not in a hurry.
        condition.unlock()
        Thread.sleep(forTimeInterval: Self.gatherSeconds)
        condition.lock()
      }
      let batch = pending
      pending = Batch()
      let waiters = flushWaiters
      flushWaiters = []
      writing = true
      condition.unlock()

      write(batch)

      condition.lock()
      writing = false
      condition.unlock()
      for waiter in waiters { waiter.resume() }
    }
  }

  private func write(_ batch: Batch) {
    guard !batch.isEmpty else { return }
    do {
      try store.write(
        frames: batch.frames,
        repetitions: batch.repetitions.map { ($0.session, $0.index, $0.result) },
        rejected: batch.rejected)
    } catch {
      // Not acknowledged, so clients keep these frames and send them again on reconnect.
      failures += 1
      logger.error(
        "could not store \(batch.frames.count) frames",
        metadata: ["error": "\(error)", "failures": "\(failures)"])
      return
    }
    for (_, ack) in batch.acknowledgements {
      ack.session.acknowledged(upTo: ack.seq)
    }
  }
}
