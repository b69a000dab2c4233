import Foundation
import Testing

@testable import OnTrackServerCommands

/// `ontrack serve` settings from flags, the environment and a configuration file (issue 12).
@Suite("Server configuration")
struct ConfigurationTests {
  func file(_ json: String) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-config-\(UUID()).json")
    try json.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  @Test("flags win over the environment, which wins over the file, which wins over defaults")
  func precedence() async throws {
    let path = try file(
      #"""
      {"http": {"host": "0.0.0.0", "port": 9100}, "devices": {"axis": false, "vmcPort": 40000},
       "limits": {"maxFrameRate": 120, "maxConnections": 64}, "log": {"level": "warning"},
       "store": "postgres://ontrack@db/ontrack", "server": {"name": "east-1"}}
      """#)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let fromFile = try await ServeCommand.parse(["--config", path]).resolve(environment: [:])
    #expect(fromFile.host == "0.0.0.0" && fromFile.port == 9100)
    #expect(!fromFile.axis && fromFile.vmc && fromFile.vmcPort == 40000)
    #expect(fromFile.maxFrameRate == 120 && fromFile.maxConnections == 64)
    #expect(fromFile.logLevel == .warning)
    #expect(fromFile.store == "postgres://ontrack@db/ontrack" && fromFile.serverName == "east-1")
    #expect(fromFile.axisPort == 7001 && fromFile.maxFrameBytes == 64 * 1024)

    let environment = [
      "ONTRACK_HTTP_PORT": "9200", "ONTRACK_LIMITS_MAX_FRAME_RATE": "90",
      "ONTRACK_DEVICES_AXIS": "true", "ONTRACK_HOME": "/usr/share/ontrack",
    ]
    let fromEnvironment = try await ServeCommand.parse(["--config", path]).resolve(
      environment: environment)
    #expect(fromEnvironment.port == 9200 && fromEnvironment.maxFrameRate == 90)
    #expect(fromEnvironment.axis && fromEnvironment.host == "0.0.0.0")

    let fromFlags = try await ServeCommand.parse([
      "--config", path, "--port", "9300", "--no-axis", "--max-frame-rate", "60",
    ]).resolve(environment: environment)
    #expect(fromFlags.port == 9300 && !fromFlags.axis && fromFlags.maxFrameRate == 60)

    let defaults = try await ServeCommand.parse([]).resolve(environment: [:])
    #expect(defaults.port == 8080 && defaults.host == "127.0.0.1" && defaults.axis)
  }

  @Test("an unknown key, a wrong type or an out-of-range value is refused with its name")
  func refusals() async throws {
    for (json, words) in [
      (#"{"http": {"prot": 9100}}"#, "'http.prot' is not a setting"),
      (#"{"limits": {"maxFrameRate": "fast"}}"#, "'limits.maxFrameRate' must be a number"),
      (#"{"http": {"port": 70000}}"#, "ports are 0–65535"),
      (#"{"log": {"level": "loud"}}"#, "log.level: 'loud'"),
      (#"[1, 2]"#, "not a JSON object"),
    ] {
      let path = try file(json)
      defer { try? FileManager.default.removeItem(atPath: path) }
      await #expect {
        _ = try await ServeCommand.parse(["--config", path]).resolve(environment: [:])
      } throws: { error in
        "\(error)".contains(words)
      }
    }
    await #expect {
      _ = try await ServeCommand.parse([]).resolve(environment: ["ONTRACK_HTTP_PORT": "eighty"])
    } throws: { error in
      "\(error)".contains("ONTRACK_HTTP_PORT='eighty' must be a whole number")
    }
    await #expect(throws: (any Error).self) {
      _ = try await ServeCommand.parse(["--config", "/nonexistent/ontrack.json"]).resolve(
        environment: [:])
    }
    #expect(ServeSettings.environmentName("limits.maxFrameRate") == "ONTRACK_LIMITS_MAX_FRAME_RATE")
  }

  @Test("the example configuration file in deploy/ reads")
  func example() async throws {
    let path = ServerData.root.appendingPathComponent("deploy/ontrack.json.example").path
    let settings = try await ServeCommand.parse(["--config", path]).resolve(environment: [:])
    #expect(settings.port == 8081 && !settings.axis && !settings.vmc)
  }
}
