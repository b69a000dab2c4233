import Foundation
import OnTrackKinematics

/// A named set of keypoints as a source gives them, with the coordinate frame they come in,
/// and how each `BodyPoint` (a joint centre) is found among them.
///
/// | layout | points | frame and unit |
/// |---|---|---|
/// | `blazepose33` | MediaPipe Pose's 33 world landmarks (`nose` … `right_foot_index`) | metres, origin between the hips, x to the image's right, **y down**, z away from the camera |
/// | `kinect-v2` | Kinect v2's 25 joints (`SpineBase` … `ThumbRight`) | metres, camera space, Y up |
/// | `azure-kinect` | Azure Kinect Body Tracking's 32 joints (`PELVIS` … `EAR_RIGHT`) | millimetres, the depth camera's frame, **y down** |
/// | `uiprmd-kinect` | UI-PRMD's 22 Kinect joints (`Waist` … `RToes`) as world positions | the file's unit, Y up |
/// | `coco17` | COCO's 17 keypoints (`nose` … `right_ankle`), lifted to 3-D | metres, Y up |
/// | `body25` | OpenPose BODY_25 (`Nose`, `Neck`, … `RHeel`), lifted to 3-D | metres, Y up |
/// | `plug-in-gait` | Vicon Plug-in-Gait's 39 full-body markers (`LFHD` … `RTOE`); joint centres estimated (`PlugInGait`) | millimetres, **Z up** (x forward, y left) |
/// | `named` | any names a skeleton would use (`LeftKnee`, `LeftLeg`, `l_knee`, …), as `ontrack fk --csv` writes them | the unit guessed from the body's size, Y up (y down if the body comes upside down) |
///
/// Everything ends in OnTrack's frame: right-handed, Y up, metres. The camera models' depth
/// (`blazepose33`, `coco17`, `body25`: a guess from one image) is taken as the camera's z axis
/// and its scale estimated from the body (`depthIsEstimated`, `DepthScale`).
public struct KeypointLayout: Sendable, Equatable {
  public let id: String
  /// The point names, in the source's order.
  public let names: [String]
  /// How each body point is made: the mean of these source points (indices into `names`).
  public var sources: [BodyPoint: [Int]] { sourcesByIndex }
  private var sourcesByIndex: [BodyPoint: [Int]]
  public let axes: Axes
  /// Metres per source unit; `nil`: guessed from the body's size.
  public let metresPerUnit: Double?
  /// The points are skin markers whose joint centres are estimated (`PlugInGait`), not joint
  /// centres.
  public let isMarkerSet: Bool
  /// The depth (along the camera's axis) is a monocular pose model's guess, not measured: its
  /// scale is estimated from the body and undone (`KeypointSolver.correctsDepthScale`).
  public let depthIsEstimated: Bool
  /// The axes are taken, not known (`named`: y up): a body that comes upside down in them was
  /// given in a camera's frame, y down (`KeypointConverter.turnedUpright`).
  public let axesAreAssumed: Bool

  /// How the source's axes map onto OnTrack's (X left, Y up, Z forward for a body facing +Z;
  /// any right-handed frame with Y up is fine, the scorer normalises heading).
  public enum Axes: String, Sendable, Equatable {
    /// Already right-handed with Y up.
    case yUp
    /// MediaPipe: x right, y down, z away from the camera → (x, −y, −z).
    case yDown
    /// A motion-capture lab: x forward, y left, z up → (y, z, x).
    case zUp
    /// Z down → (x, −z, y).
    case zDown
    /// X up → (−y, x, z).
    case xUp
    /// X down → (y, −x, z).
    case xDown

    /// A source vector in OnTrack's axes (a rotation: handedness is kept).
    @inline(__always)
    public func apply(_ p: SIMD3<Float>) -> SIMD3<Float> {
      switch self {
      case .yUp: p
      case .yDown: SIMD3(p.x, -p.y, -p.z)
      case .zUp: SIMD3(p.y, p.z, p.x)
      case .zDown: SIMD3(p.x, -p.z, p.y)
      case .xUp: SIMD3(-p.y, p.x, p.z)
      case .xDown: SIMD3(p.y, -p.x, p.z)
      }
    }

    /// A vector in OnTrack's axes as the source gives it: the inverse of `apply` (what a
    /// writer in the source's axes writes).
    @inline(__always)
    public func unapply(_ p: SIMD3<Float>) -> SIMD3<Float> {
      switch self {
      case .yUp: p
      case .yDown: SIMD3(p.x, -p.y, -p.z)
      case .zUp: SIMD3(p.z, p.x, p.y)
      case .zDown: SIMD3(p.x, p.z, -p.y)
      case .xUp: SIMD3(p.y, -p.x, p.z)
      case .xDown: SIMD3(-p.y, p.x, p.z)
      }
    }

    /// The source's up axis, in words ("z", "−y").
    public var upName: String {
      switch self {
      case .yUp: "y"
      case .yDown: "−y"
      case .zUp: "z"
      case .zDown: "−z"
      case .xUp: "x"
      case .xDown: "−x"
      }
    }
  }

  public init(
    id: String, names: [String], sources: [BodyPoint: [String]], axes: Axes,
    metresPerUnit: Double?, isMarkerSet: Bool = false, depthIsEstimated: Bool = false,
    axesAreAssumed: Bool = false
  ) {
    self.id = id
    self.names = names
    let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    self.sourcesByIndex = sources.compactMapValues { list in
      let found = list.compactMap { index[$0] }
      return found.isEmpty ? nil : found
    }
    self.axes = axes
    self.metresPerUnit = metresPerUnit
    self.isMarkerSet = isMarkerSet
    self.depthIsEstimated = depthIsEstimated
    self.axesAreAssumed = axesAreAssumed
  }

  /// The same layout with another unit (`nil`: guessed), axes, or depth taken as measured.
  public func with(
    metresPerUnit: Double?, axes: Axes? = nil, depthIsEstimated: Bool? = nil
  ) -> KeypointLayout {
    var copy = KeypointLayout(
      id: id, names: names, sources: [:], axes: axes ?? self.axes, metresPerUnit: metresPerUnit,
      isMarkerSet: isMarkerSet, depthIsEstimated: depthIsEstimated ?? self.depthIsEstimated,
      axesAreAssumed: axes == nil && axesAreAssumed)
    copy.sourcesByIndex = sources
    return copy
  }

  /// Up in the source's frame.
  public var sourceUp: SIMD3<Double> {
    switch axes {
    case .yUp: SIMD3(0, 1, 0)
    case .yDown: SIMD3(0, -1, 0)
    case .zUp: SIMD3(0, 0, 1)
    case .zDown: SIMD3(0, 0, -1)
    case .xUp: SIMD3(1, 0, 0)
    case .xDown: SIMD3(-1, 0, 0)
    }
  }

  /// A source position in OnTrack's frame and metres (`scale`: metres per source unit).
  @inline(__always)
  public func convert(_ p: SIMD3<Float>, scale: Float) -> SIMD3<Float> {
    axes.apply(p) * scale
  }

  /// Fills `frame` from one source frame: `positions[k]` (source frame and unit; `nil` or
  /// non-finite: missing) and `confidence[k]` (1 where the source gives none). A body point
  /// made of several source points needs all of them.
  public func bodyPoints(
    positions: [SIMD3<Float>?], confidence: [Float]?, scale: Float, into frame: inout KeypointFrame
  ) {
    frame.clear()
    for point in BodyPoint.allCases {
      guard let list = sources[point] else { continue }
      var sum = SIMD3<Float>.zero
      var least: Float = 1
      var complete = true
      for k in list {
        guard k < positions.count, let p = positions[k], p.x.isFinite, p.y.isFinite, p.z.isFinite
        else {
          complete = false
          break
        }
        sum += p
        least = min(least, confidence.map { k < $0.count ? $0[k] : 1 } ?? 1)
      }
      guard complete else { continue }
      frame[point] = convert(sum / Float(list.count), scale: scale)
      frame.confidence[point.rawValue] = least
    }
  }

  // MARK: The layouts

  public static let blazePose33 = KeypointLayout(
    id: "blazepose33",
    names: [
      "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
      "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
      "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
      "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
      "right_heel", "left_foot_index", "right_foot_index",
    ],
    sources: [
      .head: ["left_ear", "right_ear"], .leftShoulder: ["left_shoulder"],
      .rightShoulder: ["right_shoulder"], .leftElbow: ["left_elbow"],
      .rightElbow: ["right_elbow"], .leftWrist: ["left_wrist"], .rightWrist: ["right_wrist"],
      .leftHand: ["left_index", "left_pinky"], .rightHand: ["right_index", "right_pinky"],
      .leftHip: ["left_hip"], .rightHip: ["right_hip"], .leftKnee: ["left_knee"],
      .rightKnee: ["right_knee"], .leftAnkle: ["left_ankle"], .rightAnkle: ["right_ankle"],
      .leftToe: ["left_foot_index"], .rightToe: ["right_foot_index"],
    ], axes: .yDown, metresPerUnit: 1, depthIsEstimated: true)

  public static let kinectV2 = KeypointLayout(
    id: "kinect-v2",
    names: [
      "SpineBase", "SpineMid", "Neck", "Head", "ShoulderLeft", "ElbowLeft", "WristLeft",
      "HandLeft", "ShoulderRight", "ElbowRight", "WristRight", "HandRight", "HipLeft",
      "KneeLeft", "AnkleLeft", "FootLeft", "HipRight", "KneeRight", "AnkleRight", "FootRight",
      "SpineShoulder", "HandTipLeft", "ThumbLeft", "HandTipRight", "ThumbRight",
    ],
    sources: [
      .pelvis: ["SpineBase"], .spine: ["SpineMid"], .chest: ["SpineShoulder"], .neck: ["Neck"],
      .head: ["Head"], .leftShoulder: ["ShoulderLeft"], .leftElbow: ["ElbowLeft"],
      .leftWrist: ["WristLeft"], .leftHand: ["HandTipLeft"], .rightShoulder: ["ShoulderRight"],
      .rightElbow: ["ElbowRight"], .rightWrist: ["WristRight"], .rightHand: ["HandTipRight"],
      .leftHip: ["HipLeft"], .leftKnee: ["KneeLeft"], .leftAnkle: ["AnkleLeft"],
      .leftToe: ["FootLeft"], .rightHip: ["HipRight"], .rightKnee: ["KneeRight"],
      .rightAnkle: ["AnkleRight"], .rightToe: ["FootRight"],
    ], axes: .yUp, metresPerUnit: 1)

  /// UI-PRMD's 22 Kinect joints (`UIPRMDReader.kinectJointNames`; world positions from the
  /// data's own hierarchy, centimetres). Each joint is named after the segment it starts:
  /// `LeftUpperArm` is the shoulder, `LeftLowerLeg` the knee.
  public static let uiprmdKinect = KeypointLayout(
    id: "uiprmd-kinect", names: UIPRMDReader.kinectJointNames,
    sources: [
      .pelvis: ["Waist"], .spine: ["Spine"], .chest: ["Chest"], .neck: ["Neck"],
      .head: ["Head"], .headTop: ["HeadTip"], .leftShoulder: ["LeftUpperArm"],
      .leftElbow: ["LeftForearm"], .leftWrist: ["LeftHand"], .rightShoulder: ["RightUpperArm"],
      .rightElbow: ["RightForearm"], .rightWrist: ["RightHand"], .leftHip: ["LeftUpperLeg"],
      .leftKnee: ["LeftLowerLeg"], .leftAnkle: ["LeftFoot"], .leftToe: ["LeftToes"],
      .rightHip: ["RightUpperLeg"], .rightKnee: ["RightLowerLeg"], .rightAnkle: ["RightFoot"],
      .rightToe: ["RightToes"],
    ], axes: .yUp, metresPerUnit: 0.01)

  public static let coco17 = KeypointLayout(
    id: "coco17",
    names: [
      "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
      "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
      "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ],
    sources: [
      .head: ["left_ear", "right_ear"], .leftShoulder: ["left_shoulder"],
      .rightShoulder: ["right_shoulder"], .leftElbow: ["left_elbow"],
      .rightElbow: ["right_elbow"], .leftWrist: ["left_wrist"], .rightWrist: ["right_wrist"],
      .leftHip: ["left_hip"], .rightHip: ["right_hip"], .leftKnee: ["left_knee"],
      .rightKnee: ["right_knee"], .leftAnkle: ["left_ankle"], .rightAnkle: ["right_ankle"],
    ], axes: .yUp, metresPerUnit: 1, depthIsEstimated: true)

  public static let body25 = KeypointLayout(
    id: "body25",
    names: [
      "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
      "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
      "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
    ],
    sources: [
      .pelvis: ["MidHip"], .neck: ["Neck"], .head: ["LEar", "REar"],
      .leftShoulder: ["LShoulder"], .leftElbow: ["LElbow"], .leftWrist: ["LWrist"],
      .rightShoulder: ["RShoulder"], .rightElbow: ["RElbow"], .rightWrist: ["RWrist"],
      .leftHip: ["LHip"], .leftKnee: ["LKnee"], .leftAnkle: ["LAnkle"],
      .leftToe: ["LBigToe", "LSmallToe"], .rightHip: ["RHip"], .rightKnee: ["RKnee"],
      .rightAnkle: ["RAnkle"], .rightToe: ["RBigToe", "RSmallToe"],
    ], axes: .yUp, metresPerUnit: 1, depthIsEstimated: true)

  /// Azure Kinect Body Tracking's 32 joints (`K4ABT_JOINT_…` without the prefix), as the SDK
  /// gives them: millimetres, the depth camera's frame (x right, **y down**, z away from the
  /// camera). The SDK's confidence levels (0 none, 1 low: predicted, not seen, 2 medium) may
  /// come as `.c` columns: 0 is missing, 1 and above seen.
  public static let azureKinect = KeypointLayout(
    id: "azure-kinect",
    names: [
      "PELVIS", "SPINE_NAVEL", "SPINE_CHEST", "NECK", "CLAVICLE_LEFT", "SHOULDER_LEFT",
      "ELBOW_LEFT", "WRIST_LEFT", "HAND_LEFT", "HANDTIP_LEFT", "THUMB_LEFT", "CLAVICLE_RIGHT",
      "SHOULDER_RIGHT", "ELBOW_RIGHT", "WRIST_RIGHT", "HAND_RIGHT", "HANDTIP_RIGHT",
      "THUMB_RIGHT", "HIP_LEFT", "KNEE_LEFT", "ANKLE_LEFT", "FOOT_LEFT", "HIP_RIGHT",
      "KNEE_RIGHT", "ANKLE_RIGHT", "FOOT_RIGHT", "HEAD", "NOSE", "EYE_LEFT", "EAR_LEFT",
      "EYE_RIGHT", "EAR_RIGHT",
    ],
    sources: [
      .pelvis: ["PELVIS"], .spine: ["SPINE_NAVEL"], .chest: ["SPINE_CHEST"], .neck: ["NECK"],
      .head: ["HEAD"], .leftShoulder: ["SHOULDER_LEFT"],
      .leftElbow: ["ELBOW_LEFT"], .leftWrist: ["WRIST_LEFT"], .leftHand: ["HANDTIP_LEFT"],
      .rightShoulder: ["SHOULDER_RIGHT"], .rightElbow: ["ELBOW_RIGHT"],
      .rightWrist: ["WRIST_RIGHT"], .rightHand: ["HANDTIP_RIGHT"], .leftHip: ["HIP_LEFT"],
      .leftKnee: ["KNEE_LEFT"], .leftAnkle: ["ANKLE_LEFT"], .leftToe: ["FOOT_LEFT"],
      .rightHip: ["HIP_RIGHT"], .rightKnee: ["KNEE_RIGHT"], .rightAnkle: ["ANKLE_RIGHT"],
      .rightToe: ["FOOT_RIGHT"],
    ], axes: .yDown, metresPerUnit: 0.001)

  /// Every fixed layout, for recognition by name.
  public static let all: [KeypointLayout] = [
    blazePose33, kinectV2, azureKinect, uiprmdKinect, coco17, body25, PlugInGait.layout,
  ]

  /// The layout called `id` for a source with these point names (`named` and `plug-in-gait`
  /// adapt to the names).
  public static func named(_ id: String, names: [String]) -> KeypointLayout? {
    if id == "named" { return generic(names) }
    if id == PlugInGait.layout.id {
      return names == PlugInGait.markers
        ? PlugInGait.layout : PlugInGait.layout(names: names, axes: .zUp, metresPerUnit: 0.001)
    }
    return all.first { $0.id == id }
  }

  /// Every layout id `--layout` accepts.
  public static var ids: [String] { all.map(\.id) + ["named"] }

  /// The layout whose point names these are: a fixed layout if most of its names are here
  /// and it finds as many body points in them as the generic one does, else the generic one
  /// if it finds the limbs. (A skeleton's names often share half a fixed layout's —
  /// `LeftUpperArm`, `LeftUpperLeg`, `left_knee` — without being that source: Unity's humanoid
  /// names would be read as UI-PRMD's Kinect joints, in centimetres and without elbows, and
  /// SMPL's as COCO's, without head or trunk.)
  public static func recognise(_ names: [String]) -> KeypointLayout? {
    let given = Set(names)
    let generic = generic(names)
    let best = all.map { layout in
      (layout, layout.names.filter(given.contains).count, layout.names.count)
    }.max { $0.1 * $1.2 < $1.1 * $0.2 }
    if let (layout, hits, total) = best, hits * 2 >= total,
      layout.pointsFound(in: given) >= generic.sources.count
    {
      return layout
    }
    if PlugInGait.recognises(names) {
      return PlugInGait.layout(names: names, axes: .zUp, metresPerUnit: 0.001)
    }
    let limbs: [BodyPoint] = [.leftElbow, .rightElbow, .leftKnee, .rightKnee]
    return limbs.allSatisfy { generic.sources[$0] != nil } ? generic : nil
  }

  /// How many body points this layout makes from a source that has the points `names`.
  func pointsFound(in names: Set<String>) -> Int {
    sources.values.filter { list in list.allSatisfy { names.contains(self.names[$0]) } }.count
  }

  /// A layout from skeleton-like names: `LeftArm`/`LeftShoulder` → shoulder, `LeftForeArm` →
  /// elbow, `LeftWrist`, else `LeftHand` → wrist, `LeftHand_End` → hand, `LeftUpLeg`/`LeftHip`
  /// → hip, `LeftLeg`/`LeftKnee` → knee, `LeftAnkle`, else `LeftFoot` → ankle, `LeftToeBase`
  /// → toe, and the trunk (`Hips`, `Spine`, `Chest`, `Neck`, `Head`, `Head_End`). Where a
  /// source names the joint itself (`left_wrist`, `left_ankle`), its `hand` and `foot` are the
  /// points beyond it (SMPL, Azure Kinect), not the joint as in a skeleton's segment names.
  /// Y up; the unit is guessed from the body's size.
  public static func generic(_ names: [String]) -> KeypointLayout {
    var sources: [BodyPoint: [String]] = [:]
    // Candidates in order of preference for each point.
    func take(_ point: BodyPoint, _ name: String) {
      if sources[point] == nil { sources[point] = [name] }
    }
    let parsed = names.map { ($0, BodyModel.parse($0)) }
    func find(_ side: BodyModel.Side?, _ stems: [String]) -> String? {
      for stem in stems {
        if let hit = parsed.first(where: { $0.1.side == side && $0.1.stem == stem }) {
          return hit.0
        }
      }
      return nil
    }
    for side in [BodyModel.Side.left, .right] {
      let left = side == .left
      func put(_ l: BodyPoint, _ r: BodyPoint, _ stems: [String]) {
        if let name = find(side, stems) { take(left ? l : r, name) }
      }
      put(.leftShoulder, .rightShoulder, ["arm", "upperarm", "humerus", "shoulder"])
      put(.leftElbow, .rightElbow, ["forearm", "elbow", "lowerarm"])
      put(.leftWrist, .rightWrist, ["wrist", "hand"])
      let wristNamed = find(side, ["wrist"]) != nil
      put(
        .leftHand, .rightHand,
        ["handend", "handtip", "handindex1", "finger", "fingerbase"] + (wristNamed ? ["hand"] : []))
      put(.leftHip, .rightHip, ["upleg", "upperleg", "thigh", "hip"])
      put(.leftKnee, .rightKnee, ["leg", "knee", "lowerleg", "shin", "calf"])
      put(.leftAnkle, .rightAnkle, ["ankle", "foot"])
      let ankleNamed = find(side, ["ankle"]) != nil
      put(
        .leftToe, .rightToe,
        ["toebase", "toe", "toes", "footend", "bigtoe", "mtp"] + (ankleNamed ? ["foot"] : []))
    }
    for (point, stems) in [
      (BodyPoint.pelvis, ["hips", "pelvis", "root", "spinebase", "waist", "midhip", "hip"]),
      (.spine, ["spine", "spinemid", "lowerback", "spinenavel"]),
      (
        .chest,
        ["chest", "spine1", "spine2", "spineshoulder", "thorax", "upperchest", "spinechest"]
      ),
      (.neck, ["neck", "neck1"]), (.head, ["head"]),
      (.headTop, ["headend", "headtop", "headtip", "headtopend"]),
    ] {
      if let name = find(nil, stems) { take(point, name) }
    }
    // A pose model's face points: the head between the ears, as in `coco17`.
    if sources[.head] == nil, let left = find(.left, ["ear"]), let right = find(.right, ["ear"]) {
      sources[.head] = [left, right]
    }
    return KeypointLayout(
      id: "named", names: names, sources: sources, axes: .yUp, metresPerUnit: nil,
      axesAreAssumed: true)
  }
}
