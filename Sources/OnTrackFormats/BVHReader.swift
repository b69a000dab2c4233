import Foundation
import OnTrackKinematics

/// Reads Biovision Hierarchy (BVH) motion files into a `Clip`.
///
/// Accepts what real files contain: any of the six rotation orders per joint (mixed in one
/// file), 0–3 rotation and 0–3 position channels on any joint, End Sites, LF/CRLF/CR line ends,
/// tabs or spaces, a UTF-8 byte-order mark, `{` glued to a joint name, `Frames:2` and
/// `Frame Time:0.04` glued, numbers like `.0083333`, frames wrapped over several lines (a frame
/// never shares a line with the next one).
///
/// Position channels replace the matching component of the joint's OFFSET (Blender, bvhio).
/// Lengths are converted to metres with `Options.lengthUnit` (guessed from the rest pose by
/// default) and the unit is kept in `Skeleton.lengthUnit` so that `BVHWriter` writes it back.
///
/// Every problem is a `MotionFormatError` naming the file, the line and the reason; a reader
/// never returns part of a file.
public struct BVHReader: Sendable {
  public struct Options: Sendable {
    /// The unit of the file's lengths; `nil` guesses it (`LengthUnit.guess(fromExtent:)`).
    public var lengthUnit: LengthUnit?
    /// Upper bound on joints plus End Sites, against hostile input.
    public var maximumJoints: Int
    /// Upper bound on the nesting of joints (the root is depth 1), against hostile input: a
    /// written BVH indents each line by its depth, so a chain of n joints is O(n²) bytes.
    /// Real rigs nest about 15 deep (hips to a fingertip).
    public var maximumDepth: Int

    public init(lengthUnit: LengthUnit? = nil, maximumJoints: Int = 10_000, maximumDepth: Int = 256)
    {
      self.lengthUnit = lengthUnit
      self.maximumJoints = maximumJoints
      self.maximumDepth = maximumDepth
    }
  }

  public var options: Options

  public init(options: Options = Options()) {
    self.options = options
  }

  /// Reads the file at `url` (gzip-compressed files are inflated first).
  public func read(contentsOf url: URL) throws(MotionFormatError) -> Clip {
    try read(bytes: FileBytes.read(url), fileName: url.path)
  }

  /// Reads BVH text held in memory; `fileName` is used in error messages.
  public func read(bytes: [UInt8], fileName: String = "<input>") throws(MotionFormatError) -> Clip {
    var parser = Parser(bytes: bytes, file: fileName, options: options)
    return try parser.parse()
  }

  /// Reads BVH text held in a string.
  public func read(text: String, fileName: String = "<input>") throws(MotionFormatError) -> Clip {
    try read(bytes: Array(text.utf8), fileName: fileName)
  }
}

extension BVHReader {
  /// One pass over the tokens; joints are numbered in the order their headers appear.
  fileprivate struct Parser {
    var scanner: TextScanner
    let file: String
    let options: Options
    var joints: [Skeleton.Joint] = []
    var names: [String: Int] = [:]
    var lastLine = 1

    init(bytes: [UInt8], file: String, options: Options) {
      self.scanner = TextScanner(bytes: bytes, bracesAreTokens: true)
      self.file = file
      self.options = options
    }

    func error(_ kind: MotionFormatError.Kind, _ line: Int?, _ reason: String) -> MotionFormatError
    {
      MotionFormatError(kind, file: file, line: line, reason: reason)
    }

    mutating func next(_ what: String) throws(MotionFormatError) -> Token {
      guard let token = scanner.next() else {
        throw error(.syntax, scanner.line, "unexpected end of file: expected \(what)")
      }
      lastLine = token.line
      return token
    }

    mutating func expect(_ word: StaticString) throws(MotionFormatError) -> Token {
      let token = try next("'\(word)'")
      guard scanner.token(token, is: word) else {
        throw error(.syntax, token.line, "expected '\(word)', found \(scanner.quoted(token))")
      }
      return token
    }

    mutating func number(_ what: String) throws(MotionFormatError) -> Double {
      let token = try next(what)
      return try value(of: token, what)
    }

    func value(of token: Token, _ what: String) throws(MotionFormatError) -> Double {
      switch scanner.number(token) {
      case .value(let v): return v
      case .nonFinite:
        throw error(
          .nonFinite, token.line, "\(what) is \(scanner.quoted(token)), not a finite number")
      case .notANumber:
        throw error(
          .nonNumeric, token.line, "\(what): expected a number, found \(scanner.quoted(token))")
      }
    }

    // MARK: Hierarchy

    struct OpenJoint {
      var index: Int
      var line: Int
      var hasOffset = false
      var hasChannels = false
      var hasChildren = false
    }

    mutating func parse() throws(MotionFormatError) -> Clip {
      guard scanner.peek() != nil else { throw error(.syntax, 1, "the file is empty") }
      _ = try expect("HIERARCHY")
      _ = try expect("ROOT")
      var stack: [OpenJoint] = [try openJoint(parent: nil)]
      while let top = stack.last {
        let token = try next("'}' to close joint '\(joints[top.index].name)'")
        if scanner.token(token, is: "OFFSET") {
          guard !top.hasOffset else {
            throw error(
              .syntax, token.line, "joint '\(joints[top.index].name)' has a second OFFSET")
          }
          guard !top.hasChildren else {
            throw error(
              .syntax, token.line,
              "OFFSET of joint '\(joints[top.index].name)' comes after its children")
          }
          joints[top.index].offset = try offset(of: joints[top.index].name)
          stack[stack.count - 1].hasOffset = true
        } else if scanner.token(token, is: "CHANNELS") {
          guard !top.hasChannels, !top.hasChildren else {
            throw error(
              .syntax, token.line, "unexpected CHANNELS in joint '\(joints[top.index].name)'")
          }
          joints[top.index].channels = try channels(of: joints[top.index].name, line: token.line)
          stack[stack.count - 1].hasChannels = true
        } else if scanner.token(token, is: "JOINT") {
          try requireOffset(top, at: token.line)
          guard stack.count < options.maximumDepth else {
            throw error(
              .limitExceeded, token.line,
              "joints nested more than \(options.maximumDepth) deep (inside '\(joints[top.index].name)')"
            )
          }
          stack[stack.count - 1].hasChildren = true
          stack.append(try openJoint(parent: top.index))
        } else if scanner.token(token, is: "End") {
          try requireOffset(top, at: token.line)
          stack[stack.count - 1].hasChildren = true
          try endSite(owner: top.index)
        } else if scanner.token(token, is: "}") {
          try requireOffset(top, at: token.line)
          stack.removeLast()
        } else if scanner.token(token, is: "MOTION") || scanner.token(token, is: "ROOT") {
          throw error(
            .syntax, token.line,
            "missing '}' for joint '\(joints[top.index].name)' opened at line \(top.line)")
        } else {
          throw error(
            .syntax, token.line,
            "unexpected \(scanner.quoted(token)) in joint '\(joints[top.index].name)'")
        }
      }
      let motion = try next("'MOTION'")
      if scanner.token(motion, is: "ROOT") {
        throw error(.syntax, motion.line, "a second ROOT is not supported")
      }
      guard scanner.token(motion, is: "MOTION") else {
        throw error(.syntax, motion.line, "expected 'MOTION', found \(scanner.quoted(motion))")
      }
      return try parseMotion()
    }

    func requireOffset(_ joint: OpenJoint, at line: Int) throws(MotionFormatError) {
      guard joint.hasOffset else {
        throw error(.syntax, line, "joint '\(joints[joint.index].name)' has no OFFSET")
      }
    }

    /// Reads `name {` after ROOT/JOINT and registers the joint.
    mutating func openJoint(parent: Int?) throws(MotionFormatError) -> OpenJoint {
      var parts: [String] = []
      var line = lastLine
      while true {
        let token = try next("'{' after the joint name")
        if parts.isEmpty { line = token.line }
        if scanner.token(token, is: "{") { break }
        if scanner.token(token, is: "}") || scanner.token(token, is: "OFFSET")
          || scanner.token(token, is: "CHANNELS") || scanner.token(token, is: "JOINT")
          || scanner.token(token, is: "MOTION")
        {
          let shown = parts.isEmpty ? "" : " after joint name '\(parts.joined(separator: " "))'"
          throw error(.syntax, token.line, "expected '{'\(shown), found \(scanner.quoted(token))")
        }
        parts.append(scanner.text(token))
        if parts.count > 16 {
          throw error(.syntax, token.line, "joint name runs on without '{'")
        }
      }
      guard !parts.isEmpty else { throw error(.syntax, line, "joint has no name") }
      let name = parts.joined(separator: " ")
      if let previous = names[name] {
        throw error(
          .duplicateName, line,
          "duplicate joint name '\(name)' (first defined as joint \(previous))")
      }
      guard joints.count < options.maximumJoints else {
        throw error(.limitExceeded, line, "more than \(options.maximumJoints) joints")
      }
      names[name] = joints.count
      joints.append(Skeleton.Joint(name: name, parent: parent, offset: .zero))
      return OpenJoint(index: joints.count - 1, line: line)
    }

    mutating func offset(of name: String) throws(MotionFormatError) -> SIMD3<Float> {
      let x = try number("OFFSET x of '\(name)'")
      let y = try number("OFFSET y of '\(name)'")
      let z = try number("OFFSET z of '\(name)'")
      return SIMD3(Float(x), Float(y), Float(z))
    }

    mutating func channels(of name: String, line: Int) throws(MotionFormatError) -> [Channel] {
      let countToken = try next("the channel count")
      let count = try value(of: countToken, "channel count of '\(name)'")
      guard count == count.rounded(), count >= 0, count <= 6 else {
        throw error(
          .limitExceeded, countToken.line,
          "joint '\(name)' declares \(scanner.quoted(countToken)) channels; a joint has 0 to 6")
      }
      var result: [Channel] = []
      for _ in 0..<Int(count) {
        let token = try next("a channel name")
        guard let channel = Channel(rawValue: scanner.text(token)) else {
          throw error(
            .unknownChannel, token.line,
            "unknown channel \(scanner.quoted(token)) in joint '\(name)' (expected Xposition, Yposition, Zposition, Xrotation, Yrotation or Zrotation)"
          )
        }
        guard !result.contains(channel) else {
          throw error(.duplicateName, token.line, "joint '\(name)' lists \(channel.rawValue) twice")
        }
        result.append(channel)
      }
      return result
    }

    mutating func endSite(owner: Int) throws(MotionFormatError) {
      let site = try expect("Site")
      _ = try expect("{")
      _ = try expect("OFFSET")
      let ownerName = joints[owner].name
      let offset = try offset(of: "End Site of \(ownerName)")
      let close = try next("'}' to close the End Site")
      guard scanner.token(close, is: "}") else {
        throw error(
          .syntax, close.line,
          "missing '}' for the End Site of '\(ownerName)' opened at line \(site.line)")
      }
      guard joints.count < options.maximumJoints else {
        throw error(.limitExceeded, site.line, "more than \(options.maximumJoints) joints")
      }
      joints.append(
        Skeleton.Joint(name: ownerName + "_End", parent: owner, offset: offset, isEndSite: true))
    }

    // MARK: Motion

    /// Reads the number after a `Frames:`/`Time:` label, which may be glued to it.
    mutating func labelled(_ label: StaticString, _ what: String) throws(MotionFormatError) -> Token
    {
      let token = try next("'\(label)'")
      let text = scanner.text(token)
      let labelText = "\(label)"
      guard text.hasPrefix(labelText.dropLast()) else {
        throw error(.syntax, token.line, "expected '\(label)', found \(scanner.quoted(token))")
      }
      if text == labelText.dropLast() {  // "Frames" ":" N
        let colon = try next("':'")
        guard scanner.token(colon, is: ":") else {
          throw error(.syntax, colon.line, "expected ':' after '\(labelText.dropLast())'")
        }
        return try next(what)
      }
      guard text.hasPrefix(labelText) else {
        throw error(.syntax, token.line, "expected '\(label)', found \(scanner.quoted(token))")
      }
      if text == labelText { return try next(what) }
      // Glued: "Frames:2" — the number starts after the label.
      let glued = Token(start: token.start + labelText.utf8.count, end: token.end, line: token.line)
      return glued
    }

    mutating func parseMotion() throws(MotionFormatError) -> Clip {
      let framesToken = try labelled("Frames:", "the frame count")
      let declared = try value(of: framesToken, "frame count")
      guard declared == declared.rounded(), declared >= 0, declared < 1e9 else {
        throw error(
          .syntax, framesToken.line,
          "frame count \(scanner.quoted(framesToken)) is not a whole number")
      }
      _ = try expect("Frame")
      let timeToken = try labelled("Time:", "the frame time")
      let frameTime: Double
      switch scanner.number(timeToken) {
      case .value(let v) where Clip.isValidFrameTime(v):
        frameTime = v
      case .value, .nonFinite:
        throw error(
          .invalidFrameTime, timeToken.line,
          "Frame Time is \(scanner.quoted(timeToken)); it must be a positive number of seconds, from 0.0001 (10,000 frames a second) to 10"
        )
      case .notANumber:
        throw error(
          .nonNumeric, timeToken.line,
          "Frame Time: expected a number, found \(scanner.quoted(timeToken))")
      }
      let declaredFrames = Int(declared)
      guard declaredFrames > 0 else {
        throw error(.emptyMotion, framesToken.line, "MOTION has no frames (Frames: 0)")
      }
      let skeleton = try makeSkeleton()
      let values = try frameValues(
        channelCount: skeleton.channelCount, declaredFrames: declaredFrames,
        framesLine: framesToken.line)
      return try makeClip(skeleton: skeleton, frameTime: frameTime, values: values)
    }

    /// Reads every frame's channel values, line by line; a frame may wrap over lines but each
    /// frame starts on a new line.
    mutating func frameValues(
      channelCount: Int, declaredFrames: Int, framesLine: Int
    ) throws(MotionFormatError) -> [Double] {
      var values: [Double] = []
      values.reserveCapacity(min(declaredFrames * channelCount, scanner.bytes.count / 2 + 1))
      if channelCount == 0 {
        if let stray = scanner.next() {
          throw error(
            .valueCount, stray.line, "the skeleton has no channels but frame values follow")
        }
        return values
      }
      var frames = 0
      var inFrame = 0
      var frameStartLine = 0
      while let token = scanner.next() {
        if inFrame == 0 { frameStartLine = token.line }
        guard case .value(let v) = scanner.number(token) else {
          _ = try value(of: token, "frame \(frames) value \(inFrame + 1)")
          continue
        }
        values.append(v)
        inFrame += 1
        let lineEnds = scanner.lineEnds(after: token)
        if inFrame == channelCount {
          guard lineEnds else {
            // Too many values: count the rest of the line for the message.
            var total = inFrame
            while let t = scanner.peek(), t.line == token.line {
              _ = scanner.next()
              total += 1
            }
            throw error(
              .valueCount, token.line,
              "frame \(frames)\(span(frameStartLine, token.line)) has \(total) values, expected \(channelCount)"
            )
          }
          frames += 1
          inFrame = 0
        } else if lineEnds, let following = scanner.peek() {
          // A short line is the first part of a frame wrapped over lines only if the next line
          // does not run past the end of the frame.
          if inFrame + countTokens(onLineOf: following) > channelCount {
            throw error(
              .valueCount, token.line,
              "frame \(frames)\(span(frameStartLine, token.line)) has \(inFrame) values, expected \(channelCount)"
            )
          }
        }
      }
      if inFrame != 0 {
        throw error(
          .valueCount, frameStartLine,
          "frame \(frames) at line \(frameStartLine) is truncated: \(inFrame) of \(channelCount) values"
        )
      }
      guard frames == declaredFrames else {
        throw error(
          .frameCountMismatch, framesLine,
          "'Frames: \(declaredFrames)' but \(frames) frame\(frames == 1 ? "" : "s") present")
      }
      return values
    }

    func span(_ first: Int, _ last: Int) -> String {
      first == last ? "" : " (lines \(first)–\(last))"
    }

    /// How many tokens are on the line that `first` starts, without consuming them.
    func countTokens(onLineOf first: Token) -> Int {
      var copy = scanner
      var count = 0
      while let t = copy.next(), t.line == first.line { count += 1 }
      return count
    }

    func makeSkeleton() throws(MotionFormatError) -> Skeleton {
      let fileUnits: Skeleton
      do {
        fileUnits = try Skeleton(joints: joints)
      } catch {
        throw self.error(.invalidData, nil, "invalid hierarchy: \(error)")
      }
      let unit = options.lengthUnit ?? LengthUnit.guess(fromExtent: Double(fileUnits.restExtent))
      var skeleton = fileUnits.scaled(by: Float(unit.metres))
      skeleton.lengthUnit = unit
      return skeleton
    }

    func makeClip(
      skeleton: Skeleton, frameTime: Double, values: [Double]
    ) throws(MotionFormatError) -> Clip {
      let n = skeleton.count
      let channelCount = skeleton.channelCount
      let frameCount = channelCount == 0 ? 1 : values.count / channelCount
      let metres = Float(skeleton.lengthUnit.metres)
      let degrees = Double.pi / 180
      var rotations = [Quaternion](repeating: .identity, count: frameCount * n)
      var translations = [SIMD3<Float>](repeating: .zero, count: frameCount * n)
      // Per joint: which columns hold rotation angles (in composition order) and positions.
      let layouts = skeleton.joints.enumerated().map { index, joint in
        ChannelLayout(channels: joint.channels, firstColumn: skeleton.channelOffsets[index])
      }
      for f in 0..<frameCount {
        let row = f * channelCount
        for j in 0..<n {
          let layout = layouts[j]
          var t = skeleton.joints[j].offset
          for (axis, column) in layout.positions {
            t[axis] = Float(values[row + column]) * metres
          }
          translations[f * n + j] = t
          if let order = layout.order {
            var angles = SIMD3<Double>.zero
            for (k, column) in layout.rotationColumns.enumerated() {
              angles[k] = values[row + column] * degrees
            }
            rotations[f * n + j] = Quaternion(eulerAngles: angles, order: order)
          }
        }
      }
      do {
        return try Clip(
          skeleton: skeleton, frameTime: frameTime, rotations: rotations,
          translations: translations)
      } catch {
        throw self.error(.invalidData, nil, "\(error)")
      }
    }
  }
}

/// Where one joint's channels sit in a frame row.
struct ChannelLayout {
  /// Composition order of the rotation channels (completed to three axes), if any.
  var order: EulerOrder?
  /// Row columns of the rotation angles, in composition order.
  var rotationColumns: [Int] = []
  /// (axis, row column) of each position channel.
  var positions: [(Int, Int)] = []

  init(channels: [Channel], firstColumn: Int) {
    order = channels.rotationOrder
    for (k, channel) in channels.enumerated() {
      if channel.isRotation {
        rotationColumns.append(firstColumn + k)
      } else {
        positions.append((channel.axis, firstColumn + k))
      }
    }
  }
}
