/// Fast fixed-point number output for writers (String(format:) is slow and locale-bound).
public enum NumberFormatting {
  /// Appends `value` with exactly `decimals` digits after the point (`-0.500000`); "0" digits
  /// for values that round to zero keep their sign off (`0.000000`, never `-0.000000`).
  public static func appendFixed(_ value: Double, decimals: Int, to out: inout [UInt8]) {
    guard value.isFinite else {
      out.append(contentsOf: Array("nan".utf8))
      return
    }
    var scale: Double = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else {
      out.append(contentsOf: Array("\(value)".utf8))
      return
    }
    var integer = UInt64(scaled)
    if value < 0 && integer != 0 { out.append(UInt8(ascii: "-")) }
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { digits in
      var k = 0
      repeat {
        digits[k] = UInt8(48 + integer % 10)
        integer /= 10
        k += 1
      } while (integer > 0 || k <= decimals) && k < 48
      for i in stride(from: k - 1, through: 0, by: -1) {
        out.append(digits[i])
        if i == decimals && decimals > 0 { out.append(UInt8(ascii: ".")) }
      }
    }
  }

  /// Appends the shortest decimal that reads back as the same `Double`.
  public static func appendShortest(_ value: Double, to out: inout [UInt8]) {
    out.append(contentsOf: value.description.utf8)
  }
}
