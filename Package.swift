// swift-tools-version: 6.1
import PackageDescription

// Layers point one way: kinematics core ← formats ← scoring ← server, app, command line.
let package = Package(
  name: "OnTrack",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "ontrack", targets: ["ontrack"]),
    .library(name: "OnTrackKinematics", targets: ["OnTrackKinematics"]),
    .library(name: "OnTrackFormats", targets: ["OnTrackFormats"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
  ],
  targets: [
    // Quaternions, skeletons, poses, clips, forward kinematics. Foundation at most.
    .target(name: "OnTrackKinematics"),
    // Motion files in and out: BVH, joint-angle CSV.
    .target(name: "OnTrackFormats", dependencies: ["OnTrackKinematics"]),
    // The `ontrack` subcommands, as a library so tests can run them in-process.
    .target(
      name: "OnTrackCLI",
      dependencies: [
        "OnTrackKinematics", "OnTrackFormats",
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
      name: "OnTrackFormatsTests",
      dependencies: ["OnTrackKinematics", "OnTrackFormats", "OnTrackCLI"],
      exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
