import Foundation
import Testing

@testable import OnTrackFormats
@testable import OnTrackKinematics
@testable import OnTrackScoring

/// A rig whose up is not +Y: 3ds Max, MotionBuilder set to Z-up and some optical systems
/// export BVH with Z up. Read with Y up, a perfect performance lay on its back and scored 0.
@Suite("Rigs with another up axis")
struct RigAxesTests {
  /// `clip` with its whole rig turned by `turn`: rest offsets, every joint's translation, and
  /// every rotation conjugated, so that every world position is `turn` of the original's.
  static func turned(_ clip: Clip, by turn: Quaternion) throws -> Clip {
    let joints = clip.skeleton.joints.map { joint in
      Skeleton.Joint(
        name: joint.name, parent: joint.parent, offset: turn.act(on: joint.offset),
        channels: joint.channels, isEndSite: joint.isEndSite)
    }
    let skeleton = try Skeleton(joints: joints, lengthUnit: clip.skeleton.lengthUnit)
    let back = turn.inverse
    return try Clip(
      skeleton: skeleton, frameTime: clip.frameTime,
      rotations: clip.rotations.map { turn * $0 * back },
      translations: clip.translations.map { turn.act(on: $0) })
  }

  @Test(
    "a Z-up or X-up rig standing is stood up: scored as the same take Y-up, live as offline",
    arguments: ["uiprmd-m07-shoulder-abduction", "uiprmd-m01-deep-squat", "lbp-lateral-tilt"])
  func standsUp(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let take = try ScoringData.simulatedTake(of: exercise, seed: 3)
    let expected = try TakeScorer(exercise: exercise).score(take)
    #expect(expected.repetitions.count == 3)
    for (axis, angle) in [(SIMD3<Float>(1, 0, 0), Float.pi / 2), (SIMD3(0, 0, 1), -.pi / 2)] {
      let other = try Self.turned(take, by: Quaternion(angle: angle, axis: axis))
      let body = try BodyModel(skeleton: other.skeleton)
      #expect(body.restUpright != .identity)
      let offline = try TakeScorer(exercise: exercise).score(other)
      #expect(offline.repetitions.count == 3, "\(id) \(axis)")
      for (a, b) in zip(offline.repetitions, expected.repetitions) {
        #expect(abs(a.score - b.score) < 0.5, "\(id) \(axis): \(a.score) against \(b.score)")
      }
      let live = try ScoringData.streamLive(other, exercise: exercise).scorer
      #expect(live.rigTurn != nil && live.rigTurn != .identity)
      #expect(live.repetitions.map(\.score) == offline.repetitions.map(\.score), "\(id) live")
    }
  }

  /// `clip`'s rig with its rest pose turned by `turn` and its root's rotation undoing it in every
  /// frame: every world position stays as it was (a rig like Bandai Namco's, which lies along X
  /// at rest and is stood up by its root).
  static func restTurned(_ clip: Clip, by turn: Quaternion) throws -> Clip {
    let joints = clip.skeleton.joints.map { joint in
      Skeleton.Joint(
        name: joint.name, parent: joint.parent,
        offset: joint.parent == nil ? joint.offset : turn.act(on: joint.offset),
        channels: joint.channels, isEndSite: joint.isEndSite)
    }
    let skeleton = try Skeleton(joints: joints, lengthUnit: clip.skeleton.lengthUnit)
    let back = turn.inverse
    let n = skeleton.count
    var rotations = clip.rotations
    var translations = clip.translations
    for i in rotations.indices {
      if i % n == 0 {
        rotations[i] = rotations[i] * back
      } else {
        rotations[i] = turn * rotations[i] * back
        translations[i] = turn.act(on: translations[i])
      }
    }
    return try Clip(
      skeleton: skeleton, frameTime: clip.frameTime, rotations: rotations,
      translations: translations)
  }

  /// A lying take, read the way that starts nearer the reference's posture: on a rig that lies
  /// along X at rest and is stood up by its root (as Bandai Namco's are), left lying, whichever
  /// way the patient lies (before the exercise's posture was read, a bridge lying along X was
  /// stood up and lost every repetition); on a Z-up rig, turned (before: 0).
  @Test("a lying take is read as lying: left on a rig lying at rest, turned on a Z-up rig")
  func lyingTakes() throws {
    let exercise = try ScoringData.exercise("lbp-glute-bridge")
    let lying = try #require(exercise.startPosture)
    #expect(lying.trunkUp < 0.3 && lying.chestUp > 0.8, "\(lying)")
    let standing = try #require(try ScoringData.exercise("uiprmd-m01-deep-squat").startPosture)
    #expect(standing.trunkUp > 0.8 && standing.chestUp < 0.3, "\(standing)")
    let take = try ScoringData.simulatedTake(of: exercise, seed: 3)
    let expected = try TakeScorer(exercise: exercise).score(take)
    #expect(expected.repetitions.count == 3)
    func expectAsGiven(_ rig: Clip, _ what: String) throws {
      let result = try TakeScorer(exercise: exercise).score(rig)
      #expect(result.repetitions.count == 3, "\(what)")
      for (a, b) in zip(result.repetitions, expected.repetitions) {
        #expect(abs(a.score - b.score) < 1, "\(what): \(a.score) against \(b.score)")
      }
      let live = try ScoringData.streamLive(rig, exercise: exercise).scorer
      #expect(live.repetitions.map(\.score) == result.repetitions.map(\.score), "\(what) live")
    }
    for yaw: Float in [0, .pi / 2, -.pi / 2, .pi] {
      let along = try Self.turned(take, by: Quaternion(angle: yaw, axis: SIMD3(0, 1, 0)))
      let rig = try Self.restTurned(along, by: Quaternion(angle: -.pi / 2, axis: SIMD3(0, 0, 1)))
      #expect(try BodyModel(skeleton: rig.skeleton).restUpright != .identity)
      try expectAsGiven(rig, "lying at rest, yaw \(yaw)")
      let zUp = try Self.turned(along, by: Quaternion(angle: .pi / 2, axis: SIMD3(1, 0, 0)))
      try expectAsGiven(zUp, "Z-up, yaw \(yaw)")
    }
  }

  /// Bandai Namco's rigs lie along X in their rest pose and are stood up by their root's
  /// rotation in every frame: left as they are, like every Y-up rig of the shared data.
  @Test("rigs stood up by their own root rotation, and every Y-up rig, are left as they are")
  func yUpRigsLeft() throws {
    let folder = ScoringData.shared.appendingPathComponent("data/bvh")
    let files = try #require(
      FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
    )
    .compactMap { $0 as? URL }.filter { $0.pathExtension == "bvh" }
    var rigs = 0
    var lyingAtRest = 0
    for url in files {
      let clip = try BVHReader().read(contentsOf: url)
      guard let body = try? BodyModel(skeleton: clip.skeleton) else { continue }
      rigs += 1
      if body.restUpright != .identity { lyingAtRest += 1 }
      var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
      ForwardKinematics.computeWorldTransforms(
        skeleton: clip.skeleton, pose: clip.pose(atFrame: 0), into: &world)
      #expect(body.upright(firstFrame: world) == .identity, "\(url.lastPathComponent)")
    }
    #expect(rigs >= 10)
    #expect(lyingAtRest >= 1, "no rig lying along another axis at rest: the test shows nothing")
  }
}
