import Foundation

/// Reads whole files for the format readers, inflating gzip transparently and mapping failures
/// to `MotionFormatError`.
enum FileBytes {
  static func read(_ url: URL) throws(MotionFormatError) -> [UInt8] {
    let bytes: [UInt8]
    do {
      bytes = [UInt8](try Data(contentsOf: url))
    } catch {
      throw MotionFormatError(
        .io, file: url.path, reason: "cannot read the file (\(error.localizedDescription))")
    }
    return Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, file: url.path) : bytes
  }
}
