/// How a skeleton maps onto its own mirror image: which joint is each joint's left/right
/// counterpart, and which axis of the rig's rest frame points left–right.
///
/// Counterparts are found by name: `Left`/`Right` anywhere (`LeftUpLeg`, `mixamorig:LeftArm`,
/// `HipLeft`), a single `L`/`R` (or `l`/`r`) prefix before the rest of the name (`LHipJoint`,
/// `lhip`), and `_L`/`_R`, `.L`/`.R`, `.l`/`.r`, `_l`/`_r` suffixes (`UpperArm_L`, `eye.l`).
/// A pair is kept only if each names the other; joints on the midline are their own
/// counterpart. End Sites follow their owners.
///
/// The rest-frame axis is the one whose reflection best maps each joint's offset onto its
/// counterpart's (X for CMU-style rigs, whatever the rig uses for Maya-style ones).
public struct SkeletonMirror: Hashable, Sendable {
  /// `counterparts[j]` is the joint that plays `j`'s role on the other side (`j` on the midline).
  public let counterparts: [Int]
  /// The rest-frame axis (0 = X, 1 = Y, 2 = Z) that the rig's left–right reflection negates.
  public let restAxis: Int
  /// The number of left/right pairs found.
  public var pairCount: Int { counterparts.enumerated().count { $0.offset < $0.element } }

  public init(skeleton: Skeleton) {
    let joints = skeleton.joints
    var counterparts = Array(joints.indices)
    for (index, joint) in joints.enumerated() where !joint.isEndSite {
      for candidate in SkeletonMirror.counterpartNames(of: joint.name) {
        if let other = skeleton.index(of: candidate), other != index,
          !joints[other].isEndSite,
          SkeletonMirror.counterpartNames(of: candidate).contains(joint.name)
        {
          counterparts[index] = other
          break
        }
      }
    }
    // End Sites: the k-th End Site child of a joint pairs with the k-th of its counterpart.
    for (index, joint) in joints.enumerated() where joint.isEndSite {
      guard let owner = joint.parent else { continue }
      let mine = skeleton.children(of: owner).filter { joints[$0].isEndSite }
      let theirs = skeleton.children(of: counterparts[owner]).filter { joints[$0].isEndSite }
      if let k = mine.firstIndex(of: index), k < theirs.count { counterparts[index] = theirs[k] }
    }
    self.counterparts = counterparts
    var bestAxis = 0
    var bestError = Float.infinity
    for axis in 0..<3 {
      var flip = SIMD3<Float>(repeating: 1)
      flip[axis] = -1
      var error: Float = 0
      for (index, joint) in joints.enumerated() where joint.parent != nil {
        error += length(joints[counterparts[index]].offset - flip * joint.offset)
      }
      if error < bestError {
        bestError = error
        bestAxis = axis
      }
    }
    self.restAxis = bestAxis
  }

  /// Names that `name` could have on the other side, most specific rule first.
  public static func counterpartNames(of name: String) -> [String] {
    var names: [String] = []
    let swaps = [("Left", "Right"), ("left", "right"), ("LEFT", "RIGHT")]
    for (a, b) in swaps {
      if name.contains(a) { names.append(name.replacingAll(a, with: b)) }
      if name.contains(b) { names.append(name.replacingAll(b, with: a)) }
    }
    for (a, b) in [("_L", "_R"), ("_l", "_r"), (".L", ".R"), (".l", ".r")] {
      if name.hasSuffix(a) { names.append(String(name.dropLast(a.count)) + b) }
      if name.hasSuffix(b) { names.append(String(name.dropLast(b.count)) + a) }
    }
    for (a, b) in [("L", "R"), ("l", "r")] {
      if name.hasPrefix(a) { names.append(b + name.dropFirst(a.count)) }
      if name.hasPrefix(b) { names.append(a + name.dropFirst(b.count)) }
    }
    return names
  }
}

extension String {
  fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

extension Clip {
  /// The motion reflected across the world's vertical plane normal to `lateralAxis` (default X),
  /// performed by the same body: left and right joints swap their motion.
  ///
  /// With `Mw` the world reflection and `Mr` the rig's rest-frame reflection (`SkeletonMirror`),
  /// local rotations become `Mr·R·Mr`, the root's becomes `Mw·R·Mr`, translations of joints with
  /// position channels `Mr·t` (the root's `Mw·t`), each written to the counterpart joint.
  /// Joints without position channels keep this skeleton's offsets. Mirroring twice gives the
  /// original clip back.
  public func mirrored(lateralAxis: Int = 0, mirror: SkeletonMirror? = nil) -> Clip {
    let mirror = mirror ?? SkeletonMirror(skeleton: skeleton)
    let n = skeleton.count
    let restAxis = mirror.restAxis
    let worldAxis = min(max(lateralAxis, 0), 2)
    var restFlip = SIMD3<Float>(repeating: 1)
    restFlip[restAxis] = -1
    var worldFlip = SIMD3<Float>(repeating: 1)
    worldFlip[worldAxis] = -1
    // Conjugating by a reflection across the plane normal to axis a keeps the a component of
    // the quaternion's imaginary part and negates the other two.
    let restConjugation = SIMD4<Float>(-restFlip, 1)
    // Mw·Mr is a half turn about the axis that neither reflects (identity if they agree).
    var halfTurn = Quaternion.identity
    if worldAxis != restAxis {
      var axis = SIMD3<Float>.zero
      axis[3 - worldAxis - restAxis] = 1
      halfTurn = Quaternion(real: 0, imaginary: axis)
    }
    let hasPosition = skeleton.joints.map { $0.channels.contains(where: \.isPosition) }
    var newRotations = rotations
    var newTranslations = translations
    for f in 0..<frameCount {
      let base = f * n
      for j in 0..<n {
        let target = base + mirror.counterparts[j]
        let conjugated = Quaternion(rotations[base + j].components * restConjugation)
        if skeleton.parentIndices[j] < 0 {
          newRotations[target] = halfTurn * conjugated
          newTranslations[target] = worldFlip * translations[base + j]
        } else {
          newRotations[target] = conjugated
          if hasPosition[j] {
            newTranslations[target] = restFlip * translations[base + j]
          }
        }
      }
    }
    return Clip(
      validatedSkeleton: skeleton, frameTime: frameTime, rotations: newRotations,
      translations: newTranslations)
  }
}
