import Foundation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation

/// Side by side (guide left, patient right) or one over the other.
public enum AvatarLayout: Sendable {
  case sideBySide, overlay
}

/// One exercise session as the app shows it, independent of any window: a clock, the patient's
/// frames fed to the live scorer at the stream's rate, the guide replaying the reference, and
/// what the HUD says. Rendering reads it; `advance(by:)` moves it on.
public final class PlaySession {
  public let exercise: Exercise
  public let reference: Clip
  public private(set) var scorer: StreamingScorer
  let guideModel: AvatarModel
  let patientModel: AvatarModel

  /// Stream seconds since the start.
  public private(set) var time: Double = 0
  public var paused = false
  /// Playback speed, 0.25…2.
  public var speed: Double = 1 {
    didSet { speed = min(max(speed, 0.25), 2) }
  }
  /// Mirror the view, as a patient facing a screen expects (on by default).
  public var mirror = true
  public var layout = AvatarLayout.sideBySide
  /// Seconds the guide stands still between repetitions.
  public let guideRest: Double

  private let source: any PatientSource
  private(set) var guidePose: Pose
  private(set) var patientPose: Pose
  private(set) var guideWorld: [RigidTransform]
  private(set) var patientWorld: [RigidTransform]
  private let guideOrigin: SIMD3<Float>
  /// The turn that stands the reference's rig up (`BodyModel.upright(firstFrame:)`: a Z-up
  /// rig), as the scorer reads it.
  private let guideTurn: Quaternion
  /// Where the patient's avatar stands: the root's place on the floor at their first frame.
  private var patientOrigin: SIMD3<Float>
  /// The root's position at the patient's first frame (to stand a levelled patient there).
  private var patientFirstRoot: SIMD3<Float>
  private var patientFrames = 0
  /// The set summary and the repetition count it was built for (the HUD draws it every frame).
  private var summaryCache: (repetitions: Int, summary: TakeResult.Summary)?

  /// The cue on screen and until when (stream seconds).
  public private(set) var cue = "Follow the guide"
  private var cueUntil = Double.infinity
  /// True while the cue says what the sensor does not show (`cannotSee`).
  private var cueIsSight = false
  public private(set) var lastScore: Double?
  public private(set) var finished = false

  /// - Throws: `BodyModelError` if either skeleton lacks limbs, `AppError.resource` if the
  ///   exercise has no reference clip.
  public init(exercise: Exercise, source: some PatientSource) throws {
    guard let reference = exercise.referenceClip else {
      throw AppError.resource("the exercise \(exercise.id) has no reference clip to show")
    }
    self.exercise = exercise
    self.reference = reference
    self.source = source
    let patientSkeleton = source.skeleton
    guideRest = source.guideRest ?? 1
    scorer = try StreamingScorer(exercise: exercise, skeleton: patientSkeleton)
    guideModel = try AvatarModel(skeleton: reference.skeleton)
    patientModel = try AvatarModel(skeleton: patientSkeleton)
    guidePose = reference.pose(atFrame: 0)
    patientPose = patientSkeleton.restPose
    guideWorld = Array(repeating: .identity, count: reference.skeleton.count)
    patientWorld = Array(repeating: .identity, count: patientSkeleton.count)
    guideTurn = Self.upright(reference)
    let guideRoot = guideTurn.act(on: reference.translations[0])
    guideOrigin = SIMD3(guideRoot.x, 0, guideRoot.z)
    view = Self.view(of: reference)
    let root = patientSkeleton.joints[0].offset
    patientOrigin = SIMD3(root.x, 0, root.z)
    patientFirstRoot = root
    feedDueFrames()
    updateWorld()
  }

  /// A session where a simulated patient performs the exercise's own reference.
  public convenience init(
    exercise: Exercise, simulating variation: PatientSimulator.Variation, seed: UInt64
  ) throws {
    guard let reference = exercise.referenceClip else {
      throw AppError.resource("the exercise \(exercise.id) has no reference clip to show")
    }
    try self.init(
      exercise: exercise,
      source: SimulatedPatientSource(
        reference: reference, variation: variation.alternating(exercise.alternates), seed: seed))
  }

  /// Starts the session again from the beginning.
  public func restart() throws {
    time = 0
    patientFrames = 0
    source.restart()
    scorer = try StreamingScorer(exercise: exercise, skeleton: patientModel.skeleton)
    cue = "Follow the guide"
    cueUntil = .infinity
    cueIsSight = false
    lastScore = nil
    finished = false
    summaryCache = nil
    advance(by: 0)
  }

  /// The set's summary so far (rebuilt only when a repetition is added).
  public var summary: TakeResult.Summary {
    let count = scorer.repetitions.count
    if let cached = summaryCache, cached.repetitions == count { return cached.summary }
    let summary = scorer.result.summary
    summaryCache = (count, summary)
    return summary
  }

  /// Moves the clock on by `seconds` of wall time (times `speed`, unless paused), feeds every
  /// stream frame that is now due to the scorer, and updates both avatars.
  public func advance(by seconds: Double) {
    if !paused && !finished { time += max(0, seconds) * speed }
    feedDueFrames()
    // The guide repeats the reference with a rest between repetitions.
    let cycle = reference.lastFrameTime + guideRest
    let local = time.truncatingRemainder(dividingBy: cycle)
    reference.sample(at: max(0, local - guideRest), into: &guidePose)
    if time >= cueUntil {
      cue = repetitionsDone >= exercise.repetitions ? "Set complete" : "Keep going"
      cueUntil = .infinity
    }
    if !finished, cueUntil == .infinity {
      if let words = scorer.cannotSee {
        cue = words
        cueIsSight = true
      } else if cueIsSight {
        cue = repetitionsDone > 0 ? "Keep going" : "Follow the guide"
        cueIsSight = false
      }
    }
    updateWorld()
  }

  private func feedDueFrames() {
    var completed = false
    let status = source.advance(to: time, shown: &patientPose) { pose, frameTime, landmarks in
      if patientFrames == 0 {
        // Stand the patient where they first appear.
        let root = pose.translations[0]
        patientOrigin = SIMD3(root.x, 0, root.z)
        patientFirstRoot = root
      }
      patientFrames += 1
      let update =
        landmarks.map { scorer.push(landmarks: $0, at: frameTime) }
        ?? scorer.push(pose: pose, at: frameTime)
      if update.completedRepetitions > 0 { completed = true }
    }
    if completed { repetitionCompleted() }
    if case .ended(let words) = status, !finished {
      if scorer.finish() > 0 { repetitionCompleted() }
      finished = true
      cue = words
    }
  }

  private func repetitionCompleted() {
    guard let last = scorer.repetitions.last else { return }
    lastScore = last.score
    cue = last.cues.first?.text ?? "Good"
    cueIsSight = false
    cueUntil = time + 4
    if scorer.repetitions.count >= exercise.repetitions {
      finished = true
      cue = "Set complete"
    }
  }

  private func updateWorld() {
    ForwardKinematics.computeWorldTransforms(
      skeleton: reference.skeleton, pose: guidePose, into: &guideWorld)
    ForwardKinematics.computeWorldTransforms(
      skeleton: patientModel.skeleton, pose: patientPose, into: &patientWorld)
    if guideTurn != .identity {
      for j in guideWorld.indices {
        let t = guideWorld[j]
        guideWorld[j] = RigidTransform(
          rotation: guideTurn * t.rotation, translation: guideTurn.act(on: t.translation))
      }
    }
    // A tilted camera's patient (or a Z-up rig's) is drawn as the scorer levelled (stood up)
    // them, standing where their first frame, levelled, stood.
    let q = (scorer.sensorLevelling ?? .identity) * (scorer.rigTurn ?? .identity)
    if q.w < 1 {
      let root = q.act(on: patientFirstRoot)
      let shift = patientOrigin - SIMD3(root.x, 0, root.z)
      for j in patientWorld.indices {
        let t = patientWorld[j]
        patientWorld[j] = RigidTransform(
          rotation: q * t.rotation, translation: q.act(on: t.translation) + shift)
      }
    }
  }

  /// The landmarks of the patient's rig (for tests and overlays).
  public var patientModelBody: BodyModel { patientModel.body }

  // MARK: What the HUD shows

  public var repetitionsDone: Int { scorer.repetitions.count }

  /// The last repetition scored, if any.
  public var lastRepetition: RepetitionResult? { scorer.repetitions.last }

  /// The repetition in progress (1-based), capped at the prescription.
  public var currentRepetition: Int { min(repetitionsDone + 1, exercise.repetitions) }

  /// Share of the set done, counting the repetition in progress.
  public var setProgress: Double {
    let done = Double(repetitionsDone) + (finished ? 0 : Double(scorer.progress))
    return min(done / Double(max(exercise.repetitions, 1)), 1)
  }

  /// The hold timer of the repetition in progress (`StreamingScorer.hold`): seconds held
  /// within tolerance, and why it is paused; `nil` outside a hold.
  public var hold: StreamingScorer.HoldState? { scorer.hold }

  /// What the sensor has not shown for a while of the parts the exercise measures, in words
  /// (`StreamingScorer.cannotSee`); shown as the cue while no repetition's cue is.
  public var cannotSee: String? { scorer.cannotSee }

  /// Seconds left to hold, while in a hold; `nil` otherwise.
  public var holdRemaining: Double? { scorer.hold.map { max(0, $0.target - $0.held) } }

  /// For an exercise on alternating sides: the side to do next.
  public var nextSide: BodyModel.Side? { scorer.nextSide }

  /// How the scene is framed: from the front for standing exercises, from the side for those
  /// done lying or on hands and knees (the reference's trunk closer to horizontal than to
  /// vertical at its start), with the two figures one beyond the other along the floor.
  public let view: SceneView

  /// The camera's framing of the exercise.
  public enum SceneView: Sendable {
    case front
    /// From the patient's left; the figures lie along the line of sight's normal.
    case side
  }

  /// The turn that stands `clip`'s rig up, from its first frame (`ClipFeatures.upright`).
  static func upright(_ clip: Clip) -> Quaternion {
    guard let body = try? BodyModel(skeleton: clip.skeleton) else { return .identity }
    return ClipFeatures.upright(clip, body: body)
  }

  /// `.side` if the clip's trunk (hips → neck) starts closer to horizontal than vertical.
  static func view(of clip: Clip) -> SceneView {
    guard let body = try? BodyModel(skeleton: clip.skeleton) else { return .front }
    var world = [RigidTransform](repeating: .identity, count: clip.skeleton.count)
    var pose = clip.skeleton.restPose
    clip.copyFrame(0, into: &pose)
    ForwardKinematics.computeWorldTransforms(skeleton: clip.skeleton, pose: pose, into: &world)
    var frame = LandmarkFrame()
    frame.update(body: body, world: world, turn: body.upright(firstFrame: world))
    let trunk = frame[.neck] - (frame[.leftHip] + frame[.rightHip]) * 0.5
    let length = (trunk * trunk).sum().squareRoot()
    guard length > 1e-6 else { return .front }
    return abs(trunk.y) / length < 0.7 ? .side : .front
  }

  /// World position of `joint` of the guide or patient as drawn (placed on its slot).
  func drawnPosition(patient: Bool, joint: Int) -> SIMD3<Float> {
    let world = patient ? patientWorld : guideWorld
    return world[joint].translation - (patient ? patientOrigin : guideOrigin)
      + slot(patient: patient)
  }

  /// The horizontal place of each avatar. With the view mirrored, +X shows on the left. Seen
  /// from the side, the guide lies nearer the left of the screen (+Z) and the patient nearer
  /// the right, far enough apart for two lying bodies.
  func slot(patient: Bool) -> SIMD3<Float> {
    guard layout == .sideBySide else { return .zero }
    let side: Float = (patient ? 1 : -1) * (mirror ? -1 : 1)
    switch view {
    case .front: return SIMD3(0.6 * side, 0, 0)
    case .side: return SIMD3(0, 0, -1.05 * side)
    }
  }
}
