import Foundation
import OnTrackFormats
import OnTrackKinematics
import Testing

@Suite("Plug-in-Gait joint centres")
struct PlugInGaitTests {
  struct Vectors: Decodable {
    struct Chord: Decodable {
      var ref: [Double]
      var prox: [Double]
      var marker: [Double]
      var delta: Double
      var expected: [Double]
    }
    struct Take: Decodable {
      struct Frame: Decodable {
        var index: Int
        var markers_mm: [String: [Double]]
        var expected_mm: [String: [Double]]
      }
      var file: String
      var PW: Double
      var PD: Double
      var frames: [Frame]
    }
    var chord: [Chord]
    var takes: [Take]
  }

  static let vectors: Vectors? = {
    let url = TestData.fixtures.appendingPathComponent("plug-in-gait-testvectors.json")
    guard let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(Vectors.self, from: data)
  }()

  static func v(_ a: [Double]) -> SIMD3<Double> { SIMD3(a[0], a[1], a[2]) }

  @Test func chordFunctionMatchesTheReference() throws {
    let vectors = try #require(Self.vectors)
    #expect(vectors.chord.count == 5)
    for c in vectors.chord {
      let j = try #require(
        PlugInGait.chord(
          reference: Self.v(c.ref), proximal: Self.v(c.prox), marker: Self.v(c.marker),
          delta: c.delta))
      let d = j - Self.v(c.expected)
      #expect((d * d).sum().squareRoot() < 1e-3, "chord \(j) vs \(c.expected)")
    }
    // Beyond reach: no centre.
    #expect(
      PlugInGait.chord(reference: [1, 0, 0], proximal: [0, 10, 0], marker: .zero, delta: 20)
        == nil)
  }

  @Test func jointCentresMatchTheReferenceOnUIPRMDFrames() throws {
    let vectors = try #require(Self.vectors)
    for take in vectors.takes {
      var model = PlugInGait(
        names: PlugInGait.markers, unitsPerMillimetre: 1, sourceUp: SIMD3(0, 0, 1))
      model.pelvisWidth = take.PW
      model.pelvisDepth = take.PD
      for frame in take.frames {
        let markers: [SIMD3<Float>?] = PlugInGait.markers.map { name in
          frame.markers_mm[name].map { SIMD3<Float>(Float($0[0]), Float($0[1]), Float($0[2])) }
        }
        let centres = model.centres(markers)
        var compared = 0
        for (name, expected) in frame.expected_mm where name != "HEAD_PIG" {
          let got = try #require(
            centres.named[name], "\(take.file) frame \(frame.index): no \(name)")
          let d = got - Self.v(expected)
          // Markers are stored as Float: a hundredth of a millimetre.
          #expect(
            (d * d).sum().squareRoot() < 0.02,
            "\(take.file) frame \(frame.index) \(name): \(got) vs \(expected)")
          compared += 1
        }
        #expect(compared >= 24)
      }
    }
  }

  @Test func rigidFillRestoresALostPelvisMarker() throws {
    let url = TestData.shared.appendingPathComponent(
      "data/uiprmd/vicon/correct/m01_s01_e01_positions.txt.gz")
    let take = try UIPRMDReader.readViconMarkers(url)
    let lpsi = try #require(PlugInGait.markers.firstIndex(of: "LPSI"))
    var frames = take.frames
    let truth = frames.map { $0[lpsi] }
    // Lose LPSI for a second in the middle: too long to interpolate, not for the cluster.
    for f in 60..<140 { frames[f][lpsi] = nil }
    MarkerGapFilling.interpolate(&frames, maximumGap: 10)
    #expect(frames[100][lpsi] == nil)
    let model = PlugInGait(names: PlugInGait.markers, unitsPerMillimetre: 1, sourceUp: [0, 0, 1])
    for cluster in model.rigidClusters { MarkerGapFilling.rigidFill(&frames, cluster: cluster) }
    var worst: Float = 0
    for f in 60..<140 {
      let got = try #require(frames[f][lpsi])
      let want = try #require(truth[f])
      worst = max(worst, length(got - want))
    }
    // Skin markers slide over the pelvis through a deep squat (the gap spans 0.8 s of it);
    // the fill follows the pelvis to within a couple of centimetres.
    #expect(worst < 25, "worst \(worst) mm")
  }

  @Test func rigidFillIsExactForARigidCluster() throws {
    let base: [SIMD3<Float>] = [
      [100, 0, 900], [-100, 0, 900], [60, -150, 950], [-60, -150, 950],
    ]
    var frames: [[SIMD3<Float>?]] = []
    for f in 0..<20 {
      let angle = Float(f) * 0.05
      let turn = Quaternion(angle: angle, axis: normalize(SIMD3<Float>(0.2, 1, 0.1)))
      let shift = SIMD3<Float>(Float(f) * 10, 0, Float(f) * -5)
      frames.append(base.map { turn.act(on: $0) + shift })
    }
    let truth = frames[12][2]
    frames[12][2] = nil
    MarkerGapFilling.rigidFill(&frames, cluster: [0, 1, 2, 3])
    let got = try #require(frames[12][2])
    let want = try #require(truth)
    #expect(length(got - want) < 0.01, "\(got) vs \(want)")
  }

  @Test func viconTakeSolvesOntoTheCanonicalSkeleton() throws {
    let url = TestData.shared.appendingPathComponent(
      "data/uiprmd/vicon/correct/m01_s01_e01_positions.txt.gz")
    let take = try KeypointFiles.read(url)
    #expect(take.layout.id == "plug-in-gait")
    #expect(abs(take.frameRate - 100) < 1e-6)
    let solved = try take.solved()
    #expect(solved.clip.frameCount == take.frames.count)
    #expect(solved.unsolvedFrames == 0)
    for point in BodyPoint.essential {
      #expect(
        (solved.tracking[point] ?? 0) > 0.99, "\(point) tracked \(solved.tracking[point] ?? 0)")
    }
    // A deep squat: the knees bend past 60° at the bottom, and the legs are straight at the
    // start.
    let skeleton = solved.clip.skeleton
    let hip = try #require(skeleton.index(of: "LeftUpLeg"))
    let knee = try #require(skeleton.index(of: "LeftLeg"))
    let ankle = try #require(skeleton.index(of: "LeftFoot"))
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var pose = skeleton.restPose
    var flexions: [Float] = []
    for f in 0..<solved.clip.frameCount {
      solved.clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      let a = normalize(world[hip].translation - world[knee].translation)
      let b = normalize(world[ankle].translation - world[knee].translation)
      flexions.append(180 - acos(min(max(dot(a, b), -1), 1)) * 180 / .pi)
    }
    #expect(flexions[0] < 25, "start \(flexions[0])")
    #expect((flexions.max() ?? 0) > 60, "deepest \(flexions.max() ?? 0)")
    // Thigh about 0.4 m for an adult.
    let thigh = length(skeleton.joints[knee].offset)
    #expect(thigh > 0.3 && thigh < 0.55, "thigh \(thigh)")
  }

  @Test func openSimTRCSolves() throws {
    let walk = TestData.shared.appendingPathComponent(
      "data/opensim/rajagopal/motion_capture_walk.trc")
    let take = try KeypointFiles.read(walk)
    #expect(take.layout.isMarkerSet)
    #expect(abs(take.frameRate - 100) < 1e-6)
    let solved = try take.solved()
    #expect(solved.unsolvedFrames == 0)
    for point in BodyPoint.essential {
      #expect((solved.tracking[point] ?? 0) > 0.9, "\(point)")
    }
    // Walking: the root travels at a walker's speed.
    let first = solved.clip.translations[0]
    let last = solved.clip.translations[(solved.clip.frameCount - 1) * solved.clip.skeleton.count]
    let speed =
      length(SIMD3<Float>(last.x - first.x, 0, last.z - first.z)) / Float(solved.clip.lastFrameTime)
    #expect(speed > 0.7 && speed < 2.0, "\(speed) m/s")
    // The gait2392 static trial: knee and ankle centres from the lateral and medial markers.
    let stand = TestData.shared.appendingPathComponent("data/opensim/gait2392/subject01_static.trc")
    let standing = try KeypointFiles.read(stand).solved()
    for point in [BodyPoint.leftKnee, .rightKnee, .leftAnkle, .rightAnkle] {
      #expect((standing.tracking[point] ?? 0) > 0.9, "static \(point)")
    }
    // The gait2392 walk has thigh and shank clusters but no knee or ankle markers: the legs
    // are solved as unseen in every frame (scoring leaves them out), the arms as seen.
    let bare = TestData.shared.appendingPathComponent("data/opensim/gait2392/subject01_walk1.trc")
    let upper = try KeypointFiles.read(bare).solved()
    #expect(upper.tracking[.leftKnee] == nil)
    #expect((upper.tracking[.leftElbow] ?? 0) > 0.9)
    let untracked = try #require(upper.clip.untracked)
    let kneeBit = UInt32(1) << UInt32(BodyLandmark.leftKnee.rawValue)
    let elbowBit = UInt32(1) << UInt32(BodyLandmark.leftElbow.rawValue)
    #expect(untracked.allSatisfy { $0 & kneeBit != 0 })
    #expect(untracked.filter { $0 & elbowBit != 0 }.count < untracked.count / 10)
    // Three arm markers are not a body.
    let arm = TestData.shared.appendingPathComponent("data/opensim/arm26/arm26_elbow_flex.trc")
    #expect(throws: MotionFormatError.self) { try KeypointFiles.read(arm).solved() }
  }
}
