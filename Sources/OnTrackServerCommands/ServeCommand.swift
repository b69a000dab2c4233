import ArgumentParser
import Foundation
import Logging
import OnTrackFormats
import OnTrackKinematics
import OnTrackServer

extension Logger.Level: @retroactive ExpressibleByArgument {}

public struct ServeCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run the server: live sessions over WebSocket, Axis Neuron (TCP) and VMC (UDP).",
    discussion: """
      HTTP API and WebSockets on --host:--port (HTTPS and WSS with --tls-cert and --tls-key); \
      the Axis Neuron BVH broadcast on --axis-port (TCP, frames '<index> <name> v1 … vn ||' on \
      the --axis-skeleton rig) and VMC/OSC on --vmc-port (UDP), both on --device-host \
      (loopback unless set: devices pair with a session by a code from \
      POST /v1/sessions/ID/pairing). Frames are stored in an SQLite database (WAL) in --data, \
      or in PostgreSQL with --store postgres://USER@HOST/DB, \
      made private to this user; the bundled exercises are added to the library. Stops on \
      SIGINT or SIGTERM after storing every frame received. The limits are described in \
      SECURITY.md. Create a token first with `ontrack token create`.
      """)

  @OptionGroup var dataOptions: DataOptions

  @Option(
    help: ArgumentHelp(
      "A configuration file (JSON): every setting below by its key (docs/configuration.md). Flags win over ONTRACK_* environment variables, which win over the file.",
      valueName: "file"))
  var config: String?

  @Option(help: "Address of the HTTP listener (loopback by default). [http.host]")
  var host: String?

  @Option(help: "HTTP and WebSocket port (0: any free port; default 8080). [http.port]")
  var port: Int?

  @Option(
    help: "Address of the Axis Neuron and VMC listeners (loopback by default). [devices.host]")
  var deviceHost: String?

  @Option(
    help: "Axis Neuron BVH broadcast TCP port (0: any free port; default 7001). [devices.axisPort]")
  var axisPort: Int?

  @Flag(help: "Do not listen for Axis Neuron. [devices.axis: false]")
  var noAxis = false

  @Option(
    help:
      "The Axis Neuron skeleton: perception-neuron (180 values, the default), perception-neuron-displacement (354), or a BVH file. [devices.axisSkeleton]"
  )
  var axisSkeleton: String?

  @Option(
    help:
      "Frames per second of the Axis Neuron broadcast (it sends no clock; default 60). [devices.axisRate]"
  )
  var axisRate: Double?

  @Option(help: "VMC protocol UDP port (0: any free port; default 39539). [devices.vmcPort]")
  var vmcPort: Int?

  @Flag(help: "Do not listen for VMC. [devices.vmc: false]")
  var noVmc = false

  @Option(help: "A PEM certificate (chain) for HTTPS and WSS. [tls.certificate]")
  var tlsCert: String?

  @Option(help: "The PEM private key of --tls-cert. [tls.key]")
  var tlsKey: String?

  @Option(
    help: "The bundled exercises (default: Assets/exercises found beside the program). [exercises]")
  var exercises: String?

  @Option(help: "Largest accepted JSON frame, bytes (default 65536). [limits.maxFrameBytes]")
  var maxFrameBytes: Int?

  @Option(
    help:
      "Sessions one patient may have open at once (default \(ServerLimits().maximumOpenSessionsPerPatient)). [limits.maxSessionsPerPatient]"
  )
  var maxSessionsPerPatient: Int?

  @Option(
    help:
      "Sessions open at once on the server (default \(ServerLimits().maximumOpenSessions)). [limits.maxOpenSessions]"
  )
  var maxOpenSessions: Int?

  @Option(
    help:
      "Viewers (/watch connections) one session may have at once (default \(ServerLimits().maximumWatchersPerSession)). [limits.maxWatchersPerSession]"
  )
  var maxWatchersPerSession: Int?

  @Option(
    help:
      "Frames a second one session may send, sustained (default \(Int(ServerLimits().maximumFrameRate))). [limits.maxFrameRate]"
  )
  var maxFrameRate: Double?

  @Option(
    help:
      "Free disk space to keep, MiB: below it frames and new sessions are refused (default \(ServerLimits().minimumFreeDiskBytes >> 20)). [limits.minFreeDiskMiB]"
  )
  var minFreeDisk: Int?

  @Option(
    help:
      "Open connections at once (default \(ServerLimits().connections.maximumConnections)). [limits.maxConnections]"
  )
  var maxConnections: Int?

  @Option(
    help:
      "Open connections at once from one client address, 0 for no cap (default \(ServerLimits().connections.maximumConnectionsPerAddress); behind a proxy, 0 and a cap in the proxy). [limits.maxConnectionsPerAddress]"
  )
  var maxConnectionsPerAddress: Int?

  @Option(
    help:
      "Log level: trace, debug, info (the default), notice, warning, error, critical. [log.level]")
  var logLevel: Logger.Level?

  @Option(
    help:
      "This server's name as a session lease holder (default: host:pid with PostgreSQL). [server.name]"
  )
  var serverName: String?

  public init() {}

  /// The settings from flags, environment, file and defaults, checked.
  struct Resolved {
    var host = "127.0.0.1"
    var port = 8080
    var deviceHost = "127.0.0.1"
    var axis = true
    var axisPort = 7001
    var axisSkeleton = "perception-neuron"
    var axisRate = 60.0
    var vmc = true
    var vmcPort = 39539
    var tlsCert: String?
    var tlsKey: String?
    var exercises: String?
    var data: String?
    var store = "sqlite"
    var maxFrameBytes = 64 * 1024
    var maxSessionsPerPatient = ServerLimits().maximumOpenSessionsPerPatient
    var maxOpenSessions = ServerLimits().maximumOpenSessions
    var maxWatchersPerSession = ServerLimits().maximumWatchersPerSession
    var maxFrameRate = ServerLimits().maximumFrameRate
    var minFreeDisk = Int(ServerLimits().minimumFreeDiskBytes >> 20)
    var maxConnections = ServerLimits().connections.maximumConnections
    var maxConnectionsPerAddress = ServerLimits().connections.maximumConnectionsPerAddress
    var logLevel = Logger.Level.info
    var serverName: String?

    func validate() throws {
      for p in [port, axisPort, vmcPort] where !(0...65535).contains(p) {
        throw ValidationError("ports are 0–65535")
      }
      guard axisRate > 0, axisRate <= 1000 else {
        throw ValidationError("--axis-rate must be 1–1000")
      }
      guard (1024...(1 << 20)).contains(maxFrameBytes) else {
        throw ValidationError("--max-frame-bytes must be 1 KiB – 1 MiB")
      }
      guard (tlsCert == nil) == (tlsKey == nil) else {
        throw ValidationError("--tls-cert and --tls-key go together")
      }
      guard maxSessionsPerPatient >= 1, maxOpenSessions >= 1, maxConnections >= 16 else {
        throw ValidationError(
          "--max-sessions-per-patient and --max-open-sessions must be ≥ 1, --max-connections ≥ 16")
      }
      guard maxWatchersPerSession >= 1 else {
        throw ValidationError("--max-watchers-per-session must be ≥ 1")
      }
      guard maxConnectionsPerAddress >= 0 else {
        throw ValidationError("--max-connections-per-address must be ≥ 0 (0: no cap)")
      }
      guard maxFrameRate >= 1, maxFrameRate <= 10_000 else {
        throw ValidationError("--max-frame-rate must be 1–10000")
      }
      guard minFreeDisk >= 0, minFreeDisk <= 1 << 30 else {
        throw ValidationError("--min-free-disk is MiB, 0 or more")
      }
    }
  }

  /// Flags over environment over file over defaults.
  func resolve(environment variables: [String: String]) async throws -> Resolved {
    let settings = try await ServeSettings.load(path: config, variables: variables)
    var r = Resolved()
    r.host = try host ?? settings.string("http.host") ?? r.host
    r.port = try port ?? settings.int("http.port") ?? r.port
    r.deviceHost = try deviceHost ?? settings.string("devices.host") ?? r.deviceHost
    r.axis = try noAxis ? false : settings.bool("devices.axis") ?? true
    r.axisPort = try axisPort ?? settings.int("devices.axisPort") ?? r.axisPort
    r.axisSkeleton = try axisSkeleton ?? settings.string("devices.axisSkeleton") ?? r.axisSkeleton
    r.axisRate = try axisRate ?? settings.double("devices.axisRate") ?? r.axisRate
    r.vmc = try noVmc ? false : settings.bool("devices.vmc") ?? true
    r.vmcPort = try vmcPort ?? settings.int("devices.vmcPort") ?? r.vmcPort
    r.tlsCert = try tlsCert ?? settings.string("tls.certificate")
    r.tlsKey = try tlsKey ?? settings.string("tls.key")
    r.exercises = try exercises ?? settings.string("exercises")
    r.data = try dataOptions.data ?? settings.string("data")
    r.store = try dataOptions.storeGiven ?? settings.string("store") ?? r.store
    r.maxFrameBytes = try maxFrameBytes ?? settings.int("limits.maxFrameBytes") ?? r.maxFrameBytes
    r.maxSessionsPerPatient =
      try maxSessionsPerPatient ?? settings.int("limits.maxSessionsPerPatient")
      ?? r.maxSessionsPerPatient
    r.maxOpenSessions =
      try maxOpenSessions ?? settings.int("limits.maxOpenSessions") ?? r.maxOpenSessions
    r.maxWatchersPerSession =
      try maxWatchersPerSession ?? settings.int("limits.maxWatchersPerSession")
      ?? r.maxWatchersPerSession
    r.maxFrameRate = try maxFrameRate ?? settings.double("limits.maxFrameRate") ?? r.maxFrameRate
    r.minFreeDisk = try minFreeDisk ?? settings.int("limits.minFreeDiskMiB") ?? r.minFreeDisk
    r.maxConnections =
      try maxConnections ?? settings.int("limits.maxConnections") ?? r.maxConnections
    r.maxConnectionsPerAddress =
      try maxConnectionsPerAddress ?? settings.int("limits.maxConnectionsPerAddress")
      ?? r.maxConnectionsPerAddress
    if let level = logLevel {
      r.logLevel = level
    } else if let text = try settings.string("log.level") {
      guard let level = Logger.Level(rawValue: text) else {
        throw ValidationError(
          "log.level: '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
      }
      r.logLevel = level
    }
    r.serverName = try serverName ?? settings.string("server.name")
    try r.validate()
    return r
  }

  public func run() async throws {
    let r = try await resolve(environment: ProcessInfo.processInfo.environment)
    LogSetup.bootstrap(level: r.logLevel)
    umask(0o077)
    var data = dataOptions
    data.data = r.data
    data.store = r.store
    var configuration = ServerConfiguration(dataFolder: data.folder)
    configuration.postgresURL = data.postgresURL
    configuration.host = r.host
    configuration.port = r.port
    configuration.deviceHost = r.deviceHost
    configuration.axisPort = r.axis ? r.axisPort : nil
    configuration.vmcPort = r.vmc ? r.vmcPort : nil
    configuration.axisFrameRate = r.axisRate
    configuration.axisSkeleton = try Self.skeleton(r.axisSkeleton)
    configuration.serverName = r.serverName
    if let exercises = r.exercises { configuration.seedExercises = URL(fileURLWithPath: exercises) }
    if let tlsCert = r.tlsCert, let tlsKey = r.tlsKey {
      configuration.tls = (URL(fileURLWithPath: tlsCert), URL(fileURLWithPath: tlsKey))
    }
    configuration.limits.maximumFrameBytes = r.maxFrameBytes
    configuration.limits.maximumOpenSessionsPerPatient = r.maxSessionsPerPatient
    configuration.limits.maximumOpenSessions = r.maxOpenSessions
    configuration.limits.maximumWatchersPerSession = r.maxWatchersPerSession
    configuration.limits.maximumFrameRate = r.maxFrameRate
    configuration.limits.minimumFreeDiskBytes = Int64(r.minFreeDisk) << 20
    configuration.limits.connections.maximumConnections = r.maxConnections
    configuration.limits.connections.maximumConnectionsPerAddress = r.maxConnectionsPerAddress
    configuration.logger = Logger(label: "ontrack.server")
    let host = r.host
    if configuration.tls == nil && !ServerConfiguration.isLoopback(host) {
      configuration.logger.warning(
        "listening on \(host) without TLS: tokens and patient data cross the network in clear text; use --tls-cert/--tls-key or a reverse proxy with TLS (README, 'Behind a reverse proxy')"
      )
    }
    if !ServerConfiguration.isLoopback(r.deviceHost) {
      configuration.logger.warning(
        "device listeners on \(r.deviceHost): Axis Neuron and VMC frames are unencrypted; a device still needs a pairing code"
      )
    }
    let server = try await OnTrackServer(configuration: configuration)
    let location =
      server.store is SQLiteStore ? configuration.dataFolder.path : server.store.location
    let scheme = configuration.tls == nil ? "http" : "https"
    try await server.run { port in
      // One line scripts can wait for (the SIGKILL test and the README's examples do).
      Output.write("ontrack serving on \(scheme)://\(host):\(port) (data \(location))\n")
    }
  }

  static func skeleton(_ name: String) throws -> Skeleton {
    switch name {
    case "perception-neuron": return DeviceRigs.perceptionNeuron(displacement: false)
    case "perception-neuron-displacement": return DeviceRigs.perceptionNeuron(displacement: true)
    default:
      return try BVHReader().read(contentsOf: URL(fileURLWithPath: name)).skeleton
    }
  }
}
