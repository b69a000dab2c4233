import Foundation
import OnTrackFormats
import OnTrackKinematics

/// A measure with its weight and tolerance, as the scorer uses it.
public struct ScoredMeasure: Sendable, Equatable {
  public var measure: BodyMeasure
  /// Compared from each one's starting posture (true, the default) or as absolute values.
  public var relative = true
  public var weight: Float
  /// Accepted mean aligned error, radians.
  public var tolerance: Float
  /// Accepted shortfall of range of motion against the reference's, radians.
  public var rangeTolerance: Float
  /// The exercise's own cue words for "further" and "not so far" (`MeasureSpec.more/less`).
  public var more: String?
  public var less: String?
  /// Accepted excess range over the reference's, radians (`nil`: excess is not penalised).
  public var overshootTolerance: Float?

  public init(measure: BodyMeasure, weight: Float, tolerance: Float, rangeTolerance: Float) {
    self.measure = measure
    self.weight = weight
    self.tolerance = tolerance
    self.rangeTolerance = rangeTolerance
  }
}

/// A posture to hold: the measure's absolute value within `tolerance` of `target` (radians).
public struct PostureMeasure: Sendable, Equatable {
  public var measure: BodyMeasure
  /// For an angle: the value to hold (radians).
  public var target: Float
  /// For a bone: the direction to hold (in the body frame); the deviation is the angle to it.
  public var direction: SIMD3<Float>
  public var tolerance: Float
  /// The exercise's own cue words (`PostureSpec.cue`).
  public var cue: String?

  public init(measure: BodyMeasure, target: Float, direction: SIMD3<Float>, tolerance: Float) {
    self.measure = measure
    self.target = target
    self.direction = direction
    self.tolerance = tolerance
  }

  /// How far the posture is off at frame `f` of `s` (radians): |value − target| for an angle,
  /// the angle to the held direction for a bone.
  func deviation(_ s: FeatureSequence, _ f: Int) -> Float {
    let c = measure.column
    switch measure {
    case .angle: return abs(s[f, c] - target)
    case .bone:
      let u = SIMD3(s[f, c], s[f, c + 1], s[f, c + 2])
      return atan2(length(cross(u, direction)), dot(u, direction))
    }
  }

  /// The signed deviation at frame `f` (angles; 0 for bones).
  func signedDeviation(_ s: FeatureSequence, _ f: Int) -> Float {
    guard case .angle = measure else { return 0 }
    return s[f, measure.column] - target
  }
}

/// A measure that should stay still, with how much more than the reference may move (radians).
public struct StillMeasure: Sendable, Equatable {
  public var measure: BodyMeasure
  public var tolerance: Float
  /// The exercise's own cue words (`StillSpec.cue`).
  public var cue: String?

  public init(measure: BodyMeasure, tolerance: Float) {
    self.measure = measure
    self.tolerance = tolerance
  }
}

/// An exercise ready to score: its definition with defaults applied, and the reference
/// repetition as features at the reference's frame rate.
public struct Exercise: Sendable {
  public let definition: ExerciseDefinition
  public let id: String
  /// The reference clip (for the avatar), if the exercise was loaded from one.
  public let referenceClip: Clip?
  /// One repetition of the reference, as features.
  public let reference: FeatureSequence
  /// `BodyAngle.conditioning` of every angle in every reference frame, at
  /// `FeatureLayout.angleIndex(angle) · reference.count + frame`.
  let referenceConditioning: [Float]
  public var measures: [ScoredMeasure] {
    // The hold's tolerances and the reference's own time within them follow the measures'.
    didSet { refreshHold() }
  }
  public var keepStill: [StillMeasure]
  public var postures: [PostureMeasure]
  /// Alignment weight of every bone (`FeatureLayout.bones` order).
  public let boneWeights: [Float]
  /// The square roots of `boneWeights`: what alignment rows scale bone directions by.
  let alignmentScales: [Float]
  /// The reference as alignment rows (`alignmentMatrix(reference)`).
  public let referenceRows: DTWMatrix
  /// The side a unilateral exercise works in the reference; `nil` for bilateral ones.
  public let workingSide: BodyModel.Side?
  public let tempo: ExerciseDefinition.TempoRange
  /// True for a one-sided exercise done on alternating sides: each repetition takes the side
  /// it matches.
  public let alternates: Bool
  /// True for an exercise whose repetition works both sides in turn and may start on either
  /// (`sides: "either-first"`): like a one-sided exercise, the take is compared with the
  /// reference or its mirror image (the other side first), whichever its first repetition
  /// follows.
  public let startsEitherSide: Bool
  /// True if a take may be the reference's mirror image, to be decided on its movement: a
  /// one-sided exercise or one that starts either side (`RepetitionScorer.worksOtherSide`).
  public var hasSideToDecide: Bool { workingSide != nil || startsEitherSide }
  public let repetitions: Int
  public let holdSeconds: Double
  /// The reference frames of its hold: the longest stretch, away from both ends, in which
  /// no scored measure moves faster than `holdSpeed` (`nil` without a hold).
  public let holdFrames: Range<Int>?
  /// Per scored measure, the held posture: the reference's mean over `holdFrames` (an angle in
  /// `x`, radians; a bone's unit direction). Empty without a hold.
  public private(set) var holdTargets: [SIMD3<Float>] = []
  /// Per scored measure, how far from the held posture a frame still holds it, radians: its
  /// tolerance plus its range tolerance — a patient who stops short of the posture by less
  /// than the range tolerance (a bridge held still at 80 % of its height) is holding, and the
  /// shortfall is charged once, by the range and its cue (before, it was also a hold never
  /// held: 2 of 100, "you held 0.0"). If the reference's start would then hold too (within
  /// every measure's band: tolerances as wide as a small movement), each measure that moves
  /// more than its tolerance to the hold is narrowed to `min(τ + τ_range, max(τ, d − τ))`, `d`
  /// the held posture's distance from the start, which leaves the start outside its band (a
  /// tolerance outside it when `d ≥ 2τ`). Otherwise one measure already tells holding from
  /// resting, and the others keep `τ + τ_range` (a patient's lean, read by a side bend's
  /// measure, is not a hold let go). Empty without a hold.
  public private(set) var holdTolerances: [Float] = []
  /// Frames of the reference within every measure's `holdTolerances` of `holdTargets`: its
  /// hold with the slow ends of the movement into and out of it. 0 without a hold.
  public private(set) var holdReachFrames = 0
  /// Seconds the reference spends within hold tolerance of its held posture outside its
  /// still stretch (`holdFrames`): moving slowly into and out of the hold.
  public var holdRampSeconds: Double {
    Double(max(0, holdReachFrames - (holdFrames?.count ?? 0))) * frameTime
  }
  /// The reference's starting posture (its first frame's trunk and hip line, `BodyPosture`):
  /// a take of it on a rig with another up axis is read the way that starts nearer it
  /// (`BodyModel.upright(firstFrame:like:)`).
  public var startPosture: BodyPosture? {
    guard reference.count > 0 else { return nil }
    func direction(_ bone: BodyBone) -> SIMD3<Float> {
      let c = BodyMeasure.bone(bone).column
      return SIMD3(reference[0, c], reference[0, c + 1], reference[0, c + 2])
    }
    // The pelvis bone runs right hip → left hip; the body frame keeps the world's vertical.
    return BodyPosture(trunk: direction(.trunk), hipLine: direction(.pelvis))
  }
  /// Levels a tilted sensor against the reference's starting posture (`SensorLevelling`), for
  /// an exercise built from a reference clip; `nil` for one built from features alone, or set
  /// to `nil` for a sensor that knows the vertical.
  public var levelling: SensorLevelling?
  /// True if the reference turns neither its hips' nor its shoulders' line by more than
  /// `largestTrunkTurn` about the vertical: a patient seen without legs whose hips and
  /// shoulders turn alike has then turned round (`BodyHeading.trunkTells`), where in a trunk
  /// rotation or a pelvis rotation the same could be the movement or its fault. `false` for an
  /// exercise built from features alone.
  public var trunkTurnIsBodyTurn = false
  /// Which unseen limbs are placed as the mirror image of the other side's
  /// (`UnseenLimbMirroring`): the pairs the reference moves symmetrically. None for an
  /// exercise built from features alone.
  public var unseenLimbs = UnseenLimbMirroring.none
  /// The most (radians, 10°) a reference may turn its hips' or shoulders' line for
  /// `trunkTurnIsBodyTurn`.
  public static let largestTrunkTurn: Float = 10 * .pi / 180
  /// Below this speed (radians a second) a measure is still.
  public static let holdSpeed = 3 * Double.pi / 180

  /// Seconds between reference frames; takes are compared at this rate.
  public var frameTime: Double { reference.frameTime }

  /// Builds an exercise from a definition and a reference clip holding one repetition.
  /// `derived`: landmarks placed by the keypoint solver's rules in every reference frame, as a
  /// sensor that does not give them sees the reference (`derivingAlike`).
  public init(
    definition: ExerciseDefinition, referenceClip: Clip, file: String = "<exercise>",
    placing derived: DerivedLandmarks = []
  ) throws(ExerciseError) {
    let body: BodyModel
    do {
      body = try BodyModel(skeleton: referenceClip.skeleton)
    } catch {
      throw ExerciseError(file: file, field: "reference", reason: "\(error)")
    }
    let landmarks = ClipFeatures.landmarks(of: referenceClip, body: body, placing: derived)
    let features = ClipFeatures.features(
      landmarks: landmarks,
      times: (0..<referenceClip.frameCount).map { Double($0) * referenceClip.frameTime },
      step: referenceClip.frameTime)
    try self.init(definition: definition, reference: features, clip: referenceClip, file: file)
    levelling = SensorLevelling(reference: landmarks, frameTime: referenceClip.frameTime)
    unseenLimbs = UnseenLimbMirroring(reference: landmarks)
    trunkTurnIsBodyTurn =
      BodyHeading.largestTurn(of: landmarks, .leftHip, .rightHip) <= Self.largestTrunkTurn
      && BodyHeading.largestTurn(of: landmarks, .leftShoulder, .rightShoulder)
        <= Self.largestTrunkTurn
  }

  /// Builds an exercise from a definition and reference features (one repetition).
  public init(
    definition: ExerciseDefinition, reference: FeatureSequence, clip: Clip? = nil,
    file: String = "<exercise>"
  ) throws(ExerciseError) {
    try definition.validate(file: file)
    guard reference.count >= 3 else {
      throw ExerciseError(
        file: file, field: "reference",
        reason: "the reference has \(reference.count) frames; a repetition needs at least 3")
    }
    self.definition = definition
    self.id = definition.id ?? definition.name.lowercased().replacingOccurrences(of: " ", with: "-")
    self.referenceClip = clip
    self.reference = reference
    referenceConditioning = FeatureLayout.angles.flatMap { angle in
      (0..<reference.count).map { angle.conditioning(reference, $0) }
    }
    let degrees = Float.pi / 180
    let specs =
      definition.measures
      ?? BodyBone.allCases.filter { !BodyBone.alignedOnlyWhenMeasured.contains($0) }.map {
        ExerciseDefinition.MeasureSpec(measure: $0.rawValue)
      }
    measures = specs.compactMap { spec in
      BodyMeasure(name: spec.measure).map {
        var scored = ScoredMeasure(
          measure: $0, weight: Float(spec.weight ?? ExerciseDefinition.Defaults.weight),
          tolerance: Float(spec.tolerance ?? ExerciseDefinition.Defaults.tolerance) * degrees,
          rangeTolerance: Float(
            spec.rangeTolerance ?? spec.tolerance ?? ExerciseDefinition.Defaults.tolerance)
            * degrees)
        scored.relative = spec.compare != "absolute"
        scored.more = spec.more
        scored.less = spec.less
        scored.overshootTolerance = spec.overshootTolerance.map { Float($0) * degrees }
        return scored
      }
    }
    postures = (definition.postures ?? []).compactMap { spec in
      BodyMeasure(name: spec.measure).map { measure in
        let c = measure.column
        var mean = SIMD3<Float>.zero
        var angle: Float = 0
        for f in 0..<reference.count {
          angle += reference[f, c] / Float(reference.count)
          if case .bone = measure {
            mean += SIMD3(reference[f, c], reference[f, c + 1], reference[f, c + 2])
          }
        }
        var posture = PostureMeasure(
          measure: measure, target: spec.target.map { Float($0) * degrees } ?? angle,
          direction: normalizeOrUp(mean),
          tolerance: Float(spec.tolerance ?? ExerciseDefinition.Defaults.postureTolerance)
            * degrees)
        posture.cue = spec.cue
        return posture
      }
    }
    keepStill = (definition.keepStill ?? []).compactMap { spec in
      BodyMeasure(name: spec.measure).map {
        var still = StillMeasure(
          measure: $0,
          tolerance: Float(spec.tolerance ?? ExerciseDefinition.Defaults.stillTolerance) * degrees)
        still.cue = spec.cue
        return still
      }
    }
    let base = Float(definition.alignmentWeight ?? ExerciseDefinition.Defaults.alignmentWeight)
    var weights = FeatureLayout.bones.map {
      BodyBone.alignedOnlyWhenMeasured.contains($0) ? 0 : base
    }
    for m in measures {
      for bone in m.measure.bones {
        if let k = FeatureLayout.bones.firstIndex(of: bone) {
          weights[k] = max(weights[k], m.weight)
        }
      }
    }
    boneWeights = weights
    alignmentScales = weights.map { $0.squareRoot() }
    switch definition.laterality ?? "auto" {
    case "left": workingSide = .left
    case "right": workingSide = .right
    case "bilateral": workingSide = nil
    default: workingSide = SideActivity(reference).dominantSide(ratio: Exercise.unilateralRatio)
    }
    alternates = definition.sides == "alternating" && workingSide != nil
    startsEitherSide = definition.sides == "either-first"
    tempo = definition.tempo ?? ExerciseDefinition.Defaults.tempo
    repetitions = definition.repetitions ?? ExerciseDefinition.Defaults.repetitions
    holdSeconds = definition.holdSeconds ?? 0
    holdFrames =
      holdSeconds > 0 ? Self.stillStretch(reference, measures: measures.map(\.measure)) : nil
    referenceRows = Self.alignmentMatrix(
      reference, frames: 0..<reference.count, scales: alignmentScales)
    levelling = nil
    refreshHold()
  }

  /// Computes `holdTargets`, `holdTolerances` and `holdReachFrames` from the reference and the
  /// measures as they are now.
  private mutating func refreshHold() {
    guard let held = holdFrames, reference.count > 0 else {
      holdTargets = []
      holdTolerances = []
      holdReachFrames = 0
      return
    }
    let targets = measures.map { Self.heldPosture($0.measure, reference, held) }
    let wide = measures.map { $0.tolerance + $0.rangeTolerance }
    let fromStart = zip(measures, targets).map { scored, target in
      Self.distance(scored.measure, reference, 0, from: target)
    }
    // The start would hold only if it lies within every measure's band: then the measures
    // that move to the hold are narrowed to leave the start outside theirs.
    let startHolds = zip(fromStart, wide).allSatisfy { $0 <= $1 }
    let tolerances = measures.indices.map { k in
      let tolerance = measures[k].tolerance
      guard startHolds, fromStart[k] > tolerance else { return wide[k] }
      return min(wide[k], max(tolerance, fromStart[k] - tolerance))
    }
    let scoredMeasures = measures
    let sequence = reference
    holdTargets = targets
    holdTolerances = tolerances
    holdReachFrames = (0..<sequence.count).count { f in
      scoredMeasures.indices.allSatisfy { k in
        Self.distance(scoredMeasures[k].measure, sequence, f, from: targets[k]) <= tolerances[k]
      }
    }
  }

  /// `measure`'s held posture in `s` over `frames`: the mean angle (in `x`, radians) or the
  /// normalised mean direction of a bone.
  static func heldPosture(_ measure: BodyMeasure, _ s: FeatureSequence, _ frames: Range<Int>)
    -> SIMD3<Float>
  {
    let c = measure.column
    switch measure {
    case .angle:
      var sum: Float = 0
      for f in frames { sum += s[f, c] }
      return SIMD3(sum / Float(max(1, frames.count)), 0, 0)
    case .bone:
      return RepetitionScorer.meanDirection(s, frames, c)
    }
  }

  /// How far `measure` in frame `f` of `s` is from `posture` (`heldPosture`), radians: the
  /// absolute difference of an angle, the angle between a bone's directions.
  static func distance(
    _ measure: BodyMeasure, _ s: FeatureSequence, _ f: Int, from posture: SIMD3<Float>
  ) -> Float {
    let c = measure.column
    switch measure {
    case .angle: return abs(s[f, c] - posture.x)
    case .bone:
      let u = SIMD3(s[f, c], s[f, c + 1], s[f, c + 2])
      return atan2(length(cross(u, posture)), dot(u, posture))
    }
  }

  /// The longest run of frames of `s` in which every measure moves slower than `holdSpeed`
  /// (measured over 0.2 s),
  /// touching neither end (the rest before and after), if at least 0.3 s long.
  static func stillStretch(_ s: FeatureSequence, measures: [BodyMeasure]) -> Range<Int>? {
    let n = s.count
    guard n > 2 else { return nil }
    // Speed over a fifth of a second, so that a recording's jitter is not read as motion.
    let k = max(1, Int((0.2 / s.frameTime).rounded()))
    let base = Float(holdSpeed * s.frameTime) * Float(k)
    // A recorded reference's own noise (σ of the unfiltered measure) is not motion either.
    let limits = measures.map { measure in
      max(base, Float(3 * RepetitionScorer.rawNoise(measure, s, 0..<n)))
    }
    var best: Range<Int>?
    var start: Int?
    for f in 1...n {
      var still = f < n
      if f < n {
        let p = max(0, f - k)
        for (m, measure) in measures.enumerated() where still {
          let c = measure.column
          let limit = limits[m]
          switch measure {
          case .angle: still = abs(s[f, c] - s[p, c]) < limit
          case .bone:
            let u = SIMD3(s[f, c], s[f, c + 1], s[f, c + 2])
            let v = SIMD3(s[p, c], s[p, c + 1], s[p, c + 2])
            still = atan2(length(cross(u, v)), dot(u, v)) < limit
          }
        }
      }
      if still {
        if start == nil { start = f - 1 }
      } else if let a = start {
        let run = a..<f
        if a > 0 && f < n && run.count > (best?.count ?? 0) { best = run }
        start = nil
      }
    }
    guard let found = best, Double(found.count) * s.frameTime >= 0.3 else { return nil }
    return found
  }

  /// A reference whose one side moves this many times more than the other is unilateral.
  public static let unilateralRatio: Float = 1.8

  /// Loads a definition file and its reference BVH (relative to the file).
  public static func load(contentsOf url: URL) throws(ExerciseError) -> Exercise {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw ExerciseError(
        file: url.path, reason: "cannot read the file (\(error.localizedDescription))")
    }
    var definition = try ExerciseDefinition.decode(data, file: url.path)
    if definition.id == nil { definition.id = url.deletingPathExtension().lastPathComponent }
    let referenceURL = URL(
      fileURLWithPath: definition.reference, relativeTo: url.deletingLastPathComponent())
    let clip: Clip
    do {
      clip = try BVHReader().read(contentsOf: referenceURL)
    } catch {
      throw ExerciseError(file: url.path, field: "reference", reason: "\(error)")
    }
    return try Exercise(definition: definition, referenceClip: clip, file: url.path)
  }

  /// The alignment row of feature frame `features`: each bone's direction scaled by the square
  /// root of its weight, so squared Euclidean distance is the weighted sum over bones.
  func alignmentRow(
    _ features: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    Self.alignmentRow(features, into: out, scales: alignmentScales)
  }

  // Bone k's direction is in feature columns 3k..<3k+3 (`FeatureLayout`).
  private static func alignmentRow(
    _ features: UnsafeBufferPointer<Float>, into out: UnsafeMutableBufferPointer<Float>,
    scales: [Float]
  ) {
    for k in 0..<FeatureLayout.bones.count {
      let s = scales[k]
      out[3 * k] = features[3 * k] * s
      out[3 * k + 1] = features[3 * k + 1] * s
      out[3 * k + 2] = features[3 * k + 2] * s
    }
  }

  /// True if frames `range` of `take` work the other side than the reference: the exercise's
  /// measures, mirrored, move more (weighted range of motion) than the measures themselves.
  /// Always false for bilateral exercises.
  public func worksOtherSide(_ take: FeatureSequence, frames range: Range<Int>) -> Bool {
    guard workingSide != nil else { return false }
    var direct = 0.0
    var swapped = 0.0
    for m in measures {
      let w = Double(m.weight)
      direct += w * abs(m.measure.excursion(take, range))
      swapped += w * abs(m.measure.mirrored.excursion(take, range))
    }
    return swapped > direct
  }

  /// `BodyAngle.conditioning` of `angle` in every reference frame (indexed from 0).
  func referenceConditioning(_ angle: BodyAngle) -> ArraySlice<Float> {
    let start = FeatureLayout.angleIndex(angle) * reference.count
    return referenceConditioning[start..<(start + reference.count)]
  }

  /// The width of an alignment row.
  static let alignmentWidth = 3 * FeatureLayout.bones.count

  /// Alignment rows of a whole feature sequence.
  func alignmentMatrix(_ sequence: FeatureSequence, frames: Range<Int>? = nil) -> DTWMatrix {
    Self.alignmentMatrix(sequence, frames: frames ?? 0..<sequence.count, scales: alignmentScales)
  }

  private static func alignmentMatrix(
    _ sequence: FeatureSequence, frames range: Range<Int>, scales: [Float]
  ) -> DTWMatrix {
    var rows = [Float](repeating: 0, count: range.count * Exercise.alignmentWidth)
    sequence.values.withUnsafeBufferPointer { source in
      rows.withUnsafeMutableBufferPointer { out in
        for (r, f) in range.enumerated() {
          alignmentRow(
            UnsafeBufferPointer(
              rebasing: source[(f * sequence.width)..<((f + 1) * sequence.width)]),
            into: UnsafeMutableBufferPointer(
              rebasing: out[(r * Exercise.alignmentWidth)..<((r + 1) * Exercise.alignmentWidth)]),
            scales: scales)
        }
      }
    }
    return DTWMatrix(rows: range.count, width: Exercise.alignmentWidth, values: rows)
  }
}

extension BodyMeasure {
  /// How far the measure moves over `range` of `s` (radians, robust: `RepetitionScorer`): a
  /// bone's reach from its resting direction, an angle's signed reach from its resting value,
  /// the rest being the mean over `origin` (default: the first `originFrames` of `range`).
  /// With `smoothing` h > 0, every frame is first replaced by the mean of the frames within h
  /// of it (a centred moving average over the repetition). With `conditioning` (per frame of
  /// `range`, and `rest`), an angle's departures are each counted times
  /// `min(frames[k], rest)` (`BodyAngle.conditioning`; `RepetitionScorer`: `rest` the
  /// better-defined of the two starting postures').
  func excursion(
    _ s: FeatureSequence, _ range: Range<Int>, origin: Range<Int>? = nil,
    quantile: Double = RepetitionScorer.excursionQuantile, smoothing: Int = 0,
    conditioning: (frames: [Float], rest: Float)? = nil
  ) -> Double {
    let origin =
      origin ?? range.lowerBound..<(range.lowerBound + RepetitionScorer.originFrames(range.count))
    return switch self {
    case .bone:
      RepetitionScorer.boneExcursion(
        s, range, column, origin: origin, quantile: quantile, smoothing: smoothing)
    case .angle:
      RepetitionScorer.angleExcursion(
        s, range, column, origin: origin, quantile: quantile, smoothing: smoothing,
        conditioning: conditioning)
    }
  }

  /// The body parts a patient sees named when this measure is off, and that are coloured for
  /// it: a shoulder angle colours the whole arm ("raise your arm"), a hip or knee angle the
  /// whole leg, a trunk angle the trunk.
  public var colouredBones: [BodyBone] {
    switch self {
    case .bone(let b): [b]
    case .angle(let a):
      switch a {
      case .trunkFlexion, .trunkLateralFlexion: [.trunk]
      case .headFlexion: [.head]
      case .leftKneeValgus, .leftHipFlexion, .leftHipAbduction, .leftKneeFlexion:
        [.leftThigh, .leftShank]
      case .rightKneeValgus, .rightHipFlexion, .rightHipAbduction, .rightKneeFlexion:
        [.rightThigh, .rightShank]
      case .leftShoulderFlexion, .leftShoulderAbduction, .leftElbowFlexion:
        [.leftUpperArm, .leftForearm]
      case .rightShoulderFlexion, .rightShoulderAbduction, .rightElbowFlexion:
        [.rightUpperArm, .rightForearm]
      case .lumbarFlexion: [.lowerBack, .trunk]
      case .trunkRotation: [.shoulders, .trunk]
      case .pelvicObliquity: [.pelvis]
      }
    }
  }

  /// The bones whose directions determine this measure (for alignment weights).
  public var bones: [BodyBone] {
    switch self {
    case .bone(let b): [b]
    case .angle(let a):
      switch a {
      case .trunkFlexion, .trunkLateralFlexion: [.trunk]
      case .headFlexion: [.head, .trunk]
      case .leftKneeValgus: [.leftThigh, .leftShank]
      case .rightKneeValgus: [.rightThigh, .rightShank]
      case .leftHipFlexion, .leftHipAbduction: [.leftThigh, .trunk]
      case .rightHipFlexion, .rightHipAbduction: [.rightThigh, .trunk]
      case .leftKneeFlexion: [.leftThigh, .leftShank]
      case .rightKneeFlexion: [.rightThigh, .rightShank]
      case .leftShoulderFlexion, .leftShoulderAbduction: [.leftUpperArm, .trunk]
      case .rightShoulderFlexion, .rightShoulderAbduction: [.rightUpperArm, .trunk]
      case .leftElbowFlexion: [.leftUpperArm, .leftForearm]
      case .rightElbowFlexion: [.rightUpperArm, .rightForearm]
      case .lumbarFlexion: [.lowerBack, .trunk]
      case .trunkRotation: [.shoulders, .pelvis]
      case .pelvicObliquity: [.pelvis]
      }
    }
  }
}
