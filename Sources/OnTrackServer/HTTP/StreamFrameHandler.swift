import NIOCore
import NIOWebSocket
import OnTrackProtocol
import Synchronization

/// Takes a stream connection's frames on the connection's own event loop.
///
/// Hummingbird's WebSocket API hands every message from the event loop to a Swift concurrency
/// task and every reply back again: two thread wake-ups per frame, which cost the server more
/// than scoring the frame. This handler sits in the connection's pipeline just after NIO's
/// WebSocket frame decoder and takes each complete text frame where it is read — decode, score,
/// queue for storage (`SessionHub.take(json:session:)` is synchronous and takes microseconds) —
/// and writes the answer at once; the answers of everything read in one socket read go out in
/// one flush (`channelReadComplete`).
///
/// Everything else passes on unchanged to the asynchronous path behind it (`StreamRoutes`):
/// control frames (ping, pong, close), fragmented or binary messages, and every frame once the
/// connection no longer holds the session's stream (`StreamLink.release()`: replaced, token
/// revoked, left), so the rules for those stay in one place.
final class StreamFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = WebSocketFrame
  typealias InboundOut = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private let hub: SessionHub
  private let session: LiveSession
  private let link: StreamLink
  private var wrote = false

  init(hub: SessionHub, session: LiveSession, link: StreamLink) {
    self.hub = hub
    self.session = session
    self.link = link
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    guard frame.fin, frame.opcode == .text, frame.rsv1 == false, frame.rsv2 == false,
      frame.rsv3 == false, link.holdsStream
    else {
      context.fireChannelRead(data)
      return
    }
    let start = ContinuousClock.now
    let text = String(buffer: frame.unmaskedData)
    let outcome = hub.take(json: text, session: session)
    write(outcome.answer, context: context)
    for repetition in outcome.completed { write(repetition.message, context: context) }
    hub.metrics.scoringLatency.record(ContinuousClock.now - start)
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if wrote {
      wrote = false
      context.flush()
    }
    context.fireChannelReadComplete()
  }

  private func write(_ text: String, context: ChannelHandlerContext) {
    let frame = WebSocketFrame(
      fin: true, opcode: .text, data: context.channel.allocator.buffer(string: text))
    context.write(wrapOutboundOut(frame), promise: nil)
    wrote = true
  }
}

/// Whether a connection still holds its session's stream: shared by the connection's task,
/// which releases it when the connection stops streaming, and its `StreamFrameHandler`.
final class StreamLink: Sendable {
  private let held = Atomic<Bool>(true)

  var holdsStream: Bool { held.load(ordering: .acquiring) }

  func release() { held.store(false, ordering: .releasing) }
}
