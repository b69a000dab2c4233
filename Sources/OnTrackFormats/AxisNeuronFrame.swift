import OnTrackKinematics

/// One frame of Axis Neuron's BVH broadcast (TCP, "string" format): `<avatar index> <avatar
/// name> v1 v2 … vn ||`, the values in the channel order of the skeleton the stream is declared
/// for (degrees, and centimetres for position channels).
public struct AxisNeuronFrame: Sendable, Equatable {
  public var avatarIndex: Int
  public var avatarName: String

  public init(avatarIndex: Int, avatarName: String) {
    self.avatarIndex = avatarIndex
    self.avatarName = avatarName
  }
}

/// Why a broadcast line was not a frame.
public struct AxisNeuronFrameError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Kind: String, Sendable {
    case malformed, nonFinite, wrongValueCount, oversized
  }

  public var kind: Kind
  public var message: String

  public var description: String { message }
}

/// Reads broadcast lines into channel values, checking everything: the two header fields, the
/// count of values against the declared skeleton, that every value is a finite decimal number,
/// and the terminating `||`.
public struct AxisNeuronFrameReader: Sendable {
  /// Values a frame must carry (the declared skeleton's channel count).
  public let valueCount: Int
  /// Longest accepted line, bytes.
  public let maximumBytes: Int

  public init(valueCount: Int, maximumBytes: Int = 64 * 1024) {
    self.valueCount = valueCount
    self.maximumBytes = maximumBytes
  }

  /// Parses `line` (one frame, with or without its line end) into `values` (resized to
  /// `valueCount` if needed). `values` is left unspecified when this throws.
  public func read(_ line: [UInt8], into values: inout [Float]) throws(AxisNeuronFrameError)
    -> AxisNeuronFrame
  {
    guard line.count <= maximumBytes else {
      throw AxisNeuronFrameError(
        kind: .oversized, message: "line of \(line.count) bytes; at most \(maximumBytes)")
    }
    if values.count != valueCount { values = [Float](repeating: 0, count: valueCount) }
    var scanner = TextScanner(bytes: line)
    guard let indexToken = scanner.next(), case .value(let index) = scanner.number(indexToken),
      index >= 0, index < 1_000_000, index == index.rounded()
    else {
      throw AxisNeuronFrameError(
        kind: .malformed, message: "a frame starts with the avatar index (a whole number)")
    }
    guard let nameToken = scanner.next(), !scanner.token(nameToken, is: "||") else {
      throw AxisNeuronFrameError(kind: .malformed, message: "the avatar name is missing")
    }
    let name = scanner.text(nameToken)
    var count = 0
    var terminated = false
    while let token = scanner.next() {
      if scanner.token(token, is: "||") {
        terminated = true
        break
      }
      switch scanner.number(token) {
      case .value(let v):
        guard count < valueCount else {
          count += 1
          continue
        }
        guard abs(v) < 1e7 else {
          throw AxisNeuronFrameError(kind: .nonFinite, message: "value \(count + 1) is \(v)")
        }
        values[count] = Float(v)
        count += 1
      case .nonFinite:
        throw AxisNeuronFrameError(kind: .nonFinite, message: "value \(count + 1) is not finite")
      case .notANumber:
        throw AxisNeuronFrameError(
          kind: .malformed,
          message: "value \(count + 1) is not a number: '\(scanner.text(token).prefix(24))'")
      }
    }
    guard terminated, scanner.next() == nil else {
      throw AxisNeuronFrameError(kind: .malformed, message: "a frame must end with '||'")
    }
    guard count == valueCount else {
      throw AxisNeuronFrameError(
        kind: .wrongValueCount,
        message: "\(count) values; the declared skeleton has \(valueCount) channels")
    }
    return AxisNeuronFrame(avatarIndex: Int(index), avatarName: name)
  }
}

/// Writes broadcast lines, as Axis Neuron does (for simulated devices and tests).
public enum AxisNeuronFrameWriter {
  /// `<index> <name> v1 … vn ||\n`, values with `decimals` digits.
  public static func line(index: Int, name: String, values: [Float], decimals: Int = 4)
    -> [UInt8]
  {
    var out: [UInt8] = []
    out.reserveCapacity(values.count * 10 + name.utf8.count + 16)
    out.append(contentsOf: Array("\(index) \(name)".utf8))
    for v in values {
      out.append(UInt8(ascii: " "))
      NumberFormatting.appendFixed(Double(v), decimals: decimals, to: &out)
    }
    out.append(contentsOf: Array(" ||\n".utf8))
    return out
  }
}
