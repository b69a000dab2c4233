import OnTrackKinematics
import Synchronization

/// Frames arriving from elsewhere (a server's `/watch` WebSocket) for the app to show: any
/// thread pushes, the render loop drains. Channel values are on `skeleton` (degrees, its
/// length unit); times are the stream's seconds.
public final class RemoteFeed: Sendable {
  public let skeleton: Skeleton
  private let state = Mutex<State>(State())

  struct State {
    var frames: [(values: [Float], time: Double)] = []
    var ended = false
    var status = "Connecting…"
  }

  /// At most this many frames wait; older ones are dropped if the app falls behind.
  public static let capacity = 4096

  public init(skeleton: Skeleton) {
    self.skeleton = skeleton
  }

  /// Adds one frame (from any thread).
  public func push(values: [Float], time: Double) {
    state.withLock { s in
      if s.frames.count >= Self.capacity {
        s.frames.removeFirst(s.frames.count - Self.capacity + 1)
      }
      s.frames.append((values, time))
    }
  }

  /// Marks the stream over (the session finished or the connection closed).
  public func end(status: String) {
    state.withLock {
      $0.ended = true
      $0.status = status
    }
  }

  public func setStatus(_ status: String) {
    state.withLock { $0.status = status }
  }

  /// Moves every waiting frame into `batch` (emptied first); the two buffers swap, so neither
  /// side allocates once both have grown.
  func drain(into batch: inout [(values: [Float], time: Double)]) -> (ended: Bool, status: String) {
    batch.removeAll(keepingCapacity: true)
    return state.withLock { s in
      swap(&batch, &s.frames)
      return (s.ended, s.status)
    }
  }
}
