import Foundation
import NIOCore
import NIOWebSocket
import OnTrackProtocol
import Synchronization

/// Takes a stream connection's frames on the connection's own event loop.
///
/// Hummingbird's WebSocket API hands every message from the event loop to a Swift concurrency
/// task and every reply back again: two thread wake-ups per frame, which cost the server more
/// than scoring the frame. This handler sits in the connection's pipeline just after NIO's
/// WebSocket frame decoder and takes each complete text message (a frame, or a batch of them)
/// where it is read — decode, score, queue for storage (`SessionHub.take(message:session:)` is
/// synchronous and takes microseconds) —
/// and writes the answer at once; the answers of everything read in one socket read go out in
/// one flush (`channelReadComplete`).
///
/// It is put in place as the upgrade completes (`WebSocketUpgradeHandlers`), before any frame
/// is decoded, and holds every frame (and reads no more) until the route's task has attached
/// the session and calls `start`, which writes the session's hello and then takes the held
/// frames in the order they came. So frames from a client that does not wait for the hello
/// are taken in order too (when the handler was added by the route's task instead, frames
/// that came before it went the slow path and were taken after later ones: refused as out of
/// order).
///
/// A text message sent in fragments (RFC 6455 §5.4) is put together here and taken when its
/// last piece comes, in its place among the others (when fragments went the slow path, each
/// such message was taken after later ones and refused as out of order); one over
/// `maximumMessageBytes` closes the connection with 1009, as the slow path does.
///
/// Everything else passes on unchanged to the asynchronous path behind it (`StreamRoutes`):
/// control frames (ping, pong, close), binary messages, and every frame once the connection no
/// longer holds the session's stream (`StreamLink.release()`: replaced, token revoked, left),
/// so the rules for those stay in one place.
final class StreamFrameHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = WebSocketFrame
  typealias InboundOut = WebSocketFrame
  typealias OutboundIn = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private struct Stream {
    let hub: SessionHub
    let session: LiveSession
    let link: StreamLink
  }

  /// Nil until `start`.
  private var stream: Stream?
  /// Frames read before `start`, in order.
  private var held: [WebSocketFrame] = []
  /// The pieces so far of a text message sent in fragments.
  private var fragments: ByteBuffer?
  /// A binary message sent in fragments is under way: its pieces go on to the slow path.
  private var passingOn = false
  /// The largest message taken; a longer one closes the connection (1009).
  let maximumMessageBytes: Int
  private var closing = false
  /// A read the channel asked for before `start`, passed on then.
  private var readWanted = false
  private var wrote = false

  init(maximumMessageBytes: Int) {
    self.maximumMessageBytes = maximumMessageBytes
  }

  /// Channels whose upgrade request a stream route accepted: they get this handler when the
  /// upgrade completes.
  private static let expected = ChannelNotes<Bool>()

  /// Called by a stream route as it accepts the upgrade request on `channel`.
  static func expect(on channel: any Channel) {
    expected.set(true, on: channel)
  }

  /// True (once) if a stream route accepted `channel`'s upgrade.
  static func takeExpected(on channel: any Channel) -> Bool {
    expected.take(for: channel) != nil
  }

  /// Starts taking frames for `session` (on the event loop, once the session is attached to
  /// this connection): writes the hello, then takes what was held.
  func start(
    hub: SessionHub, session: LiveSession, link: StreamLink, context: ChannelHandlerContext
  ) {
    stream = Stream(hub: hub, session: session, link: link)
    write(ServerMessage.session(session.hello()).json, context: context)
    let frames = held
    held = []
    for frame in frames { take(frame, context: context) }
    if wrote {
      wrote = false
      context.flush()
    }
    if readWanted {
      readWanted = false
      context.read()
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let frame = unwrapInboundIn(data)
    guard stream != nil else {
      held.append(frame)
      return
    }
    take(frame, context: context)
  }

  private func take(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
    guard !closing else { return }
    guard let stream, !frame.opcode.isControlOpcode, frame.rsv1 == false, frame.rsv2 == false,
      frame.rsv3 == false, stream.link.holdsStream
    else {
      context.fireChannelRead(wrapInboundOut(frame))
      return
    }
    switch frame.opcode {
    case .text where fragments == nil && !passingOn:
      if frame.fin {
        take(String(buffer: frame.unmaskedData), stream: stream, context: context)
      } else {
        fragments = frame.unmaskedData
        checkSize(context: context)
      }
    case .continuation where fragments != nil:
      var data = frame.unmaskedData
      fragments?.writeBuffer(&data)
      checkSize(context: context)
      if frame.fin, let message = fragments, !closing {
        fragments = nil
        take(String(buffer: message), stream: stream, context: context)
      }
    case .continuation where passingOn:
      if frame.fin { passingOn = false }
      context.fireChannelRead(wrapInboundOut(frame))
    case .binary where fragments == nil && !passingOn:
      passingOn = !frame.fin
      context.fireChannelRead(wrapInboundOut(frame))
    default:
      // A new message before the fragmented one ended, or a continuation of nothing.
      close(.protocolError, "a message began before the last one ended", context: context)
    }
  }

  /// Closes the connection if the message being put together is over the limit.
  private func checkSize(context: ChannelHandlerContext) {
    guard let fragments, fragments.readableBytes > maximumMessageBytes else { return }
    self.fragments = nil
    close(
      .messageTooLarge, "a message of more than \(maximumMessageBytes) bytes", context: context)
  }

  private func close(
    _ code: WebSocketErrorCode, _ reason: String, context: ChannelHandlerContext
  ) {
    closing = true
    var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
    data.write(webSocketErrorCode: code)
    data.writeString(reason)
    let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }

  private func take(_ text: String, stream: Stream, context: ChannelHandlerContext) {
    let start = ContinuousClock.now
    for answer in stream.hub.take(
      message: text, session: stream.session, connection: stream.link.connection)
    {
      write(answer, context: context)
    }
    stream.hub.metrics.scoringLatency.record(ContinuousClock.now - start)
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    if wrote {
      wrote = false
      context.flush()
    }
    context.fireChannelReadComplete()
  }

  func read(context: ChannelHandlerContext) {
    // Until the session is attached, what was read waits here: read no more meanwhile.
    guard stream != nil else {
      readWanted = true
      return
    }
    context.read()
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
  /// The connection's id as the session knows it (`LiveSession.attachStream`).
  let connection: UUID

  init(connection: UUID) { self.connection = connection }

  var holdsStream: Bool { held.load(ordering: .acquiring) }

  func release() { held.store(false, ordering: .releasing) }
}
