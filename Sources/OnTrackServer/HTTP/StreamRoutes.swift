import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import OnTrackProtocol

/// The two WebSockets of a session.
///
/// `/v1/sessions/{id}/stream` (the patient, or their therapist): the client sends JSON frames
/// (`StreamFrame`, `Schemas/frame.schema.json`), one to a message or several in a batch
/// (`StreamFrameBatch`); the server answers every frame at once with a `frame` message
/// (current per-joint error; one for a whole batch), a `repetition` message when one completes
/// (score, cues), or a `rejected` message (reason), and sends `ack` messages as frames become durable
/// and `notice` messages when storage fails or recovers (`ServerMessage`). The first message is
/// `session` (the skeleton, and `lastSeq` to resume after). A session has one stream
/// connection at a time: a new one takes over, and the old one hears a `replaced` notice and
/// closes (code 4409).
///
/// `/v1/sessions/{id}/watch` (anyone who may read the session): the same `frame` messages
/// with the pose's channel values added, and the `repetition` messages, for viewers such as
/// `ontrack play --connect`.
///
/// A message over `maximumMessageBytes` closes the connection with 1009; both sockets close
/// (1008, "token revoked") soon after the token that opened them is revoked or expires.
struct StreamRoutes {
  let hub: SessionHub
  let identities: IdentityCache
  /// Largest WebSocket message read at all; larger ones close the connection. Messages above
  /// the frame cap but below this are rejected one by one and the session goes on.
  static let maximumMessageBytes = 1 << 20
  /// Shortest time between two acknowledgements on one stream.
  static let acknowledgementInterval = Duration.milliseconds(250)
  /// The close code of a stream another connection took over.
  static let replacedCloseCode = WebSocketErrorCode.unknown(4409)

  func add(to router: Router<ServerContext>) {
    register("v1/sessions/:id/stream", as: .stream, on: router) {
      session, inbound, outbound, channel, logger in
      try await stream(
        session, inbound: inbound, outbound: outbound, channel: channel, logger: logger)
    }
    register("v1/sessions/:id/watch", as: .watch, on: router) {
      session, inbound, outbound, _, _ in
      try await watch(session, inbound: inbound, outbound: outbound)
    }
  }

  /// What a WebSocket route is for.
  private enum Route {
    /// The patient's frames come in: they go to a `StreamFrameHandler` from the moment the
    /// upgrade completes.
    case stream
    /// A viewer: at most `maximumWatchersPerSession` a session.
    case watch

    var action: AuditLog.Action { self == .stream ? .streamOpen : .watchOpen }
  }

  /// A WebSocket route on an open session the caller may read; `handler` runs the connection
  /// until it returns or the token that opened it stops being valid.
  private func register(
    _ path: RouterPath, as route: Route, on router: Router<ServerContext>,
    handler:
      @escaping @Sendable (
        LiveSession, WebSocketInboundStream, WebSocketOutboundWriter, any Channel, Logger
      ) async throws -> Void
  ) {
    router.ws(
      path,
      shouldUpgrade: { _, context in
        // The upgrade reference holds the context: let it go when the connection closes
        // (`WebSocketSlot`), whether or not the upgrade happens.
        let slot = context.webSocketSlot
        context.channel.closeFuture.whenComplete { _ in slot.clear() }
        // A refusal here becomes a 401/403/404/409 answer (`ErrorMapper`, `UpgradeRefusal`).
        let (record, identity) = try await context.readableSession(in: hub)
        let live = try await hub.liveSession(record.id)
        if route == .watch {
          try Self.admitsWatcher(live, limit: hub.limits.maximumWatchersPerSession)
        }
        hub.audit.record(route.action, by: identity, patient: record.patient, session: record.id)
        if route == .stream { StreamFrameHandler.expect(on: context.channel) }
        return .upgrade([:])
      },
      onUpgrade: { inbound, outbound, context in
        // The handler has been taken out of the reference by now.
        context.requestContext.webSocketSlot.clear()
        guard let id = context.requestContext.parameters.get("id"),
          let session = try? await hub.liveSession(id),
          let token = context.requestContext.tokenHash
        else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
          group.addTask {
            let reason =
              switch try await identities.waitUntilInvalid(hash: token) {
              case .expired: "token expired"
              default: "token revoked"
              }
            try await outbound.close(.policyViolation, reason: reason)
          }
          group.addTask {
            try await handler(
              session, inbound, outbound, context.requestContext.channel, context.logger)
          }
          _ = try await group.next()
          group.cancelAll()
        }
      })
  }

  private func stream(
    _ session: LiveSession, inbound: WebSocketInboundStream,
    outbound: WebSocketOutboundWriter, channel: any Channel,
    logger: Logger
  ) async throws {
    let (connection, doorbell) = session.attachStream()
    hub.metrics.activeSessions.set(Double(hub.connectedSessionCount))
    let link = StreamLink(connection: connection)
    defer {
      link.release()
      session.detachStream(connection)
      hub.metrics.activeSessions.set(Double(hub.connectedSessionCount))
    }
    // Frames are taken on the event loop from here on (`StreamFrameHandler`, in place since
    // the upgrade, holding what came so far); what it passes on arrives below. It writes the
    // hello first.
    try await channel.eventLoop.submit { [hub] in
      let pipeline = channel.pipeline.syncOperations
      let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
      // The handler writes its answers itself, past the asynchronous writer's backpressure:
      // a client that sends and never reads would make the server hold every answer in
      // memory (a 7-byte frame earns a 100-byte rejection). Nothing more is read from a
      // connection while its answers wait to be written.
      try pipeline.addHandler(BackPressureHandler(), position: .before(decoder))
      let handler = try pipeline.handler(type: StreamFrameHandler.self)
      handler.start(
        hub: hub, session: session, link: link, context: try pipeline.context(handler: handler))
    }.get()
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        // What the connection is owed waits in the session (`StreamOutbox`) until it is
        // written here: notices first, then the newest acknowledgement. At most one
        // acknowledgement per interval: each names the newest durable frame, so a client
        // loses nothing by hearing fewer, and the socket carries far fewer messages.
        for await _ in doorbell {
          let owed = session.owed(to: connection)
          if owed.replaced {
            link.release()
            try await outbound.writeTextMessage(
              ServerMessage.notice(
                Notice(
                  code: .replaced,
                  message: "another connection took over this session's stream")
              ).json)
            try await outbound.close(Self.replacedCloseCode, reason: "replaced")
            return
          }
          for notice in owed.outbox.notices {
            try await outbound.writeTextMessage(ServerMessage.notice(notice).json)
          }
          if let seq = owed.outbox.acknowledgement {
            try await outbound.writeTextMessage(ServerMessage.ack(seq: seq).json)
            try? await Task.sleep(for: Self.acknowledgementInterval)
          }
        }
      }
      group.addTask {
        do {
          for try await message in inbound.messages(maxSize: Self.maximumMessageBytes) {
            let start = ContinuousClock.now
            guard case .text(let text) = message else {
              let rejection = Rejection(
                reason: .malformed, message: "binary message; frames are JSON text")
              hub.reject(rejection, source: "websocket", session: session)
              try await outbound.writeTextMessage(ServerMessage.rejected(rejection).json)
              continue
            }
            for answer in hub.take(message: text, session: session, connection: connection) {
              try await outbound.writeTextMessage(answer)
            }
            hub.metrics.scoringLatency.record(ContinuousClock.now - start)
          }
        } catch {
          // A message over the read limit (closed with 1009) or a protocol error ends the
          // connection, not the session: the client reconnects and resumes.
          logger.info(
            "stream connection ended",
            metadata: ["session": "\(session.record.id)", "error": "\(error)"])
          throw error
        }
      }
      // Whichever ends first (the client leaves, the session is finished or taken over) ends
      // both.
      _ = try await group.next()
      group.cancelAll()
    }
  }

  /// Refuses a viewer (429 at the upgrade) past the session's cap.
  static func admitsWatcher(_ session: LiveSession, limit: Int) throws(SessionError) {
    guard session.watcherCount < limit else {
      throw .quota("this session has \(limit) viewers already; close one to open another")
    }
  }

  private func watch(
    _ session: LiveSession, inbound: WebSocketInboundStream,
    outbound: WebSocketOutboundWriter
  ) async throws {
    guard let (watcher, messages) = session.watch(limit: hub.limits.maximumWatchersPerSession)
    else {
      // Another viewer came between the check at the upgrade and here.
      try await outbound.close(.policyViolation, reason: "too many viewers")
      return
    }
    defer { session.unwatch(watcher) }
    try await outbound.writeTextMessage(ServerMessage.session(session.hello()).json)
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
