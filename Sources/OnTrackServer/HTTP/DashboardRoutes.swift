import Foundation
import HTTPTypes
import Hummingbird

/// `/dashboard/`: the therapist's web dashboard, three bundled files (HTML, CSS, JavaScript)
/// read once at start. The pages hold no patient data: they sign in with the therapist's
/// token and call the API like any client. A strict content security policy allows only this
/// origin (and inline styles, which the report pages shown in the dashboard use).
struct DashboardRoutes {
  let folder: URL?

  static let files: [String: String] = [
    "index.html": "text/html; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
  ]

  static let policy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"

  func add(to router: Router<ServerContext>) {
    guard let folder else { return }
    var loaded: [String: (type: String, body: ByteBuffer)] = [:]
    for (name, type) in Self.files {
      if let data = FileManager.default.contents(
        atPath: folder.appendingPathComponent(name).path)
      {
        loaded[name] = (type, ByteBuffer(bytes: data))
      }
    }
    guard loaded["index.html"] != nil else { return }
    let files = loaded
    // `/dashboard` and `/dashboard/` reach the same route; the page's relative links need the
    // slash.
    router.get("dashboard") { request, _ -> Response in
      guard request.uri.path.hasSuffix("/") else {
        return Response(status: .movedPermanently, headers: [.location: "/dashboard/"])
      }
      return Self.response(files["index.html"])
    }
    router.get("dashboard/:file") { _, context -> Response in
      Self.response(files[context.parameters.get("file") ?? ""])
    }
  }

  private static func response(_ file: (type: String, body: ByteBuffer)?) -> Response {
    guard let file else {
      return Response(
        status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: "no such page\n")))
    }
    var headers: HTTPFields = [
      .contentType: file.type, .contentSecurityPolicy: policy, .cacheControl: "no-cache",
    ]
    for (name, value) in [
      ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
    ] {
      if let name = HTTPField.Name(name) { headers[name] = value }
    }
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
  }
}
