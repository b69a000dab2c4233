import Foundation
import OnTrackScoring
import Testing

@Suite("Exercise definitions")
struct ExerciseDefinitionTests {
  @Test("every bundled exercise loads, with its reference one repetition long")
  func bundledLoad() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: ScoringData.exercises.path)
      .filter { $0.hasSuffix(".json") }
    // UI-PRMD's ten movements and the fifteen of the low-back-pain library.
    #expect(files.filter { $0.hasPrefix("uiprmd-") }.count == 10)
    #expect(files.filter { $0.hasPrefix("lbp-") }.count == 15)
    #expect(files.count == 25)
    for file in files {
      let exercise = try Exercise.load(
        contentsOf: ScoringData.exercises.appendingPathComponent(file))
      let seconds = Double(exercise.reference.count) * exercise.frameTime
      // One repetition: UI-PRMD's last 1–5 s; the authored ones up to 12 s (holds, both sides).
      let longest = file.hasPrefix("lbp-") ? 12.0 : 5.0
      #expect(seconds > 1 && seconds < longest, "\(file): \(seconds) s")
      #expect(exercise.measures.allSatisfy { $0.tolerance > 0 && $0.rangeTolerance > 0 })
      let source = exercise.definition.source ?? ""
      #expect(source.contains(file.hasPrefix("lbp-") ? "Authored" : "ODC-PDDL"), "\(file)")
    }
  }

  @Test("defaults fill missing fields")
  func defaults() throws {
    let json = #"{ "name": "Arm raise", "reference": "x.bvh" }"#
    let definition = try ExerciseDefinition.decode(Data(json.utf8), file: "arm.json")
    let reference = try ScoringData.exercise("uiprmd-m07-shoulder-abduction").reference
    let exercise = try Exercise(definition: definition, reference: reference)
    #expect(exercise.repetitions == 10 && exercise.holdSeconds == 0)
    #expect(exercise.measures.count == 14)
    #expect(abs(exercise.measures[0].tolerance * 180 / .pi - 15) < 1e-4)
    #expect(exercise.tempo.minimumRatio == 0.6)
    #expect(exercise.workingSide == .right)
  }

  struct Bad: Sendable, CustomStringConvertible {
    var description: String
    var json: String
    var field: String?
  }

  static let bad: [Bad] = [
    .init(description: "missing name", json: #"{ "reference": "x.bvh" }"#, field: "name"),
    .init(
      description: "unknown measure",
      json: #"{ "name": "a", "reference": "x.bvh", "measures": [ { "measure": "leftKnee" } ] }"#,
      field: "measures[0].measure"),
    .init(
      description: "negative tolerance",
      json:
        #"{ "name": "a", "reference": "x.bvh", "measures": [ { "measure": "trunk", "tolerance": -3 } ] }"#,
      field: "measures[0].tolerance"),
    .init(
      description: "zero weight",
      json:
        #"{ "name": "a", "reference": "x.bvh", "measures": [ { "measure": "trunk", "weight": 0 } ] }"#,
      field: "measures[0].weight"),
    .init(
      description: "repetitions as text",
      json: #"{ "name": "a", "reference": "x.bvh", "repetitions": "ten" }"#, field: "repetitions"),
    .init(
      description: "no repetitions",
      json: #"{ "name": "a", "reference": "x.bvh", "repetitions": 0 }"#, field: "repetitions"),
    .init(
      description: "bad laterality",
      json: #"{ "name": "a", "reference": "x.bvh", "laterality": "both" }"#, field: "laterality"),
    .init(
      description: "inverted tempo",
      json:
        #"{ "name": "a", "reference": "x.bvh", "tempo": { "minimumRatio": 2, "maximumRatio": 1 } }"#,
      field: "tempo"),
    .init(
      description: "unknown keep-still",
      json: #"{ "name": "a", "reference": "x.bvh", "keepStill": [ { "measure": "tail" } ] }"#,
      field: "keepStill[0].measure"),
    .init(
      description: "unknown sides",
      json: #"{ "name": "a", "reference": "x.bvh", "sides": "both" }"#, field: "sides"),
    .init(
      description: "alternating on a bilateral reference",
      json:
        #"{ "name": "a", "reference": "x.bvh", "sides": "alternating", "laterality": "bilateral" }"#,
      field: "sides"),
    .init(
      description: "either side first on a one-sided reference",
      json:
        #"{ "name": "a", "reference": "x.bvh", "sides": "either-first", "laterality": "left" }"#,
      field: "sides"),
    .init(description: "broken JSON", json: #"{ "name": "a", "#, field: nil),
    .init(
      description: "a tolerance given twice (readers disagree on which counts)",
      json:
        #"{ "name": "a", "reference": "x.bvh", "measures": [ { "measure": "trunk", "tolerance": 5, "tolerance": 50 } ] }"#,
      field: nil),
  ]

  @Test("a wrong field is an error naming the file and the field", arguments: bad)
  func rejects(_ bad: Bad) {
    #expect {
      try ExerciseDefinition.decode(Data(bad.json.utf8), file: "ex.json")
    } throws: { error in
      guard let error = error as? ExerciseError else { return false }
      return error.file == "ex.json" && error.field == bad.field
    }
  }

  @Test("a reference shorter than a repetition, or a missing reference file, is refused")
  func badReference() throws {
    let definition = ExerciseDefinition(name: "a", reference: "x.bvh")
    let two = try ScoringData.exercise("uiprmd-m07-shoulder-abduction").reference.slice(0..<2)
    #expect(throws: ExerciseError.self) { try Exercise(definition: definition, reference: two) }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ontrack-ex-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("a.json")
    try Data(#"{ "name": "a", "reference": "missing.bvh" }"#.utf8).write(to: file)
    #expect {
      try Exercise.load(contentsOf: file)
    } throws: { error in
      (error as? ExerciseError)?.field == "reference"
    }
  }
}
