import NIOCore
import NIOWebSocket

/// Closes a WebSocket connection whose client sends an unmasked frame.
///
/// RFC 6455 §5.1: a client masks every frame it sends, and a server that receives an unmasked
/// frame must close the connection (status 1002, protocol error). Masking keeps a hostile page
/// from making a browser write chosen bytes to an intermediary's cache; a client that does not
/// mask is not a WebSocket client. Sits in the pipeline just after NIO's frame decoder, before
/// anything reads a frame (`WebSocketUpgradeHandlers`).
final class MaskedFramesOnly: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = WebSocketFrame
  typealias InboundOut = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private var closing = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !closing else { return }
    let frame = unwrapInboundIn(data)
    guard frame.maskKey == nil else {
      context.fireChannelRead(data)
      return
    }
    closing = true
    var reason = context.channel.allocator.buffer(capacity: 32)
    reason.write(webSocketErrorCode: .protocolError)
    reason.writeString("client frames must be masked")
    let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: reason)
    context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }
}
