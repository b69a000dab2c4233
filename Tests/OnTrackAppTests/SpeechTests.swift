import Foundation
import OnTrackScoring
import OnTrackSimulation
import OnTrackSpeech
import Testing

@testable import OnTrackApp

/// Spoken coaching, rendered offline: what is said, when, never two things at once, and what
/// the audio holds (checked on the samples, and by sox).
@Suite("Spoken coaching")
struct SpeechTests {
  @Test("the coach says one thing at a time, counts first, corrections spaced and not stale")
  func policy() {
    var coach = SpeechCoach()
    let duration: (String) -> Double = { Double($0.count) * 0.06 }
    coach.say("Glute bridge. Lie on your back.", kind: .announcement, at: 0)
    coach.say("Keep your hips level", kind: .correction, at: 0.1)
    var said: [SpeechCoach.Utterance] = []
    var t = 0.0
    while t < 30 {
      if t > 3 && t < 3.05 { coach.say("One done.", kind: .count, at: t) }
      if t > 3.5 && t < 3.55 { coach.say("Lift your hips higher", kind: .correction, at: t) }
      if t > 4 && t < 4.05 { coach.say("Keep your knees apart", kind: .correction, at: t) }
      if t > 10 && t < 10.05 { coach.say("Lift your hips higher", kind: .correction, at: t) }
      if t > 20 && t < 20.05 { coach.say("Lift your hips higher", kind: .correction, at: t) }
      if let u = coach.next(at: t, duration: duration) { said.append(u) }
      t += 0.05
    }
    #expect(said.first?.kind == .announcement)
    for (a, b) in zip(said, said.dropFirst()) {
      #expect(b.start >= a.start + a.duration, "\(b.text) starts over \(a.text)")
    }
    let corrections = said.filter { $0.kind == .correction }
    for (a, b) in zip(corrections, corrections.dropFirst()) {
      #expect(b.start - a.start >= coach.correctionInterval)
    }
    // The count goes before the correction asked at the same time; of two corrections waiting,
    // only the newest is said; the same correction is not repeated within 12 s.
    let texts = said.map(\.text)
    let count = texts.firstIndex(of: "One done.") ?? .max
    let firstLater = texts.firstIndex {
      $0 == "Lift your hips higher" || $0.hasPrefix("Keep your knees")
    }
    #expect(count < (firstLater ?? .max))
    // "Keep your knees apart" replaced "Lift your hips higher" while both waited.
    #expect(texts.filter { $0 == "Lift your hips higher" }.count <= 2)
    var muted = SpeechCoach()
    muted.muted = true
    muted.say("Anything", kind: .announcement, at: 0)
    #expect(muted.next(at: 1, duration: duration) == nil)
  }

  @Test(
    "a simulated bridge session's speech, rendered to WAV: the words, their times, silence between")
  func renderedSession() throws {
    let synthesizer = try SpeechSynthesizer.shared.get()
    let exercise = try AppData.exercise("lbp-glute-bridge")
    let session = try PlaySession(
      exercise: exercise, simulating: PatientSimulator.Variation.named("demo") ?? .init(), seed: 5)
    var narrator = SessionNarrator()
    var track = SpeechTrack(sampleRate: synthesizer.sampleRate)
    var voices: [String: [Int16]] = [:]
    let rate = Double(synthesizer.sampleRate)
    while session.time < 40 {
      session.advance(by: 1.0 / 30)
      if let said = narrator.update(
        session,
        duration: { text in
          let voice = voices[text] ?? synthesizer.speak(text)
          voices[text] = voice
          return Double(voice.count) / rate
        }), let voice = voices[said.text]
      {
        track.place(voice, at: said.start)
      }
    }
    track.extend(to: 40)
    let spoken = narrator.coach.spoken
    #expect(spoken.first?.text.hasPrefix("Glute bridge. Lie on your back") == true)
    #expect(spoken.contains { $0.text == "One done." })
    #expect(spoken.contains { $0.text == "Two done." })
    // A hold's countdown is said while the hold runs.
    #expect(spoken.contains { $0.kind == .count && $0.text == "Three" })
    // Sound while something is said, silence between.
    func energy(_ from: Double, _ to: Double) -> Double {
      let a = max(0, Int(from * rate))
      let b = min(track.samples.count, Int(to * rate))
      guard b > a else { return 0 }
      return track.samples[a..<b].reduce(0.0) { $0 + abs(Double($1)) } / Double(b - a)
    }
    for u in spoken {
      #expect(energy(u.start, u.start + u.duration) > 50, "\(u.text) is silent")
    }
    for (a, b) in zip(spoken, spoken.dropFirst()) {
      #expect(b.start >= a.start + a.duration)
      #expect(energy(a.start + a.duration + 0.02, b.start - 0.02) < 1, "sound between utterances")
    }
    // The WAV, as sox reads it.
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-speech-\(UUID().uuidString).wav")
    defer { try? FileManager.default.removeItem(at: url) }
    try WAVFile.data(samples: track.samples, sampleRate: synthesizer.sampleRate).write(to: url)
    let sox = Process()
    sox.executableURL = URL(fileURLWithPath: "/usr/bin/sox")
    sox.arguments = [url.path, "-n", "stat"]
    let pipe = Pipe()
    sox.standardError = pipe
    try sox.run()
    sox.waitUntilExit()
    let stat = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    func value(_ name: String) -> Double? {
      stat.split(separator: "\n").first { $0.hasPrefix(name) }
        .flatMap {
          Double($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
        }
    }
    let length = try #require(value("Length (seconds)"))
    #expect(abs(length - Double(track.samples.count) / rate) < 0.01)
    #expect(length >= 40)
    let peak = try #require(value("Maximum amplitude"))
    #expect(peak > 0.2 && peak <= 1)
  }
}
