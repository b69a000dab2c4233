import OnTrackProtocol

/// What a connected stream is owed besides the answers to its frames — the newest
/// acknowledgement and the notices — held in the session until the connection's writer takes
/// it (`LiveSession.owed(to:)`).
///
/// Nothing owed is dropped however slowly the client reads: acknowledgements are coalesced (each
/// names the newest durable frame, so the newest says everything the older ones said), and
/// notices are kept one per code, the latest of each, in the order they last came (a storage
/// outage and its end, told twice over, arrive as the last state). The outbox is therefore
/// bounded by the number of notice codes, not by how long the writer waits; the doorbell that
/// wakes the writer holds at most one ring.
struct StreamOutbox: Sendable {
  /// Notices not yet written, at most one per code, oldest first.
  private(set) var notices: [Notice] = []
  /// The newest durable frame not yet acknowledged to this connection.
  private(set) var acknowledgement: Int?

  /// Owes a notice; an older one of the same code, still unwritten, is replaced by it.
  mutating func post(_ notice: Notice) {
    notices.removeAll { $0.code == notice.code }
    notices.append(notice)
  }

  /// Owes the acknowledgement of frames up to `seq`.
  mutating func acknowledge(upTo seq: Int) {
    acknowledgement = max(acknowledgement ?? seq, seq)
  }

  /// Hands over everything owed and empties the outbox.
  mutating func take() -> StreamOutbox {
    defer { self = StreamOutbox() }
    return self
  }

}
