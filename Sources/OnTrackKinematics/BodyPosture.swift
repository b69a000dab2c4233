import Foundation

/// How a body lies or stands, read from its trunk: how vertical the trunk (pelvis centre →
/// neck) is and how vertical the chest's normal (trunk × hip line) is, each `|cos|` of its
/// angle to +Y, 0…1. Standing or sitting: about (1, 0); lying on the back or front: (0, 1); on
/// a side: (0, 0). `distance` reads neither sign, so facing the camera or away, on the back or
/// the front, are alike; `signedDistance` reads both (`trunkRise`, `chestRise`).
public struct BodyPosture: Sendable, Equatable {
  public var trunkUp: Float
  public var chestUp: Float
  /// The same with their signs: the trunk's direction's y (above the pelvis: > 0) and the
  /// chest's normal's (facing up, as lying on the back: > 0), −1…1. `distance` does not read
  /// them; `signedDistance` does.
  public var trunkRise: Float
  public var chestRise: Float

  /// From the sizes alone: taken as upright, chest up (`trunkRise`, `chestRise` ≥ 0).
  public init(trunkUp: Float, chestUp: Float) {
    self.trunkUp = trunkUp
    self.chestUp = chestUp
    trunkRise = trunkUp
    chestRise = chestUp
  }

  /// From the hips' and the neck's positions (metres, Y up).
  public init(leftHip: SIMD3<Float>, rightHip: SIMD3<Float>, neck: SIMD3<Float>) {
    self.init(trunk: neck - (leftHip + rightHip) * 0.5, hipLine: leftHip - rightHip)
  }

  /// From the trunk's direction (pelvis centre → neck) and the hip line (right → left); a
  /// degenerate one gives 0 for what it cannot tell.
  public init(trunk: SIMD3<Float>, hipLine: SIMD3<Float>) {
    func unit(_ v: SIMD3<Float>) -> SIMD3<Float>? {
      let n = length(v)
      return n > 1e-6 && n.isFinite ? v / n : nil
    }
    let t = unit(trunk)
    var chest: SIMD3<Float>?
    if let t, let h = unit(hipLine) { chest = unit(cross(h, t)) }
    self.init(trunkUp: Swift.abs(t?.y ?? 0), chestUp: Swift.abs(chest?.y ?? 0))
    trunkRise = t?.y ?? 0
    chestRise = chest?.y ?? 0
  }

  /// `|Δ trunkUp| + |Δ chestUp|`: 0 alike, 2 for standing against lying on the back.
  public func distance(to other: BodyPosture) -> Float {
    Swift.abs(trunkUp - other.trunkUp) + Swift.abs(chestUp - other.chestUp)
  }

  /// `|Δ trunkRise| + |Δ chestRise|`: 0 alike, 2 for standing against lying on the back or
  /// standing on the head, 2 for lying on the back against on the front.
  public func signedDistance(to other: BodyPosture) -> Float {
    Swift.abs(trunkRise - other.trunkRise) + Swift.abs(chestRise - other.chestRise)
  }
}
