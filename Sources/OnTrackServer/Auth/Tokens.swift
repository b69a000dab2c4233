import Crypto
import Foundation

/// Who may do what: a therapist manages exercises and reads every session of their patients;
/// a patient streams to, and reads, only their own sessions.
public enum Role: String, Sendable, Codable, CaseIterable {
  case therapist, patient
}

/// The holder of a valid bearer token.
public struct Identity: Sendable, Equatable {
  public var role: Role
  public var name: String
  /// For a patient: the therapist who looks after them.
  public var therapist: String?

  /// True if this identity may read or stream `session`.
  func mayAccess(_ session: Store.SessionRecord) -> Bool {
    switch role {
    case .patient: session.patient == name
    case .therapist: session.therapist == name
    }
  }
}

/// A token was asked for under a name someone else already holds.
public struct TokenNameTaken: Error, CustomStringConvertible {
  public var name: String
  public var description: String {
    "the name '\(name)' already belongs to another holder; choose another"
  }
}

/// Bearer tokens: random, shown once, stored only as their SHA-256.
public enum Tokens {
  /// A new token: 32 random bytes, base64url without padding, prefixed `otk_`.
  public static func generate() -> String {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = Data(bytes).base64EncodedString()
      .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
      .replacingOccurrences(of: "=", with: "")
    return "otk_" + text
  }

  /// The stored form of a token.
  public static func hash(_ token: String) -> String {
    SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
  }

  /// A token's public id: the first 16 hex digits of its hash. It names the token in lists and
  /// revocations without revealing it.
  public static func id(ofHash hash: String) -> String { String(hash.prefix(16)) }

  /// True if `id` has the form of a token id (16 lowercase hex digits).
  public static func isValidID(_ id: String) -> Bool {
    id.utf8.count == 16 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
  }

  /// Creates a token for `name` with `role` in `store` and returns it (the only time it is seen).
  public static func create(role: Role, name: String, therapist: String?, in store: Store) throws
    -> String
  {
    let token = generate()
    try store.addToken(
      hash: hash(token), record: .init(role: role, name: name, therapist: therapist))
    return token
  }
}
