import Foundation
import OnTrackKinematics

/// A live stream of keypoint frames (named points, as the WebSocket `keypoints` frame and the
/// camera helper send them) solved frame by frame onto a skeleton: the same conversion and
/// solver as a keypoint file (`KeypointTake.solved`) without its look-ahead gap filling, so a
/// stream and the same frames from a file score the same.
///
/// The layout is fixed at creation, or taken from the first frame that names one or whose
/// point names tell it; a frame naming another layout is refused.
public struct KeypointStream: Sendable {
  /// Why a frame was not taken.
  public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The frame names a layout other than the stream's.
    case layoutMismatch(given: String, stream: String)
    case unknownLayout(String)
    /// None of the frame's points belongs to the layout (or no layout could be told).
    case noKnownPoints(String)
    /// A point is not three finite numbers within ±10⁴ units.
    case badPoint(String)

    public var description: String {
      switch self {
      case .layoutMismatch(let given, let stream):
        "layout '\(given)' differs from this session's '\(stream)'"
      case .unknownLayout(let id):
        "unknown keypoint layout '\(id.prefix(40))' (known: \(KeypointLayout.ids.joined(separator: ", ")))"
      case .noKnownPoints(let message): message
      case .badPoint(let name):
        "point '\(name.prefix(40))' must be [x, y, z], finite, within ±10000"
      }
    }
  }

  public private(set) var layout: KeypointLayout?
  public private(set) var solver: KeypointSolver
  /// The layout's unit and the unit taken instead, when the body's size showed the layout's
  /// wrong (`KeypointConverter.unitCorrected`): a Kinect's millimetres sent as metres.
  public var unitCorrected: (given: Double, taken: Double)? { converter?.unitCorrected }
  /// The points came the wrong way up for a layout whose axes are assumed (`named`) and are
  /// read with another axis up (`KeypointConverter.turnedUpright`, `upAxis`).
  public var turnedUpright: Bool { converter?.turnedUpright ?? false }
  /// What was read otherwise than given, in words (`KeypointConverter.readingNotes`).
  public var readingNotes: [String] { converter?.readingNotes ?? [] }
  /// The points are a mirror image of a body, read with x negated
  /// (`KeypointConverter.mirrored`).
  public var mirrored: Bool { converter?.mirrored ?? false }
  /// How many times the reading changed (`KeypointConverter.readingChanges`).
  public var readingChanges: Int { converter?.readingChanges ?? 0 }
  /// The posture the stream should start in (its exercise's reference's), when known
  /// (`KeypointConverter.startPosture`).
  public let startPosture: BodyPosture?
  /// The layout id given at creation, if any.
  private let fixedID: String?
  private var converter: KeypointConverter?
  private var index: [String: Int] = [:]
  private var positions: [SIMD3<Float>?] = []
  private var scores: [Float] = []
  private var frame = KeypointFrame()

  /// - Parameters:
  ///   - skeleton: the skeleton poses are solved onto (canonical names).
  ///   - layout: a layout id, or `nil` to take it from the first frame.
  public init(skeleton: Skeleton, layout id: String?, startPosture: BodyPosture? = nil)
    throws(Refusal)
  {
    solver = KeypointSolver(skeleton: skeleton)
    self.startPosture = startPosture
    if let id, !KeypointLayout.ids.contains(id) { throw .unknownLayout(id) }
    fixedID = id
  }

  private mutating func adopt(_ layout: KeypointLayout) {
    self.layout = layout
    converter = KeypointConverter(layout: layout, startPosture: startPosture)
    solver.correctsDepthScale = layout.depthIsEstimated
    index = Dictionary(layout.names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    positions = [SIMD3<Float>?](repeating: nil, count: layout.names.count)
    scores = [Float](repeating: 1, count: layout.names.count)
  }

  /// Solves one frame at `time` seconds into `pose`. `points`: name → `[x, y, z]` (`nil`:
  /// missing); `confidence`: name → 0…1; `layout`: the layout the frame says it is in.
  /// Returns false while nothing can be solved yet (no hips or shoulders seen, or the unit
  /// not yet known); `pose` is then unchanged.
  public mutating func push(
    points: [String: [Double]?], confidence: [String: Double]?, layout given: String?,
    time: Double, into pose: inout Pose
  ) throws(Refusal) -> Bool {
    if let given, let layout, given != layout.id {
      throw .layoutMismatch(given: given, stream: layout.id)
    }
    if let given, let fixedID, given != fixedID {
      throw .layoutMismatch(given: given, stream: fixedID)
    }
    if layout == nil {
      let names = points.keys.sorted()
      let found: KeypointLayout?
      if let id = fixedID ?? given {
        guard KeypointLayout.ids.contains(id) else { throw .unknownLayout(id) }
        found = KeypointLayout.named(id, names: names)
      } else {
        found = KeypointLayout.recognise(names)
      }
      guard let found else {
        throw .noKnownPoints(
          "cannot tell the keypoint layout from the names; send \"layout\" (\(KeypointLayout.ids.joined(separator: ", ")))"
        )
      }
      adopt(found)
    }
    guard let layout else { return false }
    for k in positions.indices {
      positions[k] = nil
      scores[k] = 1
    }
    var known = 0
    for (name, value) in points {
      guard let k = index[name] else { continue }
      known += 1
      guard let value else { continue }
      guard value.count == 3, value.allSatisfy({ $0.isFinite && abs($0) <= 1e4 }) else {
        throw .badPoint(name)
      }
      positions[k] = SIMD3(Float(value[0]), Float(value[1]), Float(value[2]))
    }
    guard known > 0 else {
      throw .noKnownPoints("none of the points belongs to the \(layout.id) layout")
    }
    if let confidence {
      for (name, c) in confidence {
        if let k = index[name] { scores[k] = c.isFinite ? Float(min(max(c, 0), 1)) : 0 }
      }
    }
    guard var converter else { return false }
    // Taken out while it works, so that its buffers are not shared and nothing is copied.
    self.converter = nil
    let converted = converter.convert(
      positions: positions, confidence: confidence == nil ? nil : scores, into: &frame)
    self.converter = converter
    guard converted else { return false }
    return solver.solve(frame, at: time, into: &pose)
  }
}
