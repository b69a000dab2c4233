import Foundation
import Synchronization

/// Watches the free space of the disk that holds the data, so frames are refused with a clear
/// reason (`storage_full`) below a floor instead of being lost to a full disk.
final class StorageGuard: Sendable {
  let folder: URL
  /// Bytes that must stay free.
  let floor: Int64
  private let below = Atomic<Bool>(false)
  private let measure: @Sendable (URL) -> Int64?

  /// - Parameter measure: free bytes of the file system holding a folder (tests inject one).
  init(
    folder: URL, floor: Int64,
    measure: @escaping @Sendable (URL) -> Int64? = StorageGuard.freeBytes
  ) {
    self.folder = folder
    self.floor = floor
    self.measure = measure
    refresh()
  }

  /// True while free space is below the floor.
  var isBelowFloor: Bool { below.load(ordering: .relaxed) }

  /// Measures again; returns the free bytes (nil if unknown: then nothing is refused).
  @discardableResult
  func refresh() -> Int64? {
    let free = measure(folder)
    below.store(free.map { $0 < floor } ?? false, ordering: .relaxed)
    return free
  }

  /// Free bytes available to this process on the file system holding `folder`.
  @Sendable static func freeBytes(_ folder: URL) -> Int64? {
    var stats = statvfs()
    guard statvfs(folder.path, &stats) == 0 else { return nil }
    let (product, overflow) = Int64(stats.f_bavail).multipliedReportingOverflow(
      by: Int64(stats.f_frsize))
    return overflow ? Int64.max : product
  }
}
