import Foundation
import OnTrackKinematics

/// Joint centres from optical skin markers: Vicon's Plug-in-Gait (PiG) full-body marker set, as
/// UI-PRMD's Vicon recordings use, and the OpenSim marker sets that share its landmarks.
///
/// A marker sits on the skin over a bony landmark, not at the joint: the hip joint is deep in
/// the pelvis, the knee's centre half a knee-width inside its lateral marker. The model below
/// estimates each centre from published formulas (written from the papers and the Vicon
/// guide's definitions; checked against pyCGM and pyCGM2 to < 10⁻⁴ mm, no code copied):
///
/// - **Pelvis frame** (Kadaba 1990): origin mid-ASIS, y = RASI → LASI, x = mid-ASIS − sacrum
///   (mid-PSIS or `SACR`) made orthogonal to y (forward), z = x × y (up).
/// - **Hip centres** (Harrington et al. 2007, J Biomech 40:595), in that frame, from pelvis
///   width PW = |LASI − RASI| and depth PD = |mid-ASIS − sacrum| (take constants, millimetres),
///   with the skin-marker correction of Sangeux 2015 (marker diameter d = 14, base plate b = 2):
///   `x = −0.24 (PD − d − b) − 9.9 − (d/2 + b)`, `y = ±(0.33 PW + 7.3)`, `z = −0.30 PW − 10.9`.
/// - **Knee and ankle** (PiG "chord"): the centre J lies in the plane of a wand marker (THI,
///   TIB), the proximal centre and the lateral marker M, at `|J − M| = width/2 + d/2` with the
///   angle M–J–proximal a right angle (`chord`). Knee width 100 mm and ankle width 70 mm
///   (adult defaults; UI-PRMD publishes no subject measurements). With a medial marker (OpenSim
///   static trials) the centre is the mid-point; without the wand, the lateral marker moved
///   medially along the pelvis's y axis made orthogonal to the segment.
/// - **Thorax** (PiG): z = mid(STRN, T10) → mid(CLAV, C7), x = mid(C7, T10) → mid(CLAV, STRN)
///   made orthogonal to z, origin CLAV − d/2 · x.
/// - **Shoulder** (PiG): `chord(wand, thorax origin, SHO, 45 + d/2)` with the wand
///   perpendicular to the thorax's x and the shoulder marker; without a thorax, SHO moved down
///   the trunk by the same offset. **Elbow**: `chord(CVM, SJC, ELB, 75/2 + d/2)` with CVM
///   lateral to ELB, perpendicular to the arm's plane; **wrist**: mid(WRA, WRB) (or the one
///   wrist marker).
/// - **Head**: the mean of the head markers; **neck**: mid(CLAV, C7); toes and finger: their
///   markers.
///
/// Units: the source's (`millimetresPerUnit` converts the millimetre constants). A centre is
/// missing in a frame where a marker it needs is missing; gaps are filled before
/// (`MarkerGapFilling`).
public struct PlugInGait: Sendable {
  /// The 39 markers of the PiG full-body set, in UI-PRMD's column order.
  public static let markers: [String] =
    ("LFHD RFHD LBHD RBHD C7 T10 CLAV STRN RBAK "
    + "LSHO LUPA LELB LFRM LWRA LWRB LFIN "
    + "RSHO RUPA RELB RFRM RWRA RWRB RFIN "
    + "LASI RASI LPSI RPSI "
    + "LTHI LKNE LTIB LANK LHEE LTOE "
    + "RTHI RKNE RTIB RANK RHEE RTOE").split(separator: " ").map(String.init)

  /// A landmark the model uses: a PiG marker, or one of the extras other marker sets have
  /// (sacrum, medial knee and ankle, head top, single wrist).
  public enum Role: String, CaseIterable, Sendable {
    case LFHD, RFHD, LBHD, RBHD, C7, T10, CLAV, STRN
    case LSHO, LELB, LWRA, LWRB, LFIN, RSHO, RELB, RWRA, RWRB, RFIN
    case LASI, RASI, LPSI, RPSI, SACR
    case LTHI, LKNE, LKNM, LTIB, LANK, LMED, LHEE, LTOE
    case RTHI, RKNE, RKNM, RTIB, RANK, RMED, RHEE, RTOE
    case HEADTOP
  }

  /// Subject measurements and marker geometry (millimetres); population defaults.
  public struct Parameters: Sendable, Equatable {
    public var markerDiameter = 14.0
    public var basePlate = 2.0
    public var kneeWidth = 100.0
    public var ankleWidth = 70.0
    public var shoulderOffset = 45.0
    public var elbowWidth = 75.0
    public init() {}
    var markerRadius: Double { markerDiameter / 2 }
  }

  /// The PiG layout: the 39 markers in millimetres, x forward, y left, z up (UI-PRMD's Vicon
  /// files).
  public static let layout = KeypointLayout(
    id: "plug-in-gait", names: markers, sources: [:], axes: .zUp, metresPerUnit: 0.001,
    isMarkerSet: true)

  /// A marker-set layout over other names (OpenSim's, or PiG's in another order).
  public static func layout(
    names: [String], axes: KeypointLayout.Axes, metresPerUnit: Double?
  ) -> KeypointLayout {
    KeypointLayout(
      id: "plug-in-gait", names: names, sources: [:], axes: axes, metresPerUnit: metresPerUnit,
      isMarkerSet: true)
  }

  public var parameters = Parameters()
  /// Pelvis width and depth (millimetres): take constants, the median over the take; `nil`:
  /// measured in each frame.
  public var pelvisWidth: Double?
  public var pelvisDepth: Double?
  /// The pelvis markers (`pelvisRoles`) in the pelvis's own frame (source units), the median
  /// over a take: with it, each frame's pelvis is the rigid fit of those positions to the
  /// markers seen, the worst marker left out when it strays more than `clusterOutlier`
  /// (an ASIS marker pushed by the thigh at deep hip flexion); `nil`: the frame is built from
  /// the markers as they are, as Plug-in-Gait does.
  public var pelvisCluster: [SIMD3<Double>?]?
  /// Millimetres a pelvis marker may stray from the fitted cluster.
  public var clusterOutlier = 15.0
  static let pelvisRoles: [Role] = [.LASI, .RASI, .LPSI, .RPSI, .SACR]
  /// Source units per millimetre (1 for millimetres, 0.001 for metres).
  public let unitsPerMillimetre: Double
  /// Up in the source's frame, for the approximations that need it (no thorax markers).
  public let sourceUp: SIMD3<Double>
  /// Per role: the index of its marker among the source's names (−1: absent).
  let index: [Int]

  /// A model over the source's marker `names` (PiG labels, or OpenSim names such as `R.ASIS`,
  /// `L.Knee.Lat`, `V.Sacral`, `R.Acromium`: `role(of:)`).
  public init(names: [String], unitsPerMillimetre: Double, sourceUp: SIMD3<Double>) {
    var index = [Int](repeating: -1, count: Role.allCases.count)
    for (k, name) in names.enumerated() {
      guard let role = Self.role(of: name) else { continue }
      let r = Role.allCases.firstIndex(of: role) ?? 0
      if index[r] < 0 { index[r] = k }
    }
    self.index = index
    self.unitsPerMillimetre = unitsPerMillimetre
    self.sourceUp = sourceUp
  }

  /// Whether the names are a marker set's: both ASIS markers and both acromia (or knees).
  /// Which joint centres it allows is found when solving.
  public static func recognises(_ names: [String]) -> Bool {
    let roles = Set(names.compactMap(role(of:)))
    return roles.contains(.LASI) && roles.contains(.RASI)
      && ((roles.contains(.LSHO) && roles.contains(.RSHO))
        || (roles.contains(.LKNE) && roles.contains(.RKNE)))
  }

  /// The role a marker name plays: a PiG label as is, or a known alias (case, dots,
  /// underscores and spaces ignored).
  public static func role(of name: String) -> Role? {
    if let role = Role(rawValue: name.uppercased()) { return role }
    let key = name.lowercased().filter { $0.isLetter || $0.isNumber }
    return aliases[key]
  }

  /// OpenSim (gait2392, Rajagopal, arm26) and other common names of PiG landmarks.
  static let aliases: [String: Role] = {
    var table: [String: Role] = [:]
    for (side, s) in [("r", "R"), ("l", "L")] {
      func put(_ role: String, _ names: [String]) {
        guard let r = Role(rawValue: s + role) else { return }
        for n in names { table[n] = r }
      }
      put("ASI", ["\(side)asis", "\(side)asi"])
      put("PSI", ["\(side)psis", "\(side)psi"])
      put("KNE", ["\(side)kneelat", "\(side)knee", "\(side)latknee", "\(side)lateralknee"])
      put("KNM", ["\(side)kneemed", "\(side)medknee", "\(side)medialknee"])
      put("ANK", ["\(side)anklelat", "\(side)ankle", "\(side)latankle", "\(side)lateralankle"])
      put("MED", ["\(side)anklemed", "\(side)medankle", "\(side)medialankle"])
      put("HEE", ["\(side)heel", "\(side)calc"])
      put("TOE", ["\(side)toetip", "\(side)toe"])
      put("SHO", ["\(side)acromium", "\(side)acromion", "\(side)shoulder"])
      put("ELB", ["\(side)elbow", "\(side)humerusepicondyle", "\(side)elbowlat"])
      put("WRA", ["\(side)wristlat", "\(side)wrist", "\(side)radiusstyloid"])
      put("WRB", ["\(side)wristmed", "\(side)ulnastyloid"])
      put("FHD", ["\(side)temple", "\(side)fhd"])
      put("FIN", ["\(side)finger", "\(side)fin"])
    }
    for n in ["vsacral", "sacral", "sacrum", "s2", "sacr"] { table[n] = .SACR }
    for n in ["tophead", "headtop", "vertex"] { table[n] = .HEADTOP }
    return table
  }()

  /// A marker's position by role in `frame` (nil if absent or not finite).
  @inline(__always)
  func marker(_ role: Role, _ frame: [SIMD3<Float>?]) -> SIMD3<Double>? {
    let r = index[roleIndex(role)]
    guard r >= 0, r < frame.count, let p = frame[r], p.x.isFinite, p.y.isFinite, p.z.isFinite
    else { return nil }
    return SIMD3<Double>(Double(p.x), Double(p.y), Double(p.z))
  }

  @inline(__always)
  private func roleIndex(_ role: Role) -> Int { Self.roleIndices[role] ?? 0 }
  private static let roleIndices: [Role: Int] = Dictionary(
    uniqueKeysWithValues: Role.allCases.enumerated().map { ($1, $0) })

  /// Whether the source has the marker playing `role`.
  public func has(_ role: Role) -> Bool { index[roleIndex(role)] >= 0 }

  /// The source index of each marker of a rigid cluster the source has in full (pelvis,
  /// thorax, head), for gap filling.
  public var rigidClusters: [[Int]] {
    let clusters: [[Role]] = [
      [.LASI, .RASI, .LPSI, .RPSI], [.LASI, .RASI, .SACR], [.C7, .T10, .CLAV, .STRN],
      [.LFHD, .RFHD, .LBHD, .RBHD],
    ]
    return clusters.compactMap { roles in
      let found = roles.map { index[roleIndex($0)] }
      return found.allSatisfy { $0 >= 0 } ? found : nil
    }
  }

  // MARK: Take constants

  /// Pelvis width PW = |LASI − RASI| and depth PD = |mid-ASIS − sacrum| in one frame
  /// (millimetres).
  func pelvisDimensions(_ frame: [SIMD3<Float>?]) -> (width: Double?, depth: Double?) {
    guard let l = marker(.LASI, frame), let r = marker(.RASI, frame) else { return (nil, nil) }
    let width = simd_length(l - r) / unitsPerMillimetre
    guard let sacrum = sacrum(frame) else { return (width, nil) }
    return (width, simd_length((l + r) / 2 - sacrum) / unitsPerMillimetre)
  }

  /// Sets `pelvisWidth` and `pelvisDepth` to their medians over `frames`.
  public mutating func calibrate(_ frames: [[SIMD3<Float>?]]) {
    var widths: [Double] = []
    var depths: [Double] = []
    for frame in frames {
      let (w, d) = pelvisDimensions(frame)
      if let w { widths.append(w) }
      if let d { depths.append(d) }
    }
    pelvisWidth = Self.median(widths)
    pelvisDepth = Self.median(depths)
    // Each pelvis marker in the pelvis frame built from the markers themselves.
    var local = [[SIMD3<Double>]](repeating: [], count: Self.pelvisRoles.count)
    for frame in frames {
      guard let pelvis = rawPelvisFrame(frame) else { continue }
      for (k, role) in Self.pelvisRoles.enumerated() {
        guard let m = marker(role, frame) else { continue }
        let d = m - pelvis.origin
        local[k].append(SIMD3(simd_dot(d, pelvis.x), simd_dot(d, pelvis.y), simd_dot(d, pelvis.z)))
      }
    }
    let cluster: [SIMD3<Double>?] = local.map { samples in
      guard let x = Self.median(samples.map(\.x)), let y = Self.median(samples.map(\.y)),
        let z = Self.median(samples.map(\.z))
      else { return nil }
      return SIMD3(x, y, z)
    }
    pelvisCluster = cluster.compactMap { $0 }.count >= 3 ? cluster : nil
  }

  /// A pelvis frame: origin mid-ASIS and unit axes x forward, y left, z up.
  struct PelvisFrame {
    var origin: SIMD3<Double>
    var x: SIMD3<Double>
    var y: SIMD3<Double>
    var z: SIMD3<Double>
  }

  /// The pelvis frame built from this frame's markers (Kadaba 1990).
  func rawPelvisFrame(_ frame: [SIMD3<Float>?]) -> PelvisFrame? {
    guard let l = marker(.LASI, frame), let r = marker(.RASI, frame), let sacrum = sacrum(frame),
      let y = unit(l - r)
    else { return nil }
    let origin = (l + r) / 2
    guard let x = unit(reject(origin - sacrum, from: y)) else { return nil }
    return PelvisFrame(origin: origin, x: x, y: y, z: simd_cross(x, y))
  }

  /// The pelvis frame fitted to the calibrated cluster (see `pelvisCluster`).
  func fittedPelvisFrame(_ frame: [SIMD3<Float>?]) -> PelvisFrame? {
    guard let cluster = pelvisCluster else { return nil }
    var pairs: [(SIMD3<Double>, SIMD3<Double>)] = []
    for (k, role) in Self.pelvisRoles.enumerated() {
      if let local = cluster[k], let seen = marker(role, frame) { pairs.append((local, seen)) }
    }
    guard pairs.count >= 3 else { return nil }
    func fit(_ pairs: [(SIMD3<Double>, SIMD3<Double>)]) -> (UnitQuaternion, SIMD3<Double>)? {
      MarkerGapFilling.fit(pairs.map(\.0), pairs.map(\.1))
    }
    guard var (rotation, translation) = fit(pairs) else { return nil }
    if pairs.count >= 4 {
      let residuals = pairs.map { simd_length(rotation.act($0.0) + translation - $0.1) }
      if let worst = residuals.indices.max(by: { residuals[$0] < residuals[$1] }),
        residuals[worst] > clusterOutlier * unitsPerMillimetre
      {
        var kept = pairs
        kept.remove(at: worst)
        if let refit = fit(kept) { (rotation, translation) = refit }
      }
    }
    return PelvisFrame(
      origin: translation, x: rotation.act(SIMD3(1, 0, 0)), y: rotation.act(SIMD3(0, 1, 0)),
      z: rotation.act(SIMD3(0, 0, 1)))
  }

  static func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  }

  private func sacrum(_ frame: [SIMD3<Float>?]) -> SIMD3<Double>? {
    if let l = marker(.LPSI, frame), let r = marker(.RPSI, frame) { return (l + r) / 2 }
    return marker(.SACR, frame)
  }

  // MARK: Joint centres

  /// The estimated joint centres of one frame, in the source's frame and unit.
  public struct Centres: Sendable {
    public var points: [BodyPoint: SIMD3<Double>] = [:]
    /// Every named centre (`LHJC`, `RKJC`, `LSJC`, `NECK`, `HEAD`, …), for tests and export.
    public var named: [String: SIMD3<Double>] = [:]
  }

  /// Joint centres of `frame` (marker positions in the source's order; nil = missing).
  public func centres(_ frame: [SIMD3<Float>?]) -> Centres {
    var out = Centres()
    let mm = unitsPerMillimetre
    let r = parameters.markerRadius * mm
    func put(_ name: String, _ point: BodyPoint?, _ value: SIMD3<Double>?) {
      guard let value, value.x.isFinite, value.y.isFinite, value.z.isFinite else { return }
      out.named[name] = value
      if let point { out.points[point] = value }
    }
    // Pelvis and hips.
    var pelvisY: SIMD3<Double>?
    var hips: (left: SIMD3<Double>, right: SIMD3<Double>)?
    if let l = marker(.LASI, frame), let rr = marker(.RASI, frame) {
      put("PELVIS", nil, (l + rr) / 2)
      pelvisY = unit(l - rr)
    }
    if let pelvis = fittedPelvisFrame(frame) ?? rawPelvisFrame(frame) {
      pelvisY = pelvis.y
      let measured = pelvisDimensions(frame)
      let width = pelvisWidth ?? measured.width ?? 250
      let depth = pelvisDepth ?? measured.depth ?? 150
      let local = Self.harrington(width: width, depth: depth, parameters: parameters)
      let (x, y, z) = (pelvis.x, pelvis.y, pelvis.z)
      let left = pelvis.origin + (local.x * x + local.y * y + local.z * z) * mm
      let right = pelvis.origin + (local.x * x - local.y * y + local.z * z) * mm
      hips = (left, right)
    }
    if let hips {
      put("LHJC", .leftHip, hips.left)
      put("RHJC", .rightHip, hips.right)
      put("MIDHIP", .pelvis, (hips.left + hips.right) / 2)
    }
    // Knees and ankles, side by side.
    let dk = (parameters.kneeWidth / 2 + parameters.markerRadius) * mm
    let da = (parameters.ankleWidth / 2 + parameters.markerRadius) * mm
    for left in [true, false] {
      let s = left ? "L" : "R"
      let hip = left ? hips?.left : hips?.right
      let medial = pelvisY.map { left ? -$0 : $0 }
      guard let kne = marker(left ? .LKNE : .RKNE, frame) else { continue }
      var knee: SIMD3<Double>?
      if let knm = marker(left ? .LKNM : .RKNM, frame) {
        knee = (kne + knm) / 2
      } else if let hip {
        if let thi = marker(left ? .LTHI : .RTHI, frame) {
          knee = Self.chord(reference: thi, proximal: hip, marker: kne, delta: dk)
        }
        if knee == nil, let medial {
          knee = Self.moved(kne, towards: medial, across: hip - kne, by: dk)
        }
      }
      put(s + "KJC", left ? .leftKnee : .rightKnee, knee)
      guard let knee, let ank = marker(left ? .LANK : .RANK, frame) else { continue }
      var ankle: SIMD3<Double>?
      if let med = marker(left ? .LMED : .RMED, frame) {
        ankle = (ank + med) / 2
      } else {
        if let tib = marker(left ? .LTIB : .RTIB, frame) {
          ankle = Self.chord(reference: tib, proximal: knee, marker: ank, delta: da)
        }
        if ankle == nil, let medial {
          ankle = Self.moved(ank, towards: medial, across: knee - ank, by: da)
        }
      }
      put(s + "AJC", left ? .leftAnkle : .rightAnkle, ankle)
    }
    for left in [true, false] {
      let s = left ? "L" : "R"
      put(s + "TOE", left ? .leftToe : .rightToe, marker(left ? .LTOE : .RTOE, frame))
      put(s + "HEE", nil, marker(left ? .LHEE : .RHEE, frame))
      put(s + "FIN", left ? .leftHand : .rightHand, marker(left ? .LFIN : .RFIN, frame))
    }
    // Thorax, shoulders, elbows, wrists.
    var thorax: (origin: SIMD3<Double>, x: SIMD3<Double>)?
    if let clav = marker(.CLAV, frame), let c7 = marker(.C7, frame),
      let strn = marker(.STRN, frame), let t10 = marker(.T10, frame),
      let z = unit((clav + c7) / 2 - (strn + t10) / 2),
      let x = unit(reject((clav + strn) / 2 - (c7 + t10) / 2, from: z))
    {
      let origin = clav - r * x
      thorax = (origin, x)
      put("THORAX", nil, origin)
      put("NECK", .neck, (clav + c7) / 2)
      put("CHEST_LOW", nil, (strn + t10) / 2)
    }
    let shoulderDelta = (parameters.shoulderOffset + parameters.markerRadius) * mm
    // Up along the trunk, for the shoulder without a thorax.
    var trunkUp = sourceUp
    if let l = marker(.LSHO, frame), let rr = marker(.RSHO, frame),
      let pelvis = out.named["MIDHIP"] ?? out.named["PELVIS"],
      let up = unit((l + rr) / 2 - pelvis)
    {
      trunkUp = up
    }
    var shoulders: [SIMD3<Double>?] = [nil, nil]
    for (k, left) in [true, false].enumerated() {
      guard let sho = marker(left ? .LSHO : .RSHO, frame) else { continue }
      var centre: SIMD3<Double>?
      if let thorax,
        let wandDirection = unit(
          left
            ? simd_cross(thorax.x, sho - thorax.origin) : simd_cross(sho - thorax.origin, thorax.x))
      {
        centre = Self.chord(
          reference: thorax.origin + wandDirection * mm, proximal: thorax.origin, marker: sho,
          delta: shoulderDelta)
      }
      if centre == nil { centre = sho - trunkUp * shoulderDelta }
      shoulders[k] = centre
      put((left ? "L" : "R") + "SJC", left ? .leftShoulder : .rightShoulder, centre)
    }
    let elbowDelta = (parameters.elbowWidth / 2 + parameters.markerRadius) * mm
    for (k, left) in [true, false].enumerated() {
      let s = left ? "L" : "R"
      let wra = marker(left ? .LWRA : .RWRA, frame)
      let wrb = marker(left ? .LWRB : .RWRB, frame)
      let wrist: SIMD3<Double>? =
        if let wra, let wrb { (wra + wrb) / 2 } else { wra ?? wrb }
      guard let elb = marker(left ? .LELB : .RELB, frame) else {
        put(s + "WJC", left ? .leftWrist : .rightWrist, wrist)
        continue
      }
      var elbow: SIMD3<Double>?
      if let shoulder = shoulders[k], let wrist, wra != nil, wrb != nil,
        let n = unit(simd_cross(wrist - elb, shoulder - elb) * (left ? -1 : 1))
      {
        elbow = Self.chord(
          reference: elb + n * (50 * mm), proximal: shoulder, marker: elb, delta: elbowDelta)
      }
      put(s + "EJC", left ? .leftElbow : .rightElbow, elbow ?? elb)
      put(s + "WJC", left ? .leftWrist : .rightWrist, wrist)
    }
    // Head.
    let head = [Role.LFHD, .RFHD, .LBHD, .RBHD].compactMap { marker($0, frame) }
    if head.count == 4 || (head.count >= 2 && !has(.LBHD) && !has(.RBHD)) {
      let mean = head.reduce(SIMD3<Double>.zero, +) / Double(head.count)
      put("HEAD", .head, mean)
    }
    put("HEADTOP", .headTop, marker(.HEADTOP, frame))
    return out
  }

  /// Hip centre (left; the right mirrors y) in the pelvis frame, millimetres: Harrington 2007
  /// with the skin-marker correction.
  static func harrington(width pw: Double, depth pd: Double, parameters p: Parameters)
    -> SIMD3<Double>
  {
    let ap = -0.24 * (pd - p.markerDiameter - p.basePlate) - 9.9 - (p.markerRadius + p.basePlate)
    return SIMD3(ap, 0.33 * pw + 7.3, -0.30 * pw - 10.9)
  }

  /// PiG's chord function: the point J in the plane of `reference`, `proximal` and `marker`,
  /// at `delta` from the marker, with the angle marker–J–proximal a right angle, on the side of
  /// the line proximal–marker away from `reference`. With u the unit vector marker → proximal
  /// over length L, w the in-plane unit normal to u pointing away from `reference` and
  /// cos φ = delta / L: `J = marker + delta (cos φ u + sin φ w)`. `nil` when delta ≥ L or the
  /// points are collinear.
  public static func chord(
    reference: SIMD3<Double>, proximal: SIMD3<Double>, marker: SIMD3<Double>, delta: Double
  ) -> SIMD3<Double>? {
    let v = proximal - marker
    let l = simd_length(v)
    guard l > delta, delta >= 0 else { return nil }
    let u = v / l
    guard let w = unit(reject(reference - marker, from: u)) else { return nil }
    let c = delta / l
    let s = (1 - c * c).squareRoot()
    return marker + delta * (c * u - s * w)
  }

  /// `point` moved by `distance` along `direction` made orthogonal to `axis`.
  static func moved(
    _ point: SIMD3<Double>, towards direction: SIMD3<Double>, across axis: SIMD3<Double>,
    by distance: Double
  ) -> SIMD3<Double>? {
    guard let a = unit(axis), let d = unit(reject(direction, from: a)) else { return nil }
    return point + d * distance
  }
}

@inline(__always)
private func unit(_ v: SIMD3<Double>) -> SIMD3<Double>? {
  let n = simd_length(v)
  return n > 1e-12 && n.isFinite ? v / n : nil
}

@inline(__always)
private func reject(_ v: SIMD3<Double>, from axis: SIMD3<Double>) -> SIMD3<Double> {
  v - simd_dot(v, axis) * axis
}

@inline(__always)
private func simd_length(_ v: SIMD3<Double>) -> Double { (v * v).sum().squareRoot() }

@inline(__always)
private func simd_dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }

@inline(__always)
private func simd_cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
  SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
