import CEspeakNG
import Foundation
import Synchronization

/// Text to speech with Debian's libespeak-ng, offline: words in, 16-bit mono PCM samples out
/// (no network voice, nothing downloaded). eSpeak NG keeps global state, so one synthesizer
/// serves the process and calls are serialised.
public final class SpeechSynthesizer: Sendable {
  /// Samples a second of what `speak` returns (eSpeak NG's own rate, 22,050 Hz).
  public let sampleRate: Int
  private let lock = Mutex(())

  /// Why speech cannot be made.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// The process's synthesizer, or why there is none (eSpeak NG's data not installed).
  public static let shared: Result<SpeechSynthesizer, Failure> = {
    let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, nil, 0)
    guard rate > 0 else {
      return .failure(
        Failure(
          description:
            "eSpeak NG could not start (is espeak-ng-data installed? apt-get install libespeak-ng1)"
        ))
    }
    espeak_SetSynthCallback { samples, count, events in
      guard let samples, count > 0, let user = events?.pointee.user_data else { return 0 }
      let sink = Unmanaged<SampleSink>.fromOpaque(user).takeUnretainedValue()
      sink.samples.append(contentsOf: UnsafeBufferPointer(start: samples, count: Int(count)))
      return 0
    }
    _ = "en".withCString { espeak_SetVoiceByName($0) }
    return .success(SpeechSynthesizer(sampleRate: Int(rate)))
  }()

  private init(sampleRate: Int) {
    self.sampleRate = sampleRate
  }

  /// Where eSpeak NG's callback puts the samples of one utterance.
  final class SampleSink {
    var samples: [Int16] = []
  }

  /// The samples of `text` spoken at `wordsPerMinute` (80–450; 165 is calm and clear).
  public func speak(_ text: String, wordsPerMinute: Int = 165) -> [Int16] {
    lock.withLock { _ in
      let sink = SampleSink()
      let pointer = Unmanaged.passRetained(sink).toOpaque()
      defer { Unmanaged<SampleSink>.fromOpaque(pointer).release() }
      espeak_SetParameter(espeakRATE, Int32(min(max(wordsPerMinute, 80), 450)), 0)
      let bytes = Array(text.utf8CString)
      bytes.withUnsafeBufferPointer { buffer in
        _ = espeak_Synth(
          buffer.baseAddress, buffer.count, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil,
          pointer)
      }
      _ = espeak_Synchronize()
      return sink.samples
    }
  }
}
