import ArgumentParser
import Foundation
import Logging
import OnTrackFormats
import OnTrackKinematics
import OnTrackServer

/// Logging to standard error at a chosen level, set up once per process.
enum LogSetup {
  static func bootstrap(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Where the server keeps its data, as `serve`, `token` and `record` take it.
struct DataOptions: ParsableArguments {
  @Option(
    help:
      "The data folder (SQLite store). Default: $XDG_DATA_HOME/ontrack or ~/.local/share/ontrack.")
  var data: String?

  var folder: URL {
    data.map { URL(fileURLWithPath: $0) } ?? ServerConfiguration.defaultDataFolder
  }
}

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run the server: live sessions over WebSocket, Axis Neuron (TCP) and VMC (UDP).",
    discussion: """
      HTTP API and WebSockets on --port; the Axis Neuron BVH broadcast on --axis-port (TCP, \
      frames '<index> <name> v1 … vn ||' on the --axis-skeleton rig); VMC/OSC on --vmc-port \
      (UDP). Frames are stored in an SQLite database (WAL) in --data; an empty library is \
      seeded with the exercises in --exercises. Stops on SIGINT or SIGTERM after storing every \
      frame received. Create a token first with `ontrack token create`.
      """)

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "Address to listen on (loopback by default).")
  var host = "127.0.0.1"

  @Option(help: "HTTP and WebSocket port (0: any free port).")
  var port = 8080

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

  @Option(help: "Exercises to seed an empty library with.")
  var exercises = "Assets/exercises"

  @Option(help: "Largest accepted JSON frame, bytes.")
  var maxFrameBytes = 64 * 1024

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

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
  }

  func run() async throws {
    LogSetup.bootstrap(level: logLevel)
    var configuration = ServerConfiguration(dataFolder: dataOptions.folder)
    configuration.host = host
    configuration.port = port
    configuration.axisPort = noAxis ? nil : axisPort
    configuration.vmcPort = noVmc ? nil : vmcPort
    configuration.maximumFrameBytes = maxFrameBytes
    configuration.axisFrameRate = axisRate
    configuration.axisSkeleton = try Self.skeleton(axisSkeleton)
    let seed = URL(fileURLWithPath: exercises)
    if FileManager.default.fileExists(atPath: seed.path) { configuration.seedExercises = seed }
    configuration.logger = Logger(label: "ontrack.server")
    let server = try OnTrackServer(configuration: configuration)
    let folder = configuration.dataFolder.path
    let host = configuration.host
    try await server.run { port in
      // One line scripts can wait for (the SIGKILL test and the README's examples do).
      Output.write("ontrack serving on http://\(host):\(port) (data \(folder))\n")
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

struct TokenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Manage bearer tokens.",
    subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])
}

struct TokenCreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Create a token and print it (it is stored only as a hash; keep it).",
    discussion: """
      A therapist token manages exercises and reads every session of their patients; a patient \
      token streams to and reads only its own sessions. A patient belongs to the therapist \
      named with --therapist. Works on the data folder directly (the server may be running).
      """)

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "therapist or patient.")
  var role: String

  @Option(help: "The holder's name (a patient's sessions are filed under it).")
  var name: String

  @Option(help: "For a patient: their therapist's name.")
  var therapist: String?

  func validate() throws {
    guard Role(rawValue: role) != nil else {
      throw ValidationError("--role is therapist or patient")
    }
    guard !name.isEmpty, name.count <= 64 else {
      throw ValidationError("--name must be 1–64 characters")
    }
    if role == "therapist" && therapist != nil {
      throw ValidationError("--therapist is for patient tokens")
    }
  }

  func run() async throws {
    guard let role = Role(rawValue: role) else { return }
    let store = try Store(folder: dataOptions.folder)
    let token = try Tokens.create(role: role, name: name, therapist: therapist, in: store)
    Output.write(token + "\n")
  }
}

struct TokenListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List the tokens in the data folder: id, role, holder, created, revoked.",
    discussion: "Tokens are stored only as hashes; the id (16 hex digits) names one for revoking.")

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "Only the patient tokens issued under this therapist.")
  var therapist: String?

  @Flag(help: "JSON output.")
  var json = false

  func run() async throws {
    let store = try Store(folder: dataOptions.folder)
    let tokens = try store.tokens(issuedBy: therapist)
    if json {
      Output.write(try Output.json(tokens))
      return
    }
    let formatter = ISO8601DateFormatter()
    func date(_ seconds: Double) -> String {
      formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
    var lines = [
      "id                role       name             therapist        created               revoked"
    ]
    for token in tokens {
      lines.append(
        [
          token.id, token.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
          token.name.padding(toLength: 16, withPad: " ", startingAt: 0),
          (token.therapist ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0),
          date(token.created).padding(toLength: 21, withPad: " ", startingAt: 0),
          token.revoked.map(date) ?? "-",
        ].joined(separator: " "))
    }
    Output.write(lines.joined(separator: "\n") + "\n")
  }
}

struct TokenRevokeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "revoke",
    abstract: "Revoke a token by its id (see `ontrack token list`).",
    discussion: """
      Works on the data folder directly. A running server refuses the token within 30 seconds \
      and then closes the streams it opened; `DELETE /v1/tokens/ID` on the server acts at once.
      """)

  @OptionGroup var dataOptions: DataOptions

  @Argument(help: "The token's id: 16 hex digits.")
  var id: String

  func validate() throws {
    guard Tokens.isValidID(id) else {
      throw ValidationError("a token id is 16 lowercase hex digits (see `ontrack token list`)")
    }
  }

  func run() async throws {
    let store = try Store(folder: dataOptions.folder)
    guard try store.revokeToken(id: id) != nil else {
      FileHandle.standardError.write(
        Data("Error: no token \(id) in \(dataOptions.folder.path)\n".utf8))
      throw ExitCode(1)
    }
    Output.write("revoked \(id)\n")
  }
}
