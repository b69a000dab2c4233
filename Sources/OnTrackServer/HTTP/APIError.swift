import Hummingbird

/// Every error the API returns: a status and a sentence saying what was wrong, sent as
/// `{"error": {"message": "…"}}`.
public enum APIError: Error, HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
  /// No valid token (401).
  case unauthorized(String)
  /// A valid token whose role or owner may not do this (403).
  case forbidden(String)
  case notFound(String)
  case badRequest(String)
  case conflict(String)
  case payloadTooLarge(String)
  case `internal`(String)

  public var status: HTTPResponse.Status {
    switch self {
    case .unauthorized: .unauthorized
    case .forbidden: .forbidden
    case .notFound: .notFound
    case .badRequest: .badRequest
    case .conflict: .conflict
    case .payloadTooLarge: .contentTooLarge
    case .internal: .internalServerError
    }
  }

  public var message: String {
    switch self {
    case .unauthorized(let m), .forbidden(let m), .notFound(let m), .badRequest(let m),
      .conflict(let m), .payloadTooLarge(let m), .internal(let m):
      m
    }
  }

  public var description: String { "\(status.code) \(message)" }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers: HTTPFields = [:]
    if case .unauthorized = self { headers[.wwwAuthenticate] = "Bearer" }
    return try HTTPError(status, headers: headers, message: message).response(
      from: request, context: context)
  }
}
