import Foundation
import HummingbirdWSClient
import Logging
import OnTrackApp
import OnTrackClient
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Synchronization

/// `play --connect`: the app as a viewer of a live session on a server. Fetches the session's
/// exercise (the version it is scored against), attaches to `/v1/sessions/{id}/watch`, and
/// feeds the frames that arrive to the app, which shows them and scores them with the same
/// engine (so its repetitions and scores are the server's).
enum RemoteSession {
  static func connect(url text: String, token: String) async throws -> PlaySession {
    guard let url = URL(string: text), let id = ServerClient.sessionID(in: url) else {
      throw ServerClient.Failure(
        status: 0, message: "--connect needs http://HOST:PORT/v1/sessions/ID")
    }
    let client = ServerClient(base: try ServerClient.base(of: url), token: token)
    let view = try await client.session(id)
    let exercise = try await client.exercise(view.exercise, version: view.exerciseVersion)
    let (feeds, announce) = AsyncStream<Result<RemoteFeed, any Error>>.makeStream()
    let configuration = client.webSocketConfiguration(maxFrameSize: 4 << 20)
    let watchURL = client.webSocketURL("/v1/sessions/\(id)/watch")
    var logger = Logger(label: "ontrack.play")
    logger.logLevel = .warning
    let quietLogger = logger
    Task.detached {
      let holder = FeedHolder()
      do {
        try await WebSocketClient.connect(
          url: watchURL, configuration: configuration, logger: quietLogger
        ) { inbound, _, _ in
          for try await message in inbound.messages(maxSize: 4 << 20) {
            guard case .text(let text) = message,
              let decoded = try? ServerMessage.decode(text)
            else { continue }
            switch decoded {
            case .session(let hello) where holder.feed == nil:
              let skeleton = try BVHReader().read(
                text: hello.skeleton, fileName: "session skeleton"
              ).skeleton
              let created = RemoteFeed(skeleton: skeleton)
              created.setStatus("Connected to session \(hello.session.prefix(8))")
              holder.feed = created
              announce.yield(.success(created))
            case .frame(let frame):
              if let values = frame.values { holder.feed?.push(values: values, time: frame.t) }
            case .finished:
              holder.feed?.end(status: "Session finished")
            default:
              continue
            }
          }
        }
        holder.feed?.end(status: "Disconnected")
      } catch {
        announce.yield(.failure(error))
        holder.feed?.end(status: "Disconnected: \(error)")
      }
      announce.finish()
    }
    for await first in feeds {
      return try PlaySession(exercise: exercise, source: .remote(try first.get()))
    }
    throw ServerClient.Failure(
      status: 0, message: "the watch connection closed before the session hello")
  }
}

/// The feed, once the hello has made it, shared between the connection's closures.
private final class FeedHolder: Sendable {
  private let value = Mutex<RemoteFeed?>(nil)

  var feed: RemoteFeed? {
    get { value.withLock { $0 } }
    set { value.withLock { $0 = newValue } }
  }
}
