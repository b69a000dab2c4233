import CSDL2
import OnTrackSpeech

/// Speaks the `SessionNarrator`'s words through SDL audio (queued 16-bit mono at eSpeak NG's
/// rate). Without an audio device or eSpeak NG the app runs silent and says why once.
final class CoachVoice {
  private var device: SDL_AudioDeviceID = 0
  private let synthesizer: SpeechSynthesizer?
  private var narrator = SessionNarrator()
  private var voices: [String: [Int16]] = [:]
  /// 0–1.
  var volume = 0.8
  var muted = false {
    didSet {
      narrator.coach.muted = muted
      if muted, device != 0 { SDL_ClearQueuedAudio(device) }
    }
  }
  /// Why there is no voice, if there is none.
  private(set) var unavailable: String?

  init() {
    switch SpeechSynthesizer.shared {
    case .success(let s): synthesizer = s
    case .failure(let f):
      synthesizer = nil
      unavailable = f.description
      return
    }
    guard SDL_InitSubSystem(SDL_INIT_AUDIO) == 0, let synthesizer else {
      unavailable = "no audio device"
      return
    }
    var wanted = SDL_AudioSpec()
    wanted.freq = Int32(synthesizer.sampleRate)
    wanted.format = SDL_AudioFormat(AUDIO_S16SYS)
    wanted.channels = 1
    wanted.samples = 1024
    var obtained = SDL_AudioSpec()
    device = SDL_OpenAudioDevice(nil, 0, &wanted, &obtained, 0)
    if device == 0 {
      unavailable = "no audio device"
    } else {
      SDL_PauseAudioDevice(device, 0)
    }
  }

  deinit {
    if device != 0 { SDL_CloseAudioDevice(device) }
  }

  /// Says `text` now (a programme day's announcements), unless muted; what was queued before
  /// is finished first.
  func say(_ text: String) {
    guard let synthesizer, device != 0, !muted else { return }
    var voice = voices[text] ?? synthesizer.speak(text)
    voices[text] = voice
    if volume < 1 {
      for k in voice.indices { voice[k] = Int16(Double(voice[k]) * max(volume, 0)) }
    }
    voice.withUnsafeBytes { bytes in
      _ = SDL_QueueAudio(device, bytes.baseAddress, UInt32(bytes.count))
    }
  }

  /// Speaks what is due now in `session`.
  func update(_ session: PlaySession) {
    guard let synthesizer, device != 0 else { return }
    let rate = Double(synthesizer.sampleRate)
    let said = narrator.update(session) { text in
      let voice = voices[text] ?? synthesizer.speak(text)
      voices[text] = voice
      return Double(voice.count) / rate
    }
    guard let said, !muted, var voice = voices[said.text] else { return }
    if volume < 1 {
      for k in voice.indices { voice[k] = Int16(Double(voice[k]) * max(volume, 0)) }
    }
    voice.withUnsafeBytes { bytes in
      _ = SDL_QueueAudio(device, bytes.baseAddress, UInt32(bytes.count))
    }
  }
}
