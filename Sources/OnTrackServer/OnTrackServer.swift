import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import OnTrackFormats
import OnTrackKinematics
import ServiceLifecycle

/// How to run a server.
public struct ServerConfiguration: Sendable {
  /// Address to listen on (HTTP, WebSocket, Axis Neuron, VMC). Loopback by default.
  public var host = "127.0.0.1"
  /// HTTP and WebSocket port; 0 picks a free one.
  public var port = 8080
  /// Folder of the SQLite store.
  public var dataFolder: URL
  /// Exercises to seed an empty library with (`Assets/exercises`).
  public var seedExercises: URL?
  /// Axis Neuron BVH broadcast (TCP) port, if any.
  public var axisPort: Int?
  /// The skeleton Axis Neuron frames are declared on.
  public var axisSkeleton: Skeleton = DeviceRigs.perceptionNeuron(displacement: false)
  /// Frames per second of the Axis Neuron broadcast.
  public var axisFrameRate = 60.0
  /// VMC (OSC over UDP) port, if any.
  public var vmcPort: Int?
  /// Largest accepted JSON frame, bytes.
  public var maximumFrameBytes = 64 * 1024
  /// Open sessions unused this long leave memory (and return from the store when used).
  public var idleSessionTimeout: Duration = .seconds(30 * 60)
  /// How long a token's identity is trusted before the store is read again: the longest a
  /// token revoked on disk (`ontrack token revoke`) keeps working. Revoking through the API
  /// acts at once.
  public var tokenRecheckInterval: Duration = IdentityCache.defaultLifetime
  public var logger = Logger(label: "ontrack.server")

  public init(dataFolder: URL) {
    self.dataFolder = dataFolder
  }

  /// The default data folder: `$XDG_DATA_HOME/ontrack`, else `~/.local/share/ontrack`.
  public static var defaultDataFolder: URL {
    let environment = ProcessInfo.processInfo.environment
    if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
      return URL(fileURLWithPath: xdg).appendingPathComponent("ontrack")
    }
    return FileManager.default.homeDirectoryForCurrentUser
      .appendingPathComponent(".local/share/ontrack")
  }
}

/// The OnTrack server: HTTP API and WebSockets (Hummingbird), the Axis Neuron and VMC
/// listeners (SwiftNIO), the SQLite store (GRDB) and its frame writer.
///
/// ```swift
/// let server = try OnTrackServer(configuration: configuration)
/// try await server.run()   // until SIGINT or SIGTERM
/// ```
public final class OnTrackServer: Sendable {
  public let configuration: ServerConfiguration
  public let store: Store
  public let metrics: ServerMetrics
  public let hub: SessionHub
  let identities: IdentityCache
  let axis: AxisNeuronListener?
  let vmc: VMCListener?

  /// Opens the store, seeds the exercise library if it is empty, and restores open sessions.
  public init(configuration: ServerConfiguration) throws {
    self.configuration = configuration
    let logger = configuration.logger
    store = try Store(folder: configuration.dataFolder)
    metrics = ServerMetrics()
    identities = IdentityCache(store: store, lifetime: configuration.tokenRecheckInterval)
    let library = ExerciseLibrary(store: store)
    if let seed = configuration.seedExercises {
      let added = try library.seed(from: seed)
      if added > 0 { logger.info("exercise library seeded", metadata: ["exercises": "\(added)"]) }
    }
    let writer = FrameWriter(store: store, logger: logger)
    writer.start()
    hub = SessionHub(
      store: store, library: library, writer: writer, metrics: metrics, logger: logger,
      maximumFrameBytes: configuration.maximumFrameBytes)
    let hub = self.hub
    axis = configuration.axisPort.map {
      AxisNeuronListener(
        hub: hub, host: configuration.host, port: $0, skeleton: configuration.axisSkeleton,
        frameRate: configuration.axisFrameRate, logger: logger)
    }
    vmc = configuration.vmcPort.map {
      VMCListener(hub: hub, host: configuration.host, port: $0, logger: logger)
    }
    let restored = try hub.restoreOpenSessions()
    if restored > 0 { logger.info("open sessions restored", metadata: ["sessions": "\(restored)"]) }
  }

  /// The router of every HTTP and WebSocket route.
  public func router() -> Router<ServerContext> {
    let router = Router(context: ServerContext.self)
    router.add(middleware: RequestLogger())
    router.add(middleware: TokenAuthenticator(identities: identities))
    router.get("health") { _, _ -> HealthResponse in
      HealthResponse(
        status: "ok", openSessions: self.hub.openSessionCount,
        connectedSessions: self.hub.connectedSessionCount,
        exercises: (try? self.store.exercises().count) ?? 0)
    }
    router.get("metrics") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition())))
    }
    ExerciseRoutes(library: hub.library, hub: hub).add(to: router)
    SessionRoutes(hub: hub, identities: identities).add(to: router)
    StreamRoutes(hub: hub, identities: identities).add(to: router)
    return router
  }

  /// The Hummingbird application (for `run()` and for in-process tests).
  public func application(
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
  ) -> some ApplicationProtocol {
    let router = router()
    var services: [any Service] = [
      WriterService(writer: hub.writer),
      SessionJanitor(hub: hub, timeout: configuration.idleSessionTimeout),
    ]
    if let axis { services.append(axis) }
    if let vmc { services.append(vmc) }
    return Application(
      router: router,
      server: .http1WebSocketUpgrade(
        webSocketRouter: router,
        configuration: .init(ws: .init(maxFrameSize: StreamRoutes.maximumMessageBytes))),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port),
        serverName: "OnTrack"),
      services: services,
      onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
      logger: configuration.logger)
  }

  /// Runs until SIGINT or SIGTERM, then drains the frame writer.
  public func run(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
  {
    try await application(onServerRunning: onServerRunning).runService()
  }

  /// The TCP port the Axis Neuron listener bound, once it has.
  public var axisPort: Int? { axis?.boundPort.withLock { $0 } }

  /// The UDP port the VMC listener bound, once it has.
  public var vmcPort: Int? { vmc?.boundPort.withLock { $0 } }

  struct HealthResponse: ResponseCodable {
    var status: String
    var openSessions: Int
    var connectedSessions: Int
    var exercises: Int
  }
}

/// Drains the frame writer when the server shuts down.
struct WriterService: Service {
  let writer: FrameWriter

  func run() async throws {
    try? await gracefulShutdown()
    await writer.flush()
  }
}

/// Puts idle sessions to sleep once a minute, so memory follows the sessions in use.
struct SessionJanitor: Service {
  let hub: SessionHub
  let timeout: Duration

  func run() async throws {
    do {
      try await cancelWhenGracefulShutdown {
        while true {
          try await Task.sleep(for: .seconds(60))
          let slept = hub.sleepIdleSessions(timeout: timeout)
          if slept > 0 {
            hub.logger.info("idle sessions put to sleep", metadata: ["sessions": "\(slept)"])
          }
        }
      }
    } catch is CancellationError {
      return
    }
  }
}
