import Foundation

/// 16-bit mono PCM as a RIFF WAVE file.
public enum WAVFile {
  /// The file's bytes: a 44-byte header, then the samples (little-endian).
  public static func data(samples: [Int16], sampleRate: Int) -> Data {
    var data = Data()
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
    let bytes = UInt32(clamping: samples.count * 2)
    data.append(contentsOf: Array("RIFF".utf8))
    append(UInt32(36) &+ bytes)
    data.append(contentsOf: Array("WAVEfmt ".utf8))
    append(UInt32(16))
    append(UInt16(1))  // PCM
    append(UInt16(1))  // mono
    append(UInt32(clamping: sampleRate))
    append(UInt32(clamping: sampleRate * 2))
    append(UInt16(2))
    append(UInt16(16))
    data.append(contentsOf: Array("data".utf8))
    append(bytes)
    for sample in samples { append(sample) }
    return data
  }
}

/// Utterances placed on a timeline: the coaching track of a whole session, as audio.
public struct SpeechTrack: Sendable {
  public let sampleRate: Int
  public private(set) var samples: [Int16] = []

  public init(sampleRate: Int) {
    self.sampleRate = sampleRate
  }

  /// Puts `voice` at `start` seconds (extending the track with silence as needed), scaled by
  /// `volume` (0–1).
  public mutating func place(_ voice: [Int16], at start: Double, volume: Double = 1) {
    let first = max(0, Int((start * Double(sampleRate)).rounded()))
    let end = first + voice.count
    if samples.count < end {
      samples.append(contentsOf: repeatElement(0, count: end - samples.count))
    }
    let gain = min(max(volume, 0), 1)
    for (k, v) in voice.enumerated() {
      let mixed = Double(samples[first + k]) + Double(v) * gain
      samples[first + k] = Int16(clamping: Int(mixed.rounded()))
    }
  }

  /// Pads the track with silence to `seconds`.
  public mutating func extend(to seconds: Double) {
    let count = Int(seconds * Double(sampleRate))
    if samples.count < count {
      samples.append(contentsOf: repeatElement(0, count: count - samples.count))
    }
  }
}
