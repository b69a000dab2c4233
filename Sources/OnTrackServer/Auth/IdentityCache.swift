import Foundation
import Synchronization

/// Who holds each known token, by the token's hash, so that a stream's frames never touch the
/// database.
///
/// An entry is re-read from the store once it is `lifetime` old, so a token revoked on disk
/// (`ontrack token revoke` beside a running server) stops working within that time; a token
/// revoked through the API (`revoke(hash:)`) stops at once. Unknown tokens are never cached,
/// so forged ones cannot fill memory.
public final class IdentityCache: Sendable {
  /// How long an entry is trusted before the store is asked again, by default.
  public static let defaultLifetime: Duration = .seconds(30)

  enum Lookup: Equatable {
    case valid(Identity)
    case revoked
    case unknown
  }

  private struct Entry {
    var lookup: Lookup
    var checked: ContinuousClock.Instant
  }

  let store: Store
  let lifetime: Duration
  private let entries = Mutex<[String: Entry]>([:])

  init(store: Store, lifetime: Duration = defaultLifetime) {
    self.store = store
    self.lifetime = lifetime
  }

  /// The holder of the token whose hash is `hash`.
  func lookup(hash: String) throws -> Lookup {
    let now = ContinuousClock.now
    if let entry = entries.withLock({ $0[hash] }), now - entry.checked < lifetime {
      return entry.lookup
    }
    guard let record = try store.token(hash: hash) else {
      entries.withLock { _ = $0.removeValue(forKey: hash) }
      return .unknown
    }
    let read: Lookup =
      record.revoked == nil
      ? .valid(Identity(role: record.role, name: record.name, therapist: record.therapist))
      : .revoked
    return entries.withLock { entries in
      // Revocation is for good: one that landed while the store was being read stands.
      let lookup = entries[hash]?.lookup == .revoked ? .revoked : read
      entries[hash] = Entry(lookup: lookup, checked: now)
      return lookup
    }
  }

  /// Marks the token revoked at once (the store already says so).
  func revoke(hash: String) {
    entries.withLock { $0[hash] = Entry(lookup: .revoked, checked: .now) }
  }

  /// Returns when the token stops being valid (checked every `interval`); throws when the
  /// task is cancelled.
  func waitUntilInvalid(hash: String, interval: Duration = .milliseconds(500)) async throws {
    while true {
      try await Task.sleep(for: interval)
      guard case .valid = try lookup(hash: hash) else { return }
    }
  }
}
