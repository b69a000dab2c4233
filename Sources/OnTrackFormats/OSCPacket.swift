/// One argument of an OSC message (OSC 1.0 types, plus the common `h`, `d`, `T`, `F`, `N`,
/// `I` extensions).
public enum OSCArgument: Sendable, Equatable {
  case int(Int32)
  case float(Float)
  case string(String)
  case blob([UInt8])
  case int64(Int64)
  case double(Double)
  case bool(Bool)
  case null
  case impulse

  /// The value as a number, if it is one.
  public var number: Double? {
    switch self {
    case .int(let v): Double(v)
    case .float(let v): Double(v)
    case .int64(let v): Double(v)
    case .double(let v): v
    default: nil
    }
  }

  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }
}

/// An OSC message: an address pattern and its arguments.
public struct OSCMessage: Sendable, Equatable {
  public var address: String
  public var arguments: [OSCArgument]

  public init(_ address: String, _ arguments: [OSCArgument]) {
    self.address = address
    self.arguments = arguments
  }
}

/// Why bytes are not an OSC packet, with the byte offset.
public struct OSCError: Error, Sendable, Equatable, CustomStringConvertible {
  public var offset: Int
  public var reason: String

  public var description: String { "OSC packet, byte \(offset): \(reason)" }
}

/// Reads and writes OSC 1.0 packets (messages and bundles, big-endian, 4-byte aligned).
///
/// Reading checks every length against the packet before touching it, bounds bundle nesting,
/// and rejects type tags it does not know, so a hostile datagram gives an `OSCError`, never a
/// crash or an unbounded allocation.
public enum OSCPacket {
  /// The messages of a packet, bundles flattened in order.
  public static func messages(in bytes: [UInt8], maximumDepth: Int = 8) throws(OSCError)
    -> [OSCMessage]
  {
    var out: [OSCMessage] = []
    try read(bytes, 0..<bytes.count, depth: 0, maximumDepth: maximumDepth, into: &out)
    return out
  }

  private static func read(
    _ b: [UInt8], _ range: Range<Int>, depth: Int, maximumDepth: Int, into out: inout [OSCMessage]
  ) throws(OSCError) {
    guard !range.isEmpty else { throw OSCError(offset: range.lowerBound, reason: "empty packet") }
    guard range.count % 4 == 0 else {
      throw OSCError(
        offset: range.lowerBound, reason: "size \(range.count) is not a multiple of 4")
    }
    if b[range.lowerBound] == UInt8(ascii: "#") {
      guard depth < maximumDepth else {
        throw OSCError(offset: range.lowerBound, reason: "bundles nested too deep")
      }
      var cursor = range.lowerBound
      let tag = try string(b, &cursor, end: range.upperBound)
      guard tag == "#bundle" else {
        throw OSCError(offset: range.lowerBound, reason: "unknown packet '\(tag.prefix(16))'")
      }
      guard cursor + 8 <= range.upperBound else {
        throw OSCError(offset: cursor, reason: "bundle without a time tag")
      }
      cursor += 8
      while cursor < range.upperBound {
        guard cursor + 4 <= range.upperBound else {
          throw OSCError(offset: cursor, reason: "truncated element size")
        }
        let size = Int(Int32(bitPattern: bigEndian32(b, cursor)))
        cursor += 4
        guard size > 0, size <= range.upperBound - cursor else {
          throw OSCError(offset: cursor - 4, reason: "element size \(size) overruns the packet")
        }
        try read(
          b, cursor..<(cursor + size), depth: depth + 1, maximumDepth: maximumDepth, into: &out)
        cursor += size
      }
      return
    }
    out.append(try message(b, range))
  }

  private static func message(_ b: [UInt8], _ range: Range<Int>) throws(OSCError) -> OSCMessage {
    var cursor = range.lowerBound
    let end = range.upperBound
    let address = try string(b, &cursor, end: end)
    guard address.hasPrefix("/") else {
      throw OSCError(offset: range.lowerBound, reason: "address must start with '/'")
    }
    guard cursor < end else { return OSCMessage(address, []) }
    let tags = try string(b, &cursor, end: end)
    guard tags.hasPrefix(",") else {
      throw OSCError(offset: cursor, reason: "type tags must start with ','")
    }
    var arguments: [OSCArgument] = []
    arguments.reserveCapacity(tags.utf8.count - 1)
    for tag in tags.utf8.dropFirst() {
      switch tag {
      case UInt8(ascii: "i"), UInt8(ascii: "f"):
        guard cursor + 4 <= end else {
          throw OSCError(offset: cursor, reason: "truncated argument")
        }
        let bits = bigEndian32(b, cursor)
        cursor += 4
        arguments.append(
          tag == UInt8(ascii: "i") ? .int(Int32(bitPattern: bits)) : .float(Float(bitPattern: bits))
        )
      case UInt8(ascii: "h"), UInt8(ascii: "d"), UInt8(ascii: "t"):
        guard cursor + 8 <= end else {
          throw OSCError(offset: cursor, reason: "truncated argument")
        }
        let bits = UInt64(bigEndian32(b, cursor)) << 32 | UInt64(bigEndian32(b, cursor + 4))
        cursor += 8
        arguments.append(
          tag == UInt8(ascii: "d")
            ? .double(Double(bitPattern: bits)) : .int64(Int64(bitPattern: bits)))
      case UInt8(ascii: "s"), UInt8(ascii: "S"):
        arguments.append(.string(try string(b, &cursor, end: end)))
      case UInt8(ascii: "b"):
        guard cursor + 4 <= end else { throw OSCError(offset: cursor, reason: "truncated blob") }
        let size = Int(Int32(bitPattern: bigEndian32(b, cursor)))
        cursor += 4
        guard size >= 0, size <= end - cursor else {
          throw OSCError(offset: cursor - 4, reason: "blob size \(size) overruns the packet")
        }
        arguments.append(.blob(Array(b[cursor..<(cursor + size)])))
        cursor += (size + 3) & ~3
      case UInt8(ascii: "T"): arguments.append(.bool(true))
      case UInt8(ascii: "F"): arguments.append(.bool(false))
      case UInt8(ascii: "N"): arguments.append(.null)
      case UInt8(ascii: "I"): arguments.append(.impulse)
      default:
        throw OSCError(
          offset: cursor, reason: "unsupported type tag '\(Character(Unicode.Scalar(tag)))'")
      }
    }
    return OSCMessage(address, arguments)
  }

  /// A null-terminated string padded to 4 bytes.
  private static func string(_ b: [UInt8], _ cursor: inout Int, end: Int) throws(OSCError)
    -> String
  {
    let start = cursor
    var i = start
    while i < end && b[i] != 0 { i += 1 }
    guard i < end else { throw OSCError(offset: start, reason: "unterminated string") }
    let text = String(decoding: b[start..<i], as: UTF8.self)
    cursor = min(end, (i + 4) & ~3)
    return text
  }

  @inline(__always)
  private static func bigEndian32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
  }

  // MARK: Writing

  /// The bytes of one message.
  public static func bytes(of message: OSCMessage) -> [UInt8] {
    var out: [UInt8] = []
    append(message, to: &out)
    return out
  }

  /// The bytes of a bundle holding `messages` (time tag "immediately").
  public static func bundle(_ messages: [OSCMessage]) -> [UInt8] {
    var out: [UInt8] = []
    appendString("#bundle", to: &out)
    out.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 1])
    for message in messages {
      var element: [UInt8] = []
      append(message, to: &element)
      appendBigEndian(UInt32(element.count), to: &out)
      out.append(contentsOf: element)
    }
    return out
  }

  private static func append(_ message: OSCMessage, to out: inout [UInt8]) {
    appendString(message.address, to: &out)
    var tags = ","
    for argument in message.arguments {
      switch argument {
      case .int: tags += "i"
      case .float: tags += "f"
      case .string: tags += "s"
      case .blob: tags += "b"
      case .int64: tags += "h"
      case .double: tags += "d"
      case .bool(let v): tags += v ? "T" : "F"
      case .null: tags += "N"
      case .impulse: tags += "I"
      }
    }
    appendString(tags, to: &out)
    for argument in message.arguments {
      switch argument {
      case .int(let v): appendBigEndian(UInt32(bitPattern: v), to: &out)
      case .float(let v): appendBigEndian(v.bitPattern, to: &out)
      case .string(let s): appendString(s, to: &out)
      case .blob(let bytes):
        appendBigEndian(UInt32(bytes.count), to: &out)
        out.append(contentsOf: bytes)
        while out.count % 4 != 0 { out.append(0) }
      case .int64(let v):
        appendBigEndian(UInt32(truncatingIfNeeded: UInt64(bitPattern: v) >> 32), to: &out)
        appendBigEndian(UInt32(truncatingIfNeeded: UInt64(bitPattern: v)), to: &out)
      case .double(let v):
        appendBigEndian(UInt32(truncatingIfNeeded: v.bitPattern >> 32), to: &out)
        appendBigEndian(UInt32(truncatingIfNeeded: v.bitPattern), to: &out)
      case .bool, .null, .impulse: break
      }
    }
  }

  private static func appendString(_ s: String, to out: inout [UInt8]) {
    out.append(contentsOf: s.utf8)
    out.append(0)
    while out.count % 4 != 0 { out.append(0) }
  }

  private static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
    out.append(UInt8(v >> 24))
    out.append(UInt8((v >> 16) & 0xFF))
    out.append(UInt8((v >> 8) & 0xFF))
    out.append(UInt8(v & 0xFF))
  }
}
