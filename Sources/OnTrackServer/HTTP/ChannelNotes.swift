import NIOCore
import Synchronization

/// What a route decides about a connection while Hummingbird handles its upgrade request, kept
/// for a channel handler that acts on it later in the connection's pipeline (the route runs in
/// a task and cannot reach the handler). Keyed by the channel; a note not taken is forgotten
/// when the channel closes.
final class ChannelNotes<Value: Sendable>: Sendable {
  private let notes = Mutex<[ObjectIdentifier: Value]>([:])

  func set(_ value: Value, on channel: any Channel) {
    let id = ObjectIdentifier(channel)
    notes.withLock { $0[id] = value }
    channel.closeFuture.whenComplete { _ in self.notes.withLock { _ = $0.removeValue(forKey: id) } }
  }

  /// The note on `channel`, once.
  func take(for channel: any Channel) -> Value? {
    notes.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
  }
}
