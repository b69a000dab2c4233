import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import OnTrackFormats
import OnTrackKinematics
import OnTrackProtocol
import OnTrackScoring
import Testing

@testable import OnTrackServer

@Suite("Device streams: Axis Neuron and VMC")
struct IngestTests {
  // MARK: Rigs

  @Test("the Perception Neuron rig has 59 joints, 180 or 354 channels, and a body model")
  func perceptionNeuronRig() throws {
    let plain = DeviceRigs.perceptionNeuron(displacement: false)
    let full = DeviceRigs.perceptionNeuron(displacement: true)
    #expect(plain.jointCount == 59 && full.jointCount == 59)
    #expect(plain.channelCount == 180)
    #expect(full.channelCount == 354)
    #expect(plain.joints[1].name == "RightUpLeg" && plain.joints[0].channels.count == 6)
    #expect(plain.joints[1].channels == [.yRotation, .xRotation, .zRotation])
    let body = try BodyModel(skeleton: plain)
    #expect(body.joint(.leftElbow).map { plain.joints[$0].name } == "LeftForeArm")
    #expect(body.joint(.rightKnee).map { plain.joints[$0].name } == "RightLeg")
    let unity = DeviceRigs.unityHumanoid()
    #expect(unity.jointCount == 55)
    let unityBody = try BodyModel(skeleton: unity)
    #expect(unityBody.joint(.leftElbow).map { unity.joints[$0].name } == "LeftLowerArm")
    #expect(unityBody.joint(.leftToe).map { unity.joints[$0].name } == "LeftToes")
  }

  @Test("retargeting the canonical reference to device rigs keeps every bone direction")
  func retargetKeepsFeatures() throws {
    let exercise = try ServerData.exercise("uiprmd-m01-deep-squat")
    let reference = try #require(exercise.referenceClip)
    let source = ClipFeatures.features(
      of: reference, body: try BodyModel(skeleton: reference.skeleton))
    for (rig, map) in [
      (DeviceRigs.perceptionNeuron(displacement: true), DeviceRigs.canonicalToPerceptionNeuron),
      (DeviceRigs.unityHumanoid(), DeviceRigs.canonicalToUnityHumanoid),
    ] {
      let retargeter = RigRetargeter(source: reference.skeleton, target: rig, map: map)
      var pose = rig.restPose
      var rotations: [Quaternion] = []
      var translations: [SIMD3<Float>] = []
      for f in 0..<reference.frameCount {
        retargeter.retarget(reference.pose(atFrame: f), into: &pose)
        rotations += pose.rotations
        translations += pose.translations
      }
      let clip = try Clip(
        skeleton: rig, frameTime: reference.frameTime, rotations: rotations,
        translations: translations)
      let target = ClipFeatures.features(of: clip, body: try BodyModel(skeleton: rig))
      #expect(target.count == source.count)
      // Limb bones point the same way (within 1°) on every frame.
      for bone in [BodyBone.leftThigh, .rightShank, .leftUpperArm, .rightForearm] {
        let column = 3 * (FeatureLayout.bones.firstIndex(of: bone) ?? 0)
        for f in 0..<source.count {
          let a = SIMD3(source[f, column], source[f, column + 1], source[f, column + 2])
          let b = SIMD3(target[f, column], target[f, column + 1], target[f, column + 2])
          #expect(acos(min(1, dot(a, b))) < 1 * .pi / 180, "\(bone) frame \(f)")
        }
      }
    }
  }

  // MARK: Axis Neuron lines

  @Test("Axis Neuron lines: good ones read, bad ones give the reason")
  func axisLines() throws {
    let reader = AxisNeuronFrameReader(valueCount: 4, maximumBytes: 200)
    var values: [Float] = []
    let frame = try reader.read(Array("0 Avatar00 1.5 -2 3e1 .25 ||\r\n".utf8), into: &values)
    #expect(frame == AxisNeuronFrame(avatarIndex: 0, avatarName: "Avatar00"))
    #expect(values == [1.5, -2, 30, 0.25])
    let written = AxisNeuronFrameWriter.line(index: 3, name: "s1", values: [1, 2.5, -3, 0])
    #expect(
      try reader.read(written, into: &values) == AxisNeuronFrame(avatarIndex: 3, avatarName: "s1"))
    #expect(values == [1, 2.5, -3, 0])
    let bad: [(String, AxisNeuronFrameError.Kind)] = [
      ("0 A 1 2 3 ||", .wrongValueCount),
      ("0 A 1 2 3 4 5 ||", .wrongValueCount),
      ("0 A 1 2 x 4 ||", .malformed),
      ("0 A 1 2 nan 4 ||", .nonFinite),
      ("0 A 1 2 3 4", .malformed),
      ("0 A 1 2 3 4 || 5", .malformed),
      ("A 1 2 3 4 ||", .malformed),
      ("0 ||", .malformed),
      ("0 A 1 2 3 1e9 ||", .nonFinite),
      ("0 A " + String(repeating: "1 ", count: 120) + "||", .oversized),
    ]
    for (line, kind) in bad {
      #expect(throws: AxisNeuronFrameError.self, "\(line.prefix(30))") {
        try reader.read(Array(line.utf8), into: &values)
      }
      do {
        _ = try reader.read(Array(line.utf8), into: &values)
      } catch {
        #expect(error.kind == kind, "\(line.prefix(30)): \(error)")
      }
    }
  }

  // MARK: OSC and VMC

  @Test("OSC bundles round-trip, and hostile packets are refused")
  func oscPackets() throws {
    let messages = [
      OSCMessage(
        "/VMC/Ext/Bone/Pos",
        [
          .string("LeftUpperArm"), .float(0.1), .float(-2), .float(3), .float(0), .float(0),
          .float(0), .float(1),
        ]),
      OSCMessage("/VMC/Ext/T", [.float(12.5)]),
      OSCMessage(
        "/x", [.int(-7), .double(2.25), .int64(1 << 40), .bool(true), .null, .blob([1, 2, 3])]),
    ]
    #expect(try OSCPacket.messages(in: OSCPacket.bundle(messages)) == messages)
    #expect(try OSCPacket.messages(in: OSCPacket.bytes(of: messages[1])) == [messages[1]])
    let good = OSCPacket.bundle(messages)
    // Every truncation and every single corrupted size fails cleanly or parses, never crashes.
    for cut in stride(from: 0, to: good.count, by: 4) {
      _ = try? OSCPacket.messages(in: Array(good[0..<cut]))
    }
    for k in 0..<good.count {
      var corrupted = good
      corrupted[k] ^= 0xFF
      _ = try? OSCPacket.messages(in: corrupted)
    }
    #expect(throws: OSCError.self) { try OSCPacket.messages(in: [1, 2, 3]) }
    #expect(throws: OSCError.self) { try OSCPacket.messages(in: Array("/a\0\0,q\0\0".utf8)) }
    var nested = OSCPacket.bytes(of: messages[1])
    for _ in 0..<20 { nested = OSCPacket.bundle([]) + Self.element(nested) }
    #expect(throws: OSCError.self) { try OSCPacket.messages(in: nested) }
  }

  static func element(_ bytes: [UInt8]) -> [UInt8] {
    let n = UInt32(bytes.count)
    return [UInt8(n >> 24), UInt8((n >> 16) & 255), UInt8((n >> 8) & 255), UInt8(n & 255)] + bytes
  }

  @Test("VMC's left-handed Unity rotations land on the right side in OnTrack's frame")
  func vmcHandedness() throws {
    let rig = DeviceRigs.unityHumanoid()
    var assembler = VMCPoseAssembler(skeleton: rig)
    var pose = rig.restPose
    // In Unity (left-handed, X right, Z forward) the avatar's left arm lies along −X. A 90°
    // turn about Unity's +Z takes it to −Y (down). After conversion the arm, which lies along
    // +X here, must point down too.
    let s = Float(0.5).squareRoot()
    let unityRotation = Quaternion(x: 0, y: 0, z: s, w: s)
    let info = try assembler.apply(
      [
        OSCMessage(
          "/VMC/Ext/Root/Pos",
          [
            .string("root"), .float(0), .float(0), .float(0), .float(0), .float(0), .float(0),
            .float(1),
          ]),
        OSCMessage(
          "/VMC/Ext/Bone/Pos",
          [
            .string("Hips"), .float(0), .float(0.95), .float(0), .float(0), .float(0), .float(0),
            .float(1),
          ]),
        OSCMessage(
          "/VMC/Ext/Bone/Pos",
          [
            .string("LeftUpperArm"), .float(0), .float(0), .float(0), .float(unityRotation.x),
            .float(unityRotation.y), .float(unityRotation.z), .float(unityRotation.w),
          ]),
        OSCMessage("/VMC/Ext/T", [.float(1.25)]),
      ], to: &pose)
    #expect(info.time == 1.25 && info.bones == 2)
    var world = [RigidTransform](repeating: .identity, count: rig.count)
    ForwardKinematics.computeWorldTransforms(skeleton: rig, pose: pose, into: &world)
    let shoulder = try #require(rig.index(of: "LeftUpperArm"))
    let elbow = try #require(rig.index(of: "LeftLowerArm"))
    let direction = normalize(world[elbow].translation - world[shoulder].translation)
    let unityArm = SIMD3<Float>(-1, 0, 0)
    let unityResult = Self.leftHandedRotate(unityRotation, unityArm)
    #expect(abs(direction.y - unityResult.y) < 1e-4)
    #expect(abs(direction.x - -unityResult.x) < 1e-4)
    #expect(world[0].translation.y == 0.95)
    // An unknown bone is refused, and nothing after it applies.
    #expect(throws: VMCError.self) {
      try assembler.apply(
        [
          OSCMessage(
            "/VMC/Ext/Bone/Pos",
            [
              .string("Tail"), .float(0), .float(0), .float(0), .float(0), .float(0), .float(0),
              .float(1),
            ])
        ],
        to: &pose)
    }
    #expect(throws: VMCError.self) {
      try assembler.apply(
        [
          OSCMessage(
            "/VMC/Ext/Bone/Pos",
            [
              .string("Head"), .float(.nan), .float(0), .float(0), .float(0), .float(0), .float(0),
              .float(1),
            ])
        ],
        to: &pose)
    }
  }

  /// Rotates `v` by `q` in Unity's coordinates (the algebra on coordinates is the same in either
  /// handedness; only what the axes mean differs).
  static func leftHandedRotate(_ q: Quaternion, _ v: SIMD3<Float>) -> SIMD3<Float> {
    q.act(on: v)
  }

  // MARK: Live devices

  @Test("a flood of bad device lines is counted line by line and logged about once a second")
  func deviceFlood() async throws {
    let lines = AuditCapture()
    let t = try await TestServer(axis: true) {
      $0.logger = Logger(label: "ontrack.server") { _ in lines }
    }
    defer { t.removeFolder() }
    try await t.run { c in
      for _ in 0..<250 where t.server.axisPort == nil {
        try await Task.sleep(for: .milliseconds(20))
      }
      let axisPort = try #require(t.server.axisPort)
      // 30,000 lines for no session, most of them many to a TCP segment (before, each line
      // was logged, and cutting each off the front of the buffer cost the buffer's size).
      let count = 30_000
      let payload = Array(repeating: "0 Nobody 1 ||", count: count).joined()
      let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: axisPort) { channel in
          channel.eventLoop.makeCompletedFuture {
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
          }
        }
      let start = ContinuousClock.now
      try await channel.executeThenClose { _, outbound in
        try await outbound.write(ByteBuffer(string: payload))
      }
      let counted = { @Sendable () async throws -> Int in
        let text = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
        let line = text.split(separator: "\n").first {
          $0.hasPrefix("ontrack_frames_received_total ")
        }
        return Int(Double(line?.split(separator: " ").last ?? "") ?? -1)
      }
      for _ in 0..<1500 where try await counted() < count {
        try await Task.sleep(for: .milliseconds(20))
      }
      #expect(try await counted() == count)
      let elapsed = ContinuousClock.now - start
      let rejected = lines.entries.filter { $0["message"] == "frame rejected" }
      // One line a second at most (and the first at once), each saying how many it stands for.
      #expect(rejected.count >= 1)
      #expect(rejected.count <= Int(elapsed.components.seconds) + 2, "\(rejected.count)")
      let stoodFor = rejected.compactMap { Int($0["heldBack"] ?? "") }.reduce(0, +)
      #expect(stoodFor + rejected.count <= count)
      #expect(rejected.first?["source"] == "axis")
    }
  }

  @Test("the log throttle lets one line a second through per key and counts the rest")
  func logThrottle() {
    let throttle = LogThrottle(interval: .seconds(1))
    let t0 = ContinuousClock.now
    #expect(throttle.admit("axis no_session", now: t0) == 0)
    #expect(throttle.admit("axis no_session", now: t0 + .milliseconds(10)) == nil)
    #expect(throttle.admit("axis no_session", now: t0 + .milliseconds(900)) == nil)
    #expect(throttle.admit("vmc malformed", now: t0 + .milliseconds(900)) == 0)
    #expect(throttle.admit("axis no_session", now: t0 + .milliseconds(1000)) == 2)
    #expect(throttle.admit("axis no_session", now: t0 + .milliseconds(1500)) == nil)
  }

  @Test("Axis Neuron over TCP and VMC over UDP are scored like the WebSocket, bad packets counted")
  func liveDevices() async throws {
    let t = try await TestServer(axis: true, vmc: true)
    defer { t.removeFolder() }
    let exercise = try ServerData.exercise("uiprmd-m07-shoulder-abduction")
    let reference = try #require(exercise.referenceClip)
    try await t.run { c in
      // The listeners bind as services start, alongside the HTTP server.
      for _ in 0..<250 where t.server.axisPort == nil || t.server.vmcPort == nil {
        try await Task.sleep(for: .milliseconds(20))
      }
      let axisPort = try #require(t.server.axisPort)
      let vmcPort = try #require(t.server.vmcPort)
      let axisSession = try await c.createSession(
        token: t.ann, extra: #","skeleton":"perception-neuron""#)
      let vmcSession = try await c.createSession(
        token: t.ann, extra: #","skeleton":"unity-humanoid""#)
      // Each device pairs with its session by a code the session's owner asks for.
      let axisCode = try await c.json(
        .post, "/v1/sessions/\(axisSession.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      let vmcCode = try await c.json(
        .post, "/v1/sessions/\(vmcSession.id)/pairing", token: t.ann, as: PairingCode.self
      ).code
      let frames = 3 * (reference.frameCount + 30)

      // Axis Neuron: lines over one TCP connection, the avatar named with the code; some bad
      // lines, and one from an avatar nobody paired.
      let pn = DeviceRigs.perceptionNeuron(displacement: false)
      let toPN = RigRetargeter(
        source: reference.skeleton, target: pn, map: DeviceRigs.canonicalToPerceptionNeuron)
      let pnEncoder = ChannelEncoder(skeleton: pn)
      var payload: [UInt8] = []
      var target = pn.restPose
      var values: [Float] = []
      for k in 0..<frames {
        toPN.retarget(Self.patientPose(reference, k), into: &target)
        pnEncoder.encode(target, into: &values)
        payload += AxisNeuronFrameWriter.line(index: 0, name: axisCode, values: values)
        if k == 10 {
          payload += Array("0 \(axisCode) 1 2 3 ||\n0 \(axisCode) x ||\n".utf8)
          payload += AxisNeuronFrameWriter.line(index: 0, name: "Nobody", values: values)
        }
      }
      let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: axisPort) { channel in
          channel.eventLoop.makeCompletedFuture {
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
          }
        }
      try await channel.executeThenClose { _, outbound in
        // Split across writes at awkward places, as TCP may deliver it.
        var offset = 0
        while offset < payload.count {
          let end = min(offset + 997, payload.count)
          try await outbound.write(ByteBuffer(bytes: payload[offset..<end]))
          offset = end
        }
      }

      // VMC: one bundle per frame over UDP, the first with the pairing code; a few hostile
      // datagrams.
      let unity = DeviceRigs.unityHumanoid()
      let toUnity = RigRetargeter(
        source: reference.skeleton, target: unity, map: DeviceRigs.canonicalToUnityHumanoid)
      let bones = (1..<unity.count).filter { !unity.joints[$0].isEndSite }
      let udp = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0) { channel in
          channel.eventLoop.makeCompletedFuture {
            try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
              wrappingChannelSynchronously: channel)
          }
        }
      let address = try SocketAddress(ipAddress: "127.0.0.1", port: vmcPort)
      try await udp.executeThenClose { _, outbound in
        var pose = unity.restPose
        for k in 0..<frames {
          toUnity.retarget(Self.patientPose(reference, k), into: &pose)
          let packet = VMCPacketWriter.bundle(
            pairing: k == 0 ? vmcCode : nil, rig: unity, pose: pose, bones: bones,
            time: Double(k) / 30)
          try await outbound.write(
            AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: packet)))
          if k == 10 {
            try await outbound.write(
              AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: [0, 1, 2])))
            let tail = OSCPacket.bundle([
              OSCMessage(
                "/VMC/Ext/Bone/Pos",
                [
                  .string("Tail"), .float(0), .float(0), .float(0), .float(0), .float(0), .float(0),
                  .float(1),
                ])
            ])
            try await outbound.write(
              AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: tail)))
          }
          // Loopback UDP drops when a socket buffer overflows; pace like a 120 Hz device.
          try await Task.sleep(for: .milliseconds(8))
        }
      }

      // Wait until both sessions have every good frame.
      for _ in 0..<500 {
        let a = try await t.server.store.frameCount(session: axisSession.id)
        let v = try await t.server.store.frameCount(session: vmcSession.id)
        if a == frames && v == frames { break }
        try await Task.sleep(for: .milliseconds(20))
      }
      #expect(try await t.server.store.frameCount(session: axisSession.id) == frames)
      #expect(try await t.server.store.frameCount(session: vmcSession.id) == frames)
      for session in [axisSession, vmcSession] {
        let result = try await c.json(
          .post, "/v1/sessions/\(session.id)/finish", token: t.ann, as: TakeResult.self)
        #expect(result.repetitions.count == 3, "\(session.id)")
        #expect(
          result.repetitions.allSatisfy { $0.score > 90 }, "\(result.repetitions.map(\.score))")
      }
      let axisView = try await c.json(
        .get, "/v1/sessions/\(axisSession.id)", token: t.ann, as: LiveClient.Session.self)
      // Lines that do not parse cannot be trusted to name their session: counted on the server.
      #expect(axisView.rejected == [:])
      let vmcView = try await c.json(
        .get, "/v1/sessions/\(vmcSession.id)", token: t.ann, as: LiveClient.Session.self)
      #expect(vmcView.rejected["unknown_joint"] == 1)
      let metrics = String(buffer: try await c.request(.get, "/metrics", token: nil).body)
      // Every bad packet is counted: a short line and a non-number on Axis, a line for no
      // session, a datagram that is not OSC, an unknown bone.
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"wrong_value_count\"} 1"))
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"no_session\"} 1"))
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"malformed\"} 2"))
      #expect(metrics.contains("ontrack_frames_rejected_total{reason=\"unknown_joint\"} 1"))
    }
  }

  /// The reference performed three times with rests (15 frames before, 15 after).
  static func patientPose(_ reference: Clip, _ k: Int) -> Pose {
    let cycle = reference.frameCount + 30
    return reference.pose(atFrame: min(max(k % cycle - 15, 0), reference.frameCount - 1))
  }
}
