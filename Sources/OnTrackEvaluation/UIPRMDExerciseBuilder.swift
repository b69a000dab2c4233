import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring

/// Builds the bundled UI-PRMD exercises (`Assets/exercises/uiprmd-mNN-*.{json,bvh}`) from the
/// public-domain dataset: for each movement, the representative correct repetition over all ten
/// subjects (left-limbed performers mirrored to the right), retargeted onto OnTrack's canonical
/// skeleton and written as BVH; the definition's tolerances are calibrated on all subjects'
/// correct repetitions (`ReferenceBuilder`). The measures, weights and laterality in the JSON
/// are kept as written (they are the therapist's part).
public enum UIPRMDExerciseBuilder {
  /// Canonical joint names, with the Kinect joint each one takes its position from
  /// (`nil`: an End Site continuing its parent's bone).
  static let canonical: [(name: String, parent: Int?, kinect: Int?, rest: SIMD3<Float>)] = [
    ("Hips", nil, 0, [0, 0, 0]),
    ("Spine", 0, 1, [0, 1, 0]),
    ("Chest", 1, 2, [0, 1, 0]),
    ("Neck", 2, 3, [0, 1, 0]),
    ("Head", 3, 4, [0, 1, 0]),
    ("Head_End", 4, 5, [0, 1, 0]),
    ("LeftShoulder", 2, 6, [1, 0, 0]),
    ("LeftArm", 6, 7, [1, 0, 0]),
    ("LeftForeArm", 7, 8, [1, 0, 0]),
    ("LeftHand", 8, 9, [1, 0, 0]),
    ("LeftHand_End", 9, nil, [1, 0, 0]),
    ("RightShoulder", 2, 10, [-1, 0, 0]),
    ("RightArm", 11, 11, [-1, 0, 0]),
    ("RightForeArm", 12, 12, [-1, 0, 0]),
    ("RightHand", 13, 13, [-1, 0, 0]),
    ("RightHand_End", 14, nil, [-1, 0, 0]),
    ("LeftUpLeg", 0, 14, [0.97, -0.24, 0]),
    ("LeftLeg", 16, 15, [0, -1, 0]),
    ("LeftFoot", 17, 16, [0, -1, 0]),
    ("LeftToeBase", 18, 17, [0, -0.37, 0.93]),
    ("LeftToeBase_End", 19, nil, [0, 0, 1]),
    ("RightUpLeg", 0, 18, [-0.97, -0.24, 0]),
    ("RightLeg", 21, 19, [0, -1, 0]),
    ("RightFoot", 22, 20, [0, -1, 0]),
    ("RightToeBase", 23, 21, [0, -0.37, 0.93]),
    ("RightToeBase_End", 24, nil, [0, 0, 1]),
  ]

  /// Length of the hand and toe End Sites, metres.
  static let tipLength: Float = 0.06

  /// Retargets a UI-PRMD Kinect clip (optionally mirrored left↔right) onto the canonical
  /// skeleton, with bone lengths averaged over the clip.
  public static func retarget(_ clip: Clip, mirrored: Bool) throws -> Clip {
    let kinect = clip.skeleton
    let frames = clip.frameCount
    var positions = [[SIMD3<Float>]](repeating: [], count: frames)
    var pose = kinect.restPose
    var world = [RigidTransform](repeating: .identity, count: kinect.count)
    let swap = SkeletonMirror(skeleton: kinect).counterparts
    for f in 0..<frames {
      clip.copyFrame(f, into: &pose)
      ForwardKinematics.computeWorldTransforms(skeleton: kinect, pose: pose, into: &world)
      var p = world.map(\.translation)
      if mirrored {
        p = (0..<p.count).map { p[swap[$0]] * SIMD3(-1, 1, 1) }
      }
      positions[f] = p
    }
    // Targets per canonical joint; End Sites continue their parent's bone.
    func targets(_ f: Int) -> [SIMD3<Float>] {
      var t = [SIMD3<Float>](repeating: .zero, count: canonical.count)
      for (j, c) in canonical.enumerated() {
        if let k = c.kinect {
          t[j] = positions[f][k]
        } else if let parent = c.parent, let grand = canonical[parent].parent {
          t[j] = t[parent] + OnTrackKinematics.normalize(t[parent] - t[grand]) * tipLength
        }
      }
      return t
    }
    let allTargets = (0..<frames).map(targets)
    // Children of the pelvis and chest keep their recorded layout: each one's mean position in
    // the frame the solver builds for its parent (first child up = +Y, the line from the last
    // child to the second = +X), so the solved joint reproduces all its children's directions.
    var restOverride: [Int: SIMD3<Float>] = [:]
    for (j, _) in canonical.enumerated() {
      let kids = canonical.indices.filter { canonical[$0].parent == j }
      guard kids.count >= 2, let first = kids.first, let last = kids.last else { continue }
      let second = kids[1]
      var sums = [Int: SIMD3<Float>]()
      for t in allTargets {
        let e1 = OnTrackKinematics.normalize(t[first] - t[j])
        let across = t[second] - t[last]
        let e2 = OnTrackKinematics.normalize(across - e1 * OnTrackKinematics.dot(across, e1))
        let e3 = OnTrackKinematics.cross(e1, e2)
        for c in kids {
          let v = t[c] - t[j]
          let coords = SIMD3(
            OnTrackKinematics.dot(v, e1), OnTrackKinematics.dot(v, e2), OnTrackKinematics.dot(v, e3)
          )
          sums[c, default: .zero] += coords / Float(frames)
        }
      }
      // (e1, e2, e3) ↦ (+Y, +X, −Z), a proper rotation.
      for (c, mean) in sums { restOverride[c] = SIMD3(mean.y, mean.x, -mean.z) }
    }
    var joints: [Skeleton.Joint] = []
    for (j, c) in canonical.enumerated() {
      var offset = SIMD3<Float>.zero
      if let parent = c.parent {
        let mean =
          allTargets.map { OnTrackKinematics.length($0[j] - $0[parent]) }.reduce(0, +)
          / Float(frames)
        offset =
          restOverride[j] ?? OnTrackKinematics.normalize(c.rest)
          * (c.kinect == nil ? tipLength : mean)
      }
      // The head's tip has a Kinect joint (for its direction) but no channels of its own.
      let isEndSite = c.kinect == nil || c.name == "Head_End"
      let channels: [Channel] =
        isEndSite
        ? []
        : (c.parent == nil
          ? [.xPosition, .yPosition, .zPosition, .zRotation, .xRotation, .yRotation]
          : [.zRotation, .xRotation, .yRotation])
      joints.append(
        Skeleton.Joint(
          name: c.name, parent: c.parent, offset: offset, channels: channels,
          isEndSite: isEndSite))
    }
    let skeleton = try Skeleton(joints: joints, lengthUnit: .centimetre)
    let solver = PositionSolver(skeleton: skeleton)
    var solved = skeleton.restPose
    var scratch = [RigidTransform](repeating: .identity, count: skeleton.count)
    var rotations: [Quaternion] = []
    var translations: [SIMD3<Float>] = []
    for t in allTargets {
      solver.solve(targets: t, into: &solved, world: &scratch)
      rotations.append(contentsOf: solved.rotations)
      translations.append(contentsOf: solved.translations)
    }
    return try Clip(
      skeleton: skeleton, frameTime: clip.frameTime, rotations: rotations,
      translations: translations)
  }

  /// What was built for one movement.
  public struct Built: Codable, Sendable {
    public var id: String
    public var subject: Int
    public var episode: Int
    public var mirrored: Bool
    public var frames: Int
  }

  /// Rebuilds the reference BVH and calibrates the tolerances of every `uiprmd-mNN-*.json` in
  /// `exercises`, rewriting both files.
  public static func build(
    dataset: URL, exercises: URL, movements: [Int] = Array(1...10),
    progress: (String) -> Void = { _ in }
  ) throws -> [Built] {
    let root = dataset.appendingPathComponent("raw")
    var built: [Built] = []
    for movement in movements {
      let url = try UIPRMDEvaluation.definitionURL(movement: movement, in: exercises)
      let name = url.lastPathComponent
      var definition = try ExerciseDefinition.decode(Data(contentsOf: url), file: url.path)
      let clips = try UIPRMDEvaluation.loadKinect(movement: movement, root: root, classes: [true])
      let template = try Exercise(definition: definition, reference: clips[0].features)
      let (sidedFeatures, onSide) = try ReferenceBuilder.onWorkingSide(
        clips.map(\.features), definition: definition, template: template)
      let chosen = ReferenceBuilder.representative(of: sidedFeatures, exercise: template)
      let source = clips[chosen]
      let reference = try retarget(source.clip, mirrored: onSide[chosen])
      let bvhURL = exercises.appendingPathComponent(definition.reference)
      try BVHWriter().write(reference, to: bvhURL)
      // Calibrate against the reference as written (re-read, so the file is what is scored).
      let written = try BVHReader().read(contentsOf: bvhURL)
      definition.source =
        "UI-PRMD movement m\(UIPRMDReader.twoDigits(movement)), subject s\(UIPRMDReader.twoDigits(source.subject)), correct episode e\(UIPRMDReader.twoDigits(source.episode)) (Kinect), \(onSide[chosen] ? "mirrored and " : "")retargeted to OnTrack's canonical skeleton. Vakanski et al., Data 2018, doi:10.3390/data3010002; public domain (ODC-PDDL)."
      let exercise = ReferenceBuilder.calibrated(
        try Exercise(definition: definition, referenceClip: written), correct: sidedFeatures)
      let degrees = 180 / Double.pi
      func rounded(_ radians: Float) -> Double { (Double(radians) * degrees * 10).rounded() / 10 }
      definition.measures = exercise.measures.map {
        .init(
          measure: $0.measure.description, weight: Double($0.weight),
          tolerance: rounded($0.tolerance), rangeTolerance: rounded($0.rangeTolerance))
      }
      definition.keepStill = exercise.keepStill.map {
        .init(measure: $0.measure.description, tolerance: rounded($0.tolerance))
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try (encoder.encode(definition) + Data("\n".utf8)).write(to: url)
      built.append(
        Built(
          id: definition.id ?? name, subject: source.subject, episode: source.episode,
          mirrored: onSide[chosen], frames: reference.frameCount))
      progress(
        "\(name): reference s\(source.subject) e\(source.episode)\(onSide[chosen] ? " (mirrored)" : ""), \(reference.frameCount) frames"
      )
    }
    return built
  }
}
