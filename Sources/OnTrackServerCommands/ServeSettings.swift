import ArgumentParser
import Configuration
import Foundation
import SystemPackage

/// Where `ontrack serve` reads its settings, in order: the flag, then the environment
/// variable, then the configuration file (`--config FILE`, JSON), then the default. Every
/// setting has one key (`ServeSettings.keys`, documented in `docs/configuration.md`); its
/// environment variable is `ONTRACK_` and the key in capitals with dots and word breaks as
/// underscores (`limits.maxFrameRate` → `ONTRACK_LIMITS_MAX_FRAME_RATE`).
///
/// Read through swift-configuration (an environment provider and a JSON file provider). A key
/// the server does not know, or a value of the wrong type, is refused with its name: a typo in
/// a configuration file must not pass silently.
struct ServeSettings {
  /// Every key, with what it holds.
  static let keys: [(key: String, type: ValueType)] = [
    ("http.host", .string), ("http.port", .port), ("tls.certificate", .string),
    ("tls.key", .string), ("data", .string), ("store", .string), ("exercises", .string),
    ("devices.host", .string), ("devices.axis", .bool), ("devices.axisPort", .port),
    ("devices.axisSkeleton", .string), ("devices.axisRate", .number), ("devices.vmc", .bool),
    ("devices.vmcPort", .port), ("limits.maxFrameBytes", .integer),
    ("limits.maxSessionsPerPatient", .integer), ("limits.maxOpenSessions", .integer),
    ("limits.maxWatchersPerSession", .integer),
    ("limits.maxFrameRate", .number), ("limits.minFreeDiskMiB", .integer),
    ("limits.maxConnections", .integer),
    ("limits.maxConnectionsPerAddress", .integer), ("log.level", .string), ("server.name", .string),
  ]

  enum ValueType {
    case string, integer, number, bool, port
  }

  let environment: ConfigReader
  let file: ConfigReader?
  let fileName: String?
  /// The keys the file sets.
  let fileKeys: Set<String>
  let variables: [String: String]

  /// Reads the environment (`variables`) and, if given, the file at `path`.
  static func load(path: String?, variables: [String: String]) async throws -> ServeSettings {
    let environment = ConfigReader(
      provider: EnvironmentVariablesProvider(environmentVariables: variables)
    ).scoped(to: "ontrack")
    guard let path else {
      return ServeSettings(
        environment: environment, file: nil, fileName: nil, fileKeys: [], variables: variables)
    }
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw ValidationError("--config \(path): cannot read it (\(error.localizedDescription))")
    }
    // The keys it sets, each checked against the known ones.
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw ValidationError("--config \(path): not a JSON object")
    }
    var found: Set<String> = []
    func collect(_ object: [String: Any], prefix: String) throws {
      for (name, value) in object {
        let key = prefix.isEmpty ? name : "\(prefix).\(name)"
        if let nested = value as? [String: Any], !keys.contains(where: { $0.key == key }) {
          try collect(nested, prefix: key)
        } else if keys.contains(where: { $0.key == key }) {
          found.insert(key)
        } else {
          throw ValidationError(
            "--config \(path): '\(key)' is not a setting of ontrack serve (see docs/configuration.md)"
          )
        }
      }
    }
    try collect(object, prefix: "")
    let provider = try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
    return ServeSettings(
      environment: environment, file: ConfigReader(provider: provider), fileName: path,
      fileKeys: found, variables: variables)
  }

  /// `ONTRACK_` + the key in capitals, dots and camel humps as underscores.
  static func environmentName(_ key: String) -> String {
    var name = "ONTRACK"
    for component in key.split(separator: ".") {
      name += "_"
      var previous: Character?
      for c in component {
        if let p = previous, p.isLowercase, c.isUppercase { name += "_" }
        name += c.uppercased()
        previous = c
      }
    }
    return name
  }

  func string(_ key: String) throws -> String? {
    try value(key) { $0.string(forKey: ConfigKey(stringLiteral: key)) }
  }

  func int(_ key: String) throws -> Int? {
    try value(key) { $0.int(forKey: ConfigKey(stringLiteral: key)) }
  }

  func double(_ key: String) throws -> Double? {
    try value(key) { reader in
      reader.double(forKey: ConfigKey(stringLiteral: key))
        ?? reader.int(forKey: ConfigKey(stringLiteral: key)).map(Double.init)
    }
  }

  func bool(_ key: String) throws -> Bool? {
    try value(key) { $0.bool(forKey: ConfigKey(stringLiteral: key)) }
  }

  /// The environment's value, else the file's; one that is set but does not read as the
  /// key's type is an error naming where it came from.
  private func value<T>(_ key: String, _ read: (ConfigReader) -> T?) throws -> T? {
    let variable = Self.environmentName(key)
    if variables[variable] != nil {
      guard let value = read(environment) else {
        throw ValidationError(
          "environment: \(variable)='\(variables[variable] ?? "")' \(expected(key))")
      }
      return value
    }
    if let file, fileKeys.contains(key) {
      guard let value = read(file) else {
        throw ValidationError("--config \(fileName ?? ""): '\(key)' \(expected(key))")
      }
      return value
    }
    return nil
  }

  private func expected(_ key: String) -> String {
    switch Self.keys.first(where: { $0.key == key })?.type {
    case .integer, .port: "must be a whole number"
    case .number: "must be a number"
    case .bool: "must be true or false"
    default: "must be text"
    }
  }
}
