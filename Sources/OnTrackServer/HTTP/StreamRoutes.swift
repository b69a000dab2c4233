import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The two WebSockets of a session.
///
/// `/v1/sessions/{id}/stream` (the patient, or their therapist): the client sends JSON frames
/// (`Schemas/frame.schema.json`); the server answers every frame at once with a `frame`
/// message (current per-joint error), a `repetition` message when one completes (score,
/// cues), or a `rejected` message (reason), and sends `ack` messages as frames become durable.
/// The first message is `session` (the skeleton, and `lastSeq` to resume after).
///
/// `/v1/sessions/{id}/watch` (anyone who may read the session): the same `frame` messages
/// with the pose's channel values added, and the `repetition` messages, for viewers such as
/// `ontrack play --connect`.
///
/// Both close (code 1008, "token revoked") soon after the token that opened them is revoked.
struct StreamRoutes {
  let hub: SessionHub
  let identities: IdentityCache
  /// Largest WebSocket message read at all; larger ones close the connection. Messages above
  /// the frame cap but below this are rejected one by one and the session goes on.
  static let maximumMessageBytes = 1 << 20
  /// Shortest time between two acknowledgements on one stream.
  static let acknowledgementInterval = Duration.milliseconds(50)

  func add(to router: Router<ServerContext>) {
    register("v1/sessions/:id/stream", on: router) { session, inbound, outbound, logger in
      try await stream(session, inbound: inbound, outbound: outbound, logger: logger)
    }
    register("v1/sessions/:id/watch", on: router) { session, inbound, outbound, _ in
      try await watch(session, inbound: inbound, outbound: outbound)
    }
  }

  /// A WebSocket route on an open session the caller may read; `handler` runs the connection
  /// until it returns or the token that opened it is revoked.
  private func register(
    _ path: RouterPath, on router: Router<ServerContext>,
    handler:
      @escaping @Sendable (
        LiveSession, WebSocketInboundStream, WebSocketOutboundWriter, Logger
      ) async throws -> Void
  ) {
    router.ws(
      path,
      shouldUpgrade: { _, context in
        _ = try hub.liveSession(context.readableSession(in: hub).id)
        return .upgrade([:])
      },
      onUpgrade: { inbound, outbound, context in
        guard let id = context.requestContext.parameters.get("id"),
          let session = try? hub.liveSession(id), let token = context.requestContext.tokenHash
        else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
          group.addTask {
            try await identities.waitUntilInvalid(hash: token)
            try await outbound.close(.policyViolation, reason: "token revoked")
          }
          group.addTask { try await handler(session, inbound, outbound, context.logger) }
          _ = try await group.next()
          group.cancelAll()
        }
      })
  }

  private func stream(
    _ session: LiveSession, inbound: WebSocketInboundStream,
    outbound: WebSocketOutboundWriter,
    logger: Logger
  ) async throws {
    let (listener, acknowledgements) = session.listenForAcknowledgements()
    hub.metrics.activeSessions.set(Double(hub.connectedSessionCount))
    defer {
      session.stopListening(listener)
      hub.metrics.activeSessions.set(Double(hub.connectedSessionCount))
    }
    try await outbound.writeTextMessage(session.helloMessage())
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        // At most one acknowledgement per interval: each names the newest durable frame, so
        // a client loses nothing by hearing fewer, and the socket carries far fewer messages.
        for await seq in acknowledgements {
          try await outbound.writeTextMessage("{\"type\":\"ack\",\"seq\":\(seq)}")
          try? await Task.sleep(for: Self.acknowledgementInterval)
        }
      }
      group.addTask {
        do {
          for try await message in inbound.messages(maxSize: Self.maximumMessageBytes) {
            let start = ContinuousClock.now
            guard case .text(let text) = message else {
              let rejection = FrameRejection(
                reason: .malformed, message: "binary message; frames are JSON text")
              hub.reject(rejection, source: "websocket", session: session)
              try await outbound.writeTextMessage(LiveSession.rejectionMessage(rejection))
              continue
            }
            switch hub.take(json: text, session: session) {
            case .scored(let reply, _, let repetitions):
              try await outbound.writeTextMessage(reply)
              for repetition in repetitions {
                try await outbound.writeTextMessage(repetition.message)
              }
            case .rejected(let rejection):
              try await outbound.writeTextMessage(LiveSession.rejectionMessage(rejection))
            }
            hub.metrics.scoringLatency.record(ContinuousClock.now - start)
          }
        } catch {
          // A message over the read limit (or a protocol error) ends the connection, not the
          // session: the client reconnects and resumes.
          logger.info(
            "stream connection ended",
            metadata: ["session": "\(session.record.id)", "error": "\(error)"])
          throw error
        }
      }
      // Whichever ends first (the client leaves, or the session is finished) ends both.
      _ = try await group.next()
      group.cancelAll()
    }
  }

  private func watch(
    _ session: LiveSession, inbound: WebSocketInboundStream,
    outbound: WebSocketOutboundWriter
  ) async throws {
    let (watcher, messages) = session.watch()
    defer { session.unwatch(watcher) }
    try await outbound.writeTextMessage(session.helloMessage())
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        for await message in messages {
          try await outbound.writeTextMessage(message)
        }
      }
      group.addTask {
        // Viewers send nothing; reading notices when they leave.
        for try await _ in inbound.messages(maxSize: 4096) {}
      }
      _ = try await group.next()
      group.cancelAll()
    }
  }
}
