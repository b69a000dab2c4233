import Foundation
import OnTrackScoring
import Testing

/// A plain double-precision DTW over the full matrix, band applied as in the peers' definition.
func referenceDTW(_ a: [[Double]], _ b: [[Double]], radius: Int?) -> Double {
  let n = a.count
  let m = b.count
  var d = [[Double]](repeating: [Double](repeating: .infinity, count: m), count: n)
  for i in 0..<n {
    for j in 0..<m {
      if let r = radius, j < i - r - max(0, n - m) || j > i + r + max(0, m - n) { continue }
      let cost = zip(a[i], b[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
      if i == 0 && j == 0 {
        d[i][j] = cost
      } else {
        var best = Double.infinity
        if i > 0 { best = min(best, d[i - 1][j]) }
        if j > 0 { best = min(best, d[i][j - 1]) }
        if i > 0 && j > 0 { best = min(best, d[i - 1][j - 1]) }
        d[i][j] = cost + best
      }
    }
  }
  return d[n - 1][m - 1].squareRoot()
}

/// Random-walk sequences like the peers' benchmark uses.
func randomWalk(_ count: Int, _ width: Int, seed: UInt64) -> [[Double]] {
  var state = seed
  func next() -> Double {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Double(state >> 11) / Double(1 << 53) - 0.5
  }
  var position = [Double](repeating: 0, count: width)
  return (0..<count).map { _ in
    for k in 0..<width { position[k] += next() }
    return position
  }
}

func matrix(_ rows: [[Double]]) -> DTWMatrix {
  DTWMatrix(rows: rows.count, width: rows[0].count, values: rows.flatMap { $0.map(Float.init) })
}

@Suite("Dynamic time warping")
struct DTWTests {
  @Test(
    "banded distance equals a plain full-matrix implementation",
    arguments: [(40, 40, 3, nil), (50, 30, 7, 5), (30, 55, 20, 2), (64, 64, 1, 10), (17, 90, 9, 0)]
      as [(Int, Int, Int, Int?)])
  func matchesPlainImplementation(n: Int, m: Int, width: Int, radius: Int?) {
    let a = randomWalk(n, width, seed: UInt64(n * 31 + m))
    let b = randomWalk(m, width, seed: UInt64(m * 17 + width))
    var dtw = DynamicTimeWarping()
    let ours = Double(dtw.distance(matrix(a), matrix(b), radius: radius))
    let expected = referenceDTW(a, b, radius: radius)
    #expect(abs(ours - expected) <= 1e-4 * expected)
  }

  @Test("the path runs from corner to corner in unit steps and its cost is the distance²")
  func pathIsValid() {
    let a = randomWalk(45, 6, seed: 1)
    let b = randomWalk(60, 6, seed: 2)
    var dtw = DynamicTimeWarping()
    let (path, cost) = dtw.align(matrix(a), aRows: 45, matrix(b), bRows: 60, radius: 8)
    #expect(path.first! == (0, 0) && path.last! == (44, 59))
    var sum = 0.0
    for (k, (i, j)) in path.enumerated() {
      if k > 0 {
        let (pi, pj) = path[k - 1]
        #expect(
          (i - pi, j - pj) == (1, 1) || (i - pi, j - pj) == (1, 0) || (i - pi, j - pj) == (0, 1))
      }
      #expect(j >= i - 8 && j <= i + 8 + 15)
      sum += zip(a[i], b[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    }
    #expect(abs(sum - Double(cost)) <= 1e-4 * sum)
    #expect(
      abs(Double(cost).squareRoot() - referenceDTW(a, b, radius: 8)) <= 1e-4
        * Double(cost).squareRoot())
  }

  @Test("empty sequences have infinite distance")
  func empty() {
    var dtw = DynamicTimeWarping()
    let a = DTWMatrix(rows: 0, width: 3, values: [])
    #expect(dtw.distance(a, matrix(randomWalk(4, 3, seed: 3))) == .infinity)
  }

  @Test(
    "distance agrees with dtaidistance, dtw-python and tslearn (DTW_SQEUC_SYM1)",
    .enabled(if: ScoringPeers.python != nil, "needs the peers' Python (ONTRACK_PEERS_PYTHON)"),
    arguments: [(120, 100, 20, 10), (200, 60, 40, 30), (80, 80, 60, nil)] as [(Int, Int, Int, Int?)]
  )
  func agreesWithPeers(n: Int, m: Int, width: Int, radius: Int?) throws {
    let a = randomWalk(n, width, seed: UInt64(n))
    let b = randomWalk(m, width, seed: UInt64(m + 1000))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-dtw-\(getpid())-\(n)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    func write(_ rows: [[Double]], _ name: String) throws -> String {
      let url = folder.appendingPathComponent(name)
      try rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n")
        .write(to: url, atomically: true, encoding: .utf8)
      return url.path
    }
    var arguments = [
      try write(a, "a.csv"), try write(b, "b.csv"), "--json", "--definition", "DTW_SQEUC_SYM1",
    ]
    if let radius { arguments += ["--radius", "\(radius)"] }
    let output = try ScoringPeers.run("dtw_reference.py", arguments)
    struct Report: Decodable {
      struct Result: Decodable { var value: Double }
      var results: [String: Result]
    }
    let report = try JSONDecoder().decode(Report.self, from: Data(output.utf8))
    let expected = try #require(report.results["DTW_SQEUC_SYM1"]).value
    var dtw = DynamicTimeWarping()
    let ours = Double(dtw.distance(matrix(a), matrix(b), radius: radius))
    #expect(abs(ours - expected) <= 1e-4 * expected, "ours \(ours), peers \(expected)")
  }
}

/// The reference peers' Python, if installed.
enum ScoringPeers {
  static let python: String? = {
    let candidates = [
      ProcessInfo.processInfo.environment["ONTRACK_PEERS_PYTHON"], "/tmp/peers-venv/bin/python",
    ]
    return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  static func run(_ script: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python ?? "/usr/bin/false")
    process.arguments =
      [ScoringData.shared.appendingPathComponent("peers/\(script)").path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }
}
