import Foundation
import Logging

/// Writes command output to standard output in one piece.
public enum Output {
  public static func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }

  public static func write(bytes: [UInt8]) {
    FileHandle.standardOutput.write(Data(bytes))
  }

  /// Writes a line to standard error.
  public static func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  public static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
  }

  /// `value` with `decimals` digits after the point.
  public static func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
  }
}

/// Logging to standard error at a chosen level, set up once per process.
public enum LogSetup {
  public static func bootstrap(level: Logger.Level) {
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}
