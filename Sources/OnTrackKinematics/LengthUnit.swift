import Foundation

/// The length unit of a motion file. The core works in metres; readers convert on the way in and
/// writers convert back, so a file keeps its own unit through a round trip.
public struct LengthUnit: Hashable, Sendable, Codable, CustomStringConvertible {
  /// A short name such as `"cm"`.
  public var name: String
  /// How many metres one file unit is.
  public var metres: Double

  public init(name: String, metres: Double) {
    self.name = name
    self.metres = metres
  }

  public static let metre = LengthUnit(name: "m", metres: 1)
  public static let centimetre = LengthUnit(name: "cm", metres: 0.01)
  public static let millimetre = LengthUnit(name: "mm", metres: 0.001)
  public static let inch = LengthUnit(name: "in", metres: 0.0254)
  /// The unit of CMU BVH conversions (cgspeed, MotionBuilder): the ASF length scale 0.45 means
  /// one unit is 1/0.45 inch, about 5.64 cm; CMU figures are ~25 such units from toe to head.
  public static let cmu = LengthUnit(name: "cmu", metres: 0.0254 / 0.45)

  /// The units a file is likely to be in, tried by `guess(fromExtent:)`.
  public static let candidates: [LengthUnit] = [.metre, .centimetre, .millimetre, .inch, .cmu]

  /// The candidate unit under which a human figure whose largest rest-pose extent is `extent`
  /// file units comes closest to 1.6 m (a T-pose spans about the body height). Metres if the
  /// extent is zero or not finite.
  public static func guess(fromExtent extent: Double) -> LengthUnit {
    guard extent > 0, extent.isFinite else { return .metre }
    return candidates.min { a, b in
      abs(log(extent * a.metres / 1.6)) < abs(log(extent * b.metres / 1.6))
    } ?? .metre
  }

  public var description: String { name }
}
