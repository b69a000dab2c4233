import Foundation
import OnTrackProtocol
import Synchronization

/// Who holds each known token, by the token's hash, so that a stream's frames never touch the
/// database.
///
/// An entry is re-read from the store once it is `lifetime` old, so a token revoked on disk
/// (`ontrack token revoke` beside a running server, or on another server of the same
/// database) stops working within that time; a token revoked through the API
/// (`revoke(hash:)`) stops at once, and an expired one at its expiry. Unknown tokens are never
/// cached, so forged ones cannot fill memory.
public final class IdentityCache: Sendable {
  /// How long an entry is trusted before the store is asked again, by default.
  public static let defaultLifetime: Duration = .seconds(30)

  enum Lookup: Equatable {
    case valid(Identity)
    case revoked
    case expired
    case unknown
  }

  private struct Entry {
    var lookup: Lookup
    var expires: Double?
    var checked: ContinuousClock.Instant
  }

  let store: any TokenStore
  let lifetime: Duration
  private let entries = Mutex<[String: Entry]>([:])

  init(store: any TokenStore, lifetime: Duration = defaultLifetime) {
    self.store = store
    self.lifetime = lifetime
  }

  /// The holder of the token whose hash is `hash`.
  func lookup(hash: String) async throws -> Lookup {
    let now = ContinuousClock.now
    if let entry = entries.withLock({ $0[hash] }), now - entry.checked < lifetime {
      if case .valid = entry.lookup, let expires = entry.expires,
        Date().timeIntervalSince1970 >= expires
      {
        return .expired
      }
      return entry.lookup
    }
    guard let record = try await store.token(hash: hash) else {
      entries.withLock { _ = $0.removeValue(forKey: hash) }
      return .unknown
    }
    let read: Lookup
    if record.revoked != nil {
      read = .revoked
    } else if let expires = record.expires, Date().timeIntervalSince1970 >= expires {
      read = .expired
    } else {
      read = .valid(
        Identity(
          role: record.role, name: record.name, therapist: record.therapist,
          tokenID: Tokens.id(ofHash: hash)))
    }
    return entries.withLock { entries in
      // Revocation is for good: one that landed while the store was being read stands.
      let lookup = entries[hash]?.lookup == .revoked ? .revoked : read
      entries[hash] = Entry(lookup: lookup, expires: record.expires, checked: now)
      return lookup
    }
  }

  /// Marks the token revoked at once (the store already says so).
  func revoke(hash: String) {
    entries.withLock { $0[hash] = Entry(lookup: .revoked, expires: nil, checked: .now) }
  }

  /// Returns why the token stopped being valid, once it has (checked every `interval`); throws
  /// when the task is cancelled.
  func waitUntilInvalid(hash: String, interval: Duration = .milliseconds(500)) async throws
    -> Lookup
  {
    while true {
      try await Task.sleep(for: interval)
      let lookup = try await lookup(hash: hash)
      if case .valid = lookup { continue }
      return lookup
    }
  }
}
