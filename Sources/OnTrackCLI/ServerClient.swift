import Foundation
import HummingbirdWSClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A small client of the server's HTTP API, for `record`, `simulate` and `play --connect`.
struct ServerClient: Sendable {
  /// `http://host:port`, no trailing slash.
  let base: URL
  let token: String

  /// Why a request failed, with the server's own message.
  struct Failure: Error, CustomStringConvertible {
    var status: Int
    var message: String
    var description: String { "server answered \(status): \(message)" }
  }

  init(base: URL, token: String) {
    self.base = base
    self.token = token
  }

  /// The base of any URL on the server (`http://h:p/v1/sessions/x` → `http://h:p`).
  static func base(of url: URL) throws -> URL {
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
  static func sessionID(in url: URL) -> String? {
    let parts = url.path.split(separator: "/").map(String.init)
    guard let k = parts.firstIndex(of: "sessions"), k + 1 < parts.count else { return nil }
    return parts[k + 1]
  }

  /// The WebSocket URL of `path` (the token goes in a header: `webSocketConfiguration`).
  func webSocketURL(_ path: String) -> String {
    var text = base.absoluteString
    if text.hasPrefix("https") {
      text = "wss" + text.dropFirst(5)
    } else if text.hasPrefix("http") {
      text = "ws" + text.dropFirst(4)
    }
    return text + path
  }

  /// WebSocket client settings carrying the token, for messages up to `maxFrameSize` bytes.
  func webSocketConfiguration(maxFrameSize: Int) -> WebSocketClientConfiguration {
    var configuration = WebSocketClientConfiguration()
    configuration.maxFrameSize = maxFrameSize
    configuration.additionalHeaders[.authorization] = "Bearer \(token)"
    return configuration
  }

  func request(_ method: String, _ path: String, json body: (any Encodable)? = nil) async throws
    -> Data
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
    let (data, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    guard (200..<300).contains(status) else {
      struct ErrorBody: Decodable {
        struct Inner: Decodable { var message: String }
        var error: Inner
      }
      let message =
        (try? JSONDecoder().decode(ErrorBody.self, from: data).error.message)
        ?? String(decoding: data.prefix(300), as: UTF8.self)
      throw Failure(status: status, message: message)
    }
    return data
  }

  func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
    try JSONDecoder().decode(type, from: try await request("GET", path))
  }

  func send<T: Decodable>(
    _ method: String, _ path: String, json body: any Encodable, as type: T.Type
  )
    async throws -> T
  {
    try JSONDecoder().decode(type, from: try await request(method, path, json: body))
  }

  /// What the CLI needs of a session.
  struct Session: Decodable, Sendable {
    var id: String
    var patient: String
    var exercise: String
    var exerciseVersion: Int
    var repetitions: Int
    var meanScore: Double?
    var frames: Int?
    var rejected: [String: Int]
  }

  struct SessionRequest: Encodable {
    var exercise: String
    var skeleton: String?
    var patient: String?
  }

  /// Creates a session.
  func createSession(exercise: String, skeleton: String, patient: String? = nil) async throws
    -> Session
  {
    try await send(
      "POST", "/v1/sessions",
      json: SessionRequest(exercise: exercise, skeleton: skeleton, patient: patient),
      as: Session.self)
  }

  struct ExerciseDetail: Decodable {
    var id: String
    var version: Int
    var definition: ExerciseDefinition
  }

  /// Exercise `id` at `version` with its reference, ready to score and show.
  func exercise(_ id: String, version: Int? = nil) async throws -> Exercise {
    let query = version.map { "?version=\($0)" } ?? ""
    let detail = try await get("/v1/exercises/\(id)\(query)", as: ExerciseDetail.self)
    let bvh = String(
      decoding: try await request("GET", "/v1/exercises/\(id)/reference.bvh\(query)"),
      as: UTF8.self)
    let clip = try BVHReader().read(text: bvh, fileName: "\(id) reference")
    return try Exercise(definition: detail.definition, referenceClip: clip, file: id)
  }
}
