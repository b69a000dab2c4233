import Foundation
import Logging
import OnTrackProtocol
import Synchronization

/// Writes frames and repetitions to the store in group commits, in a task of its own, and
/// tells each session how far its frames are durable.
///
/// Scoring never waits for the disk: a frame is scored and answered at once, queued here, and
/// acknowledged (`LiveSession.acknowledged(upTo:)`) only after the transaction that holds it
/// commits. While one commit runs, the next batch gathers, so the commit rate adapts to load
/// (one transaction per frame when idle, hundreds of frames per transaction under load).
///
/// **Nothing acknowledged is ever lost.** A commit that fails (the database locked by another
/// process past the busy timeout, a full disk, an I/O error) is retried with backoff
/// (50 ms doubling to 2 s) until it succeeds; frames queued meanwhile wait behind it, so the
/// order of commits, and therefore of acknowledgements, is the order frames were taken, and
/// `ack N` always means every frame up to `N` is on disk. While storage fails, connected
/// streams get a `storage_unavailable` notice (and `storage_restored` after), and once
/// `maximumBacklog` frames wait unwritten, sessions reject new frames with the retryable
/// reason `storage_unavailable` instead of holding more in memory.
final class FrameWriter: Sendable {
  private let store: any FrameStore
  private let logger: Logger
  /// Most frames held unwritten before new frames are refused.
  let maximumBacklog: Int
  private let state = Mutex(State())
  /// Frames queued or being written: read by every frame, so kept outside the lock.
  private let backlog = Atomic<Int>(0)
  private let failing = Atomic<Bool>(false)
  /// Called when storage starts or stops failing (true: failing).
  private let healthHandler = Mutex<(@Sendable (Bool) -> Void)?>(nil)

  private struct State {
    var pending = FrameBatch()
    var acknowledgements: [String: (session: LiveSession, seq: Int)] = [:]
    /// `flush` callers waiting for everything queued before them, by id.
    var flushWaiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    var writing = false
    var stopped = false
    var task: Task<Void, Never>?
    var failures = 0
  }

  /// Wakes the writing task: one pending signal is enough, whatever was queued.
  private let signals: AsyncStream<Void>
  private let signal: AsyncStream<Void>.Continuation

  init(store: any FrameStore, logger: Logger, maximumBacklog: Int) {
    self.store = store
    self.logger = logger
    self.maximumBacklog = maximumBacklog
    (signals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
  }

  /// Sets what is told when storage starts (true) or stops (false) failing.
  func onHealthChange(_ handler: @escaping @Sendable (Bool) -> Void) {
    healthHandler.withLock { $0 = handler }
  }

  private func reportHealth(_ failing: Bool) {
    healthHandler.withLock { $0 }?(failing)
  }

  /// Starts the writing task (once).
  func start() {
    state.withLock { s in
      guard s.task == nil else { return }
      s.task = Task.detached { [self] in await run() }
    }
  }

  /// Writes what is queued (retrying for at most `patience`), then stops.
  func stop(patience: Duration = .seconds(30)) async {
    if !(await flush(timeout: patience)) {
      logger.error(
        "stopping with frames not stored; they were never acknowledged, so clients send them again",
        metadata: ["frames": "\(backlogCount)"])
    }
    let task = state.withLock { s in
      s.stopped = true
      return s.task
    }
    signal.yield()
    await task?.value
  }

  /// True while frames cannot be written.
  var isFailing: Bool { failing.load(ordering: .relaxed) }

  /// True once `maximumBacklog` frames wait unwritten.
  var isBacklogged: Bool { backlog.load(ordering: .relaxed) >= maximumBacklog }

  /// Frames queued or being written.
  var backlogCount: Int { backlog.load(ordering: .relaxed) }

  /// Queues a scored frame (and any repetitions it completed) of `session`.
  func enqueue(_ frame: StoredFrame, repetitions: [StoredRepetition], session: LiveSession) {
    backlog.add(1, ordering: .relaxed)
    state.withLock { s in
      s.pending.frames.append(frame)
      s.pending.repetitions.append(contentsOf: repetitions)
      s.acknowledgements[frame.session] = (session, frame.seq)
    }
    signal.yield()
  }

  /// Queues repetitions or a session's rejection counts (JSON) to store with the next commit.
  func enqueue(repetitions: [StoredRepetition] = [], rejected: (session: String, counts: String)?) {
    state.withLock { s in
      s.pending.repetitions.append(contentsOf: repetitions)
      if let rejected { s.pending.rejected[rejected.session] = rejected.counts }
    }
    signal.yield()
  }

  /// Returns true once everything queued before the call is committed, or false after
  /// `timeout` (storage failing).
  @discardableResult
  func flush(timeout: Duration = .seconds(10)) async -> Bool {
    let id = UUID()
    return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
      let immediate = state.withLock { s -> Bool in
        if s.pending.isEmpty && !s.writing { return true }
        s.flushWaiters[id] = continuation
        return false
      }
      if immediate {
        continuation.resume(returning: true)
        return
      }
      signal.yield()
      Task { [self] in
        try? await Task.sleep(for: timeout)
        state.withLock { $0.flushWaiters.removeValue(forKey: id) }?.resume(returning: false)
      }
    }
  }

  /// How long a commit waits for more frames to join it. Each commit rewrites at least one
  /// page per session it holds frames of, so gathering 0.1 s (six frames a session at 60 Hz)
  /// rather than 5 ms cut the server's CPU per frame by a sixth (`BENCHMARKS.md`); an
  /// acknowledgement comes at most every 250 ms anyway (`StreamRoutes`), and a flush does
  /// not wait.
  static let gatherSeconds = 0.1

  private func run() async {
    var wakeUps = signals.makeAsyncIterator()
    while true {
      let (idle, stopped, hurry) = state.withLock { s in
        (s.pending.isEmpty && s.flushWaiters.isEmpty, s.stopped, !s.flushWaiters.isEmpty)
      }
      if idle {
        if stopped { return }
        _ = await wakeUps.next()
        continue
      }
      if !hurry && !stopped {
        // Let frames gather: one transaction for many frames costs far less than one each,
        // and acknowledgements are not in a hurry.
        try? await Task.sleep(for: .seconds(Self.gatherSeconds))
      }
      let (batch, acknowledgements, waiters) = state.withLock { s in
        let taken = (s.pending, s.acknowledgements, s.flushWaiters)
        s.pending = FrameBatch()
        s.acknowledgements = [:]
        s.flushWaiters = [:]
        s.writing = true
        return taken
      }
      let stored = await commit(batch)
      backlog.subtract(batch.frames.count, ordering: .relaxed)
      state.withLock { $0.writing = false }
      if stored {
        for (_, ack) in acknowledgements {
          ack.session.acknowledged(upTo: ack.seq)
        }
      }
      for waiter in waiters.values { waiter.resume(returning: stored) }
    }
  }

  /// Commits `batch`, retrying with backoff until it is stored (true), or the writer is stopped
  /// and has given up (false: the frames were never acknowledged).
  private func commit(_ batch: FrameBatch) async -> Bool {
    guard !batch.isEmpty else { return true }
    var delay = Duration.milliseconds(50)
    var attempt = 0
    while true {
      do {
        try await store.commit(batch)
        if failing.exchange(false, ordering: .relaxed) {
          logger.notice(
            "storage works again; acknowledgements resume",
            metadata: ["attempts": "\(attempt + 1)"])
          reportHealth(false)
        }
        return true
      } catch {
        attempt += 1
        let failures = state.withLock { s in
          s.failures += 1
          return s.failures
        }
        if !failing.exchange(true, ordering: .relaxed) {
          reportHealth(true)
        }
        logger.error(
          "could not store frames; retrying",
          metadata: [
            "frames": "\(batch.frames.count)", "error": "\(error)", "attempt": "\(attempt)",
            "failures": "\(failures)",
          ])
        if state.withLock({ $0.stopped }) && attempt >= 3 { return false }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(2))
      }
    }
  }
}
