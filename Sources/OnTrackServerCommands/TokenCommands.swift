import ArgumentParser
import Foundation
import OnTrackProtocol
import OnTrackServer

public struct TokenCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Manage bearer tokens.",
    subcommands: [TokenCreateCommand.self, TokenListCommand.self, TokenRevokeCommand.self])

  public init() {}
}

struct TokenCreateCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Create a token and print it (it is stored only as a hash; keep it).",
    discussion: """
      A therapist token manages their own exercises and reads every session of their \
      patients; a patient token streams to and reads only its own sessions; an admin token \
      (clinic admin) may also change the bundled exercise library. A patient belongs to the \
      therapist named with --therapist. Works on the data folder directly (the server may be \
      running).
      """)

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "therapist, patient or admin.")
  var role: String

  @Option(help: "The holder's name (a patient's sessions are filed under it).")
  var name: String

  @Option(help: "For a patient: their therapist's name.")
  var therapist: String?

  @Option(help: "Seconds until the token expires (default: never; revoke it instead).")
  var ttl: Double?

  func validate() throws {
    guard let role = Role(rawValue: role) else {
      throw ValidationError("--role is therapist, patient or admin")
    }
    guard Tokens.isValidName(name) else {
      throw ValidationError("--name must be 1–64 characters, without control characters")
    }
    if role != .patient && therapist != nil {
      throw ValidationError("--therapist is for patient tokens")
    }
    if role == .patient && therapist == nil {
      throw ValidationError("a patient token needs --therapist")
    }
    if let ttl, !(ttl > 0 && ttl <= 10 * 365 * 86400) {
      throw ValidationError("--ttl is 1 second to 10 years")
    }
  }

  func run() async throws {
    guard let role = Role(rawValue: role) else { return }
    let store = try await dataOptions.openStore()
    let token = try await Tokens.create(
      role: role, name: name, therapist: therapist, ttl: ttl, in: store)
    Output.write(token + "\n")
  }
}

struct TokenListCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List the tokens in the data folder: id, role, holder, created, expires, revoked.",
    discussion: "Tokens are stored only as hashes; the id (16 hex digits) names one for revoking.")

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "Only the patient tokens issued under this therapist.")
  var therapist: String?

  @Flag(help: "JSON output.")
  var json = false

  func run() async throws {
    let store = try await dataOptions.openStore()
    let tokens = try await store.tokens(issuedBy: therapist)
    if json {
      Output.write(try Output.json(tokens))
      return
    }
    let formatter = ISO8601DateFormatter()
    func date(_ seconds: Double?) -> String {
      (seconds.map { formatter.string(from: Date(timeIntervalSince1970: $0)) } ?? "-")
        .padding(toLength: 21, withPad: " ", startingAt: 0)
    }
    var lines = [
      "id                role       name             therapist        created               expires               revoked"
    ]
    for token in tokens {
      lines.append(
        [
          token.id, token.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
          token.name.padding(toLength: 16, withPad: " ", startingAt: 0),
          (token.therapist ?? "-").padding(toLength: 16, withPad: " ", startingAt: 0),
          date(token.created), date(token.expires), date(token.revoked),
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
    let store = try await dataOptions.openStore()
    guard try await store.revokeToken(id: id, issuedBy: nil) != nil else {
      Output.warn("Error: no token \(id) in \(dataOptions.folder.path)")
      throw ExitCode(1)
    }
    Output.write("revoked \(id)\n")
  }
}
