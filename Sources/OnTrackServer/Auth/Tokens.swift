import Crypto
import Foundation
import OnTrackProtocol

/// The holder of a valid bearer token.
public struct Identity: Sendable, Equatable {
  public var role: Role
  public var name: String
  /// For a patient: the therapist who looks after them.
  public var therapist: String?
  /// The token's public id (first 16 hex digits of its hash), for the audit log.
  public var tokenID: String

  public init(role: Role, name: String, therapist: String?, tokenID: String) {
    self.role = role
    self.name = name
    self.therapist = therapist
    self.tokenID = tokenID
  }

  /// True if this identity may read or stream `session`: its patient, or the therapist who
  /// looks after that patient.
  func mayAccess(_ session: SessionRecord) -> Bool {
    switch role {
    case .patient: session.patient == name
    case .therapist: session.therapist == name
    case .admin: false
    }
  }

  /// True if this identity may change or delete `exercise`: its owner, or a clinic admin
  /// (the only one who may change the bundled library).
  func mayEdit(_ exercise: ExerciseRecord) -> Bool {
    role == .admin || (role == .therapist && exercise.owner == name)
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

  /// `bytes` random bytes as lowercase hex (ids that must not be guessed).
  public static func randomHex(bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<bytes).map { _ in
      String(format: "%02x", UInt8.random(in: 0...255, using: &generator))
    }
    .joined()
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

  /// The longest holder name, in characters.
  public static let maximumNameLength = 64

  /// True if `name` can name a holder: 1–64 characters, no control characters.
  public static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= maximumNameLength
      && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
  }

  /// Creates a token for `name` with `role` in `store` and returns it (the only time it is
  /// seen). `ttl`: seconds until it expires (none: until revoked).
  /// - Throws: `StoreError.nameTaken` if someone else holds the name.
  public static func create(
    role: Role, name: String, therapist: String?, ttl: Double? = nil, in store: any TokenStore
  ) async throws -> String {
    let token = generate()
    let expires = ttl.map { Date().timeIntervalSince1970 + $0 }
    try await store.addToken(
      hash: hash(token),
      record: TokenRecord(role: role, name: name, therapist: therapist, expires: expires))
    return token
  }
}
