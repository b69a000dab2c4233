import OnTrackFormats

/// One frame a client streams into a session (`Schemas/frame.schema.json`):
///
/// ```json
/// { "seq": 12, "t": 0.4, "values": [ … ] }
/// { "seq": 13, "t": 0.433, "rotations": { "Hips": [0, 0, 0, 1], … }, "root": [0, 0.93, 0] }
/// { "seq": 14, "t": 0.466, "euler": { "order": "zxy", "degrees": { "LeftArm": [10, 80, 0] } } }
/// { "seq": 15, "t": 0.5, "layout": "blazepose33",
///   "keypoints": { "left_knee": [0.1, -0.45, 0.02], … }, "confidence": { "left_knee": 0.98 } }
/// ```
///
/// `seq` counts frames (strictly increasing, 0 … 2⁵³), `t` is seconds (strictly increasing).
/// Exactly one of `values` (the session skeleton's channel values, degrees and its length
/// unit, in BVH channel order), `rotations` (local quaternions x, y, z, w per joint name) or
/// `euler` (local Euler angles in degrees per joint name, intrinsic `order`). `root` (metres)
/// moves the root for the named-joint forms. Joints not named keep their rest pose. A session
/// created on the `keypoints` skeleton takes `keypoints` instead: 3-D positions per point name
/// of a `KeypointLayout` (`null` = not seen), optional `confidence` per point (0…1) and
/// `layout` (the session's, if it has one); the server solves them onto the canonical skeleton.
public struct StreamFrame: Codable, Sendable, Equatable {
  public var seq: Int
  public var t: Double
  public var values: [Double]?
  public var rotations: [String: [Double]]?
  public var euler: EulerAngles?
  public var root: [Double]?
  public var keypoints: [String: [Double]?]?
  public var confidence: [String: Double]?
  public var layout: String?

  /// Local Euler angles per joint, degrees, in one intrinsic order.
  public struct EulerAngles: Codable, Sendable, Equatable {
    public var order: String
    public var degrees: [String: [Double]]

    public init(order: String, degrees: [String: [Double]]) {
      self.order = order
      self.degrees = degrees
    }
  }

  /// The largest sequence number and the largest |t| a frame may carry: 2⁵³, the largest
  /// integer every JSON reader holds exactly (JavaScript's `Number.MAX_SAFE_INTEGER` + 1).
  /// Counting on from here can never overflow an `Int`.
  public static let maximumSeq = 1 << 53

  public init(
    seq: Int, t: Double, values: [Double]? = nil, rotations: [String: [Double]]? = nil,
    euler: EulerAngles? = nil, root: [Double]? = nil, keypoints: [String: [Double]?]? = nil,
    confidence: [String: Double]? = nil, layout: String? = nil
  ) {
    self.seq = seq
    self.t = t
    self.values = values
    self.rotations = rotations
    self.euler = euler
    self.root = root
    self.keypoints = keypoints
    self.confidence = confidence
    self.layout = layout
  }

  /// `{"seq":N,"t":T,"values":[…]}`, the commonest frame, written without a JSON encoder
  /// (times to the microsecond, values to 1/1000 of a degree or length unit). The server reads
  /// it back on its fast path (`ValuesFrameJSON`).
  public static func valuesJSON(seq: Int, time: Double, values: [Float]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(32 + values.count * 9)
    out.append(contentsOf: #"{"seq":"#.utf8)
    out.append(contentsOf: String(seq).utf8)
    out.append(contentsOf: #","t":"#.utf8)
    NumberFormatting.appendFixed(time, decimals: 6, to: &out)
    out.append(contentsOf: #","values":["#.utf8)
    for (k, v) in values.enumerated() {
      if k > 0 { out.append(UInt8(ascii: ",")) }
      NumberFormatting.appendFixed(Double(v), decimals: 3, to: &out)
    }
    out.append(contentsOf: "]}".utf8)
    return String(decoding: out, as: UTF8.self)
  }
}
