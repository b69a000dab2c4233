import Foundation
import Hummingbird
import Testing

@testable import OnTrackServer

@Suite struct StoreTests {
  @Test func opensAnEmptyStore() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteStore(folder: folder)
    #expect(try await store.exerciseCount() == 0)
  }
}
