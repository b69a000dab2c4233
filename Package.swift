// swift-tools-version: 6.1
import PackageDescription

// Layers point one way: kinematics core ← formats ← scoring ← server, app, command line.

// The numeric layers are compiled with optimisation even in debug builds: the tests run the
// full UI-PRMD evaluation and every shared recording, which unoptimised Swift makes 5× slower.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
  name: "OnTrack",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "ontrack", targets: ["ontrack"]),
    .executable(name: "ontrack-server", targets: ["ontrack-server"]),
    .library(name: "OnTrackKinematics", targets: ["OnTrackKinematics"]),
    .library(name: "OnTrackFormats", targets: ["OnTrackFormats"]),
    .library(name: "OnTrackScoring", targets: ["OnTrackScoring"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.60.0"),
    .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
    .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
    .package(
      url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.0.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
  ],
  targets: [
    // Quaternions, skeletons, poses, clips, forward kinematics. Foundation at most.
    .target(name: "OnTrackKinematics", swiftSettings: optimized),
    // zlib, for gzip-compressed recordings (UI-PRMD ships as .txt.gz).
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    // Debian's eSpeak NG, for spoken coaching (offline text to speech).
    .systemLibrary(
      name: "CEspeakNG", path: "Sources/CEspeakNG", providers: [.apt(["libespeak-ng-dev"])]),
    // Spoken coaching: what to say when (one thing at a time, corrections spaced), spoken by
    // eSpeak NG, rendered to PCM or WAV. Knows nothing of SDL.
    .target(name: "OnTrackSpeech", dependencies: ["CEspeakNG"]),
    // Motion files in and out: BVH, joint-angle CSV, UI-PRMD.
    .target(
      name: "OnTrackFormats", dependencies: ["OnTrackKinematics", "CZlib"],
      swiftSettings: optimized),
    // Exercises, features, alignment (DTW, subsequence matching), repetition scores, cues.
    .target(
      name: "OnTrackScoring", dependencies: ["OnTrackKinematics", "OnTrackFormats"],
      swiftSettings: optimized),
    // A simulated patient: a reference performed slower, shallower, noisier, with compensation.
    .target(
      name: "OnTrackSimulation", dependencies: ["OnTrackKinematics"], swiftSettings: optimized),
    // How well the scoring works, measured: UI-PRMD (Kinect and Vicon), the robustness suite.
    .target(
      name: "OnTrackEvaluation",
      dependencies: ["OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation"],
      swiftSettings: optimized),
    // The wire: every message between the server and its clients (stream frames, server
    // messages, API bodies) as Codable types, shared by server, clients and tests.
    .target(
      name: "OnTrackProtocol", dependencies: ["OnTrackFormats", "OnTrackScoring"],
      swiftSettings: optimized),
    // A programme day as the patient goes through it (stages, live scoring, the outbox of
    // results waiting for upload): shared by the app's window, the client and headless runs.
    .target(
      name: "OnTrackProgramme",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation",
        "OnTrackProtocol",
      ],
      swiftSettings: optimized),
    // SDL2 (window, events, fonts, PNG) and the OpenGL core-profile header.
    .systemLibrary(
      name: "CSDL2", path: "Sources/CSDL2",
      providers: [.apt(["libsdl2-dev", "libsdl2-ttf-dev", "libsdl2-image-dev"])]),
    .systemLibrary(name: "CGLCore", path: "Sources/CGLCore", providers: [.apt(["libgl-dev"])]),
    // The avatar app: SDL2 window, OpenGL 3.3 renderer, HUD; headless rendering to PNG.
    .target(
      name: "OnTrackApp",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation", "CSDL2",
        "OnTrackSpeech", "OnTrackProgramme",
        "CGLCore",
      ]),
    // The server: sessions over WebSocket, Axis Neuron TCP and VMC/OSC UDP; SQLite store;
    // roles and tokens; reports; Prometheus metrics.
    .target(
      name: "OnTrackServer",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackProtocol",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOWebSocket", package: "swift-nio"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]),
    // Clients of the server: the HTTP API, the watch socket, simulated patients streaming over
    // WebSocket, Axis Neuron TCP or VMC UDP.
    .target(
      name: "OnTrackClient",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation",
        "OnTrackProtocol", "OnTrackProgramme",
        .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    // The server's commands (serve, token, backup), without the app: `ontrack-server` builds
    // with no SDL or OpenGL.
    .target(
      name: "OnTrackServerCommands",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackProtocol", "OnTrackServer",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    .executableTarget(
      name: "ontrack-server",
      dependencies: [
        "OnTrackServerCommands",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The `ontrack` subcommands, as a library so tests can run them in-process.
    .target(
      name: "OnTrackCLI",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation", "OnTrackApp",
        "OnTrackProtocol", "OnTrackServer", "OnTrackServerCommands", "OnTrackClient",
        "OnTrackEvaluation", "OnTrackSpeech", "OnTrackProgramme",
        .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(
      name: "ontrack",
      dependencies: [
        "OnTrackCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Heap statistics for the tests that prove hot paths allocate nothing per frame.
    .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
    .testTarget(
      name: "OnTrackKinematicsTests",
      dependencies: [
        "OnTrackKinematics", "AllocationCounter",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
    .testTarget(
      name: "OnTrackScoringTests",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats", "OnTrackScoring", "OnTrackSimulation",
        "OnTrackEvaluation", "AllocationCounter",
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "OnTrackAppTests",
      dependencies: [
        "OnTrackApp", "OnTrackScoring", "OnTrackSimulation", "OnTrackSpeech", "AllocationCounter",
        "OnTrackProgramme", "OnTrackProtocol",
      ],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "OnTrackServerTests",
      dependencies: [
        "OnTrackServer", "OnTrackScoring", "OnTrackSimulation", "OnTrackProtocol",
        "OnTrackClient", "OnTrackProgramme", "OnTrackServerCommands",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
      ]),
    .testTarget(
      name: "OnTrackFormatsTests",
      dependencies: ["OnTrackKinematics", "OnTrackFormats", "OnTrackCLI"],
      exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
