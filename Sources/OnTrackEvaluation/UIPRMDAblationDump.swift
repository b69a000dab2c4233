import Foundation
import OnTrackFormats
import OnTrackKinematics
import OnTrackScoring

/// Raw material for studying the scorer on UI-PRMD outside Swift (`Scripts/uiprmd-ablation.py`):
/// for every leave-one-subject-out fold, every measure OnTrack knows, unweighted and
/// unnormalised, of each training correct repetition and each held-out repetition against that
/// fold's reference; and each held-out repetition's body features.
///
/// Layout of `folder`:
/// - `measures.jsonl`: one `Record` per line.
/// - `features/mMM_sSS_eEE_{c,i}.f32`: the repetition's `FeatureSequence` values (little-endian
///   Float32, row-major, `FeatureLayout.width` columns: bone directions, then angles in
///   radians), on the side it was scored on; `.json` beside it: frames, width, mirrored,
///   frame time (seconds), and the bone and angle names of the columns.
struct UIPRMDAblationDump {
  /// One repetition scored in one fold. Angles in degrees.
  struct Record: Codable {
    struct Measure: Codable {
      var error: Double
      var signedError: Double
      var rangeOfMotion: Double
      var referenceRangeOfMotion: Double
      var movement: Double
      var referenceMovement: Double
    }
    var movement: Int
    /// The held-out subject of the fold.
    var fold: Int
    var subject: Int
    var episode: Int
    var correct: Bool
    var mirrored: Bool
    var frames: Int
    var referenceFrames: Int
    var tempoRatio: Double
    var alignmentCost: Double
    /// The score of the fold's real exercise (its measures, weights and tolerances).
    var score: Double
    var measures: [String: Measure]
  }

  struct FeatureHeader: Codable {
    var frames: Int
    var width: Int
    var mirrored: Bool
    var frameTime: Double
    /// The bones whose directions fill the first `3 × bones.count` columns, then the angles
    /// (`FeatureLayout`): a reader takes the columns from here, not from a copy of the lists.
    var bones = FeatureLayout.bones.map(\.rawValue)
    var angles = FeatureLayout.angles.map(\.rawValue)
  }

  let folder: URL
  private let measuresFile: FileHandle

  init(folder: URL) throws {
    self.folder = folder
    let features = folder.appendingPathComponent("features")
    try FileManager.default.createDirectory(at: features, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("measures.jsonl").path
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else {
      throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
    }
    measuresFile = handle
  }

  /// Writes one fold: `repetitions` are the training subjects' correct repetitions and the
  /// held-out subject's repetitions, each scored against `exercise`'s reference with every
  /// measure.
  func writeFold(
    movement: Int, fold: Int, exercise: Exercise,
    repetitions: [UIPRMDEvaluation.Repetition]
  ) throws {
    var probe = exercise
    let all: [BodyMeasure] =
      BodyBone.allCases.map { .bone($0) } + BodyAngle.allCases.map { .angle($0) }
    probe.measures = all.map {
      ScoredMeasure(measure: $0, weight: 1, tolerance: 1, rangeTolerance: 1)
    }
    probe.keepStill = all.map { StillMeasure(measure: $0, tolerance: 1) }
    var probeScorer = RepetitionScorer(exercise: probe)
    var scorer = RepetitionScorer(exercise: exercise)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    var lines = Data()
    for repetition in repetitions where repetition.subject == fold || repetition.correct {
      var features = repetition.features
      let frames = 0..<features.count
      let mirrored = scorer.worksOtherSide(features, frames: frames)
      if mirrored { features = features.mirrored() }
      let measured = probeScorer.score(features, frames: frames, mirrored: mirrored)
      let real = scorer.score(features, frames: frames, mirrored: mirrored)
      var measures: [String: Record.Measure] = [:]
      // The results name the patient's side; the record names the reference's (the features
      // were mirrored onto it). A measure the sensor lost for much of the repetition is left
      // out of the results (`RepetitionScorer`, "unseen"): such a repetition is left out of
      // the dump, which needs every measure (before, it was read by position and the dump
      // stopped at the first one: m03).
      let scored = Dictionary(
        measured.measures.map { ($0.measure, $0) }, uniquingKeysWith: { a, _ in a })
      let still = Dictionary(
        measured.compensations.map { ($0.measure, $0) }, uniquingKeysWith: { a, _ in a })
      for measure in all {
        let name = (mirrored ? measure.mirrored : measure).description
        guard let m = scored[name], let c = still[name] else { break }
        measures[measure.description] = .init(
          error: m.error, signedError: m.signedError, rangeOfMotion: m.rangeOfMotion,
          referenceRangeOfMotion: m.referenceRangeOfMotion, movement: c.movement,
          referenceMovement: c.referenceMovement)
      }
      guard measures.count == all.count else { continue }
      let record = Record(
        movement: movement, fold: fold, subject: repetition.subject, episode: repetition.episode,
        correct: repetition.correct, mirrored: mirrored, frames: features.count,
        referenceFrames: exercise.reference.count, tempoRatio: measured.tempoRatio,
        alignmentCost: measured.alignmentCost, score: real.score, measures: measures)
      lines += try encoder.encode(record) + Data("\n".utf8)
      if repetition.subject == fold {
        try writeFeatures(movement: movement, repetition: repetition, features, mirrored: mirrored)
      }
    }
    try measuresFile.write(contentsOf: lines)
  }

  private func writeFeatures(
    movement: Int, repetition: UIPRMDEvaluation.Repetition, _ features: FeatureSequence,
    mirrored: Bool
  ) throws {
    let base = folder.appendingPathComponent(
      "features/m\(UIPRMDReader.twoDigits(movement))_s\(UIPRMDReader.twoDigits(repetition.subject))_e\(UIPRMDReader.twoDigits(repetition.episode))_\(repetition.correct ? "c" : "i")"
    )
    try features.values.withUnsafeBytes { Data($0) }.write(
      to: base.appendingPathExtension("f32"))
    let header = FeatureHeader(
      frames: features.count, width: features.width, mirrored: mirrored,
      frameTime: features.frameTime)
    try JSONEncoder().encode(header).write(to: base.appendingPathExtension("json"))
  }

  func close() throws {
    try measuresFile.close()
  }
}
