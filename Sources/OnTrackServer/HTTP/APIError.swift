import Hummingbird
import OnTrackProtocol

/// An error as the API returns it: a status and a sentence saying what was wrong, sent as
/// `{"error": {"message": "…"}}`. Only the HTTP edge makes these: the domain throws its own
/// errors (`AccessError`, `SessionError`, `ExerciseError`, `StoreError`), which
/// `init(_:)` maps to a status.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
  public var status: HTTPResponse.Status
  public var message: String

  public init(_ status: HTTPResponse.Status, _ message: String) {
    self.status = status
    self.message = message
  }

  static func badRequest(_ message: String) -> APIError { APIError(.badRequest, message) }

  /// The status and words for any error a route or the domain throws.
  public init(_ error: any Error) {
    switch error {
    case let error as APIError:
      self = error
    case let error as AccessError:
      switch error {
      case .noToken, .invalidToken, .revokedToken, .expiredToken:
        self.init(.unauthorized, error.description)
      case .tokenInQuery: self.init(.badRequest, error.description)
      case .wrongRole, .notYours: self.init(.forbidden, error.description)
      }
    case let error as SessionError:
      switch error {
      case .notFound: self.init(.notFound, error.description)
      case .finished: self.init(.conflict, error.description)
      case .heldElsewhere: self.init(.serviceUnavailable, error.description)
      case .invalid, .unusable: self.init(.badRequest, error.description)
      case .quota: self.init(.tooManyRequests, error.description)
      case .storageFull:
        self.init(.init(code: 507, reasonPhrase: "Insufficient Storage"), error.description)
      }
    case let error as ExerciseError:
      switch error {
      case .notFound: self.init(.notFound, error.description)
      case .exists: self.init(.conflict, error.description)
      case .invalid: self.init(.badRequest, error.description)
      case .notYours: self.init(.forbidden, error.description)
      case .unloadable: self.init(.internalServerError, error.description)
      }
    case let error as ProgrammeError:
      switch error {
      case .notFound: self.init(.notFound, error.description)
      case .invalid: self.init(.badRequest, error.description)
      case .notYours: self.init(.forbidden, error.description)
      }
    case let error as StoreError:
      switch error {
      case .nameTaken: self.init(.conflict, error.description)
      case .unavailable:
        self.init(.serviceUnavailable, "the store is unavailable for now: \(error)")
      default: self.init(.internalServerError, "the store failed: \(error)")
      }
    case let error as HTTPResponseError:
      self.init(error.status, "\(error)")
    default:
      self.init(.internalServerError, "internal error: \(error)")
    }
  }

  public var description: String { "\(status.code) \(message)" }

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var headers: HTTPFields = [:]
    if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
    // Every 503 here is a condition that passes (storage for now, a session's lease): say when
    // to try again.
    if status == .serviceUnavailable { headers[.retryAfter] = "2" }
    return try HTTPError(status, headers: headers, message: message).response(
      from: request, context: context)
  }
}

/// Turns whatever a route throws into an `APIError`: the one place domain errors meet HTTP.
/// A refused WebSocket upgrade's answer is also remembered for the connection guard, which
/// writes it in place of the upgrader's empty 400 (`UpgradeRefusal`).
struct ErrorMapper: RouterMiddleware {
  typealias Context = ServerContext

  func handle(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    do {
      return try await mapped(request, context: context, next: next)
    } catch {
      if TokenAuthenticator.isWebSocketUpgrade(request) {
        UpgradeRefusal.remember(APIError(error), on: context.channel)
      }
      throw error
    }
  }

  private func mapped(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as APIError {
      throw error
    } catch let error as AccessError {
      throw APIError(error)
    } catch let error as SessionError {
      throw APIError(error)
    } catch let error as ExerciseError {
      throw APIError(error)
    } catch let error as ProgrammeError {
      throw APIError(error)
    } catch let error as StoreError {
      context.logger.error("store error", metadata: ["error": "\(error)"])
      throw APIError(error)
    } catch let error as HTTPResponseError {
      // Hummingbird's own (a body that does not decode, a missing parameter).
      throw error
    } catch {
      context.logger.error("unexpected error", metadata: ["error": "\(error)"])
      throw APIError(error)
    }
  }
}
