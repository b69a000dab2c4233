/// Decides what the app says and when: one utterance at a time, never over another; the
/// exercise's name and first instruction, repetition counts and hold countdowns as they
/// happen; at most one correction every `correctionInterval` seconds, never the same one
/// twice within `repeatInterval`, and none that has waited so long it no longer applies.
///
/// Pure bookkeeping on the caller's clock (seconds): `say` queues, `next(at:)` hands out what
/// to start now, given how long each utterance lasts (`duration`).
public struct SpeechCoach: Sendable {
  /// What there is to say, most urgent kinds first.
  public enum Kind: Int, Sendable, Comparable {
    /// The exercise's name and its first instruction; the end of the set.
    case announcement = 0
    /// "Three", a hold countdown.
    case count = 1
    /// The most important cue of the moment.
    case correction = 2
    /// "Well done".
    case praise = 3

    public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
  }

  public struct Utterance: Sendable, Equatable {
    public var text: String
    public var kind: Kind
    /// When it was asked for (seconds).
    public var asked: Double
    /// When it started and how long it lasts, once spoken.
    public var start: Double = 0
    public var duration: Double = 0
  }

  /// Least time between two corrections, seconds.
  public var correctionInterval = 5.0
  /// Least time before the same words are said again, seconds.
  public var repeatInterval = 12.0
  /// A correction or a count older than this is dropped unsaid: it no longer applies.
  public var staleAfter = 2.5
  /// Silence between two utterances, seconds.
  public var gap = 0.25
  /// Muted: nothing is queued or said.
  public var muted = false

  private var queue: [Utterance] = []
  private var busyUntil = -Double.infinity
  private var lastCorrection = -Double.infinity
  private var lastSaid: [String: Double] = [:]
  /// Everything said, in order.
  public private(set) var spoken: [Utterance] = []

  public init() {}

  /// Asks for `text` to be said (at time `now`).
  public mutating func say(_ text: String, kind: Kind, at now: Double) {
    guard !muted, !text.isEmpty else { return }
    if kind >= .correction, let last = lastSaid[text], now - last < repeatInterval { return }
    // One pending correction at a time: the newest is the one that matters.
    if kind >= .correction { queue.removeAll { $0.kind >= .correction } }
    // A newer count replaces an older one not yet said ("Four" after "Three").
    if kind == .count { queue.removeAll { $0.kind == .count } }
    queue.append(Utterance(text: text, kind: kind, asked: now))
  }

  /// The utterance to start at `now`, if the voice is free and something is due;
  /// `duration` gives how long words take to say (seconds).
  public mutating func next(at now: Double, duration: (String) -> Double) -> Utterance? {
    guard !muted, now >= busyUntil else { return nil }
    queue.removeAll { $0.kind != .announcement && now - $0.asked > staleAfter }
    let ready = queue.enumerated().filter { _, u in
      u.kind != .correction && u.kind != .praise || now - lastCorrection >= correctionInterval
    }
    guard
      let (index, _) = ready.min(by: { ($0.1.kind, $0.1.asked) < ($1.1.kind, $1.1.asked) })
    else { return nil }
    var utterance = queue.remove(at: index)
    utterance.start = now
    utterance.duration = duration(utterance.text)
    busyUntil = now + utterance.duration + gap
    if utterance.kind >= .correction { lastCorrection = now }
    lastSaid[utterance.text] = now
    spoken.append(utterance)
    return utterance
  }

  /// True while something is being said at `now`.
  public func isSpeaking(at now: Double) -> Bool { now < busyUntil }
}
