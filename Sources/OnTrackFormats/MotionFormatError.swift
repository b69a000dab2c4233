/// A motion file that cannot be read or written, with where and why.
///
/// `description` reads like a compiler diagnostic: `walk.bvh:12: expected '{' after joint
/// name 'Hips', found 'OFFSET'`. Readers never return part of a file as if it were whole: any
/// error means no clip.
public struct MotionFormatError: Error, Hashable, Sendable, CustomStringConvertible {
  /// What kind of problem this is, for code that reacts to it (and for tests).
  public enum Kind: String, Hashable, Sendable, Codable {
    /// The file could not be opened or read.
    case io
    /// A keyword, brace or token is missing, misplaced or unexpected.
    case syntax
    /// A token that must be a number is not one.
    case nonNumeric
    /// A number is NaN or infinite.
    case nonFinite
    /// A frame or row has the wrong number of values.
    case valueCount
    /// The declared frame count differs from the frames present.
    case frameCountMismatch
    /// `Frame Time` (or the sampling interval) is zero, negative or not finite.
    case invalidFrameTime
    /// A channel name is not one of the six BVH channels.
    case unknownChannel
    /// Two joints have the same name, or a channel repeats.
    case duplicateName
    /// A named joint or column does not exist in the skeleton.
    case unknownJoint
    /// The file has a hierarchy but no frames.
    case emptyMotion
    /// A structural limit (joints, channels, nesting, values) is exceeded.
    case limitExceeded
    /// The data are well-formed but inconsistent (times not increasing, skeleton invalid).
    case invalidData
  }

  public var kind: Kind
  /// The file name (or `"<input>"` for in-memory data).
  public var file: String
  /// 1-based line number, if the problem is on a line.
  public var line: Int?
  /// What is wrong, in words.
  public var reason: String

  public init(_ kind: Kind, file: String, line: Int? = nil, reason: String) {
    self.kind = kind
    self.file = file
    self.line = line
    self.reason = reason
  }

  public var description: String {
    if let line { return "\(file):\(line): \(reason)" }
    return "\(file): \(reason)"
  }
}
