import Foundation
import OnTrackKinematics

/// The low-back-pain exercises' reference movements, authored on the canonical skeleton
/// (there is no public motion capture of them that may be shipped), one repetition each, and
/// for each the fault it is about, performed the wrong way, for tests.
///
/// Ranges and timings come from clinical sources (README, "The low-back-pain library"; the
/// research notes behind them cite each number): KIMORE's standing protocol (Capecci et al.
/// 2019), KERAAL's stretches (Nguyen et al. 2024; performed seated there, standing here),
/// and the floor exercises of motor-control and McKenzie programmes. Patient targets are
/// 60–80 % of healthy spinal ranges (Troke et al. 2005; Laird et al. 2016, 2019) and mid-range
/// for limbs.
public enum BackPainLibrary {
  /// How a repetition is performed.
  public enum Variant: String, Sendable, CaseIterable {
    /// As the reference: the exercise done well.
    case reference
    /// The exercise's typical fault (`Exercise.fault`).
    case fault
    /// The hold released after a third of its time (exercises with a hold).
    case shortHold
  }

  public struct Exercise: Sendable {
    /// The exercise id (`Assets/exercises/<id>.json`).
    public var id: String
    /// Seconds held at the end position (0: none).
    public var hold: Double
    /// What `Variant.fault` does wrong, in words.
    public var fault: String
    /// The measures whose cue names the fault (any of them).
    public var faultMeasures: [String]
    /// The posture the exercise is done in.
    public var position: Position
    let build: @Sendable (Variant) -> AuthoredMotion

    public func motion(_ variant: Variant = .reference) -> AuthoredMotion { build(variant) }
  }

  public enum Position: String, Sendable {
    case standing, supine, prone, quadruped
  }

  /// Every exercise of the library.
  public static let exercises: [Exercise] = [
    armsOverhead, lateralTilt, trunkRotation, pelvisCircles, squat,
    flankStretch, torsoRotation, hidingFace,
    pelvicTilt, gluteBridge, kneeToChest, kneeRolls, catCamel, birdDog, pressUp,
  ]

  public static func exercise(_ id: String) -> Exercise? { exercises.first { $0.id == id } }

  // MARK: Building blocks

  /// Floor height of the ankle joint centre with the foot flat (metres).
  static let ankleHeight = 0.075
  /// Height of hip and shoulder joint centres lying on the floor.
  static let lyingHeight = 0.10

  /// Standing with feet hip-width apart, knees soft (about 5°), arms hanging.
  static func standing() -> AuthoredPosture {
    var p = AuthoredPosture()
    p.pelvis = [0, 0.905, 0]
    for side in [1.0, -1.0] {
      let reach = AuthoredPosture.Reach(
        target: [side * 0.11, ankleHeight, 0.01], bend: [0, 0, 1])
      p.setReach(side: side, arm: false, reach)
    }
    p.leftArm = .init(flexion: 3, abduction: 6, bend: 8)
    p.rightArm = .init(flexion: 3, abduction: 6, bend: 8)
    return p
  }

  /// Lying on the back, knees bent about 95° and feet flat (hook lying), arms by the sides.
  /// `feetApart`: half the distance between the ankles.
  static func hookLying(feetApart: Double = 0.11) -> AuthoredPosture {
    var p = AuthoredPosture()
    p.pitch = -90
    p.pelvis = [0, lyingHeight, 0]
    p.lumbar.flexion = -4
    p.thoracic.flexion = 4
    for side in [1.0, -1.0] {
      let reach = AuthoredPosture.Reach(
        target: [side * feetApart, ankleHeight, 0.58], bend: [side * 0.15, 1, 0])
      p.setReach(side: side, arm: false, reach)
    }
    p.leftArm = .init(flexion: -6, abduction: 14, bend: 5)
    p.rightArm = .init(flexion: -6, abduction: 14, bend: 5)
    return p
  }

  /// Lying face down, legs straight, forehead towards the floor, hands flat by the shoulders.
  static func proneLying() -> AuthoredPosture {
    var p = AuthoredPosture()
    p.pitch = 90
    p.pelvis = [0, lyingHeight, 0]
    p.footFlat = false
    p.leftLeg = .init(flexion: -2, abduction: 4)
    p.rightLeg = .init(flexion: -2, abduction: 4)
    p.leftLeg.distal = 60
    p.rightLeg.distal = 60
    p.headFlexion = 10
    let chest = p.points()
    for side in [1.0, -1.0] {
      let shoulder = chest[side > 0 ? .leftShoulder : .rightShoulder] ?? .zero
      let reach = AuthoredPosture.Reach(
        target: [shoulder.x + side * 0.06, 0.05, shoulder.z - 0.02], bend: [side * 0.4, 1, -0.6])
      p.setReach(side: side, arm: true, reach)
    }
    return p
  }

  /// On hands and knees: knees under the hips, hands under the shoulders, back flat.
  static func quadruped() -> AuthoredPosture {
    var p = AuthoredPosture()
    p.footFlat = false
    let kneeHeight = 0.06
    // The trunk rises towards the head so that straight arms reach the floor.
    p.pitch = 78
    p.pelvis = [0, kneeHeight + AuthoredPosture.Length.thigh + 0.024, 0]
    for side in [1.0, -1.0] {
      var leg = AuthoredPosture.Limb(flexion: p.pitch, bend: 90)
      leg.distal = 75
      if side > 0 { p.leftLeg = leg } else { p.rightLeg = leg }
    }
    // Find the pitch that puts the shoulders one arm length above the hands.
    let armLength = AuthoredPosture.Length.upperArm + AuthoredPosture.Length.forearm
    let wristHeight = 0.05
    var low = 45.0
    var high = 90.0
    for _ in 0..<40 {
      let mid = (low + high) / 2
      p.pitch = mid
      p.leftLeg.flexion = mid
      p.rightLeg.flexion = mid
      let points = p.points()
      let shoulderY = ((points[.leftShoulder]?.y ?? 0) + (points[.rightShoulder]?.y ?? 0)) / 2
      if shoulderY > wristHeight + armLength * 0.985 { low = mid } else { high = mid }
    }
    let points = p.points()
    for side in [1.0, -1.0] {
      let shoulder = points[side > 0 ? .leftShoulder : .rightShoulder] ?? .zero
      let reach = AuthoredPosture.Reach(
        target: [shoulder.x, wristHeight, shoulder.z], bend: [0, 0, -1])
      p.setReach(side: side, arm: true, reach)
    }
    p.headFlexion = -12
    return p
  }

  /// A repetition: `rest` for half a second, then each phase reached in its seconds, then
  /// back to `rest` (in `back` seconds) and half a second of rest.
  static func repetition(
    _ rest: AuthoredPosture, _ phases: [(Double, AuthoredPosture)], back: Double
  ) -> AuthoredMotion {
    var keys = [AuthoredMotion.Key(0, rest), AuthoredMotion.Key(0.5, rest)]
    var t = 0.5
    for (seconds, posture) in phases {
      t += seconds
      keys.append(.init(t, posture))
    }
    t += back
    keys.append(.init(t, rest))
    keys.append(.init(t + 0.5, rest))
    return AuthoredMotion(keys: keys)
  }

  /// Phases to the left (2 s, a 1 s pause), back to `rest` (2 s), to the right (2 s, a 1 s
  /// pause): one repetition of an exercise done to both sides.
  static func leftThenRight(
    _ rest: AuthoredPosture, _ toward: (Double) -> AuthoredPosture
  ) -> [(Double, AuthoredPosture)] {
    [(2, toward(1)), (1, toward(1)), (2, rest), (2, toward(-1)), (1, toward(-1))]
  }

  /// Phases that move to `top`, hold it for `hold` seconds (a third of it for `.shortHold`).
  static func moveAndHold(
    _ top: AuthoredPosture, move: Double, hold: Double, variant: Variant
  ) -> [(Double, AuthoredPosture)] {
    let held = variant == .shortHold ? hold / 3 : hold
    return held > 0 ? [(move, top), (held, top)] : [(move, top)]
  }

  /// `posture` moved so that the mid-point of `points` lands on `target` (world metres).
  static func anchored(
    _ posture: AuthoredPosture, _ points: [BodyPoint], at target: SIMD3<Double>
  ) -> AuthoredPosture {
    let all = posture.points()
    var mean = SIMD3<Double>.zero
    for point in points { mean += all[point] ?? .zero }
    mean /= Double(max(points.count, 1))
    var moved = posture
    moved.pelvis += target - mean
    return moved
  }

  // MARK: KIMORE standing protocol

  /// KIMORE Ex1: both arms raised forward over the head with straight elbows, and back.
  static let armsOverhead = Exercise(
    id: "lbp-arms-overhead", hold: 0, fault: "arms raised only to shoulder height and a bit",
    faultMeasures: ["leftShoulderFlexion", "rightShoulderFlexion"], position: .standing
  ) { variant in
    let rest = standing()
    var top = rest
    let height = variant == .fault ? 105.0 : 160.0
    top.leftArm = .init(flexion: height, abduction: 4, bend: 3)
    top.rightArm = .init(flexion: height, abduction: 4, bend: 3)
    top.lumbar.flexion = -3
    return repetition(rest, [(2, top), (0.5, top)], back: 2)
  }

  /// KIMORE Ex2: arms overhead, the trunk tilts to the left, back, to the right, back.
  static let lateralTilt = Exercise(
    id: "lbp-lateral-tilt", hold: 0, fault: "bending forward instead of sideways",
    faultMeasures: ["trunkFlexion", "trunk"], position: .standing
  ) { variant in
    var rest = standing()
    rest.leftArm = .init(flexion: 165, abduction: 8, bend: 4)
    rest.rightArm = .init(flexion: 165, abduction: 8, bend: 4)
    func tilted(_ side: Double) -> AuthoredPosture {
      var p = rest
      p.lumbar.lateral = side * 15
      p.thoracic.lateral = side * 5
      if variant == .fault {
        p.lumbar.flexion = 14
        p.thoracic.flexion = 10
      }
      return p
    }
    return repetition(rest, leftThenRight(rest, tilted), back: 2)
  }

  /// KIMORE Ex3: arms forward at shoulder height, the chest turns left and right over still
  /// hips.
  static let trunkRotation = Exercise(
    id: "lbp-trunk-rotation", hold: 0, fault: "the hips turn with the chest",
    faultMeasures: ["pelvis", "trunkRotation"], position: .standing
  ) { variant in
    var rest = standing()
    rest.leftArm = .init(flexion: 90, abduction: 0, bend: 3)
    rest.rightArm = .init(flexion: 90, abduction: 0, bend: 3)
    func turned(_ side: Double) -> AuthoredPosture {
      var p = rest
      p.lumbar.rotation = side * 5
      p.thoracic.rotation = side * 25
      if variant == .fault { p.heading = side * 18 }
      return p
    }
    return repetition(rest, leftThenRight(rest, turned), back: 2)
  }

  /// KIMORE Ex4: hands on the hips, the pelvis draws a horizontal circle under still
  /// shoulders.
  static let pelvisCircles = Exercise(
    id: "lbp-pelvis-circles", hold: 0, fault: "the shoulders sway with the hips",
    faultMeasures: ["trunk", "lumbarFlexion", "shoulders"], position: .standing
  ) { variant in
    var rest = standing()
    func hands(_ p: inout AuthoredPosture) {
      let points = p.points()
      for side in [1.0, -1.0] {
        let hip = points[side > 0 ? .leftHip : .rightHip] ?? .zero
        let reach = AuthoredPosture.Reach(
          target: hip + [side * 0.07, 0.10, 0.0], bend: [side * 1, 0, -1])
        p.setReach(side: side, arm: true, reach)
      }
    }
    hands(&rest)
    let radius = 0.045
    let neckHeight = 0.905 + 0.024 + 0.12 + 0.18 + 0.15
    var keys = [AuthoredMotion.Key(0, rest), AuthoredMotion.Key(0.5, rest)]
    let steps = 16
    let seconds = 4.0
    for k in 1...steps {
      let angle = 2 * Double.pi * Double(k) / Double(steps)
      // Clockwise seen from above, starting and ending at the centre.
      let r = radius * (k == steps ? 0 : min(1, Double(k) / 2))
      let dx = r * sin(angle)
      let dz = r * cos(angle)
      var p = rest
      p.pelvis += [dx, 0, dz]
      if variant != .fault {
        // The trunk leans back over the pelvis so that the neck stays over the feet.
        let lever = neckHeight - p.pelvis.y
        p.lumbar.flexion = -atan2(dz, lever) * 180 / .pi
        p.lumbar.lateral = -atan2(dx, lever) * 180 / .pi
      } else {
        p.pelvis += [dx * 0.3, 0, dz * 0.3]
      }
      hands(&p)
      keys.append(.init(0.5 + seconds * Double(k) / Double(steps), p, linear: k > 1 && k < steps))
    }
    keys.append(.init(0.5 + seconds + 0.5, rest))
    return AuthoredMotion(keys: keys)
  }

  /// KIMORE Ex5: arms forward at shoulder height, knees bent to 60–70°, and up.
  static let squat = Exercise(
    id: "lbp-squat", hold: 0, fault: "too shallow: knees bent only about 30°",
    faultMeasures: ["leftKneeFlexion", "rightKneeFlexion"], position: .standing
  ) { variant in
    var rest = standing()
    rest.leftArm = .init(flexion: 90, abduction: 3, bend: 3)
    rest.rightArm = .init(flexion: 90, abduction: 3, bend: 3)
    var bottom = rest
    let deep = variant != .fault
    bottom.pelvis = deep ? [0, 0.77, -0.08] : [0, 0.865, -0.03]
    bottom.pitch = deep ? 15 : 6
    bottom.lumbar.flexion = 2
    bottom.leftArm.flexion = 90 - bottom.pitch
    bottom.rightArm.flexion = 90 - bottom.pitch
    return repetition(rest, [(2, bottom), (0.5, bottom)], back: 2)
  }

  // MARK: KERAAL stretches (standing)

  /// KERAAL ELK: one arm up and over the head, the trunk leans to the other side; the other
  /// arm hangs along the body.
  static let flankStretch = Exercise(
    id: "lbp-flank-stretch", hold: 2, fault: "no side bend: the arm goes up but the trunk stays",
    faultMeasures: ["trunkLateralFlexion"], position: .standing
  ) { variant in
    let rest = standing()
    var top = rest
    top.rightArm = .init(flexion: 20, abduction: 160, bend: 20)
    top.leftArm = .init(flexion: 3, abduction: 4, bend: 8)
    let lean = variant == .fault ? 3.0 : 20.0
    top.lumbar.lateral = lean * 0.75
    top.thoracic.lateral = lean * 0.25
    return repetition(rest, moveAndHold(top, move: 2, hold: 2, variant: variant), back: 2)
  }

  /// KERAAL RTK: arms out to the sides at shoulder height, the chest turns left and right.
  static let torsoRotation = Exercise(
    id: "lbp-torso-rotation", hold: 0, fault: "arms dropped below shoulder height",
    faultMeasures: ["leftShoulderAbduction", "rightShoulderAbduction"], position: .standing
  ) { variant in
    let rest = standing()
    var open = rest
    let abduction = variant == .fault ? 55.0 : 92.0
    open.leftArm = .init(abduction: abduction, bend: 3)
    open.rightArm = .init(abduction: abduction, bend: 3)
    func turned(_ side: Double) -> AuthoredPosture {
      var p = open
      p.lumbar.rotation = side * 5
      p.thoracic.rotation = side * 25
      return p
    }
    return repetition(
      rest,
      [
        (1, open), (1.5, turned(1)), (1, turned(1)), (1.5, open), (1.5, turned(-1)),
        (1, turned(-1)), (1.5, open),
      ],
      back: 1.2)
  }

  /// KERAAL CTK ("hiding face"): hands in front of the face, then the arms open into goal
  /// posts (elbows at 90°) while breathing in, and close again.
  static let hidingFace = Exercise(
    id: "lbp-hiding-face", hold: 0, fault: "elbows hardly bent when the arms open",
    faultMeasures: ["leftElbowFlexion", "rightElbowFlexion"], position: .standing
  ) { variant in
    let rest = standing()
    var face = rest
    face.leftArm = .init(flexion: 100, abduction: 12, rotation: 0, bend: 125)
    face.rightArm = .init(flexion: 100, abduction: 12, rotation: 0, bend: 125)
    var open = rest
    let elbow = variant == .fault ? 25.0 : 90.0
    open.leftArm = .init(flexion: 8, abduction: 100, rotation: 90, bend: elbow)
    open.rightArm = .init(flexion: 8, abduction: 100, rotation: 90, bend: elbow)
    return repetition(rest, [(1.2, face), (1.5, open), (1, open), (1.5, face)], back: 1.2)
  }

  // MARK: Floor exercises

  /// Posterior pelvic tilt: lying on the back, knees bent, the pelvis tips back so the low
  /// back flattens on the floor; held; released.
  static let pelvicTilt = Exercise(
    id: "lbp-pelvic-tilt", hold: 5, fault: "the buttocks lift off the floor instead",
    faultMeasures: ["trunk", "lumbarFlexion", "lowerBack"], position: .supine
  ) { variant in
    let rest = hookLying()
    var top = rest
    let hips = [BodyPoint.leftHip, .rightHip]
    let centre = (rest.point(.leftHip) + rest.point(.rightHip)) / 2
    if variant == .fault {
      // Pushing through the feet: the pelvis rises as a block, no tilt.
      top.pitch = -90 - 9
      top = anchored(top, [.neck], at: rest.point(.neck))
    } else {
      top.pitch = -90 - 10
      top.lumbar.flexion = rest.lumbar.flexion + 10
      top = anchored(top, hips, at: centre)
    }
    return repetition(rest, moveAndHold(top, move: 2, hold: 5, variant: variant), back: 2)
  }

  /// Glute bridge: from hook lying the hips lift until shoulders, hips and knees are in a
  /// line; held; lowered.
  static let gluteBridge = Exercise(
    id: "lbp-glute-bridge", hold: 5, fault: "hips sag: lifted only a little",
    faultMeasures: ["leftHipFlexion", "rightHipFlexion", "trunk"], position: .supine
  ) { variant in
    let rest = hookLying()
    let shoulders = [BodyPoint.leftShoulder, .rightShoulder]
    let shoulderCentre = (rest.point(.leftShoulder) + rest.point(.rightShoulder)) / 2
    var top = rest
    let lift = variant == .fault ? 10.0 : 27.0
    top.pitch = -90 - lift
    top.lumbar.flexion = 0
    top.thoracic.flexion = 2
    top.headFlexion = lift * 0.8
    top.leftArm.flexion = -6 - lift
    top.rightArm.flexion = -6 - lift
    top = anchored(top, shoulders, at: shoulderCentre)
    return repetition(rest, moveAndHold(top, move: 2, hold: 5, variant: variant), back: 2)
  }

  /// Single knee to chest (right): the knee drawn towards the chest with both hands behind
  /// the thigh; held; lowered. The other foot stays on the floor.
  static let kneeToChest = Exercise(
    id: "lbp-knee-to-chest", hold: 5, fault: "the head lifts off the floor",
    faultMeasures: ["headFlexion"], position: .supine
  ) { variant in
    var rest = hookLying()
    rest.leftArm = .init(flexion: 0, abduction: 20, bend: 25)
    rest.rightArm = .init(flexion: 0, abduction: 20, bend: 25)
    var top = rest
    top.rightLeg = .init(flexion: 112, abduction: 4, bend: 118)
    top.pitch = -90 - 4
    top.lumbar.flexion = rest.lumbar.flexion + 6
    let centre = (rest.point(.leftHip) + rest.point(.rightHip)) / 2
    top = anchored(top, [.leftHip, .rightHip], at: centre)
    if variant == .fault {
      top.headFlexion = 35
      top.thoracic.flexion = 14
    }
    // Hands behind the thigh, a little below the knee.
    var hold = top
    let hip = top.point(.rightHip)
    let knee = top.point(.rightKnee)
    let grip = hip + (knee - hip) * 0.8
    for side in [1.0, -1.0] {
      let reach = AuthoredPosture.Reach(
        target: grip + [side * 0.06 - 0.02, -0.02, 0], bend: [side * 1, 0.8, 0.3])
      hold.setReach(side: side, arm: true, reach)
    }
    return repetition(rest, moveAndHold(hold, move: 2, hold: 5, variant: variant), back: 2)
  }

  /// Knee rolls (lumbar rotation) to the left: knees and feet together, both knees roll
  /// over to one side with the shoulders flat, pause, come back.
  static let kneeRolls = Exercise(
    id: "lbp-knee-rolls", hold: 2, fault: "the knees drop too far, the pelvis rolls right over",
    faultMeasures: ["trunkRotation", "pelvis", "leftThigh", "rightThigh"], position: .supine
  ) { variant in
    var rest = hookLying(feetApart: 0.06)
    rest.leftArm = .init(flexion: -4, abduction: 75, bend: 5)
    rest.rightArm = .init(flexion: -4, abduction: 75, bend: 5)
    let drop = variant == .fault ? 85.0 : 45.0
    var top = rest
    top.roll = drop * 0.7
    top.lumbar.rotation = -drop * 0.7 * 0.2
    top.thoracic.rotation = -drop * 0.7 * 0.8
    let centre = (rest.point(.leftHip) + rest.point(.rightHip)) / 2
    top = anchored(top, [.leftHip, .rightHip], at: centre + [0, 0.01, 0])
    let a = drop * .pi / 180
    for side in [1.0, -1.0] {
      let ankle = rest.point(side > 0 ? .leftAnkle : .rightAnkle)
      let reach = AuthoredPosture.Reach(
        target: ankle + [0.04 * (1 - cos(a)), 0.02 * sin(a), 0], bend: [sin(a), cos(a), 0])
      top.setReach(side: side, arm: false, reach)
    }
    return repetition(rest, moveAndHold(top, move: 3, hold: 2, variant: variant), back: 3)
  }

  /// Cat–camel: on hands and knees, the back rounds up (head and tailbone down), then sags
  /// (head and tailbone up), slowly, no holds.
  static let catCamel = Exercise(
    id: "lbp-cat-camel", hold: 0, fault: "only the head moves; the lower back stays still",
    faultMeasures: ["lumbarFlexion", "lowerBack"], position: .quadruped
  ) { variant in
    let rest = quadruped()
    let hipCentre = (rest.point(.leftHip) + rest.point(.rightHip)) / 2
    func curved(_ amount: Double) -> AuthoredPosture {
      var p = rest
      let back = variant == .fault ? 0.1 : 1.0
      p.pitch = rest.pitch - amount * 10 * back
      p.lumbar.flexion = amount * 16 * back
      p.thoracic.flexion = amount * 12 * back
      p.headFlexion = rest.headFlexion + amount * 30
      p.leftLeg.flexion = rest.leftLeg.flexion
      p.rightLeg.flexion = rest.rightLeg.flexion
      // Thighs stay vertical: the hips flex with the pelvis.
      p.leftLeg.flexion = p.pitch
      p.rightLeg.flexion = p.pitch
      return anchored(p, [.leftHip, .rightHip], at: hipCentre)
    }
    return repetition(
      rest, [(1.5, curved(1)), (0.4, curved(1)), (2.2, curved(-0.8)), (0.4, curved(-0.8))],
      back: 1.5)
  }

  /// Bird-dog (right arm, left leg): on hands and knees, one arm reaches forward and the
  /// opposite leg back until level with the back; held; back. Sides alternate.
  static let birdDog = Exercise(
    id: "lbp-bird-dog", hold: 6, fault: "the trunk twists: the pelvis rolls towards the lifted leg",
    faultMeasures: ["pelvicObliquity", "trunkRotation"], position: .quadruped
  ) { variant in
    let rest = quadruped()
    let hipCentre = (rest.point(.leftHip) + rest.point(.rightHip)) / 2
    var top = rest
    top.rightArm = .init(flexion: 172, abduction: 6, bend: 2)
    top.leftLeg = .init(flexion: rest.pitch - 92, abduction: 2, bend: 3)
    top.leftLeg.distal = 10
    top.headFlexion = rest.headFlexion - 8
    if variant == .fault {
      top.roll = 14
      top.tilt = -10
      top.thoracic.rotation = -8
    }
    top = anchored(top, [.leftHip, .rightHip], at: hipCentre)
    return repetition(rest, moveAndHold(top, move: 2, hold: 6, variant: variant), back: 2)
  }

  /// Prone press-up (McKenzie extension in lying): the arms push the chest up while the
  /// pelvis stays on the floor and the low back relaxes into extension; pause; down slowly.
  static let pressUp = Exercise(
    id: "lbp-press-up", hold: 2, fault: "the hips lift off the floor",
    faultMeasures: ["leftThigh", "rightThigh", "lumbarFlexion"], position: .prone
  ) { variant in
    let rest = proneLying()
    var top = rest
    top.lumbar.flexion = -26
    top.thoracic.flexion = -16
    top.headFlexion = -4
    if variant == .fault {
      // The body rises as a plank from the knees: hips up, little back extension.
      top.lumbar.flexion = -8
      top.thoracic.flexion = -6
      top.pitch = 90 - 18
      top.pelvis = rest.pelvis + [0, 0.12, 0]
      top.leftLeg.flexion = 18 - 2
      top.rightLeg.flexion = 18 - 2
    }
    return repetition(rest, moveAndHold(top, move: 3, hold: 2, variant: variant), back: 3)
  }
}
