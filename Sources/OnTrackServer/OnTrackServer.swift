import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOSSL
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import ServiceLifecycle

/// The OnTrack server: HTTP API and WebSockets (Hummingbird, optionally over TLS), the Axis
/// Neuron and VMC listeners (SwiftNIO), the store and its frame writer.
///
/// ```swift
/// let server = try await OnTrackServer(configuration: configuration)
/// try await server.run()   // until SIGINT or SIGTERM
/// ```
public final class OnTrackServer: Sendable {
  public let configuration: ServerConfiguration
  public let store: any ServerStore
  public let metrics: ServerMetrics
  public let hub: SessionHub
  let identities: IdentityCache
  let audit: AuditLog
  let axis: AxisNeuronListener?
  let vmc: VMCListener?
  let connections = ConnectionCounter()

  /// Opens the store (`store`, or PostgreSQL at `configuration.postgresURL`, or SQLite in the
  /// data folder), adds the bundled
  /// exercises it lacks, and starts the frame writer. Open sessions are not loaded: each
  /// returns to memory when it is used.
  public init(configuration: ServerConfiguration, store given: (any ServerStore)? = nil)
    async throws
  {
    self.configuration = configuration
    let logger = configuration.logger
    let store: any ServerStore
    if let given {
      store = given
    } else if let url = configuration.postgresURL {
      store = try await PostgresStore(url: url, logger: logger)
    } else {
      store = try SQLiteStore(folder: configuration.dataFolder, options: configuration.sqlite)
    }
    self.store = store
    metrics = ServerMetrics()
    audit = AuditLog(logger: configuration.auditLogger)
    identities = IdentityCache(store: store, lifetime: configuration.tokenRecheckInterval)
    let library = ExerciseLibrary(store: store)
    if let seed = configuration.seedExercises {
      let added = try await library.seed(from: seed)
      if added > 0 { logger.info("bundled exercises added", metadata: ["exercises": "\(added)"]) }
    } else {
      logger.warning(
        "no bundled exercise library found (set ONTRACK_HOME to the folder holding Assets/)")
    }
    let storage = StorageGuard(
      folder: configuration.dataFolder, floor: configuration.limits.minimumFreeDiskBytes,
      measure: configuration.freeDiskBytes)
    hub = SessionHub(
      store: store, library: library, metrics: metrics, logger: logger, audit: audit,
      limits: configuration.limits, storage: storage,
      holder: configuration.serverName
        ?? (store is SQLiteStore
          ? "local"
          : "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"))
    let hub = self.hub
    axis = configuration.axisPort.map {
      AxisNeuronListener(
        hub: hub, host: configuration.deviceHost, port: $0, skeleton: configuration.axisSkeleton,
        frameRate: configuration.axisFrameRate, logger: logger)
    }
    vmc = configuration.vmcPort.map {
      VMCListener(hub: hub, host: configuration.deviceHost, port: $0, logger: logger)
    }
  }

  /// The router of every HTTP and WebSocket route.
  public func router() -> Router<ServerContext> {
    let router = Router(context: ServerContext.self)
    router.add(middleware: RequestLogger())
    router.add(middleware: ErrorMapper())
    router.add(
      middleware: TokenAuthenticator(identities: identities, metrics: metrics, audit: audit))
    router.get("health") { _, _ -> HealthStatus in
      HealthStatus(
        status: "ok", openSessions: self.hub.openSessionCount,
        connectedSessions: self.hub.connectedSessionCount,
        exercises: (try? await self.store.exerciseCount()) ?? 0,
        storageWritable: !self.hub.writer.isFailing && !self.hub.storage.isBelowFloor)
    }
    router.get("metrics") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
    }
    ExerciseRoutes(library: hub.library, hub: hub).add(to: router)
    let programmes = ProgrammeBook(store: store, library: hub.library)
    SessionRoutes(hub: hub, programmes: programmes).add(to: router)
    ProgrammeRoutes(book: programmes, audit: hub.audit).add(to: router)
    DashboardRoutes(folder: configuration.dashboardFolder).add(to: router)
    TokenRoutes(hub: hub, identities: identities).add(to: router)
    StreamRoutes(hub: hub, identities: identities).add(to: router)
    return router
  }

  /// The HTTP/1.1 + WebSocket server, behind the connection guard, over TLS if configured.
  func serverBuilder(router: Router<ServerContext>) throws -> HTTPServerBuilder {
    let limits = configuration.limits
    let counter = connections
    let webSocketResponder = router.buildResponder()
    let plain = HTTPServerBuilder { responder in
      let upgrade = HTTP1WebSocketUpgradeChannel(
        responder: responder, webSocketResponder: webSocketResponder,
        configuration: .init(
          http1: .init(idleTimeout: .nanoseconds(Int64(limits.httpIdleTimeout.seconds * 1e9))),
          ws: .init(maxFrameSize: StreamRoutes.maximumMessageBytes)))
      return GuardedChannel(base: upgrade, limits: limits.connections, counter: counter)
    }
    guard let tls = configuration.tls else { return plain }
    let certificates: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    do {
      certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate.path)
      key = try NIOSSLPrivateKey(file: tls.key.path, format: .pem)
    } catch {
      throw ServerStartError.tls(
        "cannot read the TLS certificate \(tls.certificate.path) or key \(tls.key.path): \(error)")
    }
    let settings = TLSConfiguration.makeServerConfiguration(
      certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key))
    return try .tls(plain, tlsConfiguration: settings)
  }

  /// The Hummingbird application (for `run()` and for in-process tests).
  public func application(
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) throws -> some ApplicationProtocol {
    let router = router()
    var services: [any Service] = [
      WriterService(writer: hub.writer, store: store, logger: configuration.logger),
      SessionJanitor(hub: hub, limits: configuration.limits),
    ]
    if let axis { services.append(axis) }
    if let vmc { services.append(vmc) }
    return Application(
      router: router,
      server: try serverBuilder(router: router),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port),
        serverName: "OnTrack"),
      services: services,
      onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
      logger: configuration.logger)
  }

  /// Runs until SIGINT or SIGTERM, then drains the frame writer and checkpoints the store.
  public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
  {
    try await application(onServerRunning: onServerRunning).runService()
  }

  /// The TCP port the Axis Neuron listener bound, once it has.
  public var axisPort: Int? { axis?.boundPort.withLock { $0 } }

  /// The UDP port the VMC listener bound, once it has.
  public var vmcPort: Int? { vmc?.boundPort.withLock { $0 } }
}

/// Why the server could not start.
public enum ServerStartError: Error, CustomStringConvertible {
  case tls(String)

  public var description: String {
    switch self {
    case .tls(let message): message
    }
  }
}

/// Drains the frame writer and checkpoints the store when the server shuts down.
struct WriterService: Service {
  let writer: FrameWriter
  let store: any ServerStore
  let logger: Logger

  func run() async throws {
    try? await gracefulShutdown()
    await writer.stop()
    do {
      try await store.close()
    } catch {
      logger.warning("could not checkpoint the store", metadata: ["error": "\(error)"])
    }
  }
}

/// Housekeeping every few seconds: measures free disk space, puts idle sessions to sleep
/// (memory follows the sessions in use), finishes abandoned ones, updates the gauges.
struct SessionJanitor: Service {
  let hub: SessionHub
  let limits: ServerLimits

  func run() async throws {
    do {
      try await cancelWhenGracefulShutdown {
        var ticks = 0
        while true {
          try await Task.sleep(for: .seconds(2))
          ticks += 1
          hub.storage.refresh()
          hub.metrics.frameBacklog.set(Double(hub.writer.backlogCount))
          hub.metrics.storageFailing.set(Double(hub.writer.isFailing ? 1 : 0))
          await hub.renewLeases()
          guard ticks % 5 == 0 else { continue }
          // A session nobody streams to or watches leaves memory (and gives up its lease, so
          // that another server may take it when the balancer sends its client there).
          let slept = hub.sleepIdleSessions(
            timeout: min(limits.idleSessionTimeout, limits.sessionLease * 3))
          if slept > 0 {
            hub.logger.info("idle sessions put to sleep", metadata: ["sessions": "\(slept)"])
          }
          guard ticks % 30 == 0 else { continue }
          let finished = await hub.finishAbandonedSessions(age: limits.abandonedSessionAge)
          if finished > 0 {
            hub.logger.info("abandoned sessions finished", metadata: ["sessions": "\(finished)"])
          }
        }
      }
    } catch is CancellationError {
      return
    }
  }
}
