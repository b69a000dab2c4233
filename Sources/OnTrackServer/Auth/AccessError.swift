/// Why a request may not do what it asks, in the domain's words; the HTTP edge turns each into
/// a status (`APIError`).
public enum AccessError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No bearer token.
  case noToken
  /// A token nobody holds.
  case invalidToken
  case revokedToken
  case expiredToken
  /// A token in the query of a request that is not a WebSocket upgrade.
  case tokenInQuery
  /// The role may not do this (`"only a therapist may do this"`).
  case wrongRole(String)
  /// The thing belongs to someone else.
  case notYours(String)

  public var description: String {
    switch self {
    case .noToken:
      "this endpoint needs a bearer token (Authorization: Bearer …; WebSocket clients may use ?token=)"
    case .invalidToken: "invalid token"
    case .revokedToken: "this token was revoked"
    case .expiredToken: "this token has expired; ask for a new one"
    case .tokenInQuery:
      "a token in the URL is accepted only on WebSocket upgrades; send Authorization: Bearer …"
    case .wrongRole(let message), .notYours(let message): message
    }
  }

  /// The label counted in `ontrack_auth_failures_total` for a failed authentication.
  var metricReason: String? {
    switch self {
    case .invalidToken: "invalid"
    case .revokedToken: "revoked"
    case .expiredToken: "expired"
    case .tokenInQuery: "token_in_query"
    default: nil
    }
  }
}
