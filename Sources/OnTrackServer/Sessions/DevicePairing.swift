import Foundation
import Synchronization

/// Pairs device connections with sessions by short-lived codes.
///
/// A session's owner asks for a code (`POST /v1/sessions/{id}/pairing`); a device presents it
/// once (Axis Neuron: the avatar name; VMC: an `/OnTrack/Pair s:CODE` message) and from then
/// on its connection (a TCP connection, or a UDP source address) feeds that session and no
/// other. A code pairs one device, expires after `lifetime`, and is 8 characters from an
/// alphabet without look-alikes (32⁸ ≈ 10¹² codes); a source that presents too many wrong
/// codes is ignored for a while, so codes cannot be guessed. Nobody learns another holder's
/// session id from a device port.
final class DevicePairing: Sendable {
  let lifetime: Duration
  /// Wrong codes a source may present before it is ignored for `penalty`.
  let maximumFailures = 10
  let penalty: Duration = .seconds(60)
  private let state = Mutex(State())

  private struct State {
    var codes: [String: (session: String, expires: ContinuousClock.Instant)] = [:]
    var failures: [String: (count: Int, since: ContinuousClock.Instant)] = [:]
  }

  /// The code alphabet: digits and capitals without 0/O, 1/I/L.
  static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ".utf8)
  static let codeLength = 8

  init(lifetime: Duration) {
    self.lifetime = lifetime
  }

  /// A new code for `session`, and when it expires (seconds since 1970).
  func issue(for session: String) -> (code: String, expires: Double) {
    var generator = SystemRandomNumberGenerator()
    let code = String(
      decoding: (0..<Self.codeLength).map { _ in
        Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &generator)]
      }, as: UTF8.self)
    let now = ContinuousClock.now
    state.withLock { s in
      s.codes = s.codes.filter { $0.value.expires > now }
      s.codes[code] = (session, now + lifetime)
    }
    return (code, Date().timeIntervalSince1970 + lifetime.seconds)
  }

  /// The outcome of a device presenting a name.
  enum Claim: Equatable {
    /// The code was valid: the source is now paired with this session.
    case paired(String)
    /// Not a valid code (wrong, used or expired).
    case refused
    /// The source presented too many wrong codes and is ignored for now.
    case ignored
  }

  /// Takes `code` from `source` (an address): pairs on a valid code, which is then used up.
  func claim(_ code: String, from source: String) -> Claim {
    let now = ContinuousClock.now
    return state.withLock { s in
      if let failures = s.failures[source] {
        if now - failures.since > penalty {
          s.failures[source] = nil
        } else if failures.count >= maximumFailures {
          return .ignored
        }
      }
      let key = code.uppercased()
      if let entry = s.codes[key], entry.expires > now {
        s.codes[key] = nil
        s.failures[source] = nil
        return .paired(entry.session)
      }
      let previous = s.failures[source]
      s.failures[source] = ((previous?.count ?? 0) + 1, previous?.since ?? now)
      if s.failures.count > 10_000 {
        s.failures = s.failures.filter { now - $0.value.since <= penalty }
      }
      return .refused
    }
  }
}
