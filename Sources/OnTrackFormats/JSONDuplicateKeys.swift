/// Finds a name that occurs twice in one JSON object.
///
/// JSON (RFC 8259, §4) leaves the meaning of an object with a repeated name to the reader, and
/// readers disagree: Foundation's `JSONDecoder` keeps the first value, `JSONSerialization`,
/// JavaScript's `JSON.parse` and PostgreSQL's `jsonb` keep the last. One text can then mean
/// one thing to the server that checks it and another to the dashboard that shows it or the
/// store that keeps it — `{"seq": 1, …, "seq": 9}`. I-JSON (RFC 7493, §2.3) forbids repeated
/// names; OnTrack refuses text from outside that has one, naming it and where it is.
///
/// Names are compared after their escapes are read (`"seq"` and `"s\u0065q"` are one name) and
/// as Swift strings (canonically equivalent spellings are one name, as a Swift `Codable` reader
/// sees them). Meant for text a JSON decoder has already accepted: on malformed text the answer
/// is unspecified (but the scan always ends, in one pass, and never traps).
///
/// ```swift
/// if let repeated = JSONDuplicateKeys.first(in: bytes) {
///   print("\(repeated.path) has \"\(repeated.key)\" twice")  // $.definition has "name" twice
/// }
/// ```
public enum JSONDuplicateKeys {
  public struct Duplicate: Sendable, Equatable, CustomStringConvertible {
    /// The repeated name.
    public var key: String
    /// The object it is repeated in: `$` for the top level, then `.name` and `[index]` steps.
    public var path: String

    public init(key: String, path: String) {
      self.key = key
      self.path = path
    }

    /// Names and paths are cut to 60 characters and written with Swift's escapes (a name may
    /// hold control characters and be as long as the message).
    public var description: String {
      "the name \(Self.shown(key)) occurs twice in \(Self.shown(path, quoted: false))"
    }

    static func shown(_ text: String, quoted: Bool = true) -> String {
      let cut = text.count > 60 ? String(text.prefix(60)) + "…" : text
      let escaped = cut.debugDescription
      return quoted ? escaped : String(escaped.dropFirst().dropLast())
    }
  }

  /// The first repeated name in `bytes` (UTF-8 JSON text), or nil.
  public static func first(in bytes: UnsafeBufferPointer<UInt8>) -> Duplicate? {
    var scanner = Scanner(bytes: bytes)
    return scanner.run()
  }

  /// The first repeated name in `text`, or nil.
  public static func first(in text: String) -> Duplicate? {
    var copy = text
    return copy.withUTF8 { first(in: $0) }
  }

  /// An object being read (its names so far, whether a name comes next, the last name) or an
  /// array (the index of the element being read). Mutated in place in the stack: a set taken
  /// out to insert into and put back would be copied whole at every name, and an object of n
  /// names would cost n² (a 64 KB frame of 7,000 names took 0.6 s, a 341 KB body 6 s).
  private struct Container {
    var isObject: Bool
    var names: Set<String> = []
    var expectingName = false
    var last: String?
    var index = 0
  }

  private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var stack: [Container] = []

    init(bytes: UnsafeBufferPointer<UInt8>) {
      self.bytes = bytes
    }

    mutating func run() -> Duplicate? {
      while i < bytes.count {
        let byte = bytes[i]
        switch byte {
        case UInt8(ascii: "{"):
          stack.append(Container(isObject: true, expectingName: true))
          i += 1
        case UInt8(ascii: "["):
          stack.append(Container(isObject: false))
          i += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
          if !stack.isEmpty { stack.removeLast() }
          i += 1
        case UInt8(ascii: ","):
          if !stack.isEmpty {
            let top = stack.count - 1
            if stack[top].isObject {
              stack[top].expectingName = true
            } else {
              stack[top].index &+= 1
            }
          }
          i += 1
        case UInt8(ascii: "\""):
          i += 1
          let string = readString()
          if !stack.isEmpty, stack[stack.count - 1].isObject,
            stack[stack.count - 1].expectingName
          {
            let top = stack.count - 1
            guard stack[top].names.insert(string).inserted else {
              return Duplicate(key: string, path: path(excludingLast: true))
            }
            stack[top].expectingName = false
            stack[top].last = string
          }
        default:
          i += 1
        }
      }
      return nil
    }

    /// The path of the innermost container (`excludingLast`: not its current element).
    func path(excludingLast: Bool) -> String {
      var text = "$"
      for (k, container) in stack.enumerated() {
        if excludingLast && k == stack.count - 1 { break }
        if container.isObject {
          if let last = container.last { text += "." + last }
        } else {
          text += "[\(container.index)]"
        }
      }
      return text
    }

    /// Reads a string's contents after its opening quote, escapes resolved, up to and past its
    /// closing quote (or the end of the text).
    mutating func readString() -> String {
      var result = ""
      var runStart = i
      func flush(_ end: Int) {
        if end > runStart {
          result += String(
            decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<end]), as: UTF8.self)
        }
      }
      while i < bytes.count {
        let byte = bytes[i]
        if byte == UInt8(ascii: "\"") {
          flush(i)
          i += 1
          return result
        }
        guard byte == UInt8(ascii: "\\") else {
          i += 1
          continue
        }
        flush(i)
        i += 1
        guard i < bytes.count else { return result }
        let escape = bytes[i]
        i += 1
        switch escape {
        case UInt8(ascii: "b"): result.unicodeScalars.append("\u{08}")
        case UInt8(ascii: "f"): result.unicodeScalars.append("\u{0C}")
        case UInt8(ascii: "n"): result.unicodeScalars.append("\n")
        case UInt8(ascii: "r"): result.unicodeScalars.append("\r")
        case UInt8(ascii: "t"): result.unicodeScalars.append("\t")
        case UInt8(ascii: "u"):
          guard let unit = hex4() else { break }
          if (0xD800..<0xDC00).contains(unit), i + 1 < bytes.count,
            bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
          {
            let save = i
            i += 2
            if let low = hex4(), (0xDC00..<0xE000).contains(low) {
              let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
              result.unicodeScalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
              break
            }
            i = save
          }
          result.unicodeScalars.append(Unicode.Scalar(UInt32(unit)) ?? "\u{FFFD}")
        default:
          // `\"`, `\\`, `\/` and anything else: the character itself.
          result.unicodeScalars.append(Unicode.Scalar(escape))
        }
        runStart = i
      }
      flush(i)
      return result
    }

    /// Four hex digits at the read position (consumed), or nil (nothing consumed).
    mutating func hex4() -> UInt16? {
      guard i + 4 <= bytes.count else { return nil }
      var value: UInt16 = 0
      for k in 0..<4 {
        let byte = bytes[i + k]
        let digit: UInt16
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt16(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
        value = value << 4 | digit
      }
      i += 4
      return value
    }
  }
}
