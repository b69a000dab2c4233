import Foundation
import OnTrackScoring
import Testing

/// Guards the validity numbers published in README and BENCHMARKS.md.
@Suite("UI-PRMD evaluation")
struct EvaluationTests {
  struct Committed: Decodable {
    var auc: [String: Double]
    var viconMeanAbsoluteDeviation: Double
  }

  @Test("no movement's leave-one-subject-out AUC drops more than 0.02 below the committed numbers")
  func aucHolds() throws {
    let committed = try JSONDecoder().decode(
      Committed.self,
      from: Data(contentsOf: ScoringData.fixtures.appendingPathComponent("uiprmd-committed.json")))
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
    }
    let vicon = try #require(report.vicon)
    #expect(vicon.repetitions == 180)
    #expect(vicon.meanAbsoluteDeviation <= committed.viconMeanAbsoluteDeviation + 0.01)
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
