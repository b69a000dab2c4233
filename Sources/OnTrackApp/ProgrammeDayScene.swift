import Foundation
import OnTrackKinematics
import OnTrackProgramme
import OnTrackScoring
import OnTrackSimulation

/// What the app shows of a `DayFlow`, without a window: the avatar scene for the stage (the
/// guide's repetition while demonstrating, the patient during a set, held still behind rests
/// and summaries) and the panel over it (the pain question, the rest's countdown, a set's or
/// the day's summary). `ProgrammeDayWindow` draws it on screen; a headless run draws it to
/// images (`ontrack session --headless --stills`).
public final class ProgrammeDayScene {
  public let flow: DayFlow
  private let patient: Patient

  /// Who does the sets.
  public enum Patient {
    /// A simulated patient performing each exercise's reference.
    case simulated(PatientSimulator.Variation)
    /// A live source (a camera) kept running for the whole day; its poses are on its own
    /// skeleton, which the day records and uploads with each set. Between sets its frames are
    /// read and dropped, so a rest is not counted into the next set.
    case live(any PatientSource)
  }
  public private(set) var session: PlaySession?
  private var sessionStage: DayFlow.Stage?
  /// The digits of the pain rating typed so far.
  public private(set) var painDigits = ""
  private var setCounter = 0

  public init(flow: DayFlow, patient: Patient) {
    self.flow = flow
    self.patient = patient
    if case .live(let source) = patient { flow.patientSkeleton = source.skeleton }
  }

  /// A day done by a simulated patient.
  public convenience init(flow: DayFlow, simulating variation: PatientSimulator.Variation) {
    self.init(flow: flow, patient: .simulated(variation))
  }

  /// Moves the day and its scene on by `seconds` of display time.
  public func advance(by seconds: Double) throws {
    try flow.advance(by: seconds)
    try prepareSession()
    guard let session else { return }
    switch flow.stage {
    case .exercising, .demonstrate: session.advance(by: seconds)
    default: break
    }
    if case .live(let source) = patient {
      if case .exercising = flow.stage {
      } else {
        // Frames between sets are not the set's.
        var shown = source.skeleton.restPose
        _ = source.advance(to: .infinity, shown: &shown) { _, _, _ in }
      }
    }
  }

  /// A digit of the pain rating (two at most: "1" then "0" is ten).
  public func type(digit: Int) {
    guard (0...9).contains(digit) else { return }
    painDigits = String((painDigits + String(digit)).suffix(2))
    if let value = Int(painDigits), value > 10 { painDigits = String(digit) }
  }

  /// Enters the rating typed (none typed: skips the question).
  public func confirmPain() throws {
    if let value = Int(painDigits) { try flow.enterPain(value) } else { try flow.skipPain() }
    painDigits = ""
  }

  /// The scene for the stage: the guide's repetition shown twice over while demonstrating,
  /// the patient during a set; kept still behind the rests and summaries.
  private func prepareSession() throws {
    guard let item = flow.currentItem ?? (flow.plan.isEmpty ? nil : 0) else { return }
    let exercise = flow.plan[item].exercise
    guard let reference = exercise.referenceClip else { return }
    switch flow.stage {
    case .demonstrate where sessionStage != flow.stage:
      session = try PlaySession(exercise: exercise, source: RecordingSource(reference))
      sessionStage = flow.stage
    case .exercising where sessionStage != flow.stage:
      setCounter += 1
      let inner: any PatientSource =
        switch patient {
        case .simulated(let variation):
          SimulatedPatientSource(
            reference: reference, variation: variation.alternating(exercise.alternates),
            seed: UInt64(setCounter))
        case .live(let source): source
        }
      let source = ForwardingSource(inner) { [flow] pose, time in
        try? flow.take(pose: pose, at: time)
      }
      session = try PlaySession(exercise: exercise, source: source)
      sessionStage = flow.stage
    case _ where session == nil:
      session = try PlaySession(exercise: exercise, source: RecordingSource(reference))
      sessionStage = flow.stage
    default: break
    }
  }

  /// What the voice says as `stage` begins (nothing for a set summary: it is read on screen).
  public func announcement(_ stage: DayFlow.Stage) -> String? {
    switch stage {
    case .painBefore: return "How much pain do you have now, from zero to ten?"
    case .demonstrate(let i):
      let definition = flow.plan[i].exercise.definition
      return "\(definition.name). Watch the guide once. \(definition.description ?? "")"
    case .exercising(let i, let set): return "Set \(set + 1) of \(flow.plan[i].item.sets). Go."
    case .rest(let i, _): return "Rest for \(Int(flow.plan[i].item.restSeconds)) seconds."
    case .setSummary: return nil
    case .painAfter: return "Well done. How much pain do you have now, from zero to ten?"
    case .summary: return "That is today's session done."
    }
  }

  /// What is shown over the scene now.
  var overlay: SceneRenderer.Overlay? {
    let painKeys = "0–9 (1 then 0 for 10) and Enter   ·   Enter alone skips   ·   Esc quit"
    switch flow.stage {
    case .painBefore, .painAfter:
      return .init(
        title: flow.stage == .painBefore ? "Pain before you start" : "Pain now",
        lines: [
          "0 = no pain, 10 = the worst pain imaginable",
          painDigits.isEmpty ? "Type a number" : "Your rating: \(painDigits)",
        ], keys: painKeys)
    case .demonstrate(let i):
      return .init(
        title: flow.plan[i].exercise.definition.name,
        lines: [
          "Watch the guide do one repetition",
          "Then \(flow.plan[i].item.sets) × \(flow.plan[i].item.repetitions)",
        ], keys: "Space  start now   ·   S voice   ·   Esc quit")
    case .exercising: return nil
    case .setSummary(let i, let set):
      guard let done = flow.sets.last else { return nil }
      var lines = [
        "\(done.repetitions) of \(done.prescribed) repetitions",
        done.meanScore.map { "Average score \(Int($0.rounded()))" } ?? "No score",
      ]
      if let cue = done.cue { lines.append(cue) }
      return .init(
        title: "Set \(set + 1) of \(flow.plan[i].item.sets) done", lines: lines,
        keys: "Space  go on   ·   Esc quit")
    case .rest(let i, let next):
      return .init(
        title: "Rest",
        lines: [
          "\(Int((flow.remaining ?? 0).rounded(.up))) s",
          "Next: set \(next + 1) of \(flow.plan[i].item.sets)",
        ], keys: "Space  skip the rest   ·   Esc quit")
    case .summary:
      var lines = [
        "Pain before \(flow.painBefore.map(String.init) ?? "–"), after \(flow.painAfter.map(String.init) ?? "–")"
      ]
      for set in flow.sets.suffix(6) {
        lines.append(
          "\(set.exerciseName) set \(set.set + 1): \(set.repetitions)/\(set.prescribed), \(set.meanScore.map { String(Int($0.rounded())) } ?? "–")"
        )
      }
      return .init(
        title: flow.isComplete ? "Today's session is done" : "Today's session (not all sets)",
        lines: lines, keys: "Esc  close")
    }
  }

}

/// A patient source that also hands every frame to `forward` (the programme day's recorder).
final class ForwardingSource: PatientSource {
  private let inner: any PatientSource
  private let forward: (Pose, Double) -> Void

  init(_ inner: any PatientSource, forward: @escaping (Pose, Double) -> Void) {
    self.inner = inner
    self.forward = forward
  }

  var skeleton: Skeleton { inner.skeleton }
  var guideRest: Double? { inner.guideRest }

  func advance(to time: Double, shown: inout Pose, take: (Pose, Double, LandmarkFrame?) -> Void)
    -> PatientSourceStatus
  {
    inner.advance(to: time, shown: &shown) { pose, t, landmarks in
      forward(pose, t)
      take(pose, t, landmarks)
    }
  }

  func restart() { inner.restart() }
}
