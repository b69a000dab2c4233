import Foundation
import Logging
import NIOCore
import NIOPosix
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import ServiceLifecycle
import Synchronization

/// Receives Axis Neuron's BVH broadcast over TCP: frames `<avatar index> <avatar name> v1 … vn
/// ||`, values in the channel order of the skeleton declared for the port.
///
/// A connection's frames reach a session only once paired: the session's owner asks for a code
/// (`POST /v1/sessions/{id}/pairing`) and names the avatar in Axis Neuron with it; from then on
/// frames with that avatar name on that connection feed that session. Unpaired frames are
/// rejected without naming any session. The session must be declared on a skeleton with the
/// port's channel count. Axis Neuron sends no timestamps, so frame times count frames at the
/// port's frame rate. Results go to the session's watchers (the broadcast is one-way).
final class AxisNeuronListener: Service, Sendable {
  let hub: SessionHub
  let host: String
  let port: Int
  let skeleton: Skeleton
  /// Frames per second Axis Neuron broadcasts at.
  let frameRate: Double
  let logger: Logger
  /// The port actually bound (differs from `port` when that is 0).
  let boundPort = Mutex<Int?>(nil)
  /// The address actually bound.
  let boundAddress = Mutex<String?>(nil)

  init(
    hub: SessionHub, host: String, port: Int, skeleton: Skeleton, frameRate: Double, logger: Logger
  ) {
    self.hub = hub
    self.host = host
    self.port = port
    self.skeleton = skeleton
    self.frameRate = frameRate
    self.logger = logger
  }

  func run() async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .bind(host: host, port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }
      }
    boundPort.withLock { $0 = server.channel.localAddress?.port }
    boundAddress.withLock { $0 = server.channel.localAddress?.ipAddress }
    logger.info(
      "Axis Neuron listener ready",
      metadata: [
        "port": "\(server.channel.localAddress?.port ?? port)",
        "channels": "\(skeleton.channelCount)",
      ])
    // Closed on a graceful shutdown, and also when the service group is cancelled (as when
    // another service, such as the HTTP listener on a busy port, failed to start): waiting on
    // the channel does not notice cancellation by itself, and the process would not exit.
    try await withTaskCancellationOrGracefulShutdownHandler {
      try await withThrowingDiscardingTaskGroup { group in
        try await server.executeThenClose { connections in
          for try await connection in connections {
            group.addTask { await self.handle(connection) }
          }
        }
      }
    } onCancelOrGracefulShutdown: {
      server.channel.close(promise: nil)
    }
  }

  private func handle(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
    let reader = AxisNeuronFrameReader(valueCount: skeleton.channelCount)
    // Wrong pairing codes are counted per remote host: reconnecting gives no fresh guesses.
    let source = connection.channel.remoteAddress?.ipAddress ?? "unknown"
    /// Avatar names paired on this connection → session ids.
    var paired: [String: String] = [:]
    var buffer: [UInt8] = []
    var values: [Float] = []
    var scanned = 0
    var discarding = false
    do {
      try await connection.executeThenClose { inbound, _ in
        for try await chunk in inbound {
          buffer.append(contentsOf: chunk.readableBytesView)
          // Frames end with "||"; newlines between them are optional. The frames of a chunk
          // are cut from `start` on and the buffer is shortened once per chunk, not per frame
          // (a chunk of many tiny frames would otherwise cost its size squared).
          var start = 0
          while let end = Self.terminator(in: buffer, from: max(start, scanned)) {
            let line = Array(buffer[start..<(end + 2)])
            start = end + 2
            if discarding {
              discarding = false
              continue
            }
            await take(line, reader: reader, values: &values, source: source, paired: &paired)
          }
          if start > 0 { buffer.removeFirst(start) }
          scanned = max(0, buffer.count - 1)
          if buffer.count > reader.maximumBytes {
            if !discarding {
              hub.reject(
                Rejection(
                  reason: .oversized,
                  message: "no '||' within \(reader.maximumBytes) bytes; skipping to the next frame"
                ),
                source: "axis")
            }
            discarding = true
            buffer.removeAll(keepingCapacity: true)
            scanned = 0
          }
        }
      }
    } catch {
      logger.info("Axis Neuron connection ended", metadata: ["error": "\(error)"])
    }
  }

  /// The session an avatar name feeds on this connection: one paired before, or the one whose
  /// pairing code the name is. Rejects (and returns nil) otherwise.
  private func session(named name: String, source: String, paired: inout [String: String]) async
    -> LiveSession?
  {
    if let id = paired[name] {
      if let session = hub.loadedSession(id) { return session }
      do {
        return try await hub.liveSession(id)
      } catch {
        paired[name] = nil
        hub.reject(
          Rejection(reason: .noSession, message: "the paired session is no longer open"),
          source: "axis")
        return nil
      }
    }
    switch hub.pairing.claim(name, from: source) {
    case .paired(let id):
      guard let session = try? await hub.liveSession(id) else {
        hub.reject(
          Rejection(reason: .noSession, message: "the paired session is no longer open"),
          source: "axis")
        return nil
      }
      paired[name] = id
      logger.info(
        "Axis Neuron avatar paired", metadata: ["session": "\(id)", "source": "\(source)"])
      return session
    case .refused:
      hub.reject(
        Rejection(
          reason: .noSession,
          message:
            "avatar '\(ServerText.truncated(name))' is not paired: name it with a pairing code (POST /v1/sessions/ID/pairing)"
        ), source: "axis")
      return nil
    case .ignored:
      return nil
    }
  }

  static func terminator(in buffer: [UInt8], from start: Int) -> Int? {
    var i = start
    while i + 1 < buffer.count {
      if buffer[i] == UInt8(ascii: "|") && buffer[i + 1] == UInt8(ascii: "|") { return i }
      i += 1
    }
    return nil
  }

  private func take(
    _ line: [UInt8], reader: AxisNeuronFrameReader, values: inout [Float], source: String,
    paired: inout [String: String]
  ) async {
    let start = ContinuousClock.now
    let frame: AxisNeuronFrame
    do {
      frame = try reader.read(line, into: &values)
    } catch {
      let reason: RejectionReason =
        switch error.kind {
        case .malformed: .malformed
        case .nonFinite: .nonFinite
        case .wrongValueCount: .wrongValueCount
        case .oversized: .oversized
        }
      hub.reject(Rejection(reason: reason, message: error.message), source: "axis")
      return
    }
    guard let session = await session(named: frame.avatarName, source: source, paired: &paired)
    else { return }
    guard session.skeleton.channelCount == skeleton.channelCount else {
      hub.reject(
        Rejection(
          reason: .wrongValueCount,
          message:
            "session \(session.record.id) has \(session.skeleton.channelCount) channels; this port's skeleton has \(skeleton.channelCount)"
        ), source: "axis", session: session)
      return
    }
    let time = session.nextDeviceTime(frameRate: frameRate)
    _ = hub.take(channels: values, time: time, session: session)
    hub.metrics.scoringLatency.record(ContinuousClock.now - start)
  }
}
