import Hummingbird

/// Logs each request's method, path, status and duration at `debug` — the path only, never the
/// query, which may carry a WebSocket client's `token`.
struct RequestLogger: RouterMiddleware {
  typealias Context = ServerContext

  func handle(
    _ request: Request, context: ServerContext,
    next: (Request, ServerContext) async throws -> Response
  ) async throws -> Response {
    let start = ContinuousClock.now
    do {
      let response = try await next(request, context)
      log(request, context, status: response.status.code, start: start)
      return response
    } catch let error as any HTTPResponseError {
      log(request, context, status: error.status.code, start: start)
      throw error
    }
  }

  private func log(
    _ request: Request, _ context: ServerContext, status: Int, start: ContinuousClock.Instant
  ) {
    context.logger.debug(
      "request",
      metadata: [
        "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status)",
        "ms": "\((ContinuousClock.now - start).seconds * 1000)",
      ])
  }
}
