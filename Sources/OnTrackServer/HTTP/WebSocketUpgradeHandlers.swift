import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Puts a WebSocket connection's own handlers in its pipeline the moment its upgrade completes,
/// before the bytes that came with the upgrade request are decoded, so no frame passes before
/// them: the mask check (`MaskedFramesOnly`) on every route, and on a stream route the fast
/// path that takes frames on the event loop (`StreamFrameHandler`), holding them until the
/// route's task has attached the session.
///
/// Added at the end of a new connection's pipeline (after NIO's HTTP upgrade handler) by
/// `GuardedChannel`; it leaves the pipeline once the upgrade is done.
final class WebSocketUpgradeHandlers: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = NIOAny
  let logger: Logger

  init(logger: Logger) { self.logger = logger }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if case .upgradeComplete = event as? HTTPServerUpgradeEvents {
      let pipeline = context.pipeline.syncOperations
      do {
        let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
        let maskCheck = MaskedFramesOnly()
        try pipeline.addHandler(maskCheck, position: .after(decoder))
        if StreamFrameHandler.takeExpected(on: context.channel) {
          try pipeline.addHandler(
            StreamFrameHandler(maximumMessageBytes: StreamRoutes.maximumMessageBytes),
            position: .after(maskCheck))
        }
      } catch {
        logger.error(
          "WebSocket handlers not installed; closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
      }
      context.fireUserInboundEventTriggered(event)
      pipeline.removeHandler(context: context, promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }
}
