import Foundation
import OnTrackKinematics
import OnTrackScoring
import OnTrackSimulation

/// What a score must withstand, measured on an exercise's own reference performed by a
/// simulated patient (`PatientSimulator`): three repetitions with rests, perfect, then with one
/// thing changed at a time.
///
/// - sensor noise on a correct performance: white joint-angle noise, low-frequency joint-angle
///   noise (correlation time 0.25 s), landmark jitter (each 1–3° or 1–3 cm) — the score should
///   drop only a little; 1 cm of jitter from a sensor slower than the reference (15 and 10
///   frames a second, a webcam on a slow machine) — about as little; landmarks that wander
///   smoothly, 0.5 and 1 cm with a correlation time of 0.3 s (`addWander`: a camera's
///   landmarks, which a pose model smooths over frames) — the same count (not yet the pelvis
///   circles at 1 cm, whose 4.5 cm circle the wander splits);
/// - tempo from 0.4× to 2.5× the reference's duration — the same count of repetitions;
/// - the other side (mirrored) — the same score;
/// - a wait of `waitSeconds` standing still before each repetition, on the reference's side and
///   on the other — the same count and score (the side is judged on the movement, not on the
///   wait); the same wait seen through 1 cm of landmark jitter — the same count (a rest in
///   front of a jittery camera holds no repetition);
/// - range shrunk to 80, 60, 40 % — the score should fall, monotonically;
/// - a trunk-lean compensation growing with the movement, 5–20° — the score should fall;
/// - a tilted camera: every landmark turned by 15° of pitch and 5° of roll (`cameraTilts`, a
///   webcam looking down or up at the patient), seen through 1 cm of jitter — the same count
///   and about the score of 1 cm of jitter alone (`SensorLevelling`); a camera on its side
///   (rolled 90°), for an exercise whose reference stands — the same;
/// - another sensor's joint centres (`moveJointCentres`): the hips, shoulders and knees put
///   where another sensor or marker model puts them, a few centimetres from the reference's —
///   the same count and a small drop only.
///
/// `ontrack eval robustness` prints the table; `RobustnessTests` holds it to the relations.
public enum RobustnessSuite {
  /// One performance: repetitions found and their mean score.
  public struct Outcome: Codable, Sendable, Equatable {
    public var repetitions: Int
    public var meanScore: Double
  }

  /// Every perturbation of one exercise, by its size.
  public struct Row: Codable, Sendable {
    public var exercise: String
    public var perfect: Outcome
    /// Degrees of white joint noise → outcome.
    public var whiteNoise: [Double: Outcome]
    /// Degrees of slow drift → outcome.
    public var drift: [Double: Outcome]
    /// Centimetres of landmark jitter → outcome.
    public var jitter: [Double: Outcome]
    /// Frames a second of a sensor with 1 cm of jitter, slower than the reference → outcome.
    public var slowSensor: [Double: Outcome]
    /// Centimetres of smoothly wandering landmarks (`wanderSeconds`) → outcome.
    public var wander: [Double: Outcome] = [:]
    /// Duration ratio → outcome.
    public var tempo: [Double: Outcome]
    public var mirrored: Outcome
    /// `waitSeconds` of standing still before each repetition.
    public var wait: Outcome
    /// The same wait, on the other side.
    public var waitOtherSide: Outcome
    /// The same wait, with 1 cm of landmark jitter.
    public var waitJittered: Outcome
    /// Share of the range reached → outcome.
    public var range: [Double: Outcome]
    /// Degrees of trunk lean at the height of the movement → outcome.
    public var compensation: [Double: Outcome]
    /// The trunk bent 25° forward through the whole performance (a posture fault).
    public var stooped: Outcome
    /// Per `cameraTilts` entry (by its pitch): the landmarks seen by a tilted camera, with
    /// 1 cm of jitter.
    public var cameraTilt: [Double: Outcome] = [:]
    /// The landmarks seen by a camera on its side (rolled 90° about its line of sight), with
    /// 1 cm of jitter; `nil` for an exercise whose reference does not stand
    /// (`SensorLevelling.referenceStands`: a patient lying down is not told from a camera on
    /// its side).
    public var cameraOnItsSide: Outcome?
    /// The joint centres put where another sensor puts them (`moveJointCentres`).
    public var jointCentres: Outcome?
  }

  public static let noiseLevels = [1.0, 2.0, 3.0]
  /// Frames a second of the slow sensors (`slowSensor`).
  public static let slowRates = [15.0, 10.0]
  public static let tempi = [0.4, 0.6, 1.5, 2.0, 2.5]
  public static let ranges = [0.8, 0.6, 0.4]
  public static let leans = [5.0, 10.0, 20.0]
  /// Camera tilts, degrees: pitch (about the left–right axis; positive looks down at the
  /// patient) and roll (about the forward axis).
  public static let cameraTilts: [(pitch: Double, roll: Double)] = [(15, 5), (-15, -5)]
  public static let repetitions = 3
  /// Seconds the patient waits, still, before each repetition (`wait`): several reference
  /// lengths, within what a live stream holds before it must decide the side
  /// (`RepetitionFinding.bufferFrames`).
  public static let waitSeconds = 8.0
  /// Correlation time of the low-frequency noise, seconds: slower than white noise, still
  /// faster than a repetition.
  public static let driftSeconds = 0.25
  /// Centimetres of landmark wander (`addWander`).
  public static let wanderLevels = [0.5, 1.0]
  /// Correlation time of the landmark wander, seconds.
  public static let wanderSeconds = 0.3

  /// Runs every perturbation on `exercise`.
  public static func run(_ exercise: Exercise, seed: UInt64 = 11) throws -> Row {
    guard let reference = exercise.referenceClip else {
      throw ExerciseError(file: exercise.id, reason: "no reference clip to perform")
    }
    let scorer = TakeScorer(exercise: exercise)
    var waiting = PatientSimulator.Variation()
    waiting.restSeconds = waitSeconds
    func perform(_ change: (inout PatientSimulator.Variation) -> Void) throws -> Outcome {
      var variation = PatientSimulator.Variation()
      change(&variation)
      var simulator = PatientSimulator(
        reference: reference, variation: variation, frameRate: 1 / reference.frameTime,
        seed: seed)
      let result = try scorer.score(try simulator.take(repetitions: repetitions))
      return outcome(result)
    }
    var row = Row(
      exercise: exercise.id, perfect: try perform { _ in }, whiteNoise: [:], drift: [:],
      jitter: [:], slowSensor: [:], tempo: [:], mirrored: try perform { $0.otherSide = true },
      wait: try perform { $0.restSeconds = waitSeconds },
      waitOtherSide: try perform {
        $0.restSeconds = waitSeconds
        $0.otherSide = true
      },
      waitJittered: try jittered(
        exercise, reference, centimetres: 1, seed: seed, variation: waiting),
      range: [:],
      compensation: [:], stooped: try perform { $0.stoopDegrees = 25 })
    for level in noiseLevels {
      row.whiteNoise[level] = try perform { $0.noiseDegrees = Float(level) }
      row.drift[level] = try perform {
        $0.driftDegrees = Float(level)
        $0.driftSeconds = driftSeconds
      }
      row.jitter[level] = try jittered(exercise, reference, centimetres: level, seed: seed)
    }
    for rate in slowRates {
      row.slowSensor[rate] = try jittered(
        exercise, reference, centimetres: 1, rate: rate, seed: seed)
    }
    for level in wanderLevels {
      row.wander[level] = try jittered(
        exercise, reference, centimetres: 0, seed: seed, wanderCentimetres: level)
    }
    for tempo in tempi { row.tempo[tempo] = try perform { $0.tempo = tempo } }
    for range in ranges { row.range[range] = try perform { $0.range = Float(range) } }
    for lean in leans { row.compensation[lean] = try perform { $0.trunkLeanDegrees = Float(lean) } }
    for tilt in cameraTilts {
      let degrees = Float.pi / 180
      let turn =
        Quaternion(angle: Float(tilt.roll) * degrees, axis: SIMD3(0, 0, 1))
        * Quaternion(angle: Float(tilt.pitch) * degrees, axis: SIMD3(1, 0, 0))
      row.cameraTilt[tilt.pitch] = try jittered(
        exercise, reference, centimetres: 1, seed: seed, turn: turn)
    }
    if exercise.levelling?.referenceStands == true {
      row.cameraOnItsSide = try jittered(
        exercise, reference, centimetres: 1, seed: seed,
        turn: Quaternion(angle: .pi / 2, axis: SIMD3(0, 0, 1)))
    }
    row.jointCentres = try jittered(
      exercise, reference, centimetres: 0, seed: seed, movingJointCentres: true)
    return row
  }

  /// A performance (perfect unless `variation` says otherwise) whose landmark positions carry
  /// white noise of `centimetres` per axis, as a camera or depth sensor gives them; seen
  /// `rate` times a second if given (the take's frames nearest each sample time), else at the
  /// reference's rate.
  static func jittered(
    _ exercise: Exercise, _ reference: Clip, centimetres: Double, rate: Double? = nil,
    seed: UInt64, variation: PatientSimulator.Variation = .init(), turn: Quaternion? = nil,
    movingJointCentres: Bool = false, wanderCentimetres: Double = 0
  ) throws -> Outcome {
    var simulator = PatientSimulator(
      reference: reference, variation: variation, frameRate: 1 / reference.frameTime, seed: seed)
    let take = try simulator.take(repetitions: repetitions)
    let body = try BodyModel(skeleton: take.skeleton)
    var landmarks = ClipFeatures.landmarks(of: take, body: body)
    var times = (0..<take.frameCount).map { Double($0) * take.frameTime }
    if let rate {
      let duration = Double(take.frameCount - 1) * take.frameTime
      let kept = stride(from: 0.0, through: duration, by: 1 / rate).map {
        min(take.frameCount - 1, Int(($0 / take.frameTime).rounded()))
      }
      landmarks = kept.map { landmarks[$0] }
      times = kept.map { times[$0] }
    }
    if let turn {
      for f in landmarks.indices {
        for k in landmarks[f].positions.indices {
          landmarks[f].positions[k] = turn.act(on: landmarks[f].positions[k])
        }
      }
    }
    if movingJointCentres { moveJointCentres(&landmarks) }
    addJitter(to: &landmarks, metres: Float(centimetres / 100), seed: seed &+ 101)
    if wanderCentimetres > 0 {
      addWander(
        to: &landmarks, times: times, metres: Float(wanderCentimetres / 100),
        correlationSeconds: wanderSeconds, seed: seed &+ 103)
    }
    return outcome(TakeScorer(exercise: exercise).score(landmarks: landmarks, times: times))
  }

  /// Adds white noise of `metres` per axis to every landmark of every frame, as a camera or
  /// depth sensor jitters them. Deterministic for a `seed`.
  public static func addJitter(to landmarks: inout [LandmarkFrame], metres: Float, seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    for f in landmarks.indices {
      for k in landmarks[f].positions.indices {
        landmarks[f].positions[k] +=
          SIMD3(Float(rng.gaussian()), Float(rng.gaussian()), Float(rng.gaussian())) * metres
      }
    }
  }

  /// Adds noise of `metres` per axis that wanders smoothly, as a camera's landmarks do (a
  /// first-order autoregressive process with correlation time `correlationSeconds`,
  /// independent per landmark and axis, stationary from the first frame), to landmark frames
  /// taken at `times`. Deterministic for a `seed`.
  public static func addWander(
    to landmarks: inout [LandmarkFrame], times: [Double], metres: Float,
    correlationSeconds: Double, seed: UInt64
  ) {
    var rng = SplitMix64(seed: seed)
    func draw() -> SIMD3<Float> {
      SIMD3(Float(rng.gaussian()), Float(rng.gaussian()), Float(rng.gaussian()))
    }
    guard let first = landmarks.first else { return }
    var state = first.positions.map { _ in draw() * metres }
    for f in landmarks.indices {
      let step = f > 0 && f < times.count ? max(0, times[f] - times[f - 1]) : 0
      let a = Float(exp(-step / max(correlationSeconds, 1e-6)))
      let innovation = metres * (1 - a * a).squareRoot()
      for k in landmarks[f].positions.indices where k < state.count {
        if f > 0 { state[k] = state[k] * a + draw() * innovation }
        landmarks[f].positions[k] += state[k]
      }
    }
  }

  /// Puts the joint centres where another sensor puts them, frame by frame and fixed in their
  /// own segment's axes, as a sensor's model of the body is: the hip centres 5 cm further up
  /// the pelvis (towards the lumbar spine) and 2 cm further apart (where a marker model's
  /// regression and a depth camera's skeleton differ), the lumbar spine 3 cm further back (a
  /// skin marker against a vertebra), the shoulder centres 3 cm further in, each knee centre
  /// 3 cm towards its hip–ankle line (at most to it).
  public static func moveJointCentres(_ landmarks: inout [LandmarkFrame]) {
    func unit(_ v: SIMD3<Float>) -> SIMD3<Float> {
      let n = length(v)
      return n > 1e-6 ? v / n : .zero
    }
    for f in landmarks.indices {
      var frame = landmarks[f]
      let pelvis = (frame[.leftHip] + frame[.rightHip]) * 0.5
      let hips = unit(frame[.leftHip] - frame[.rightHip])
      let spine = frame[.spine] - pelvis
      let up = unit(spine - hips * dot(spine, hips))
      let shoulders = unit(frame[.leftShoulder] - frame[.rightShoulder])
      frame[.leftHip] += up * 0.05 + hips * 0.02
      frame[.rightHip] += up * 0.05 - hips * 0.02
      frame[.spine] -= unit(cross(hips, up)) * 0.03
      frame[.leftShoulder] -= shoulders * 0.03
      frame[.rightShoulder] += shoulders * 0.03
      for (knee, hip, ankle) in [
        (BodyLandmark.leftKnee, BodyLandmark.leftHip, BodyLandmark.leftAnkle),
        (.rightKnee, .rightHip, .rightAnkle),
      ] {
        let line = (landmarks[f][hip] + frame[ankle]) * 0.5 - frame[knee]
        frame[knee] += unit(line) * min(0.03, length(line))
      }
      landmarks[f] = frame
    }
  }

  static func outcome(_ result: TakeResult) -> Outcome {
    Outcome(repetitions: result.repetitions.count, meanScore: result.summary.meanScore ?? 0)
  }

  /// The table as Markdown: one row per exercise, the mean score (and, where it differs from
  /// three, the repetitions found) of each perturbation.
  /// Each column of the tables once: its heading, where its outcome is in a row, and whether
  /// the change keeps every repetition (so the count must stay three).
  static let columns: [(heading: String, outcome: @Sendable (Row) -> Outcome?, keepsCount: Bool)] =
    {
      var columns: [(String, @Sendable (Row) -> Outcome?, Bool)] = [
        ("perfect", { $0.perfect }, true)
      ]
      columns += noiseLevels.map { l in ("noise \(Int(l))°", { $0.whiteNoise[l] }, true) }
      columns += noiseLevels.map { l in ("drift \(Int(l))°", { $0.drift[l] }, true) }
      columns += noiseLevels.map { l in ("jitter \(Int(l)) cm", { $0.jitter[l] }, true) }
      columns += slowRates.map { r in ("1 cm at \(Int(r)) Hz", { $0.slowSensor[r] }, true) }
      columns += wanderLevels.map { l in ("wander \(l) cm", { $0.wander[l] }, true) }
      columns += tempi.map { t in ("tempo \(t)×", { $0.tempo[t] }, true) }
      columns.append(("mirrored", { $0.mirrored }, true))
      columns.append(("wait \(Int(waitSeconds)) s", { $0.wait }, true))
      columns.append(("wait, other side", { $0.waitOtherSide }, true))
      columns.append(("wait, 1 cm", { $0.waitJittered }, true))
      columns += ranges.map { r in ("range \(Int(r * 100)) %", { $0.range[r] }, r >= 0.8) }
      columns += leans.map { l in ("lean \(Int(l))°", { $0.compensation[l] }, false) }
      columns.append(("stooped 25°", { $0.stooped }, false))
      columns += cameraTilts.map { t in
        (
          "camera \(Int(abs(t.pitch)))° \(t.pitch > 0 ? "down" : "up"), 1 cm",
          { $0.cameraTilt[t.pitch] }, true
        )
      }
      columns.append(("camera on its side, 1 cm", { $0.cameraOnItsSide }, true))
      columns.append(("other joint centres", { $0.jointCentres }, true))
      return columns
    }()

  /// The counting table over several simulated patients (`run` with seeds 1…n): per exercise
  /// and per change that keeps every repetition, how many of the n takes were counted wrong
  /// (blank: none); the last row sums each column.
  public static func countingMarkdown(_ rowsBySeed: [[Row]]) -> String {
    let counted = columns.filter(\.keepsCount)
    var lines = [
      "| exercise |" + counted.map { " \($0.heading) |" }.joined(),
      "|---|" + String(repeating: "---:|", count: counted.count),
    ]
    guard let first = rowsBySeed.first else { return lines.joined(separator: "\n") + "\n" }
    var totals = [Int](repeating: 0, count: counted.count)
    for k in first.indices {
      var cells: [String] = []
      for (c, column) in counted.enumerated() {
        let wrong = rowsBySeed.filter { rows in
          k < rows.count && column.outcome(rows[k]).map { $0.repetitions != repetitions } == true
        }.count
        totals[c] += wrong
        cells.append(wrong == 0 ? "" : "\(wrong)")
      }
      lines.append("| \(first[k].exercise) |" + cells.map { " \($0) |" }.joined())
    }
    lines.append(
      "| **all (of \(first.count * rowsBySeed.count))** |" + totals.map { " \($0) |" }.joined())
    return lines.joined(separator: "\n") + "\n"
  }

  public static func markdown(_ rows: [Row]) -> String {
    func cell(_ o: Outcome?) -> String {
      guard let o else { return "–" }
      let score = String(format: "%.0f", o.meanScore)
      return o.repetitions == repetitions ? score : "\(score) (\(o.repetitions))"
    }
    var lines = [
      "| exercise |" + columns.map { " \($0.heading) |" }.joined(),
      "|---|" + String(repeating: "---:|", count: columns.count),
    ]
    for row in rows {
      lines.append(
        "| \(row.exercise) |" + columns.map { " \(cell($0.outcome(row))) |" }.joined())
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
