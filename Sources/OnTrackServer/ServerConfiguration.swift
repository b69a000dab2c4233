import Foundation
import Logging
import OnTrackFormats
import OnTrackKinematics

/// The limits that keep one patient, or one clumsy client, from exhausting the host. Each has
/// a flag on `ontrack serve` and a line in `SECURITY.md`.
public struct ServerLimits: Sendable {
  /// Largest accepted JSON frame, bytes.
  public var maximumFrameBytes = 64 * 1024
  /// Sessions one patient may have open at once.
  public var maximumOpenSessionsPerPatient = 8
  /// Sessions open at once on the server.
  public var maximumOpenSessions = 2000
  /// Frames a second one session may send, sustained (a burst of one second's worth is
  /// allowed): twice the fastest device rate OnTrack reads (120 Hz).
  public var maximumFrameRate = 240.0
  /// Free bytes the data disk must keep; below it new frames and sessions are refused.
  public var minimumFreeDiskBytes: Int64 = 256 << 20
  /// Viewers (`/watch` connections) one session may have at once: each frame is sent to
  /// every one, so without a cap one client could make a stream cost the server hundreds of
  /// times over (a therapist's dashboard and the patient's own screen need a few).
  public var maximumWatchersPerSession = 16
  /// Frames held unwritten (storage failing) before new frames are refused.
  public var maximumBacklog = 100_000
  /// How long a device pairing code works.
  public var pairingCodeLifetime: Duration = .seconds(300)
  /// An open session that received nothing this long is finished by the server.
  public var abandonedSessionAge: Duration = .seconds(12 * 3600)
  /// Open sessions unused this long leave memory (and return from the store when used).
  public var idleSessionTimeout: Duration = .seconds(30 * 60)
  /// How long a server's lease on a live session lasts without renewal (renewed every 2 s
  /// while the session is in memory): after a server dies, another takes its sessions this
  /// long after its last renewal. Keep it well above the 2 s renewal period.
  public var sessionLease: Duration = .seconds(10)
  /// A kept-alive HTTP connection with no request this long is closed.
  public var httpIdleTimeout: Duration = .seconds(75)
  /// Connection count, request-head deadline and sizes.
  public var connections = ConnectionLimits()

  /// How a BVH sent by a client (a session's skeleton, an exercise's reference) is read: at
  /// most 512 joints and End Sites nested at most 64 deep. Real rigs have under 100 joints
  /// nested about 15 deep; a 10,000-joint chain would be stored, and sent to every watcher,
  /// as hundreds of megabytes of indentation.
  public static let uploadedBVH = BVHReader.Options(maximumJoints: 512, maximumDepth: 64)

  public init() {}
}

/// How to run a server.
public struct ServerConfiguration: Sendable {
  /// Address of the HTTP and WebSocket listener. Loopback by default.
  public var host = "127.0.0.1"
  /// HTTP and WebSocket port; 0 picks a free one.
  public var port = 8080
  /// Address of the device listeners (Axis Neuron, VMC): loopback unless set, even when
  /// `host` is public, since devices send unencrypted frames.
  public var deviceHost = "127.0.0.1"
  /// Folder of the SQLite store.
  public var dataFolder: URL
  /// Exercises to seed the library with (`Assets/exercises`).
  public var seedExercises: URL?
  /// Axis Neuron BVH broadcast (TCP) port, if any.
  public var axisPort: Int?
  /// The skeleton Axis Neuron frames are declared on.
  public var axisSkeleton: Skeleton = DeviceRigs.perceptionNeuron(displacement: false)
  /// Frames per second of the Axis Neuron broadcast.
  public var axisFrameRate = 60.0
  /// VMC (OSC over UDP) port, if any.
  public var vmcPort: Int?
  /// A PEM certificate chain and private key: serve HTTPS and WSS.
  public var tls: (certificate: URL, key: URL)?
  /// How long a token's identity is trusted before the store is read again: the longest a
  /// token revoked on disk (`ontrack token revoke`) keeps working. Revoking through the API
  /// acts at once.
  public var tokenRecheckInterval: Duration = IdentityCache.defaultLifetime
  public var limits = ServerLimits()
  /// A PostgreSQL store's URL (`postgres://USER@HOST/DB`) instead of SQLite in `dataFolder`.
  public var postgresURL: String?
  /// This server's name as a session lease holder. Default: `local` for SQLite (one server
  /// per database, so a restarted server takes its sessions back at once); for PostgreSQL,
  /// the host name and process id (a restarted server waits for its old leases to expire,
  /// as another server would).
  public var serverName: String?
  /// Options of the SQLite store.
  public var sqlite = SQLiteStore.Options()
  /// Free bytes of the disk holding a folder (tests inject one to fill the disk).
  public var freeDiskBytes: @Sendable (URL) -> Int64? = StorageGuard.freeBytes
  public var logger = Logger(label: "ontrack.server")
  /// Where audit lines go (`ontrack.audit`).
  public var auditLogger = Logger(label: "ontrack.audit")

  /// The therapist's dashboard (`index.html`, `dashboard.css`, `dashboard.js`), served at
  /// `/dashboard/`; `nil`: none.
  public var dashboardFolder: URL?

  public init(dataFolder: URL) {
    self.dataFolder = dataFolder
    seedExercises = InstallLocation.exercises
    dashboardFolder = InstallLocation.root(containing: "Assets/dashboard/index.html")
      .map { $0.appendingPathComponent("Assets/dashboard") }
  }

  /// The default data folder: `$XDG_DATA_HOME/ontrack`, else `~/.local/share/ontrack`.
  public static var defaultDataFolder: URL {
    let environment = ProcessInfo.processInfo.environment
    if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
      return URL(fileURLWithPath: xdg).appendingPathComponent("ontrack")
    }
    return FileManager.default.homeDirectoryForCurrentUser
      .appendingPathComponent(".local/share/ontrack")
  }

  /// True if `host` only accepts connections from this machine.
  public static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }
}
