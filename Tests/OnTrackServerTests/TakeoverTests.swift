import Foundation
import Hummingbird
import OnTrackKinematics
import OnTrackScoring
import Synchronization
import Testing

@testable import OnTrackServer

/// Two servers sharing one store: a live session is scored by one at a time (its lease), and
/// when that server dies the other takes the session once the lease expires, rebuilds the
/// scorer from the stored frames and resumes from the durable sequence number: nothing that
/// was acknowledged is lost, and the scores are those of the recording scored offline.
@Suite("Two servers, one store: session leases and takeover", .serialized)
struct TakeoverTests {
  @Test(
    "a session moves to the other server after its server dies, nothing acknowledged lost, its viewer follows",
    arguments: StoreContractTests.Kind.allCases)
  func takeover(kind: StoreContractTests.Kind) async throws {
    guard let fixture = try await StoreContractTests.Fixture.make(kind) else { return }
    // Three times the 2 s between renewals, so the first server never lapses while it lives,
    // even on a loaded machine (with 3 s, a late renewal once let it lapse: the second server
    // was given the session while the first still held it).
    let lease = Duration.seconds(6)
    let a = try await TestServer(store: fixture.store) {
      $0.limits.sessionLease = lease
      $0.serverName = "a"
    }
    // The second server: its own connection to the same database (SQLite: the same file).
    let secondStore: any ServerStore =
      if let url = fixture.url { try await PostgresStore(url: url) } else { fixture.store }
    let b = try await TestServer(store: secondStore) {
      $0.limits.sessionLease = lease
      $0.serverName = "b"
    }
    defer {
      a.removeFolder()
      b.removeFolder()
    }
    let take = try ServerData.kinectTake(movement: 10, subject: 3, episodes: 1...4)
    let exercise = try ServerData.exercise("uiprmd-m10-shoulder-scaption")
    let offline = try TakeScorer(exercise: exercise).score(take)
    let skeletonBVH = try ServerData.bvh(of: take.skeleton)
    let encoder = ChannelEncoder(skeleton: take.skeleton)
    let half = take.frameCount / 2
    let (id, acknowledged) = try await a.run { ca in
      let session = try await ca.createSession(
        token: a.ann, exercise: exercise.id,
        extra: ",\"skeletonBVH\":\(try StreamTests.quoted(skeletonBVH))")
      let last = Mutex(-1)
      _ = try await ca.webSocket("/v1/sessions/\(session.id)/stream", token: a.ann) {
        messages, outbound in
        _ = try await messages.nextObject()
        for f in 0..<half {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        let seen = try await messages.waitForAck(through: half - 1)
        last.withLock { $0 = seen }
        try await outbound.close(.goingAway, reason: nil)
      }
      return (session.id, last.withLock { $0 })
    }
    #expect(acknowledged == half - 1)
    try await b.run { cb in
      // While the first server holds the session, the second refuses it, saying why.
      let refused = try await cb.request(.post, "/v1/sessions/\(id)/finish", token: b.ann)
      #expect(refused.status == .serviceUnavailable)
      #expect(String(buffer: refused.body).contains("another server"))
      // The first server dies: nothing released, nothing renewed.
      await a.server.hub.writer.flush()
      a.server.hub.abandonForTests()
      try await Task.sleep(for: lease + .milliseconds(300))
      // A therapist's viewer reconnects too, and the balancer sends it to the same server:
      // it follows the session there, frame by frame, to its end.
      let (watching, watcherReady) = AsyncStream<Void>.makeStream()
      let watcher = Task {
        // (seqs, frames with positions, finished)
        let seen = Mutex<([Int], Int, Bool)>(([], 0, false))
        _ = try await cb.webSocket("/v1/sessions/\(id)/watch", token: b.lee) { messages, _ in
          _ = try await messages.nextObject()
          watcherReady.yield()
          while let message = try await messages.nextObject() {
            switch message["type"] as? String {
            case "frame":
              let seq = message["seq"] as? Int
              let placed = (message["positions"] as? [Any])?.isEmpty == false
              seen.withLock {
                if let seq { $0.0.append(seq) }
                if placed { $0.1 += 1 }
              }
            case "finished":
              seen.withLock { $0.2 = true }
              return
            default: continue
            }
          }
        }
        return seen.withLock { $0 }
      }
      for await _ in watching { break }
      // The client reconnects (the balancer sends it to the second server).
      _ = try await cb.webSocket("/v1/sessions/\(id)/stream", token: b.ann) {
        messages, outbound in
        let hello = try #require(try await messages.nextObject())
        let last = try #require(hello["lastSeq"] as? Int)
        #expect(last == acknowledged)
        for f in (last + 1)..<take.frameCount {
          try await outbound.writeTextMessage(ServerData.valuesFrame(take, f, encoder: encoder))
        }
        try await messages.waitForAck(through: take.frameCount - 1)
        try await outbound.close(.normalClosure, reason: nil)
      }
      let result = try await cb.json(
        .post, "/v1/sessions/\(id)/finish", token: b.ann, as: TakeResult.self)
      let (seqs, positions, finished) = try await watcher.value
      #expect(seqs == Array((acknowledged + 1)..<take.frameCount))
      #expect(positions == seqs.count)
      #expect(finished)
      #expect(result.repetitions.count == offline.repetitions.count)
      for (x, y) in zip(result.repetitions, offline.repetitions) {
        #expect(abs(x.score - y.score) < 0.5)
      }
      #expect(try await b.server.store.frameCount(session: id) == take.frameCount)
      #expect(try await b.server.store.lease(session: id) == nil)
    }
    if fixture.url != nil { try await secondStore.close() }
    await fixture.tearDown()
  }
}
