import Foundation
import OnTrackProtocol

/// What a programme day leaves to upload, kept on disk until the server has it: each set's
/// frames, and each day's record. Nothing is lost when the network or the server is down (the
/// files stay until an upload succeeds) and nothing is stored twice (every set and day carries
/// a key made once, which the server uses to answer a repeated upload with what it already has).
///
/// One JSON file per item in `folder` (0600, written atomically): `set-KEY.json`, `day-KEY.json`.
public struct ProgrammeOutbox: Sendable {
  public let folder: URL

  /// A set as recorded: channel values of the exercise's reference skeleton per frame.
  public struct PendingSet: Codable, Sendable, Equatable {
    public var key: String
    public var programme: String?
    public var exercise: String
    public var exerciseVersion: Int?
    /// The day record this set belongs to.
    public var day: String
    public var times: [Double]
    public var frames: [[Float]]
    /// The skeleton the frames are on (BVH), when it is not the exercise's reference (a
    /// camera's poses are on the canonical skeleton).
    public var skeletonBVH: String?

    public init(
      key: String, programme: String?, exercise: String, exerciseVersion: Int?, day: String,
      times: [Double], frames: [[Float]], skeletonBVH: String? = nil
    ) {
      self.skeletonBVH = skeletonBVH
      self.key = key
      self.programme = programme
      self.exercise = exercise
      self.exerciseVersion = exerciseVersion
      self.day = day
      self.times = times
      self.frames = frames
    }
  }

  /// A day as recorded: the programme day, its sessions named by their sets' keys (the server
  /// ids are known only once uploaded).
  public struct PendingDay: Codable, Sendable, Equatable {
    public var programme: String?
    public var day: ProgrammeDay
    public var setKeys: [String]

    public init(programme: String?, day: ProgrammeDay, setKeys: [String]) {
      self.programme = programme
      self.day = day
      self.setKeys = setKeys
    }
  }

  public init(folder: URL) throws {
    self.folder = folder
    try FileManager.default.createDirectory(
      at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
  }

  /// The default outbox: `$XDG_DATA_HOME/ontrack/outbox`, else `~/.local/share/ontrack/outbox`.
  public static var defaultFolder: URL {
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share")
    return base.appendingPathComponent("ontrack/outbox")
  }

  /// A fresh key for a set or a day.
  public static func newKey() -> String {
    UUID().uuidString.lowercased()
  }

  public func add(_ set: PendingSet) throws {
    try write(set, to: "set-\(set.key).json")
  }

  public func add(_ day: PendingDay) throws {
    try write(day, to: "day-\(day.day.key).json")
  }

  /// Sets waiting, oldest first. A file that does not decode is reported, not dropped.
  public func sets() throws -> [PendingSet] { try read(prefix: "set-") }

  public func days() throws -> [PendingDay] { try read(prefix: "day-") }

  public func remove(set key: String) throws { try remove("set-\(key).json") }

  public func remove(day key: String) throws { try remove("day-\(key).json") }

  /// Notes that set `key` is on the server as `session` (until its day is recorded).
  public func markSent(set key: String, session: String) throws {
    try write(["key": key, "session": session], to: "sent-\(key).json")
  }

  /// The session set `key` became, if it was uploaded and its day is not recorded yet.
  public func sentSession(set key: String) -> String? {
    let url = folder.appendingPathComponent("sent-\(key).json")
    guard let data = try? Data(contentsOf: url),
      let entry = try? JSONDecoder().decode([String: String].self, from: data)
    else { return nil }
    return entry["session"]
  }

  public func remove(sent key: String) throws { try remove("sent-\(key).json") }

  /// True if no set or day is waiting.
  public var isEmpty: Bool {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
      .allSatisfy { !($0.hasPrefix("set-") || $0.hasPrefix("day-")) }
  }

  /// A file in the outbox that cannot be read back.
  public struct Unreadable: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "outbox file \(file): \(reason)" }
  }

  private func write(_ value: some Encodable, to name: String) throws {
    let data = try JSONEncoder().encode(value)
    let url = folder.appendingPathComponent(name)
    try data.write(to: url, options: [.atomic])
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
  }

  private func read<T: Decodable>(prefix: String) throws -> [T] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
    var dated: [(Date, T)] = []
    for name in names {
      let url = folder.appendingPathComponent(name)
      do {
        let value = try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        let modified =
          (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate]
            as? Date) ?? .distantPast
        dated.append((modified, value))
      } catch {
        throw Unreadable(file: url.path, reason: "\(error)")
      }
    }
    return dated.sorted { $0.0 < $1.0 }.map(\.1)
  }

  private func remove(_ name: String) throws {
    let url = folder.appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: url.path) {
      try FileManager.default.removeItem(at: url)
    }
  }
}
