import ArgumentParser
import Foundation
import OnTrackApp
import OnTrackServerCommands
import OnTrackSpeech

/// Renders a session's spoken coaching to a WAV file, offline: what a patient would hear.
struct SpeechCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "speech",
    abstract: "Render a session's spoken coaching to WAV (eSpeak NG, offline).",
    discussion: """
      Runs the session on the display clock (use --simulate for a simulated patient) and \
      writes every utterance where it is said: the exercise's name and first instruction, \
      repetition counts, hold countdowns, one correction at a time. Prints the timeline.
      """)

  @OptionGroup var options: SessionOptions

  @Option(help: "Seconds of session.")
  var duration: Double = 60

  @Option(help: "The WAV file to write.")
  var out: String = "out/speech.wav"

  @Option(help: "Volume, 0–1.")
  var volume: Double = 0.9

  @Option(help: "Speaking rate, words a minute.")
  var wordsPerMinute: Int = 165

  func run() async throws {
    guard duration > 0, duration <= 3600, (0...1).contains(volume) else {
      throw ValidationError("--duration must be 0–3600 s and --volume 0–1")
    }
    let synthesizer: SpeechSynthesizer
    switch SpeechSynthesizer.shared {
    case .success(let s): synthesizer = s
    case .failure(let failure): throw ValidationError(failure.description)
    }
    let session = try await options.session()
    var narrator = SessionNarrator()
    var track = SpeechTrack(sampleRate: synthesizer.sampleRate)
    var voices: [String: [Int16]] = [:]
    let rate = Double(synthesizer.sampleRate)
    let words = wordsPerMinute
    let step = 1.0 / 30
    while session.time < duration {
      session.advance(by: step)
      let said = narrator.update(session) { text in
        let voice = voices[text] ?? synthesizer.speak(text, wordsPerMinute: words)
        voices[text] = voice
        return Double(voice.count) / rate
      }
      if let said, let voice = voices[said.text] {
        track.place(voice, at: said.start, volume: volume)
        Output.write(
          "\(Output.fixed(said.start, 1).padding(toLength: 7, withPad: " ", startingAt: 0)) s  \(String(describing: said.kind).padding(toLength: 12, withPad: " ", startingAt: 0)) \(said.text)\n"
        )
      }
    }
    track.extend(to: duration)
    let url = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try WAVFile.data(samples: track.samples, sampleRate: synthesizer.sampleRate).write(to: url)
    Output.write(
      "wrote \(url.path) (\(Output.fixed(duration, 0)) s, \(narrator.coach.spoken.count) utterances)\n"
    )
  }
}
