import Foundation

/// Tells a patient, live, when the sensor has not shown for a while a part of the body the
/// exercise measures. A camera beside a patient who works the far arm or leg sees nothing of
/// it: no repetition is found, and before this nothing said why.
///
/// Each scored measure is watched on the patient's own side (the reference's measures, or
/// their mirror images once the patient is found to work the other side; both while the side
/// is undecided, and for an exercise on alternating sides). A measure is unseen in a frame
/// when a landmark it needs was not seen (its noise column is NaN, `FeaturePipeline`), and
/// is told once it has stayed unseen for `delay` seconds (not while its limb is placed as the
/// other side's mirror image, `UnseenLimbMirroring`, so that the repetition is still found):
/// - "The camera does not show your right knee: move so that it can see it" (legs below the
///   picture, or the far side), once the side is known (or the exercise has none to decide);
/// - while the side is undecided and the part's other side is seen, only after
///   `undecidedDelay` (the reference's length and a half, at least `delay`) and as "if you are
///   exercising that side": a patient working the near side finds a repetition, and is
///   decided, sooner;
/// - "The camera does not show you: come back into the picture" when no part it can tell of
///   is seen.
/// A midline measure never seen (the lumbar spine, which no camera layout gives) is the
/// sensor's limit, not the patient's position: the repetition's "Counted, not scored" cue says
/// it, and this tells nothing of it.
/// The words change only when what is told changes; per frame nothing is allocated.
public struct SightWatch: Sendable {
  /// Seconds a measured part stays unseen before the patient is told: a hand out of the
  /// picture for a moment is not worth a word.
  public static let delay = 2.0

  /// The exercise's scored measures, then their mirror images.
  private let watched: [BodyMeasure]
  /// Per watched measure: true if its limb landmarks are placed as the other side's mirror
  /// image when unseen (`UnseenLimbMirroring`): while that side is seen the repetition is
  /// found (the measure itself is left out of the score), and nothing is told.
  private let mirroredWhenUnseen: [Bool]
  /// Per scored measure: true if its mirror image is another measure (it has a side).
  private let sided: [Bool]
  /// Per watched measure: consecutive frames unseen, up to now.
  private var unseenFrames: [Int]
  /// Per watched measure: seen in some frame. A midline measure never seen (the lumbar spine,
  /// which no camera layout gives) is the sensor's limit, said by the repetition's "Counted,
  /// not scored" cue; moving would not show it, so it is not told.
  private var everSeen: [Bool]
  private let delayFrames: Int
  private let undecidedDelayFrames: Int
  /// What is told: the watched measure's index, or `watched.count` for the whole body; the
  /// words, and whether they are the undecided form.
  private var told: (index: Int, undecided: Bool)?
  /// What to tell the patient, or nil while every measured part is seen.
  public private(set) var words: String?

  /// Watches `exercise`'s scored measures in frames `exercise.frameTime` apart.
  public init(exercise: Exercise) {
    let measures = exercise.measures.map(\.measure)
    watched = measures + measures.map(\.mirrored)
    sided = measures.map { $0.mirrored != $0 }
    unseenFrames = [Int](repeating: 0, count: watched.count)
    everSeen = [Bool](repeating: false, count: watched.count)
    let mirroring = exercise.unseenLimbs
    mirroredWhenUnseen = watched.map { measure in
      let limb = measure.landmarks.filter { $0.limbParent != nil && $0 != .head }
      return !limb.isEmpty && limb.allSatisfy { mirroring.places($0) }
    }
    let frameTime = max(exercise.frameTime, 1e-3)
    delayFrames = Int((Self.delay / frameTime).rounded(.up))
    let referenceSeconds = Double(exercise.reference.count) * exercise.frameTime
    undecidedDelayFrames = Int((max(Self.delay, 1.5 * referenceSeconds) / frameTime).rounded(.up))
  }

  /// The patient's side as far as it is known.
  public enum Side: Sendable {
    /// The reference's (or the exercise has no side to decide).
    case reference
    /// The reference's mirror image.
    case mirrored
    /// Not decided yet: either.
    case undecided
    /// Both in turn (an exercise on alternating sides).
    case both
  }

  /// Reads one feature frame (`FeatureLayout.width` floats, on the patient's own side, not
  /// mirrored) for what it does not show.
  public mutating func observe(_ frame: UnsafePointer<Float>, side: Side) {
    let count = watched.count / 2
    guard count > 0 else { return }
    for k in watched.indices {
      let counterpart = k < count ? k + count : k - count
      if frame[watched[k].noiseColumn].isNaN
        && !(mirroredWhenUnseen[k] && !frame[watched[counterpart].noiseColumn].isNaN)
      {
        unseenFrames[k] = min(unseenFrames[k] + 1, Int.max / 2)
      } else {
        unseenFrames[k] = 0
        everSeen[k] = true
      }
    }
    // What can be told: every measure with a side (legs below the picture from the start are
    // told too), and a midline one once it has been seen.
    var anyTellable = false
    var allTellableLong = true
    for k in watched.indices {
      let tellable = everSeen[k] || sided[k % count]
      if !tellable {
        unseenFrames[k] = 0
        continue
      }
      anyTellable = true
      if unseenFrames[k] < delayFrames { allTellableLong = false }
    }
    var next: (index: Int, undecided: Bool)?
    if anyTellable && allTellableLong {
      next = (watched.count, false)
    } else if told?.index == watched.count {
      // Back in the picture: every part has `delay` again to be seen (a tracker takes a few
      // frames to find each limb).
      for k in unseenFrames.indices { unseenFrames[k] = 0 }
    } else {
      for k in 0..<count {
        let own = side == .mirrored ? k + count : k
        let other = side == .mirrored ? k : k + count
        let ownLong = unseenFrames[own] >= delayFrames
        let otherLong = unseenFrames[other] >= delayFrames
        switch side {
        case .reference, .mirrored:
          if ownLong { next = (own, false) }
        case .both:
          if ownLong || otherLong { next = (ownLong ? own : other, false) }
        case .undecided:
          if ownLong && otherLong {
            next = (own, false)
          } else if unseenFrames[own] >= undecidedDelayFrames {
            next = (own, true)
          } else if unseenFrames[other] >= undecidedDelayFrames {
            next = (other, true)
          }
        }
        if next != nil { break }
      }
    }
    guard next?.index != told?.index || next?.undecided != told?.undecided else { return }
    told = next
    guard let next else {
      words = nil
      return
    }
    if next.index == watched.count {
      words = "The camera does not show you: come back into the picture"
    } else {
      let part = CueWriter.partWords(watched[next.index])
      words =
        next.undecided
        ? "The camera does not show your \(part): if you are exercising that side, turn so that it can see it"
        : "The camera does not show your \(part): move so that it can see it"
    }
  }
}
