import Foundation
import OnTrackFormats
import Testing

@Suite("Stream frame JSON fast path")
struct ValuesFrameJSONTests {
  func parse(_ text: String, capacity: Int = 8) -> (ValuesFrameJSON.Header, [Float])? {
    var values = [Float](repeating: .nan, count: capacity)
    var copy = text
    guard let header = copy.withUTF8({ ValuesFrameJSON.parse($0, into: &values) }) else {
      return nil
    }
    return (header, values)
  }

  @Test("reads every number exactly as Swift's Double(String) does, in any key order and spacing")
  func agreesWithJSONSerialization() throws {
    var generator = SystemRandomNumberGenerator()
    for trial in 0..<300 {
      let count = Int.random(in: 0...8, using: &generator)
      let numbers = (0..<count).map { _ -> String in
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: return String(Int.random(in: -400...400, using: &generator))
        case 1: return String(format: "%.6f", Double.random(in: -720...720, using: &generator))
        case 2: return String(format: "%.3e", Double.random(in: -1e5...1e5, using: &generator))
        default: return "0"
        }
      }
      let space = [" ", "", "\n", "\t ", "\r\n"]
      func s() -> String { space.randomElement(using: &generator) ?? "" }
      let fields = [
        "\"seq\"\(s()):\(s())\(trial)",
        "\"t\":\(s())\(Double(trial) / 30)",
        "\"values\":\(s())[\(s())\(numbers.joined(separator: "\(s()),\(s())"))\(s())]",
      ].shuffled(using: &generator)
      let text = "\(s()){\(s())\(fields.joined(separator: "\(s()),\(s())"))\(s())}\(s())"
      let (header, values) = try #require(parse(text), "\(text)")
      // Valid JSON, and correctly rounded (Foundation's JSONSerialization is not always).
      #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil)
      #expect(header.seq == trial)
      #expect(header.time == Double(trial) / 30)
      let expected = numbers.compactMap { Double($0) }.map { Float($0) }
      #expect(header.count == expected.count)
      #expect(Array(values.prefix(expected.count)) == expected, "\(text)")
    }
  }

  @Test("anything but exactly seq, t and values in JSON is left to the full decoder")
  func strict() {
    let refused = [
      #"{"seq":1,"t":0,"values":[1,]}"#, #"{"seq":1.5,"t":0,"values":[1]}"#,
      #"{"seq":1,"t":0,"values":[01]}"#, #"{"seq":1,"t":0,"values":[+1]}"#,
      #"{"seq":1,"t":0,"values":[.5]}"#, #"{"seq":1,"t":0,"values":[1.]}"#,
      #"{"seq":1,"t":0,"values":[1e]}"#, #"{"seq":1,"t":0,"values":[NaN]}"#,
      #"{"seq":1,"t":0,"values":[1],"root":[0,0,0]}"#, #"{"seq":1,"t":0}"#,
      #"{"seq":1,"seq":2,"values":[1]}"#, #"{"seq":1,"t":0,"values":[1]} x"#,
      #"{"se\u0071":1,"t":0,"values":[1]}"#, #"{"seq":"1","t":0,"values":[1]}"#,
      #"{"seq":1,"t":0,"values":[[1]]}"#, #"{"seq":1,"t":0,"values":[1]"#, "", "{}",
      #"{"seq":1,"t":0,"values":[1e999]}"#,
    ]
    for text in refused {
      #expect(parse(text) == nil, "\(text)")
    }
  }

  @Test("numbers past the fast path (long mantissas, large exponents, -0) read as Double(String)")
  func beyondTheFastPath() throws {
    let numbers = [
      "123456789012345678901234.5", "-0.00000000000000000000000000123456789", "9007199254740993",
      "1.7976931348623157e308", "4.9e-324", "1e-400", "-0", "0.1e23", "12345678901234567890e-30",
      "3.14159265358979323846264338327950288",
    ]
    let text = #"{"seq":7,"t":1e0,"values":["# + numbers.joined(separator: ",") + "]}"
    let (header, values) = try #require(parse(text, capacity: numbers.count))
    #expect(header == .init(seq: 7, time: 1, count: numbers.count))
    let expected = numbers.compactMap { Double($0) }.map { Float($0) }
    #expect(values == expected)
    #expect(values[6].sign == .minus)
    // And to the last bit of a Double, read as `t`.
    for number in numbers {
      let (header, _) = try #require(parse(#"{"seq":0,"t":"# + number + #","values":[]}"#))
      #expect(header.time.bitPattern == Double(number)?.bitPattern, "\(number)")
    }
  }

  @Test("more values than the buffer holds are counted, not written past it")
  func overlong() throws {
    let (header, values) = try #require(
      parse(#"{"seq":3,"t":0.5,"values":[1,2,3,4,5]}"#, capacity: 2))
    #expect(header == .init(seq: 3, time: 0.5, count: 5))
    #expect(values == [1, 2])
  }
}
