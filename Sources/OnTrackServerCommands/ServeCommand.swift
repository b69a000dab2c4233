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

  @Option(help: "Address of the HTTP listener (loopback by default).")
  var host = "127.0.0.1"

  @Option(help: "HTTP and WebSocket port (0: any free port).")
  var port = 8080

  @Option(help: "Address of the Axis Neuron and VMC listeners (loopback by default).")
  var deviceHost = "127.0.0.1"

  @Option(help: "Axis Neuron BVH broadcast TCP port (0: any free port).")
  var axisPort = 7001

  @Flag(help: "Do not listen for Axis Neuron.")
  var noAxis = false

  @Option(
    help:
      "The Axis Neuron skeleton: perception-neuron (180 values), perception-neuron-displacement (354), or a BVH file."
  )
  var axisSkeleton = "perception-neuron"

  @Option(help: "Frames per second of the Axis Neuron broadcast (it sends no clock).")
  var axisRate = 60.0

  @Option(help: "VMC protocol UDP port (0: any free port).")
  var vmcPort = 39539

  @Flag(help: "Do not listen for VMC.")
  var noVmc = false

  @Option(help: "A PEM certificate (chain) for HTTPS and WSS.")
  var tlsCert: String?

  @Option(help: "The PEM private key of --tls-cert.")
  var tlsKey: String?

  @Option(help: "The bundled exercises (default: Assets/exercises found beside the program).")
  var exercises: String?

  @Option(help: "Largest accepted JSON frame, bytes.")
  var maxFrameBytes = 64 * 1024

  @Option(help: "Sessions one patient may have open at once.")
  var maxSessionsPerPatient = ServerLimits().maximumOpenSessionsPerPatient

  @Option(help: "Sessions open at once on the server.")
  var maxOpenSessions = ServerLimits().maximumOpenSessions

  @Option(help: "Frames a second one session may send (sustained).")
  var maxFrameRate = ServerLimits().maximumFrameRate

  @Option(help: "Free disk space to keep, MiB: below it frames and new sessions are refused.")
  var minFreeDisk = Int(ServerLimits().minimumFreeDiskBytes >> 20)

  @Option(help: "Open connections at once.")
  var maxConnections = ServerLimits().connections.maximumConnections

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

  public init() {}

  public func validate() throws {
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
    guard maxFrameRate >= 1, maxFrameRate <= 10_000 else {
      throw ValidationError("--max-frame-rate must be 1–10000")
    }
    guard minFreeDisk >= 0, minFreeDisk <= 1 << 30 else {
      throw ValidationError("--min-free-disk is MiB, 0 or more")
    }
  }

  public func run() async throws {
    LogSetup.bootstrap(level: logLevel)
    umask(0o077)
    var configuration = ServerConfiguration(dataFolder: dataOptions.folder)
    configuration.postgresURL = dataOptions.postgresURL
    configuration.host = host
    configuration.port = port
    configuration.deviceHost = deviceHost
    configuration.axisPort = noAxis ? nil : axisPort
    configuration.vmcPort = noVmc ? nil : vmcPort
    configuration.axisFrameRate = axisRate
    configuration.axisSkeleton = try Self.skeleton(axisSkeleton)
    if let exercises { configuration.seedExercises = URL(fileURLWithPath: exercises) }
    if let tlsCert, let tlsKey {
      configuration.tls = (URL(fileURLWithPath: tlsCert), URL(fileURLWithPath: tlsKey))
    }
    configuration.limits.maximumFrameBytes = maxFrameBytes
    configuration.limits.maximumOpenSessionsPerPatient = maxSessionsPerPatient
    configuration.limits.maximumOpenSessions = maxOpenSessions
    configuration.limits.maximumFrameRate = maxFrameRate
    configuration.limits.minimumFreeDiskBytes = Int64(minFreeDisk) << 20
    configuration.limits.connections.maximumConnections = maxConnections
    configuration.logger = Logger(label: "ontrack.server")
    if configuration.tls == nil && !ServerConfiguration.isLoopback(host) {
      configuration.logger.warning(
        "listening on \(host) without TLS: tokens and patient data cross the network in clear text; use --tls-cert/--tls-key or a reverse proxy with TLS (README, 'Behind a reverse proxy')"
      )
    }
    if !ServerConfiguration.isLoopback(deviceHost) {
      configuration.logger.warning(
        "device listeners on \(deviceHost): Axis Neuron and VMC frames are unencrypted; a device still needs a pairing code"
      )
    }
    let server = try await OnTrackServer(configuration: configuration)
    let location =
      server.store is SQLiteStore ? configuration.dataFolder.path : server.store.location
    let scheme = configuration.tls == nil ? "http" : "https"
    let host = self.host
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
