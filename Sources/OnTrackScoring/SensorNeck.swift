import OnTrackKinematics

/// A sensor that gives no neck point (a webcam's BlazePose or COCO-17 keypoints) has its neck
/// derived from the shoulders: `KeypointSolver` puts it at the mid-shoulder point. The
/// shoulder points move with the arms — raised, reaching forward or shrugged, the mid-shoulder
/// point moves 2–7 cm against the spine's neck joint — so the trunk (pelvis to neck) and the
/// head (neck to head) that such a sensor measures turn with the arms, where the reference's,
/// measured on a skeleton's spine, do not. A perfect deep squat seen through BlazePose's points
/// scored 11 ("Keep your head up and still": the head read as turning 59° against the trunk),
/// a shoulder extension 82, a cat–camel 47.
///
/// The scorers compare like with like instead: when the first landmark frame's neck is the
/// mid-shoulder point (`LandmarkFrame.hasNeckAtMidShoulders`), the reference is measured the same
/// way (`Exercise.withNeckAtMidShoulders`). A sensor that measures a neck is compared with the
/// reference's own.
extension LandmarkFrame {
  /// How near the mid-shoulder point a neck must be to count as derived from the shoulders,
  /// metres: far below any real neck's distance from it, above rounding.
  public static let derivedNeckTolerance: Float = 0.001

  /// True if this frame's neck and both shoulders were seen and the neck is the mid-shoulder
  /// point (within `derivedNeckTolerance`).
  public var hasNeckAtMidShoulders: Bool {
    let neck = BodyLandmark.neck.rawValue
    let left = BodyLandmark.leftShoulder.rawValue
    let right = BodyLandmark.rightShoulder.rawValue
    guard positions.count > max(neck, left, right),
      untracked & (1 << UInt32(neck) | 1 << UInt32(left) | 1 << UInt32(right)) == 0
    else { return false }
    let middle = (positions[left] + positions[right]) * 0.5
    let gap = length(positions[neck] - middle)
    return gap.isFinite && gap <= Self.derivedNeckTolerance
  }
}

extension Exercise {
  /// The exercise as a sensor whose neck is the mid-shoulder point sees it: the reference's
  /// landmarks with the neck moved to the mid-shoulder point in every frame, measured again
  /// (features, alignment rows, hold, levelling); every tolerance, weight and range tolerance
  /// (which a caller may have calibrated) kept. `self` if there is no reference clip to measure
  /// again.
  public func withNeckAtMidShoulders() -> Exercise {
    guard let clip = referenceClip, let body = try? BodyModel(skeleton: clip.skeleton) else {
      return self
    }
    var landmarks = ClipFeatures.landmarks(of: clip, body: body)
    let neck = BodyLandmark.neck.rawValue
    let left = BodyLandmark.leftShoulder.rawValue
    let right = BodyLandmark.rightShoulder.rawValue
    for f in landmarks.indices {
      landmarks[f].positions[neck] =
        (landmarks[f].positions[left] + landmarks[f].positions[right]) * 0.5
    }
    let features = ClipFeatures.features(
      landmarks: landmarks, times: (0..<clip.frameCount).map { Double($0) * clip.frameTime },
      step: clip.frameTime)
    guard var seen = try? Exercise(definition: definition, reference: features, clip: clip),
      seen.measures.count == measures.count, seen.keepStill.count == keepStill.count,
      seen.postures.count == postures.count
    else { return self }
    for k in measures.indices {
      seen.measures[k].tolerance = measures[k].tolerance
      seen.measures[k].rangeTolerance = measures[k].rangeTolerance
      seen.measures[k].weight = measures[k].weight
      seen.measures[k].overshootTolerance = measures[k].overshootTolerance
    }
    for k in keepStill.indices { seen.keepStill[k].tolerance = keepStill[k].tolerance }
    for k in postures.indices { seen.postures[k].tolerance = postures[k].tolerance }
    if levelling != nil {
      seen.levelling = SensorLevelling(reference: landmarks, frameTime: clip.frameTime)
    }
    return seen
  }
}
