import Foundation
import OnTrackKinematics
import OnTrackSimulation

/// Goes through a `DayFlow` with a simulated patient, as fast as the machine allows (the
/// stage clocks run on the frames' time, not the wall's): the headless `ontrack session`, and
/// the tests of the programme loop.
public struct SimulatedDay {
  public var variation: PatientSimulator.Variation
  /// Frames a second of the simulated sensor.
  public var rate: Double
  public var painBefore: Int?
  public var painAfter: Int?
  public var seed: UInt64

  public init(
    variation: PatientSimulator.Variation, rate: Double = 30, painBefore: Int?, painAfter: Int?,
    seed: UInt64 = 1
  ) {
    self.variation = variation
    self.rate = rate
    self.painBefore = painBefore
    self.painAfter = painAfter
    self.seed = seed
  }

  /// Runs `flow` to its summary; `afterSet` is called when each set has been filed (an upload
  /// attempt, a log line).
  public func run(_ flow: DayFlow, afterSet: (DayFlow.SetSummary) async -> Void = { _ in })
    async throws
  {
    let step = 1 / max(rate, 1)
    var simulator: PatientSimulator?
    var pose = Pose(rotations: [], translations: [])
    var filed = flow.sets.count
    var guardSteps = 0
    while !flow.isFinished {
      guardSteps += 1
      // A day of a hundred sets at 60 Hz stays far below this; a stuck flow does not.
      guard guardSteps < 50_000_000 else { throw Stuck(stage: "\(flow.stage)") }
      switch flow.stage {
      case .painBefore:
        if let painBefore { try flow.enterPain(painBefore) } else { try flow.skipPain() }
      case .painAfter:
        if let painAfter { try flow.enterPain(painAfter) } else { try flow.skipPain() }
      case .exercising(let item, let set):
        if simulator == nil {
          let exercise = flow.plan[item].exercise
          guard let reference = exercise.referenceClip else {
            try flow.endSet()
            continue
          }
          simulator = PatientSimulator(
            reference: reference, variation: variation.alternating(exercise.alternates),
            frameRate: rate,
            seed: seed &+ UInt64(item * 100 + set))
          pose = reference.skeleton.restPose
        }
        if var running = simulator {
          let (time, dropped) = running.nextFrame(into: &pose)
          simulator = running
          if !dropped { try flow.take(pose: pose, at: time) }
        }
        try flow.advance(by: step)
      default:
        simulator = nil
        try flow.advance(by: step)
      }
      if case .exercising = flow.stage {
      } else {
        simulator = nil
      }
      if flow.sets.count > filed {
        filed = flow.sets.count
        if let last = flow.sets.last { await afterSet(last) }
      }
    }
  }

  struct Stuck: Error, CustomStringConvertible {
    var stage: String
    var description: String { "the day did not move on from \(stage)" }
  }
}
