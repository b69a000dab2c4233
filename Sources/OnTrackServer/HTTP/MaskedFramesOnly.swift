import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Closes a WebSocket connection whose client sends an unmasked frame.
///
/// RFC 6455 §5.1: a client masks every frame it sends, and a server that receives an unmasked
/// frame must close the connection (status 1002, protocol error). Masking keeps a hostile page
/// from making a browser write chosen bytes to an intermediary's cache; a client that does not
/// mask is not a WebSocket client. Sits in the pipeline just after NIO's frame decoder, before
/// anything reads a frame.
final class MaskedFramesOnly: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = WebSocketFrame
  typealias InboundOut = WebSocketFrame
  typealias OutboundOut = WebSocketFrame

  private var closing = false

  /// Adds, at the end of a new connection's pipeline (after NIO's HTTP upgrade handler), a
  /// handler that puts the check just after the WebSocket frame decoder the moment an upgrade
  /// completes: before the bytes that arrived with the upgrade request are decoded, so no
  /// frame passes unchecked.
  static func installOnUpgrade(
    _ pipeline: ChannelPipeline.SynchronousOperations, logger: Logger
  ) throws {
    try pipeline.addHandler(Installer(logger: logger))
  }

  /// Waits for NIO's `upgradeComplete` event, installs the check, and leaves the pipeline.
  final class Installer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
      if case .upgradeComplete = event as? HTTPServerUpgradeEvents {
        let pipeline = context.pipeline.syncOperations
        do {
          let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
          try pipeline.addHandler(MaskedFramesOnly(), position: .after(decoder))
        } catch {
          logger.error(
            "WebSocket mask check not installed; closing", metadata: ["error": "\(error)"])
          context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
        pipeline.removeHandler(context: context, promise: nil)
        return
      }
      context.fireUserInboundEventTriggered(event)
    }
  }

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
