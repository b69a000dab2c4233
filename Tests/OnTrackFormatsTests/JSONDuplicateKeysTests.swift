import Foundation
import OnTrackFormats
import Testing

@Suite("Repeated names in JSON objects")
struct JSONDuplicateKeysTests {
  @Test(
    "a name given twice in one object is found, with where; the same name in different objects, or inside a string, is not",
    arguments: [
      (#"{"seq": 1, "t": 0, "values": []}"#, nil),
      (#"{"seq": 1, "t": 0, "seq": 9}"#, "seq @ $"),
      (#"{"a": {"b": 1, "c": [{"d": 1}, {"d": 2, "e": 3, "d": 4}]}}"#, "d @ $.a.c[1]"),
      (#"[{"a": 1}, {"a": 2}, {"a": {"a": 3}}]"#, nil),
      (#"{"a": "\"a\": 1, \"a\": 2", "b": 2}"#, nil),
      (#"{"seq": 1, "s\u0065q": 2}"#, "seq @ $"),
      (#"{"\ud83d\ude00": 1, "😀": 2}"#, "😀 @ $"),
      (#"{"x": {"k": 1}, "k": 2, "y": {"k": 3}}"#, nil),
      (#"{"x": [1, 2, {"a\\": 1, "a\\": 2}]}"#, #"a\ @ $.x[2]"#),
      (#"{"keypoints": {"LeftKnee": [0, 1, 2], "LeftKnee": [9, 9, 9]}}"#, "LeftKnee @ $.keypoints"),
      ("{\"caf\u{E9}\": 1, \"cafe\u{301}\": 2}", "café @ $"),
    ] as [(String, String?)])
  func finds(_ text: String, _ expected: String?) {
    let found = JSONDuplicateKeys.first(in: text).map { "\($0.key) @ \($0.path)" }
    #expect(found == expected)
  }

  @Test("the text a server would act on is what JSON readers disagree on")
  func readersDisagree() throws {
    struct Frame: Decodable { var seq: Int }
    let text = #"{"seq": 1, "seq": 9}"#
    // Why the check exists: two readers in Foundation itself take different values.
    let first = try JSONDecoder().decode(Frame.self, from: Data(text.utf8)).seq
    let last = try #require(
      try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Int])["seq"]
    #expect(first != last)
    #expect(JSONDuplicateKeys.first(in: text)?.description == #"the name "seq" occurs twice in $"#)
  }

  /// A random JSON value of at most `depth` levels, and whether some object in it repeats a
  /// name (names from a small pool, some written with escapes).
  static func randomValue(
    depth: Int, _ generator: inout some RandomNumberGenerator
  ) -> (text: String, repeats: Bool) {
    let names = [
      ("a", #""a""#), ("a", #""\u0061""#), ("b", #""b""#), ("é", #""\u00e9""#), ("é", "\"é\""),
    ]
    switch depth > 0 ? Int.random(in: 0..<4, using: &generator) : 2 {
    case 0:
      var seen = Set<String>()
      var repeats = false
      var members: [String] = []
      for _ in 0..<Int.random(in: 0..<4, using: &generator) {
        let name = names.randomElement(using: &generator) ?? names[0]
        if !seen.insert(name.0).inserted { repeats = true }
        let value = randomValue(depth: depth - 1, &generator)
        repeats = repeats || value.repeats
        members.append("\(name.1): \(value.text)")
      }
      return ("{" + members.joined(separator: ", ") + "}", repeats)
    case 1:
      var repeats = false
      var elements: [String] = []
      for _ in 0..<Int.random(in: 0..<4, using: &generator) {
        let value = randomValue(depth: depth - 1, &generator)
        repeats = repeats || value.repeats
        elements.append(value.text)
      }
      return ("[" + elements.joined(separator: ",") + "]", repeats)
    case 2: return (String(Int.random(in: -9...9, using: &generator)), false)
    default: return (#""{\"a\": 1, \"a\": 2}""#, false)
    }
  }

  @Test("random JSON: a repeated name is found exactly when an object has one")
  func randomJSON() throws {
    var generator = SystemRandomNumberGenerator()
    var repeating = 0
    for _ in 0..<3000 {
      let (text, repeats) = Self.randomValue(depth: 4, &generator)
      // Valid JSON, as the decoders that run first require.
      _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
      #expect((JSONDuplicateKeys.first(in: text) != nil) == repeats, "\(text)")
      if repeats { repeating += 1 }
    }
    #expect(repeating > 100)
  }

  /// An object of many names is scanned in one pass (a first version copied the set of names
  /// at every name: 32,000 names took 6 s, 200,000 would take minutes; now milliseconds).
  @Test(
    "an object of 200,000 names, one repeated at the end; a long name with control characters is cut and escaped in the message"
  )
  func manyNames() {
    var text = "{"
    for k in 0..<200_000 { text += "\"k\(k)\":0," }
    text += "\"k7\":1}"
    #expect(JSONDuplicateKeys.first(in: text) == .init(key: "k7", path: "$"))
    let long = String(repeating: "\\u0001", count: 500)
    let found = JSONDuplicateKeys.first(in: "{\"\(long)\":1,\"\(long)\":2}")
    #expect(found?.key.count == 500)
    let message = found?.description ?? ""
    #expect(
      message.count < 400 && message.contains("\\u{01}") && message.contains("…"), "\(message)")
  }

  @Test("any bytes at all: the scan ends and never traps")
  func anyBytes() {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array(#"{}[]":,\u0dD8eE 01a"#.utf8) + [0xFF, 0xC3, 0x00]
    for _ in 0..<20_000 {
      let count = Int.random(in: 0..<40, using: &generator)
      let bytes = (0..<count).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
      _ = bytes.withUnsafeBufferPointer { JSONDuplicateKeys.first(in: $0) }
    }
  }
}
