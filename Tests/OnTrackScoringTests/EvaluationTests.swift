import Foundation
import OnTrackEvaluation
import OnTrackFormats
import OnTrackScoring
import Testing

/// Guards the validity numbers published in README and BENCHMARKS.md.
@Suite("UI-PRMD evaluation")
struct EvaluationTests {
  struct Committed: Decodable {
    var auc: [String: Double]
    var viconMeanAbsoluteDeviation: Double
    /// Incorrect repetitions counted in each movement's joined takes (of 100).
    var joinedIncorrect: [String: Int]
  }

  /// The numbers published in README (`Fixtures/uiprmd-committed.json`).
  static func committed() throws -> Committed {
    try JSONDecoder().decode(
      Committed.self,
      from: Data(contentsOf: ScoringData.fixtures.appendingPathComponent("uiprmd-committed.json")))
  }

  @Test("no movement's leave-one-subject-out AUC drops more than 0.02 below the committed numbers")
  func aucHolds() throws {
    let committed = try Self.committed()
    let report = try UIPRMDEvaluation.run(
      dataset: ScoringData.uiprmd, exercises: ScoringData.exercises)
    #expect(report.movements.count == 10)
    for movement in report.movements {
      let floor = try #require(committed.auc["\(movement.movement)"]) - 0.02
      #expect(
        movement.auc >= floor,
        "m\(movement.movement) \(movement.name): AUC \(movement.auc) < \(floor)")
      #expect(movement.correctCount == 100 && movement.incorrectCount == 100)
      #expect(movement.meanScoreCorrect > movement.meanScoreIncorrect)
      // One scale: a typical correct repetition scores 80 or more, a typical incorrect one 50
      // or less, on every movement.
      #expect(movement.medianScoreCorrect >= 80, "m\(movement.movement) median correct")
      #expect(movement.medianScoreIncorrect <= 50, "m\(movement.movement) median incorrect")
      // A single repetition cut out alone is found as one, whatever the frame it ends on.
      #expect(
        movement.singleCounted >= 197, "m\(movement.movement) singles \(movement.singleCounted)")
      #expect(movement.singleStable >= 180)
      // The correct repetitions of the joined takes counted within 3 of 100 and none extra
      // (the loose matches, 2026-12-05, raised the inline lunge from 92 to 98).
      #expect(
        movement.countedCorrect >= 97 && movement.countedCorrect <= 102,
        "m\(movement.movement) correct counted \(movement.countedCorrect)")
      // Every incorrect repetition counted, none extra: no fewer than published, none more.
      let joined = try #require(committed.joinedIncorrect["\(movement.movement)"])
      #expect(
        movement.countedIncorrect >= joined - 2 && movement.countedIncorrect <= 100,
        "m\(movement.movement) incorrect counted \(movement.countedIncorrect)")
    }
    let vicon = try #require(report.vicon)
    #expect(vicon.repetitions == 180)
    #expect(vicon.meanAbsoluteDeviation <= committed.viconMeanAbsoluteDeviation + 0.01)
  }

  /// The same protocol with 2° of white joint-angle noise on every repetition (references,
  /// tolerances and scored takes): the AUC falls by at most 0.03 on every movement (measured
  /// ≤ 0.022; README, "Validation on UI-PRMD").
  @Test("2° of joint noise on every take costs at most 0.03 AUC on every movement")
  func aucUnderJointNoise() throws {
    let committed = try Self.committed()
    let report = try UIPRMDEvaluation.run(
      dataset: ScoringData.uiprmd, exercises: ScoringData.exercises, vicon: false, noise: 2)
    #expect(report.movements.count == 10)
    for movement in report.movements {
      let clean = try #require(committed.auc["\(movement.movement)"])
      // To the third decimal, as published.
      let drop = clean - (movement.auc * 1000).rounded() / 1000
      #expect(
        drop <= 0.03 + 1e-9, "m\(movement.movement) \(movement.name): \(clean) → \(movement.auc)")
    }
  }

  @Test("the ablation dump holds every fold's repetitions, scores and features as evaluated")
  func ablationDump() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-dump-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = try UIPRMDEvaluation.run(
      dataset: ScoringData.uiprmd, exercises: ScoringData.exercises, movements: [7],
      vicon: false, dump: folder)
    struct Record: Decodable {
      var fold: Int
      var subject: Int
      var correct: Bool
      var score: Double
      var frames: Int
      var measures: [String: [String: Double]]
    }
    let lines = try String(
      contentsOf: folder.appendingPathComponent("measures.jsonl"), encoding: .utf8
    ).split(separator: "\n")
    let records = try lines.map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    // Per fold: the nine other subjects' 90 correct repetitions and the held-out subject's 20.
    #expect(records.count == 10 * 110)
    let heldOut = records.filter { $0.subject == $0.fold }
    #expect(heldOut.count == 200)
    #expect(
      records.allSatisfy {
        $0.measures.count == BodyBone.allCases.count + BodyAngle.allCases.count
          && $0.measures["trunk"]?.count == 6
      })
    // The dumped scores are the evaluated ones.
    let auc = rocAUC(
      positives: heldOut.filter(\.correct).map(\.score),
      negatives: heldOut.filter { !$0.correct }.map(\.score))
    #expect(abs(auc - report.movements[0].auc) < 1e-12)
    // Features: one file per held-out repetition, frames × width Float32.
    let features = folder.appendingPathComponent("features")
    let files = try FileManager.default.contentsOfDirectory(atPath: features.path)
    #expect(files.filter { $0.hasSuffix(".f32") }.count == 200)
    let first = try #require(heldOut.first)
    let bytes = try Data(
      contentsOf: features.appendingPathComponent(
        "m07_s\(UIPRMDReader.twoDigits(first.subject))_e01_c.f32"))
    #expect(bytes.count == first.frames * FeatureLayout.width * 4)
    // Its header names the columns' bones and angles (a reader takes them from there).
    struct Header: Decodable {
      var width: Int
      var bones: [String]
      var angles: [String]
    }
    let header = try JSONDecoder().decode(
      Header.self,
      from: Data(
        contentsOf: features.appendingPathComponent(
          "m07_s\(UIPRMDReader.twoDigits(first.subject))_e01_c.json")))
    #expect(header.width == FeatureLayout.width)
    #expect(header.bones == FeatureLayout.bones.map(\.rawValue))
    #expect(header.angles == FeatureLayout.angles.map(\.rawValue))
  }

  /// The inline lunge has repetitions in which the Kinect lost a measure's joints for much of
  /// the repetition, so the scorer leaves that measure out. The dump read the measures by
  /// position and crashed on the first such repetition. Now that repetition is left out and
  /// the rest are written.
  @Test("the ablation dump leaves out a repetition with a measure the sensor lost")
  func ablationDumpLostMeasure() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-dump-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    _ = try UIPRMDEvaluation.run(
      dataset: ScoringData.uiprmd, exercises: ScoringData.exercises, movements: [3],
      vicon: false, dump: folder)
    struct Record: Decodable {
      var subject: Int
      var fold: Int
      var measures: [String: [String: Double]]
    }
    let records = try String(
      contentsOf: folder.appendingPathComponent("measures.jsonl"), encoding: .utf8
    ).split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
    #expect(records.count > 1_000 && records.count < 10 * 110, "\(records.count)")
    #expect(
      records.allSatisfy { $0.measures.count == BodyBone.allCases.count + BodyAngle.allCases.count }
    )
  }

  @Test("ROC AUC: perfect, reversed, chance and ties")
  func auc() {
    #expect(rocAUC(positives: [3, 4], negatives: [1, 2]) == 1)
    #expect(rocAUC(positives: [1, 2], negatives: [3, 4]) == 0)
    #expect(rocAUC(positives: [1, 3], negatives: [2, 2]) == 0.5)
    #expect(rocAUC(positives: [2], negatives: [2]) == 0.5)
    #expect(rocAUC(positives: [], negatives: [1]).isNaN)
  }
}
