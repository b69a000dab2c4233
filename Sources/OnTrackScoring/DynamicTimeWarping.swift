/// Rows of feature vectors laid out for the DTW inner loop: row-major, each row padded with
/// zeros to a multiple of eight floats so the squared distance runs in whole `SIMD8` lanes.
public struct DTWMatrix: Sendable {
  public private(set) var values: [Float]
  public let rows: Int
  /// The number of real features per row.
  public let width: Int
  /// Floats per stored row (`width` rounded up to a multiple of 8).
  public let stride: Int

  /// Copies `rows` rows of `width` features from `source` (row-major).
  public init(rows: Int, width: Int, source: UnsafeBufferPointer<Float>) {
    precondition(source.count >= rows * width)
    self.rows = rows
    self.width = width
    self.stride = max(8, (width + 7) & ~7)
    var values = [Float](repeating: 0, count: rows * stride)
    for r in 0..<rows {
      for c in 0..<width { values[r * stride + c] = source[r * width + c] }
    }
    self.values = values
  }

  public init(rows: Int, width: Int, values source: [Float]) {
    self = source.withUnsafeBufferPointer { DTWMatrix(rows: rows, width: width, source: $0) }
  }

  /// An empty matrix with room for `capacity` rows of `width` features, for streaming use.
  public init(capacity: Int, width: Int) {
    self.rows = capacity
    self.width = width
    self.stride = max(8, (width + 7) & ~7)
    self.values = [Float](repeating: 0, count: capacity * stride)
  }

  /// Gives write access to the first `width` floats of row `r` (no allocation).
  public mutating func withRow<R>(_ r: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> R) -> R {
    let start = r * stride
    return values.withUnsafeMutableBufferPointer { v in
      body(UnsafeMutableBufferPointer(rebasing: v[start..<(start + width)]))
    }
  }
}

/// Squared Euclidean distance between two padded rows.
@inline(__always)
func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, stride: Int) -> Float {
  var sum = SIMD8<Float>()
  var k = 0
  while k < stride {
    let d =
      UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self)
      - UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
    sum += d * d
    k += 8
  }
  return sum.sum()
}

/// Multivariate dynamic time warping with a Sakoe–Chiba band.
///
/// Local cost: squared Euclidean distance between feature rows. Steps: diagonal, up, left, all
/// weight 1: `D(i, j) = d(i, j) + min(D(i−1, j−1), D(i−1, j), D(i, j−1))`, `D(0, 0) = d(0, 0)`.
/// `distance` returns `sqrt(D(n−1, m−1))`, the definition `DTW_SQEUC_SYM1` of the reference
/// peers (dtaidistance's default). Band of radius R: cell (i, j) is allowed iff
/// `i − R − max(0, n−m) ≤ j ≤ i + R + max(0, m−n)`, widened by the length difference so the end
/// is reachable (dtaidistance's `window = R + 1`). `radius: nil` is no band.
///
/// The workspace is kept between calls: after the first call with the largest sizes, neither
/// `distance` nor `align` allocates (except `align`'s returned path).
public struct DynamicTimeWarping: Sendable {
  private var previousRow: [Float] = []
  private var currentRow: [Float] = []
  private var band: [Float] = []
  private var rowStart: [Int] = []
  private var rowLow: [Int] = []

  public init() {}

  /// The band's column range for row `i`.
  @inline(__always)
  static func columns(row i: Int, n: Int, m: Int, radius: Int?) -> (low: Int, high: Int) {
    guard let radius else { return (0, m - 1) }
    let low = max(0, i - radius - max(0, n - m))
    let high = min(m - 1, i + radius + max(0, m - n))
    return (low, high)
  }

  /// `sqrt(D(n−1, m−1))`, or `.infinity` if either sequence is empty.
  public mutating func distance(_ a: DTWMatrix, _ b: DTWMatrix, radius: Int? = nil) -> Float {
    accumulatedCost(a, aRows: a.rows, b, bRows: b.rows, radius: radius).squareRoot()
  }

  /// `D(n−1, m−1)` over the first `aRows` rows of `a` and `bRows` rows of `b`; with
  /// `openEnd`, the path may end as soon as either sequence is used up:
  /// `min(min over j of D(n−1, j), min over i of D(i, m−1))` — all of `a` against the prefix
  /// of `b` it fits best (`a` may be the start of something as long as `b`, at any tempo), or
  /// all of `b` against a prefix of `a` (`a` may hold `b` and more: the start of what follows).
  /// Both are sums over at least `min(n, m)` cells, each a whole sequence's worth.
  public mutating func accumulatedCost(
    _ a: DTWMatrix, aRows n: Int, _ b: DTWMatrix, bRows m: Int, radius: Int? = nil,
    openEnd: Bool = false
  ) -> Float {
    precondition(a.stride == b.stride, "feature widths differ")
    guard n > 0, m > 0 else { return .infinity }
    if previousRow.count < m {
      previousRow = [Float](repeating: .infinity, count: m)
      currentRow = [Float](repeating: .infinity, count: m)
    }
    let stride = a.stride
    return a.values.withUnsafeBufferPointer { av in
      b.values.withUnsafeBufferPointer { bv in
        previousRow.withUnsafeMutableBufferPointer { prevBuffer in
          currentRow.withUnsafeMutableBufferPointer { curBuffer in
            guard let ab = av.baseAddress, let bb = bv.baseAddress,
              var prev = prevBuffer.baseAddress, var cur = curBuffer.baseAddress
            else { return .infinity }
            var previousLow = 0
            var previousHigh = -1
            var lastColumn = Float.infinity
            for i in 0..<n {
              let (low, high) = Self.columns(row: i, n: n, m: m, radius: radius)
              let ai = ab + i * stride
              var left = Float.infinity
              for j in low...high {
                let d = squaredDistance(ai, bb + j * stride, stride: stride)
                var best = left
                if i == 0 && j == 0 {
                  best = 0
                } else if i > 0 {
                  if j >= previousLow && j <= previousHigh { best = min(best, prev[j]) }
                  if j > previousLow && j - 1 <= previousHigh { best = min(best, prev[j - 1]) }
                }
                left = d + best
                cur[j] = left
              }
              if high == m - 1 { lastColumn = min(lastColumn, left) }
              swap(&prev, &cur)
              previousLow = low
              previousHigh = high
            }
            guard openEnd else { return prev[m - 1] }
            var best = lastColumn
            for j in previousLow...previousHigh { best = min(best, prev[j]) }
            return best
          }
        }
      }
    }
  }

  /// The optimal warping path from (0, 0) to (n−1, m−1), as (row of `a`, row of `b`) pairs in
  /// order, and its accumulated cost `D(n−1, m−1)`.
  public mutating func align(
    _ a: DTWMatrix, aRows n: Int, _ b: DTWMatrix, bRows m: Int, radius: Int? = nil
  ) -> (path: [(Int, Int)], cost: Float) {
    precondition(a.stride == b.stride, "feature widths differ")
    guard n > 0, m > 0 else { return ([], .infinity) }
    if rowStart.count < n + 1 {
      rowStart = [Int](repeating: 0, count: n + 1)
      rowLow = [Int](repeating: 0, count: n)
    }
    var total = 0
    for i in 0..<n {
      let (low, high) = Self.columns(row: i, n: n, m: m, radius: radius)
      rowStart[i] = total
      rowLow[i] = low
      total += high - low + 1
    }
    rowStart[n] = total
    if band.count < total { band = [Float](repeating: 0, count: total) }
    let stride = a.stride
    let starts = rowStart
    let lows = rowLow
    func cell(_ cells: UnsafeBufferPointer<Float>, _ i: Int, _ j: Int) -> Float {
      Self.cell(cells, starts, lows, i, j)
    }
    // Fill the band row by row.
    a.values.withUnsafeBufferPointer { av in
      b.values.withUnsafeBufferPointer { bv in
        band.withUnsafeMutableBufferPointer { cells in
          guard let ab = av.baseAddress, let bb = bv.baseAddress else { return }
          for i in 0..<n {
            let low = lows[i]
            let high = low + starts[i + 1] - starts[i] - 1
            let ai = ab + i * stride
            var left = Float.infinity
            for j in low...high {
              let d = squaredDistance(ai, bb + j * stride, stride: stride)
              var best = left
              if i == 0 && j == 0 {
                best = 0
              } else if i > 0 {
                let done = UnsafeBufferPointer(cells)
                best = min(best, cell(done, i - 1, j), cell(done, i - 1, j - 1))
              }
              left = d + best
              cells[starts[i] + j - low] = left
            }
          }
        }
      }
    }
    // Walk back from the end, preferring the diagonal on ties.
    var path: [(Int, Int)] = []
    path.reserveCapacity(n + m)
    var i = n - 1
    var j = m - 1
    let cost = band.withUnsafeBufferPointer { cells in cell(cells, n - 1, m - 1) }
    band.withUnsafeBufferPointer { cells in
      path.append((i, j))
      while i > 0 || j > 0 {
        let diagonal = i > 0 && j > 0 ? cell(cells, i - 1, j - 1) : .infinity
        let up = i > 0 ? cell(cells, i - 1, j) : .infinity
        let left = j > 0 ? cell(cells, i, j - 1) : .infinity
        if diagonal <= up && diagonal <= left {
          i -= 1
          j -= 1
        } else if up <= left {
          i -= 1
        } else {
          j -= 1
        }
        path.append((i, j))
      }
    }
    path.reverse()
    return (path, cost)
  }

  /// D(i, j) from the band storage, `.infinity` outside the band.
  @inline(__always)
  private static func cell(
    _ cells: UnsafeBufferPointer<Float>, _ starts: [Int], _ lows: [Int], _ i: Int, _ j: Int
  ) -> Float {
    guard i >= 0, j >= 0 else { return .infinity }
    let low = lows[i]
    let width = starts[i + 1] - starts[i]
    guard j >= low, j < low + width else { return .infinity }
    return cells[starts[i] + j - low]
  }
}
