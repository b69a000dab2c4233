import Foundation
import Hummingbird
import Testing

@testable import OnTrackServer

@Suite struct StoreTests {
  @Test func opensAnEmptyStore() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try Store(folder: folder)
    #expect(try store.exerciseCount() == 0)
  }
}
