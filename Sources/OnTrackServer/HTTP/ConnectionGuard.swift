import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// What a connection may cost before the server cuts it off.
public struct ConnectionLimits: Sendable {
  /// Open connections at once; more are closed as they arrive.
  public var maximumConnections = 4096
  /// Open connections at once from one client address (0: no cap), so one client cannot take
  /// every connection; more from that address are closed as they arrive. Behind a proxy every
  /// connection comes from the proxy's address: turn this off there and cap per client in the
  /// proxy (`deploy/haproxy.cfg`).
  public var maximumConnectionsPerAddress = 256
  /// Seconds to send a request's line and headers (408 after).
  public var headerTimeout: Duration = .seconds(10)
  /// Longest request line (method, target, version), bytes (414 over it).
  public var maximumRequestLineBytes = 8 * 1024
  /// Largest header block, bytes (431 over it).
  public var maximumHeaderBytes = 32 * 1024
  /// Largest request body, bytes: a declared `Content-Length` over it is answered 413 at once,
  /// a chunked body over it when read.
  public var maximumBodyBytes = 16 * 1024 * 1024
  /// Longest pause in a request body (408 after, or a close once answered).
  public var bodyIdleTimeout: Duration = .seconds(10)
  /// Longest a request may take from its head to its last body byte (408 after): 16 MiB
  /// needs about 140 KB/s.
  public var bodyTimeout: Duration = .seconds(120)
  /// How long the rest of a request answered before its body was read (a 401 to a body still
  /// coming) may take to arrive, read and dropped, before the connection is closed; and how
  /// long a connection refused with 413 drops what still arrives (so the answer is not lost
  /// to a reset) before it is closed.
  public var lingerTimeout: Duration = .seconds(2)

  public init() {}
}

/// Wraps the HTTP/WebSocket child channel with the limits a server facing a network needs, in
/// the pipeline before Hummingbird sees a request: a connection cap, a deadline for the
/// request head and for its body (slow clients hold no connection for ever), 414, 431 and 413
/// for oversized request lines, headers and declared bodies, a close when the rest of a request answered
/// before its body was read does not arrive soon (Hummingbird would otherwise read a
/// never-ending body for ever), and
/// proper 401/403/404/409 answers for refused WebSocket upgrades
/// (Hummingbird's WebSocket upgrader answers every refusal with an empty 400; the route
/// remembers why it refused, `UpgradeRefusal`, and the guard writes that answer instead).
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
  typealias Value = Base.Value
  let base: Base
  let limits: ConnectionLimits
  let counter: ConnectionCounter

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    let address = ConnectionCounter.client(of: channel.remoteAddress)
    let (total, fromAddress) = counter.open(address: address)
    let perAddress = limits.maximumConnectionsPerAddress
    let refusal =
      total > limits.maximumConnections
      ? ("too many open", limits.maximumConnections)
      : perAddress > 0 && fromAddress > perAddress
        ? ("too many open from one address", perAddress) : nil
    if let (reason, limit) = refusal {
      counter.close(address: address)
      // A line a second at most: each refused connection would otherwise be a log line.
      if let heldBack = counter.refusalLog.admit(reason) {
        logger.warning(
          "connection refused: \(reason)",
          metadata: ["limit": "\(limit)", "address": "\(address)", "heldBack": "\(heldBack)"])
      }
      channel.close(promise: nil)
      return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
    }
    let counter = self.counter
    channel.closeFuture.whenComplete { _ in counter.close(address: address) }
    let limits = self.limits
    return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
      let pipeline = channel.pipeline.syncOperations
      let watch = RequestLineWatch()
      // The raw watch goes just before the HTTP decoder (after TLS, if any, so it sees plain
      // text); the request guard right after it, so it sees each request head and every
      // response the server writes.
      let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
      try pipeline.addHandler(watch, position: .before(decoder))
      try pipeline.addHandler(
        RequestGuard(limits: limits, watch: watch), position: .after(decoder))
      try pipeline.addHandler(WebSocketUpgradeHandlers(logger: logger))
      return value
    }
  }

  func handle(value: Value, logger: Logger) async {
    await base.handle(value: value, logger: logger)
  }
}

/// The guard cut a request off before its body ended (a deadline, or bytes that are not HTTP):
/// the application's read of the body fails with this.
struct RequestCutOff: Error, CustomStringConvertible {
  var description: String { "the request was cut off before its body ended" }
}

/// Counts open connections, in all and per client address.
final class ConnectionCounter: Sendable {
  private let count = Atomic<Int>(0)
  private let byAddress = Mutex<[String: Int]>([:])
  /// Throttles the log lines of refused connections.
  let refusalLog = LogThrottle()

  /// Counts one more from `address`; returns the new counts, in all and from that address.
  func open(address: String) -> (total: Int, fromAddress: Int) {
    let total = count.add(1, ordering: .relaxed).newValue
    let fromAddress = byAddress.withLock { counts in
      let n = counts[address, default: 0] + 1
      counts[address] = n
      return n
    }
    return (total, fromAddress)
  }

  func close(address: String) {
    count.subtract(1, ordering: .relaxed)
    byAddress.withLock { counts in
      let n = counts[address, default: 1] - 1
      counts[address] = n > 0 ? n : nil
    }
  }

  var current: Int { count.load(ordering: .relaxed) }

  /// The client a connection is counted against: its IPv4 address (an IPv4-mapped IPv6
  /// address counts as the IPv4 one), or its IPv6 /64 network — one host is usually given a
  /// whole /64 and may use any address in it.
  static func client(of address: SocketAddress?) -> String {
    guard let address else { return "" }
    if case .v6(let v6) = address {
      let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
      let mapped =
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 }
        && bytes[10] == 0xFF && bytes[11] == 0xFF
      if mapped { return bytes[12..<16].map(String.init).joined(separator: ".") }
      if bytes.count == 16 {
        let groups = stride(from: 0, to: 8, by: 2).map {
          String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
        }
        return groups.joined(separator: ":") + "::/64"
      }
    }
    return address.ipAddress ?? ""
  }

  /// Open connections from `address`.
  func current(from address: String) -> Int { byAddress.withLock { $0[address] ?? 0 } }
}

/// The refusal a WebSocket route gave a connection's upgrade request, so the guard can answer
/// with it (the upgrader itself only says 400).
enum UpgradeRefusal {
  private static let refusals = ChannelNotes<APIError>()

  static func remember(_ error: APIError, on channel: any Channel) {
    refusals.set(error, on: channel)
  }

  static func take(for channel: any Channel) -> APIError? {
    refusals.take(for: channel)
  }
}

/// Watches raw request bytes: when a request's first byte arrives (so its head has a
/// deadline) and where its request line ends, so an overflow the HTTP decoder reports can be
/// told apart: still in the request line (414) or in the headers (431).
final class RequestLineWatch: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
  // @unchecked: used only on its channel's event loop.
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  /// True once bytes of the current request arrived.
  private(set) var started = false
  /// True once the current request's line ended (a line feed seen since it began).
  private(set) var lineEnded = false
  /// False after a WebSocket upgrade: the bytes are frames, not requests.
  var active = true
  /// Called when the first byte of a request arrives.
  var onRequestStart: (() -> Void)?

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if active && !lineEnded {
      let buffer = unwrapInboundIn(data)
      if !started && buffer.readableBytes > 0 {
        started = true
        onRequestStart?()
      }
      if buffer.readableBytesView.contains(UInt8(ascii: "\n")) { lineEnded = true }
    }
    context.fireChannelRead(data)
  }

  /// The request ended; the next one begins with its first byte.
  func reset() {
    started = false
    lineEnded = false
  }
}

/// Enforces the request-head limits and rewrites refused WebSocket upgrades (see
/// `GuardedChannel`).
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
  // @unchecked: used only on its channel's event loop.
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  let limits: ConnectionLimits
  let watch: RequestLineWatch
  private var deadline: Scheduled<Void>?
  /// A WebSocket upgrade is under way: pass everything through untouched.
  private var upgrading = false
  /// A refused request was answered; drop the rest of it.
  private var refused = false
  /// The refusal that replaces the upgrader's empty 400, while it is being written.
  private var rewrite: APIError?
  /// The 101 went out: leave the pipeline once it is flushed.
  private var upgraded = false
  /// A request's head arrived and its end has not.
  private var requestOpen = false
  /// Requests whose end arrived, and answers whose end was written, on this connection: the
  /// answer being written is to request number `answered`, complete if `ended > answered`.
  private var ended = 0
  private var answered = 0
  /// When the open request's body must be complete.
  private var bodyEnd: NIODeadline = .distantFuture
  private var bodyDeadline: Scheduled<Void>?
  /// The answer went out before the request ended (its body unread, as for a 401): what is
  /// left of the body must arrive within the linger time, or the connection is closed.
  private var draining = false
  /// Answered and closing: read and drop until the linger ends.
  private var lingering = false
  /// An answer's head was written and its end was not yet.
  private var answering = false
  /// The bytes stopped being HTTP (a parse error): the connection closes once the answers
  /// still owed are written.
  private var closeWhenAnswered = false
  /// A refusal (408, 413, 414, 431) that waits for the answers still owed to requests
  /// pipelined before the refused one: written after them, so none is cut short or
  /// interleaved with it. Nothing more is read meanwhile.
  private var pendingRefusal: (status: HTTPResponseStatus, message: String, linger: Bool)?

  init(limits: ConnectionLimits, watch: RequestLineWatch) {
    self.limits = limits
    self.watch = watch
  }

  func handlerAdded(context: ChannelHandlerContext) {
    // A new connection must start a request within the deadline; after that, each request's
    // head has the deadline from its first byte (between requests, the idle timeout rules).
    armDeadline(context: context)
    watch.onRequestStart = { [weak self] in self?.armDeadline(context: context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    cancelDeadlines()
    watch.onRequestStart = nil
  }

  /// Cancels the head and body deadlines.
  private func cancelDeadlines() {
    deadline?.cancel()
    deadline = nil
    bodyDeadline?.cancel()
    bodyDeadline = nil
  }

  private func armDeadline(context: ChannelHandlerContext) {
    deadline?.cancel()
    guard !closeWhenAnswered, pendingRefusal == nil else { return }
    deadline = context.eventLoop.assumeIsolated().scheduleTask(
      in: TimeAmount(limits.headerTimeout)
    ) { [self] in
      if watch.started {
        refuse(context: context, status: .requestTimeout, message: "the request head took too long")
      } else {
        end(context)
      }
    }
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if upgrading {
      context.fireChannelRead(data)
      return
    }
    if lingering || pendingRefusal != nil { return }
    let part = unwrapInboundIn(data)
    switch part {
    case .head(let head):
      deadline?.cancel()
      deadline = nil
      if head.uri.utf8.count > limits.maximumRequestLineBytes {
        refuse(context: context, status: .uriTooLong, message: "the request line is too long")
        return
      }
      let headerBytes = head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
      if headerBytes > limits.maximumHeaderBytes {
        refuse(
          context: context, status: .requestHeaderFieldsTooLarge,
          message: "the request headers are too large")
        return
      }
      if let declared = head.headers.first(name: "content-length"),
        let length = Int(declared), length > limits.maximumBodyBytes
      {
        // The client is likely sending the body already: drop it for a while, so the answer
        // is not lost to a reset.
        refuse(
          context: context, status: .payloadTooLarge,
          message: "the request body is larger than \(limits.maximumBodyBytes) bytes",
          linger: true)
        return
      }
      refused = false
      if head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
        upgrading = true
      } else {
        requestOpen = true
        bodyEnd = .now() + TimeAmount(limits.bodyTimeout)
        armBodyDeadline(context: context)
      }
      context.fireChannelRead(data)
    case .body, .end:
      guard !refused else { return }
      if case .end = part {
        watch.reset()
        requestOpen = false
        draining = false
        ended += 1
        bodyDeadline?.cancel()
        bodyDeadline = nil
      } else {
        armBodyDeadline(context: context)
      }
      context.fireChannelRead(data)
    }
  }

  /// The open request's next body byte is due within the idle timeout, and its last by
  /// `bodyEnd`: else 408 (or, once answered, a close).
  private func armBodyDeadline(context: ChannelHandlerContext) {
    bodyDeadline?.cancel()
    let due = min(.now() + TimeAmount(limits.bodyIdleTimeout), bodyEnd)
    bodyDeadline = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [self] in
      bodyDeadline = nil
      guard requestOpen, !upgrading else { return }
      if draining || lingering {
        end(context)
      } else {
        refuse(context: context, status: .requestTimeout, message: "the request body took too long")
      }
    }
  }

  /// The answer to a request whose body is still coming has been written: drop what else
  /// arrives for a short while, then close.
  private func linger(context: ChannelHandlerContext) {
    lingering = true
    bodyDeadline?.cancel()
    bodyDeadline = context.eventLoop.assumeIsolated().scheduleTask(
      in: TimeAmount(limits.lingerTimeout)
    ) {
      self.end(context)
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if refused || closeWhenAnswered || lingering || pendingRefusal != nil {
      // The decoder reports every byte after its first error; the connection is ending.
      return
    }
    if let error = error as? HTTPParserError, error != .headerOverflow {
      malformed(context: context, error: error)
      return
    }
    if let error = error as? HTTPParserError, error == .headerOverflow {
      if watch.lineEnded {
        refuse(
          context: context, status: .requestHeaderFieldsTooLarge,
          message: "the request headers are too large")
      } else {
        refuse(context: context, status: .uriTooLong, message: "the request line is too long")
      }
      return
    }
    context.fireErrorCaught(error)
  }

  /// The request bytes are not HTTP: 400 naming the parser's complaint, then close; if answers
  /// are still owed on this connection (pipelined requests, or the open request answered
  /// before its malformed body), they are written first and the connection closes after them.
  private func malformed(context: ChannelHandlerContext, error: HTTPParserError) {
    cancelDeadlines()
    if requestOpen {
      // The application is reading this request's body: it must fail, not end cleanly.
      requestOpen = false
      context.fireErrorCaught(error)
    }
    if answering || ended > answered || draining {
      closeWhenAnswered = true
      // Nothing more owed: keep the connection a moment (dropping what arrives) so what was
      // written reaches the client before the close.
      if !answering && ended <= answered { linger(context: context) }
      return
    }
    // Linger: a client still sending would otherwise get a reset that loses the answer.
    refuse(
      context: context, status: .badRequest, message: "the request is not valid HTTP (\(error))",
      linger: true)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if refused && !upgrading {
      // The guard answered this request itself; the application's late answer has no place.
      promise?.fail(ChannelError.ioOnClosedChannel)
      return
    }
    let part = unwrapOutboundIn(data)
    if !upgrading {
      switch part {
      case .head: answering = true
      case .end: answering = false
      case .body: break
      }
    }
    switch part {
    case .head(let head) where upgrading:
      if head.status == .switchingProtocols {
        // Upgraded: from now on the bytes are WebSocket frames.
        watch.active = false
        upgraded = true
        context.write(data, promise: promise)
        return
      }
      upgrading = false
      if head.status == .badRequest, let refusal = UpgradeRefusal.take(for: context.channel) {
        rewrite = refusal
        let body = Self.body(refusal.message)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: "\(body.readableBytes)")
        headers.add(name: "connection", value: "close")
        if refusal.status == .unauthorized {
          headers.add(name: "www-authenticate", value: "Bearer")
        }
        let rewritten = HTTPResponseHead(
          version: head.version, status: HTTPResponseStatus(statusCode: refusal.status.code),
          headers: headers)
        context.write(wrapOutboundOut(.head(rewritten)), promise: promise)
        return
      }
      context.write(data, promise: promise)
    case .head where requestOpen && ended <= answered && !refused:
      // Answered before the request ended (its body not read): the server reads and drops the
      // rest so the connection can carry the next request, but only for the linger time.
      draining = true
      bodyEnd = min(bodyEnd, .now() + TimeAmount(limits.lingerTimeout))
      armBodyDeadline(context: context)
      context.write(data, promise: promise)
    case .end where rewrite != nil:
      answered += 1
      if let refusal = rewrite {
        rewrite = nil
        context.write(wrapOutboundOut(.body(.byteBuffer(Self.body(refusal.message)))), promise: nil)
      }
      context.write(data, promise: promise)
    case .end:
      answered += 1
      if let pending = pendingRefusal, answered >= ended {
        pendingRefusal = nil
        context.write(data, promise: promise)
        refuse(
          context: context, status: pending.status, message: pending.message,
          linger: pending.linger)
        return
      }
      if closeWhenAnswered && answered >= ended {
        let written = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: written)
        written.futureResult.assumeIsolated().whenComplete { [self] _ in self.end(context) }
        return
      }
      context.write(data, promise: promise)
    default:
      context.write(data, promise: promise)
    }
  }

  func flush(context: ChannelHandlerContext) {
    context.flush()
    if upgraded {
      upgraded = false
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
  }

  /// Answers with `status` and closes the connection (after the linger time, if `linger`);
  /// after the answers still owed to earlier requests, if any.
  private func refuse(
    context: ChannelHandlerContext, status: HTTPResponseStatus, message: String,
    linger: Bool = false
  ) {
    cancelDeadlines()
    if answering || ended > answered {
      pendingRefusal = (status, message, linger)
      return
    }
    refused = true
    let body = Self.body(message)
    var headers = HTTPHeaders()
    headers.add(name: "content-type", value: "application/json; charset=utf-8")
    headers.add(name: "content-length", value: "\(body.readableBytes)")
    headers.add(name: "connection", value: "close")
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
      promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in
      if linger {
        self.linger(context: context)
      } else {
        end(context)
      }
    }
  }

  /// Closes the connection. A request whose body the application is still reading is failed
  /// first (`RequestCutOff`), so the application never takes what it read for the whole body;
  /// with no request open, the handlers after the guard (the WebSocket upgrade handler still
  /// waiting for a first request) are told the input closed, so a connection the guard cut off
  /// is not logged as a server error.
  private func end(_ context: ChannelHandlerContext) {
    if requestOpen && !upgrading {
      requestOpen = false
      context.fireErrorCaught(RequestCutOff())
    } else if !upgrading {
      context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }
    context.close(promise: nil)
  }

  static func body(_ message: String) -> ByteBuffer {
    let escaped = message.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "\"", with: "\\\"")
    return ByteBuffer(string: #"{"error":{"message":""# + escaped + #""}}"#)
  }
}
