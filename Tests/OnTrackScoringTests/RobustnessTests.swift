import Foundation
import OnTrackEvaluation
import OnTrackScoring
import Testing

/// Metamorphic relations every bundled exercise's score must keep (`RobustnessSuite`: three
/// repetitions of its own reference by a simulated patient, one change at a time).
@Suite("Robustness of the score")
struct RobustnessTests {
  static let ids: [String] = {
    ((try? FileManager.default.contentsOfDirectory(atPath: ScoringData.exercises.path)) ?? [])
      .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }()

  @Test(
    "noise, tempo, mirroring, less range, compensation and posture move the score as they should",
    arguments: ids)
  func relations(id: String) throws {
    let exercise = try ScoringData.exercise(id)
    let row = try RobustnessSuite.run(exercise)
    let n = RobustnessSuite.repetitions
    let perfect = row.perfect.meanScore
    #expect(row.perfect.repetitions == n)
    #expect(perfect >= 95)
    // Sensor noise on a correct performance: a small drop only, the same count.
    for (level, outcome) in row.whiteNoise {
      #expect(outcome.repetitions == n, "white noise \(level)°")
    }
    #expect(try #require(row.whiteNoise[1]).meanScore >= perfect - 5)
    #expect(try #require(row.whiteNoise[2]).meanScore >= perfect - 15)
    #expect(try #require(row.whiteNoise[3]).meanScore >= 80)
    #expect(try #require(row.drift[1]).meanScore >= 80)
    #expect(try #require(row.drift[1]).repetitions == n)
    #expect(try #require(row.jitter[1]).meanScore >= 70)
    #expect(try #require(row.jitter[1]).repetitions == n)
    #expect(try #require(row.jitter[3]).meanScore >= 40)
    // Tempo from 0.4× to 2.5×: one repetition per repetition, a bounded effect on the score.
    for (tempo, outcome) in row.tempo {
      #expect(outcome.repetitions == n, "tempo \(tempo)×")
      #expect(outcome.meanScore >= 80, "tempo \(tempo)×")
    }
    // The other side: the same score.
    #expect(row.mirrored.repetitions == n)
    #expect(abs(row.mirrored.meanScore - perfect) <= 6)
    // Less range: lower, monotonically.
    let ranges = [perfect] + RobustnessSuite.ranges.compactMap { row.range[$0]?.meanScore }
    #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0 > $1 }, "range scores \(ranges)")
    // A compensation growing with the movement: lower, monotonically, and low when large.
    let leans = [perfect] + RobustnessSuite.leans.compactMap { row.compensation[$0]?.meanScore }
    #expect(zip(leans, leans.dropFirst()).allSatisfy { $0 > $1 }, "lean scores \(leans)")
    #expect(try #require(row.compensation[20]).meanScore <= 50)
    // A posture held wrong all along (the trunk bent 25°) is caught where posture is checked.
    if !exercise.postures.isEmpty {
      #expect(row.stooped.meanScore < 50, "stooped \(row.stooped)")
    }
  }
}
