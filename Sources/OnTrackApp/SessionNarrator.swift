import OnTrackScoring
import OnTrackSpeech

/// Turns what happens in a `PlaySession` into words for the `SpeechCoach`: the exercise's
/// name and first instruction at the start, each repetition's count, the hold's last three
/// seconds, the repetition's most important correction (or praise), why a hold is paused, what
/// the sensor does not show, and the end of the set with its average.
public struct SessionNarrator: Sendable {
  public var coach = SpeechCoach()
  private var started = false
  private var repetitions = 0
  private var lastCountdown: Int?
  private var announcedEnd = false
  /// What the sensor does not show, as last said.
  private var lastSight: String?

  public init() {}

  /// Looks at `session` now and queues what is new; returns the utterance to start now, if
  /// any (`duration`: how long words take to say, seconds).
  public mutating func update(_ session: PlaySession, duration: (String) -> Double)
    -> SpeechCoach.Utterance?
  {
    let now = session.time
    let exercise = session.exercise
    if !started {
      started = true
      let first = Self.firstSentence(exercise.definition.description ?? "")
      coach.say(
        first.isEmpty ? exercise.definition.name : "\(exercise.definition.name). \(first)",
        kind: .announcement, at: now)
    }
    let done = session.repetitionsDone
    if done > repetitions, let last = session.lastRepetition {
      repetitions = done
      coach.say(Self.count(done, of: exercise.repetitions), kind: .count, at: now)
      if let cue = last.cues.first {
        coach.say(cue.text, kind: cue.kind == .praise ? .praise : .correction, at: now)
      }
    }
    if let hold = session.hold, hold.holding {
      let left = Int((hold.target - hold.held).rounded(.up))
      if left <= 3, left >= 1, left != lastCountdown {
        lastCountdown = left
        coach.say(Self.number(left), kind: .count, at: now)
      }
    } else {
      lastCountdown = nil
    }
    if let why = session.hold?.why { coach.say(why, kind: .correction, at: now) }
    // What the sensor does not show: asked until it has been said once, then again only when
    // it changes (not after the set).
    let sight = session.finished ? nil : session.cannotSee
    if sight == nil { lastSight = nil }
    if let sight, sight != lastSight { coach.say(sight, kind: .correction, at: now) }
    if session.finished && !announcedEnd {
      announcedEnd = true
      let mean = session.summary.meanScore.map { " Average score \(Int($0.rounded()))." } ?? ""
      coach.say("Set complete.\(mean)", kind: .announcement, at: now)
    }
    let next = coach.next(at: now, duration: duration)
    if let next, next.text == sight { lastSight = sight }
    return next
  }

  /// The first sentence of a description (up to its first full stop).
  static func firstSentence(_ text: String) -> String {
    guard let end = text.firstIndex(of: ".") else { return text }
    return String(text[...end])
  }

  /// A repetition's count: "Two done." (a hold's countdown is bare numbers).
  static func count(_ k: Int, of total: Int) -> String {
    k == total ? "\(number(k)) done. That's the set." : "\(number(k)) done."
  }

  static func number(_ k: Int) -> String {
    let words = [
      "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
      "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen",
      "Nineteen", "Twenty",
    ]
    return k >= 0 && k < words.count ? words[k] : String(k)
  }
}
