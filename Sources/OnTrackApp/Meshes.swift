import Foundation

/// Vertex data (position, normal interleaved) of the shapes the mannequin is made of.
enum Meshes {
  /// A unit sphere (radius 1) as an indexed triangle list.
  static func sphere(rings: Int = 8, segments: Int = 14) -> (vertices: [Float], indices: [UInt16]) {
    var vertices: [Float] = []
    var indices: [UInt16] = []
    for r in 0...rings {
      let theta = Float(r) / Float(rings) * .pi
      for s in 0...segments {
        let phi = Float(s) / Float(segments) * 2 * .pi
        let n = SIMD3(sin(theta) * cos(phi), cos(theta), sin(theta) * sin(phi))
        vertices += [n.x, n.y, n.z, n.x, n.y, n.z]
      }
    }
    let row = segments + 1
    for r in 0..<rings {
      for s in 0..<segments {
        let a = UInt16(r * row + s)
        let b = UInt16((r + 1) * row + s)
        indices += [a, a + 1, b, b, a + 1, b + 1]
      }
    }
    return (vertices, indices)
  }

  /// An open unit cylinder: radius 1 around +Y, from y = 0 to y = 1 (the ends are covered by
  /// the joint spheres, which makes each limb a capsule).
  static func cylinder(segments: Int = 14) -> (vertices: [Float], indices: [UInt16]) {
    var vertices: [Float] = []
    var indices: [UInt16] = []
    for s in 0...segments {
      let phi = Float(s) / Float(segments) * 2 * .pi
      let x = cos(phi)
      let z = sin(phi)
      vertices += [x, 0, z, x, 0, z, x, 1, z, x, 0, z]
    }
    for s in 0..<segments {
      let a = UInt16(2 * s)
      indices += [a, a + 1, a + 2, a + 2, a + 1, a + 3]
    }
    return (vertices, indices)
  }
}
