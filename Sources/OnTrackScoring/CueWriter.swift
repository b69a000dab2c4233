import OnTrackKinematics

/// Turns the largest problems of a repetition into short instructions a patient can act on
/// while moving, the way a therapist would say them.
enum CueWriter {
  static func side(_ s: BodyModel.Side?) -> String {
    switch s {
    case .left: "left "
    case .right: "right "
    case nil: ""
    }
  }

  /// A cue for a measure whose error exceeded its tolerance. `signedError` is patient −
  /// reference (radians, angles only); `rangeDeficit` says the range of motion fell short of
  /// the reference's `referenceRange` (signed excursion).
  static func cue(
    for measure: BodyMeasure, signedError: Double, rangeDeficit: Bool, referenceRange: Double
  ) -> Cue {
    let name = measure.description
    switch measure {
    case .bone(let bone):
      return Cue(
        kind: .position, text: "Follow the guide with your \(bone.words)", measure: name,
        severity: 0)
    case .angle(let angle):
      let s = side(angle.side)
      // "more" means: move further in the reference's direction of motion.
      let more: Bool
      if rangeDeficit {
        more = true
      } else {
        more = referenceRange >= 0 ? signedError < 0 : signedError > 0
      }
      let kind: Cue.Kind = rangeDeficit ? .range : .position
      let text: String
      switch angle {
      case .trunkFlexion:
        text =
          signedError > 0 && !rangeDeficit
          ? "Keep your trunk upright" : "Lean your trunk forward a little more"
      case .trunkLateralFlexion:
        text =
          more && referenceRangeIsReal(referenceRange)
          ? "Lean further to the side" : "Don't lean to the side"
      case .headFlexion:
        text = signedError > 0 ? "Keep your head up and look ahead" : "Tuck your chin a little"
      case .leftKneeValgus, .rightKneeValgus:
        text =
          signedError > 0
          ? "Push your \(s)knee out, over your toes" : "Keep your \(s)knee over your toes"
      case .leftKneeFlexion, .rightKneeFlexion:
        text = more ? "Bend your \(s)knee more" : "Don't bend your \(s)knee so much"
      case .leftHipFlexion, .rightHipFlexion:
        text =
          referenceRange < 0
          ? (more ? "Move your \(s)leg further back" : "Don't move your \(s)leg so far back")
          : (more ? "Bend more at your \(s)hip" : "Don't bend so much at your \(s)hip")
      case .leftHipAbduction, .rightHipAbduction:
        text =
          more
          ? "Move your \(s)leg further out to the side" : "Keep your \(s)leg closer to your body"
      case .leftShoulderFlexion, .rightShoulderFlexion:
        text =
          referenceRange < 0
          ? (more ? "Move your \(s)arm further back" : "Don't move your \(s)arm so far back")
          : (more
            ? "Raise your \(s)arm higher in front of you" : "Don't raise your \(s)arm so high")
      case .leftShoulderAbduction, .rightShoulderAbduction:
        text =
          more
          ? "Raise your \(s)arm higher out to the side" : "Don't lift your \(s)arm so high"
      case .leftElbowFlexion, .rightElbowFlexion:
        text = signedError > 0 ? "Straighten your \(s)elbow" : "Bend your \(s)elbow more"
      case .lumbarFlexion:
        text =
          referenceRange < 0
          ? (more ? "Arch your lower back a little more" : "Don't arch your lower back so much")
          : (more ? "Round your lower back more" : "Don't round your lower back so much")
      case .trunkRotation:
        text = more ? "Turn your chest further" : "Don't turn so far"
      case .pelvicObliquity:
        text = "Keep your hips level"
      }
      return Cue(kind: kind, text: text, measure: name, severity: 0)
    }
  }

  /// A cue for a measure that should have stayed still.
  static func stillCue(for measure: BodyMeasure) -> Cue {
    let text: String
    switch measure {
    case .angle(.trunkFlexion), .angle(.trunkLateralFlexion), .bone(.trunk):
      text = "Keep your trunk still and upright"
    case .angle(.headFlexion), .bone(.head):
      text = "Keep your head up and still"
    case .angle(.leftKneeValgus), .angle(.rightKneeValgus):
      text = "Keep your \(side(measure.side))knee in line with your toes"
    case .bone(.pelvis):
      text = "Keep your hips level"
    case .bone(.shoulders):
      text = "Keep your shoulders level"
    case .angle(.trunkRotation):
      text = "Keep your shoulders square to your hips, don't twist"
    case .angle(.pelvicObliquity):
      text = "Keep your hips level"
    case .angle(.lumbarFlexion), .bone(.lowerBack):
      text = "Keep your lower back still and neutral"
    case .angle(.leftKneeFlexion), .angle(.rightKneeFlexion):
      text = "Keep your \(side(measure.side))knee straight"
    case .angle(.leftElbowFlexion), .angle(.rightElbowFlexion):
      text = "Keep your \(side(measure.side))elbow straight"
    case .bone(let bone):
      text = "Keep your \(bone.words) still"
    case .angle(let angle):
      text = "Keep your \(side(angle.side))\(angle.jointWords) still"
    }
    return Cue(kind: .compensation, text: text, measure: measure.description, severity: 0)
  }

  /// A cue for a posture not held; `signedDeviation` is value − target (radians, angles).
  static func postureCue(for measure: BodyMeasure, signedDeviation: Double) -> Cue {
    let text: String
    switch measure {
    case .angle(.trunkFlexion):
      text = signedDeviation > 0 ? "Keep your trunk upright" : "Don't lean back"
    case .angle(.trunkLateralFlexion), .bone(.trunk):
      text = "Keep your trunk straight, not leaning to the side"
    case .angle(.headFlexion), .bone(.head):
      text = signedDeviation > 0 ? "Keep your head up" : "Keep your head in line with your back"
    case .bone(.pelvis):
      text = "Keep your hips level"
    case .bone(.shoulders):
      text = "Keep your shoulders level"
    case .angle(.pelvicObliquity):
      text = "Keep your hips level"
    case .angle(.trunkRotation):
      text = "Keep your shoulders square to your hips"
    case .angle(let angle):
      text = "Hold your \(side(angle.side))\(angle.jointWords) in position"
    case .bone(let bone):
      text = "Hold your \(bone.words) in position"
    }
    return Cue(kind: .posture, text: text, measure: measure.description, severity: 0)
  }

  static func tempoCue(slow: Bool) -> Cue {
    Cue(
      kind: .tempo, text: slow ? "You can go a little faster" : "Slow down", measure: nil,
      severity: 0)
  }

  /// The part of the body `measure` reads, in the patient's words: "left knee", "lower back".
  static func partWords(_ measure: BodyMeasure) -> String {
    switch measure {
    case .bone(let bone): bone.words
    case .angle(let angle): side(angle.side) + angle.jointWords
    }
  }

  /// The cue of a repetition counted but not scored: what the sensor did not show, in the
  /// patient's words ("your lower back"), from the exercise's scored measures.
  static func unmeasured(_ measures: [BodyMeasure]) -> Cue {
    var parts: [String] = []
    for measure in measures {
      let words = partWords(measure)
      if !parts.contains(words) { parts.append(words) }
    }
    let what =
      parts.isEmpty
      ? "what this exercise measures" : "your " + parts.prefix(2).joined(separator: " or ")
    return Cue(
      kind: .unseen, text: "Counted, not scored: the sensor does not show \(what)", measure: nil,
      severity: 0)
  }

  static func praise(score: Double) -> Cue {
    Cue(
      kind: .praise, text: score >= 85 ? "Well done, keep it up" : "Good, keep following the guide",
      measure: nil, severity: 0)
  }
}

/// A reference range of 10° or more is a movement asked for, not sensor wobble.
func referenceRangeIsReal(_ range: Double) -> Bool { abs(range) >= 10 * .pi / 180 }

extension BodyAngle {
  /// The joint in words: "hip", "shoulder".
  var jointWords: String {
    switch self {
    case .trunkFlexion, .trunkLateralFlexion, .trunkRotation: "trunk"
    case .lumbarFlexion: "lower back"
    case .pelvicObliquity: "hips"
    case .headFlexion: "head"
    case .leftKneeValgus, .rightKneeValgus: "knee"
    case .leftHipFlexion, .leftHipAbduction, .rightHipFlexion, .rightHipAbduction: "hip"
    case .leftKneeFlexion, .rightKneeFlexion: "knee"
    case .leftShoulderFlexion, .leftShoulderAbduction, .rightShoulderFlexion,
      .rightShoulderAbduction:
      "shoulder"
    case .leftElbowFlexion, .rightElbowFlexion: "elbow"
    }
  }
}
