import Foundation
import Logging
import NIOCore
import NIOPosix
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import ServiceLifecycle
import Synchronization

/// Receives the VMC protocol (OSC over UDP, default port 39539): each datagram (a bundle, as
/// performers send them) that moves bones is one frame of the Unity humanoid rig.
///
/// A sender's packets reach a session only once paired: the session's owner asks for a code
/// (`POST /v1/sessions/{id}/pairing`) and the sender includes `/OnTrack/Pair s:CODE` in a
/// packet; from then on every packet from that source address feeds that session. Packets
/// from unpaired sources are rejected without naming any session. Frame times come from
/// `/VMC/Ext/T` when the sender includes it, else from the arrival clock. Packets that do not
/// parse, carry a non-finite value or an unknown bone are rejected and counted; the session's
/// pose stays as it was.
final class VMCListener: Service, Sendable {
  /// The OSC address of a pairing message (`s:CODE`).
  static let pairAddress = "/OnTrack/Pair"
  let hub: SessionHub
  let host: String
  let port: Int
  let logger: Logger
  let boundPort = Mutex<Int?>(nil)
  private let rig = DeviceRigs.unityHumanoid()
  private let states = Mutex<[String: Assembly]>([:])
  /// Paired source addresses → session ids.
  private let sources = Mutex<[String: String]>([:])
  private let clockStart = ContinuousClock.now

  /// One session's VMC state: the assembler (root and hips so far), the last good pose, and
  /// a scratch pose a packet is applied to first (so a bad packet changes nothing).
  struct Assembly {
    var assembler: VMCPoseAssembler
    var pose: Pose
    var scratch: Pose
  }

  /// Socket receive buffer, bytes: room for bursts of 3–4 KB bundles from many performers.
  static let receiveBufferBytes = 4 << 20

  init(hub: SessionHub, host: String, port: Int, logger: Logger) {
    self.hub = hub
    self.host = host
    self.port = port
    self.logger = logger
  }

  func run() async throws {
    // Datagrams are taken on the event loop as they are read, with no hop to another thread
    // per packet: at thousands of packets a second the hops, not the work, would let the
    // socket's buffer overflow.
    let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      // No SO_REUSEADDR: on a UDP port it would let another process bind the same port and
      // take the datagrams meant for this one.
      .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
      .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(Self.receiveBufferBytes))
      .channelOption(.maxMessagesPerRead, value: 64)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(DatagramHandler(listener: self))
        }
      }
      .bind(host: host, port: port).get()
    boundPort.withLock { $0 = channel.localAddress?.port }
    logger.info("VMC listener ready", metadata: ["port": "\(channel.localAddress?.port ?? port)"])
    // Closed on a graceful shutdown, and also when the service group is cancelled (as when
    // another service, such as the HTTP listener on a busy port, failed to start): waiting on
    // the channel does not notice cancellation by itself, and the process would not exit.
    try await withTaskCancellationOrGracefulShutdownHandler {
      try await channel.closeFuture.get()
    } onCancelOrGracefulShutdown: {
      channel.close(promise: nil)
    }
  }

  /// Hands each datagram to the listener.
  final class DatagramHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let listener: VMCListener

    init(listener: VMCListener) {
      self.listener = listener
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      let envelope = unwrapInboundIn(data)
      listener.take(
        Array(envelope.data.readableBytesView), from: envelope.remoteAddress.description,
        host: envelope.remoteAddress.ipAddress ?? "unknown")
    }
  }

  /// Takes one datagram from `source` (an address and port) on `host` (its address, by which
  /// wrong pairing codes are counted).
  func take(_ bytes: [UInt8], from source: String, host: String) {
    let start = ContinuousClock.now
    let messages: [OSCMessage]
    do {
      messages = try OSCPacket.messages(in: bytes)
    } catch {
      hub.reject(Rejection(reason: .malformed, message: "\(error)"), source: "vmc")
      return
    }
    if sources.withLock({ $0[source] }) == nil,
      let code = messages.first(where: { $0.address == Self.pairAddress })?.arguments.first?.string
    {
      switch hub.pairing.claim(code, from: host) {
      case .paired(let id):
        sources.withLock { $0[source] = id }
        logger.info("VMC source paired", metadata: ["session": "\(id)", "source": "\(source)"])
      case .refused:
        hub.reject(
          Rejection(reason: .noSession, message: "not a valid pairing code"), source: "vmc")
        return
      case .ignored:
        return
      }
    }
    guard let id = sources.withLock({ $0[source] }) else {
      hub.reject(
        Rejection(
          reason: .noSession,
          message:
            "this sender is not paired: send /OnTrack/Pair with a code from POST /v1/sessions/ID/pairing"
        ), source: "vmc")
      return
    }
    guard let session = hub.loadedSession(id) else {
      // Asleep or not yet loaded since a restart: wake it, then take the packet.
      Task {
        do {
          let session = try await hub.liveSession(id)
          take(messages, session: session, start: start)
        } catch {
          sources.withLock { _ = $0.removeValue(forKey: source) }
          hub.reject(
            Rejection(reason: .noSession, message: "the paired session is no longer open"),
            source: "vmc")
        }
      }
      return
    }
    take(messages, session: session, start: start)
  }

  /// Applies one packet's messages to the session's pose and takes the frame.
  private func take(_ messages: [OSCMessage], session: LiveSession, start: ContinuousClock.Instant)
  {
    let id = session.record.id
    // Taken out of the table while in use, so its arrays are uniquely held and change in place.
    var taken = states.withLock { $0.removeValue(forKey: id) }
    if taken == nil {
      guard session.skeleton == rig else {
        hub.reject(
          Rejection(
            reason: .wrongValueCount,
            message: "session \(id) is not declared on the unity-humanoid skeleton"),
          source: "vmc", session: session)
        return
      }
      taken = Assembly(
        assembler: VMCPoseAssembler(skeleton: rig), pose: rig.restPose, scratch: rig.restPose)
    }
    guard var state = taken else { return }
    defer { states.withLock { $0[id] = state } }
    state.scratch.copy(from: state.pose)
    let assembler = state.assembler
    let info: VMCPoseAssembler.PacketInfo
    do {
      info = try state.assembler.apply(messages, to: &state.scratch)
    } catch {
      state.assembler = assembler
      let reason: RejectionReason =
        switch error.kind {
        case .malformed: .malformed
        case .nonFinite: .nonFinite
        case .unknownBone: .unknownJoint
        }
      hub.reject(
        Rejection(reason: reason, message: error.message), source: "vmc", session: session)
      return
    }
    guard info.bones > 0 else { return }
    swap(&state.pose, &state.scratch)
    let time = info.time ?? (ContinuousClock.now - clockStart).seconds
    _ = hub.take(pose: state.pose, time: time, session: session)
    hub.metrics.scoringLatency.record(ContinuousClock.now - start)
  }
}
