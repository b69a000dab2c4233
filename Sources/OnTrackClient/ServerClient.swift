import Foundation
import HummingbirdWSClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A client of the server's HTTP API (`/v1/…`), speaking its Codable bodies
/// (`OnTrackProtocol`): for `record`, `simulate`, `play --connect` and programme sessions.
///
/// ```swift
/// let client = ServerClient(base: URL(string: "http://127.0.0.1:8080")!, token: token)
/// let session = try await client.createSession(.init(exercise: "uiprmd-m07-shoulder-abduction"))
/// ```
public struct ServerClient: Sendable {
  /// `http://host:port`, no trailing slash.
  public let base: URL
  public let token: String

  /// Why a request failed, with the server's own message.
  public struct Failure: Error, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var description: String { "server answered \(status): \(message)" }

    public init(status: Int, message: String) {
      self.status = status
      self.message = message
    }
  }

  /// Times a request answered 503 (the server's storage unavailable for now, a session being
  /// moved between servers) is tried again, each after the `Retry-After` the server gave
  /// (1–10 s). Requests that create something should carry a key that makes a repeat
  /// harmless (`CreateSessionRequest.clientKey`).
  public var retriesWhenUnavailable = 4

  public init(base: URL, token: String) {
    self.base = base
    self.token = token
  }

  /// The base of any URL on the server (`http://h:p/v1/sessions/x` → `http://h:p`).
  public static func base(of url: URL) throws -> URL {
    guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
      components.host != nil
    else { throw Failure(status: 0, message: "not a server URL: \(url)") }
    switch components.scheme {
    case "ws": components.scheme = "http"
    case "wss": components.scheme = "https"
    default: break
    }
    components.path = ""
    components.query = nil
    guard let base = components.url else {
      throw Failure(status: 0, message: "not a server URL: \(url)")
    }
    return base
  }

  /// The session id in a URL such as `…/v1/sessions/ID[/watch]`.
  public static func sessionID(in url: URL) -> String? {
    let parts = url.path.split(separator: "/").map(String.init)
    guard let k = parts.firstIndex(of: "sessions"), k + 1 < parts.count else { return nil }
    return parts[k + 1]
  }

  /// The WebSocket URL of `path` (the token goes in a header: `webSocketConfiguration`).
  public func webSocketURL(_ path: String) -> String {
    var text = base.absoluteString
    if text.hasPrefix("https") {
      text = "wss" + text.dropFirst(5)
    } else if text.hasPrefix("http") {
      text = "ws" + text.dropFirst(4)
    }
    return text + path
  }

  /// WebSocket client settings carrying the token, for messages up to `maxFrameSize` bytes.
  public func webSocketConfiguration(maxFrameSize: Int) -> WebSocketClientConfiguration {
    var configuration = WebSocketClientConfiguration()
    configuration.maxFrameSize = maxFrameSize
    configuration.additionalHeaders[.authorization] = "Bearer \(token)"
    return configuration
  }

  /// Sends a request and returns the body of a 2xx answer; any other answer throws `Failure`
  /// with the server's message.
  public func request(_ method: String, _ path: String, json body: (any Encodable)? = nil)
    async throws -> Data
  {
    guard let url = URL(string: base.absoluteString + path) else {
      throw Failure(status: 0, message: "bad path \(path)")
    }
    var request = URLRequest(url: url)
    request.httpMethod = method
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    if let body {
      request.httpBody = try JSONEncoder().encode(body)
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    var attempt = 0
    while true {
      let (data, response) = try await URLSession.shared.data(for: request)
      let http = response as? HTTPURLResponse
      let status = http?.statusCode ?? 0
      if status == 503, attempt < retriesWhenUnavailable {
        attempt += 1
        let wait = (http?.value(forHTTPHeaderField: "Retry-After")).flatMap(Int.init) ?? 2
        try await Task.sleep(for: .seconds(min(max(wait, 1), 10)))
        continue
      }
      return try Self.body(data, status: status)
    }
  }

  /// `data` if `status` is 2xx; else `Failure` with the server's message.
  static func body(_ data: Data, status: Int) throws -> Data {
    guard (200..<300).contains(status) else {
      let message =
        (try? JSONDecoder().decode(ErrorResponse.self, from: data).error.message)
        ?? String(decoding: data.prefix(300), as: UTF8.self)
      throw Failure(status: status, message: message)
    }
    return data
  }

  public func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
    try JSONDecoder().decode(type, from: try await request("GET", path))
  }

  public func send<T: Decodable>(
    _ method: String, _ path: String, json body: any Encodable, as type: T.Type
  ) async throws -> T {
    try JSONDecoder().decode(type, from: try await request(method, path, json: body))
  }

  // MARK: Sessions

  public func createSession(_ body: CreateSessionRequest) async throws -> SessionView {
    try await send("POST", "/v1/sessions", json: body, as: SessionView.self)
  }

  public func session(_ id: String) async throws -> SessionView {
    try await get("/v1/sessions/\(id)", as: SessionView.self)
  }

  public func sessions() async throws -> [SessionView] {
    try await get("/v1/sessions", as: [SessionView].self)
  }

  /// Scores what is left and closes the session.
  public func finish(_ id: String) async throws -> TakeResult {
    try await send(
      "POST", "/v1/sessions/\(id)/finish", json: [String: String](), as: TakeResult.self)
  }

  /// A code that pairs one device connection with the session.
  public func pairingCode(_ id: String) async throws -> PairingCode {
    try await send(
      "POST", "/v1/sessions/\(id)/pairing", json: [String: String](), as: PairingCode.self)
  }

  // MARK: Exercises

  public func exerciseDetail(_ id: String, version: Int? = nil) async throws -> ExerciseDetail {
    let query = version.map { "?version=\($0)" } ?? ""
    return try await get("/v1/exercises/\(id)\(query)", as: ExerciseDetail.self)
  }

  /// Exercise `id` at `version` with its reference, ready to score and show.
  public func exercise(_ id: String, version: Int? = nil) async throws -> Exercise {
    let query = version.map { "?version=\($0)" } ?? ""
    let detail = try await exerciseDetail(id, version: version)
    let bvh = String(
      decoding: try await request("GET", "/v1/exercises/\(id)/reference.bvh\(query)"),
      as: UTF8.self)
    let clip = try BVHReader().read(text: bvh, fileName: "\(id) reference")
    return try Exercise(definition: detail.definition, referenceClip: clip, file: id)
  }

  /// Adds a new exercise, or a version of an existing one (`update`).
  public func storeExercise(_ upload: ExerciseUpload, update id: String? = nil) async throws
    -> ExerciseCreated
  {
    if let id {
      return try await send("PUT", "/v1/exercises/\(id)", json: upload, as: ExerciseCreated.self)
    }
    return try await send("POST", "/v1/exercises", json: upload, as: ExerciseCreated.self)
  }
}

// MARK: Programmes

extension ServerClient {
  public func programmes() async throws -> [ProgrammeView] {
    try await get("/v1/programmes", as: [ProgrammeView].self)
  }

  public func programme(_ id: String) async throws -> ProgrammeView {
    try await get("/v1/programmes/\(id)", as: ProgrammeView.self)
  }

  public func createProgramme(_ definition: ProgrammeDefinition) async throws -> ProgrammeView {
    try await send("POST", "/v1/programmes", json: definition, as: ProgrammeView.self)
  }

  public func updateProgramme(_ id: String, _ definition: ProgrammeDefinition) async throws
    -> ProgrammeView
  {
    try await send("PUT", "/v1/programmes/\(id)", json: definition, as: ProgrammeView.self)
  }

  public func progress(_ id: String) async throws -> ProgrammeProgress {
    try await get("/v1/programmes/\(id)/progress", as: ProgrammeProgress.self)
  }

  public func recordDay(_ day: ProgrammeDay, programme id: String) async throws -> ProgrammeDay {
    try await send("POST", "/v1/programmes/\(id)/days", json: day, as: ProgrammeDay.self)
  }
}
