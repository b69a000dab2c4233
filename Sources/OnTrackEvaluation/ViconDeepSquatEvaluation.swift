import Foundation
import OnTrackFormats
import OnTrackScoring

extension UIPRMDEvaluation {
  /// The deep-squat repetitions Liao, Vakanski & Xian (2020) kept, as 1-based positions in
  /// subject-major order (s01e01 … s10e10), from their `Prepare_Data_for_NN.m`.
  static let liaoKeptRepetitions: [Int] = [
    2...10, 12...20, 22...30, 32...40, 42...50, 51...60, 62...63, 65...70, 72...80, 82...84,
    86...90, 91...100,
  ].flatMap { Array($0) }

  /// Vicon deep squat, leave-one-subject-out on the 117 joint angles (z-scored with the
  /// training subjects' spread), against the Liao 2020 quality labels.
  static func evaluateVicon(dataset: URL) throws -> ViconResult {
    let root = dataset.appendingPathComponent("raw")
    // 100 Hz → 25 Hz: squats last 2–5 s, so a quarter of the frames keeps the shape.
    let decimation = 4
    var features: [Bool: [[FeatureSequence]]] = [:]
    for correct in [true, false] {
      var bySubject: [[FeatureSequence]] = []
      for subject in 1...10 {
        var episodes: [FeatureSequence] = []
        for episode in 1...10 {
          let url = UIPRMDReader.path(
            root: root, sensor: "Vicon", kind: "angles", movement: 1, subject: subject,
            episode: episode, correct: correct)
          let table = try UIPRMDReader.readViconAngles(url)
          var values: [Float] = []
          for f in stride(from: 0, to: table.frameCount, by: decimation) {
            values.append(contentsOf: table.values[(f * table.width)..<((f + 1) * table.width)])
          }
          episodes.append(
            FeatureSequence(
              width: table.width, frameTime: Double(decimation) / table.frameRate, values: values))
        }
        bySubject.append(episodes)
      }
      features[correct] = bySubject
    }
    guard let correctSets = features[true], let incorrectSets = features[false] else {
      return ViconResult(
        repetitions: 0, auc: .nan, meanAbsoluteDeviation: .nan, spearman: .nan, labelRange: [])
    }
    var scores: [Bool: [Double]] = [true: [], false: []]
    var dtw = DynamicTimeWarping()
    for subject in 0..<10 {
      let training = (0..<10).filter { $0 != subject }.flatMap { correctSets[$0] }
      let width = training[0].width
      // Per-angle mean and spread over every training frame.
      var mean = [Double](repeating: 0, count: width)
      var square = [Double](repeating: 0, count: width)
      var frames = 0
      for sequence in training {
        for f in 0..<sequence.count {
          for c in 0..<width {
            let v = Double(sequence[f, c])
            mean[c] += v
            square[c] += v * v
          }
        }
        frames += sequence.count
      }
      var scale = [Float](repeating: 1, count: width)
      for c in 0..<width {
        mean[c] /= Double(frames)
        let sd = (max(square[c] / Double(frames) - mean[c] * mean[c], 0)).squareRoot()
        scale[c] = Float(1 / max(sd, 1e-3))
      }
      func rows(_ s: FeatureSequence) -> DTWMatrix {
        var values = s.values
        for f in 0..<s.count {
          for c in 0..<width {
            values[f * width + c] = (values[f * width + c] - Float(mean[c])) * scale[c]
          }
        }
        return DTWMatrix(rows: s.count, width: width, values: values)
      }
      let trainingRows = training.map(rows)
      let reference = trainingRows[ReferenceBuilder.representative(of: trainingRows)]
      let radius = max(4, reference.rows / 4)
      func cost(_ r: DTWMatrix) -> Double {
        Double(
          dtw.accumulatedCost(r, aRows: r.rows, reference, bRows: reference.rows, radius: radius))
          / Double(reference.rows)
      }
      let tolerance = ReferenceBuilder.meanPlusThreeSD(trainingRows.map(cost))
      for correct in [true, false] {
        for sequence in (correct ? correctSets : incorrectSets)[subject] {
          scores[correct, default: []].append(100 * pow(0.7, cost(rows(sequence)) / tolerance))
        }
      }
    }
    let correctScores = scores[true] ?? []
    let incorrectScores = scores[false] ?? []
    let labelFolder = dataset.appendingPathComponent("liao2020_derived")
    let correctLabels = try readLabels(labelFolder.appendingPathComponent("Labels_Correct.csv"))
    let incorrectLabels = try readLabels(labelFolder.appendingPathComponent("Labels_Incorrect.csv"))
    let kept = liaoKeptRepetitions.map { $0 - 1 }
    let ours = kept.map { correctScores[$0] } + kept.map { incorrectScores[$0] }
    let labels = correctLabels + incorrectLabels
    guard ours.count == labels.count, let low = labels.min(), let high = labels.max(),
      let ourLow = ours.min(), let ourHigh = ours.max(), ourHigh > ourLow
    else {
      throw MotionFormatError(
        .invalidData, file: labelFolder.path,
        reason: "expected \(ours.count) labels, found \(labels.count)")
    }
    let rescaled = ours.map { low + ($0 - ourLow) / (ourHigh - ourLow) * (high - low) }
    let deviation = zip(rescaled, labels).map { abs($0 - $1) }.reduce(0, +) / Double(labels.count)
    return ViconResult(
      repetitions: labels.count,
      auc: rocAUC(positives: correctScores, negatives: incorrectScores),
      meanAbsoluteDeviation: deviation, spearman: spearman(ours, labels), labelRange: [low, high])
  }

  static func readLabels(_ url: URL) throws -> [Double] {
    let text = try String(contentsOf: url, encoding: .utf8)
    return text.split(whereSeparator: \.isNewline).compactMap {
      Double($0.trimmingCharacters(in: .whitespaces))
    }
  }

  /// Spearman's rank correlation (average ranks for ties).
  static func spearman(_ a: [Double], _ b: [Double]) -> Double {
    func ranks(_ v: [Double]) -> [Double] {
      let order = v.indices.sorted { v[$0] < v[$1] }
      var r = [Double](repeating: 0, count: v.count)
      var i = 0
      while i < order.count {
        var j = i
        while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
        for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
      }
      return r
    }
    let ra = ranks(a)
    let rb = ranks(b)
    let ma = ra.reduce(0, +) / Double(ra.count)
    let mb = rb.reduce(0, +) / Double(rb.count)
    var num = 0.0
    var da = 0.0
    var db = 0.0
    for (x, y) in zip(ra, rb) {
      num += (x - ma) * (y - mb)
      da += (x - ma) * (x - ma)
      db += (y - mb) * (y - mb)
    }
    return num / (da * db).squareRoot()
  }
}
