import Foundation
import OnTrackKinematics

/// The offline feature pipeline: a clip's frames → forward kinematics → landmarks → a grid at
/// the wanted frame rate → features. `StreamingScorer` runs the same steps one frame at a time.
public enum ClipFeatures {
  /// Landmark positions of every frame of `clip` (a Z-up rig stood up, read the way that starts
  /// nearer `start` if given: `BodyModel.upright(firstFrame:like:)`), with `derived` placed by
  /// the keypoint solver's rules (`LandmarkFrame.derive`: the reference as such a sensor sees
  /// it).
  public static func landmarks(
    of clip: Clip, body: BodyModel, placing derived: DerivedLandmarks = [],
    like start: BodyPosture? = nil
  ) -> [LandmarkFrame] {
    let skeleton = clip.skeleton
    var pose = skeleton.restPose
    var world = [RigidTransform](repeating: .identity, count: skeleton.count)
    var frame = LandmarkFrame()
    var frames: [LandmarkFrame] = []
    frames.reserveCapacity(clip.frameCount)
    // A Z-up rig is stood up, decided on the first frame as live (`BodyModel.upright`).
    let turn = upright(clip, body: body, like: start)
    for f in 0..<clip.frameCount {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: skeleton, pose: pose, into: &world)
      frame.update(body: body, world: world, turn: turn)
      frame.untracked = clip.untracked?[f] ?? 0
      if !derived.isEmpty { frame.derive(derived) }
      frames.append(frame)
    }
    return frames
  }

  /// The turn that stands `clip`'s rig up, from its first frame
  /// (`BodyModel.upright(firstFrame:like:)`; identity for a Y-up rig or an empty clip).
  public static func upright(_ clip: Clip, body: BodyModel, like start: BodyPosture? = nil)
    -> Quaternion
  {
    guard clip.frameCount > 0, body.restUpright != .identity else { return .identity }
    var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
    ForwardKinematics.computeWorldTransforms(
      skeleton: clip.skeleton, pose: clip.pose(atFrame: 0), into: &world)
    return body.upright(firstFrame: world, like: start)
  }

  /// Features of timestamped landmark frames, resampled to one frame every `step` seconds
  /// (`FeaturePipeline`).
  public static func features(
    landmarks: [LandmarkFrame], times: [Double], step: Double,
    headingTimeConstant: Double = 2, cutoff: Double? = LandmarkFilter.defaultCutoff,
    levelling: SensorLevelling? = nil, trunkTurnIsBodyTurn: Bool = false,
    unseenLimbs: UnseenLimbMirroring = .none
  ) -> FeatureSequence {
    features(
      landmarks: landmarks, times: times,
      through: FeaturePipeline(
        step: step, headingTimeConstant: headingTimeConstant, cutoff: cutoff,
        levelling: levelling, trunkTurnIsBodyTurn: trunkTurnIsBodyTurn, unseenLimbs: unseenLimbs))
  }

  /// Features of timestamped landmark frames as `exercise` reads a take
  /// (`FeaturePipeline.init(for:)`).
  public static func features(
    landmarks: [LandmarkFrame], times: [Double], for exercise: Exercise
  ) -> FeatureSequence {
    features(landmarks: landmarks, times: times, through: FeaturePipeline(for: exercise))
  }

  private static func features(
    landmarks: [LandmarkFrame], times: [Double], through pipeline: FeaturePipeline
  ) -> FeatureSequence {
    var pipeline = pipeline
    var sequence = FeatureSequence(frameTime: pipeline.step)
    sequence.values.reserveCapacity(landmarks.count * FeatureLayout.width)
    for (frame, time) in zip(landmarks, times) {
      pipeline.push(frame, at: time)
      sequence.values.append(
        contentsOf: pipeline.output[0..<(pipeline.outputCount * FeatureLayout.width)])
    }
    pipeline.flush()
    sequence.values.append(
      contentsOf: pipeline.output[0..<(pipeline.outputCount * FeatureLayout.width)])
    return sequence
  }

  /// Features of a whole clip at `step` seconds per frame (its own rate if `nil`); `cutoff`
  /// `nil` measures the landmarks unfiltered; `derived` as in `landmarks(of:body:placing:)`.
  public static func features(
    of clip: Clip, body: BodyModel, step: Double? = nil,
    cutoff: Double? = LandmarkFilter.defaultCutoff, placing derived: DerivedLandmarks = []
  ) -> FeatureSequence {
    let times = (0..<clip.frameCount).map { Double($0) * clip.frameTime }
    return features(
      landmarks: landmarks(of: clip, body: body, placing: derived), times: times,
      step: step ?? clip.frameTime, cutoff: cutoff)
  }
}

/// How much each side of the body moves: for every limb bone, the largest angle its direction
/// reaches away from where it started, summed per side (radians). Decides which side a
/// unilateral exercise works.
public struct SideActivity: Sendable, Equatable {
  public var left: Float
  public var right: Float

  public init(left: Float, right: Float) {
    self.left = left
    self.right = right
  }

  /// Activity over frames `range` of a body feature sequence.
  public init(_ sequence: FeatureSequence, frames range: Range<Int>? = nil) {
    let range = range ?? 0..<sequence.count
    var left: Float = 0
    var right: Float = 0
    guard let start = range.first else {
      self.init(left: 0, right: 0)
      return
    }
    for bone in FeatureLayout.bones {
      guard let side = bone.side else { continue }
      let c = FeatureLayout.boneColumn(bone)
      let origin = SIMD3(sequence[start, c], sequence[start, c + 1], sequence[start, c + 2])
      var widest: Float = 0
      for f in range {
        let d = SIMD3(sequence[f, c], sequence[f, c + 1], sequence[f, c + 2])
        widest = max(widest, acos(min(max(dot(origin, d), -1), 1)))
      }
      if side == .left { left += widest } else { right += widest }
    }
    self.init(left: left, right: right)
  }

  /// The side that moves clearly more (by `ratio`), or `nil` if neither does.
  public func dominantSide(ratio: Float) -> BodyModel.Side? {
    if left > right * ratio { return .left }
    if right > left * ratio { return .right }
    return nil
  }
}
