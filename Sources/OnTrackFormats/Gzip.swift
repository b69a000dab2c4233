import CZlib

/// gzip decompression (zlib's inflate), so readers take `.gz` files as they come.
enum Gzip {
  /// True if `bytes` start with the gzip magic number.
  static func isCompressed(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
  }

  /// Inflates a gzip stream (concatenated members included).
  ///
  /// - Parameter limit: The largest output accepted, against decompression bombs.
  static func decompress(_ input: [UInt8], file: String, limit: Int = 1 << 30)
    throws(MotionFormatError) -> [UInt8]
  {
    var stream = z_stream()
    // 16 + MAX_WBITS: expect a gzip header.
    guard
      inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        == Z_OK
    else {
      throw MotionFormatError(.io, file: file, reason: "cannot start gzip decompression")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    output.reserveCapacity(min(input.count * 4, limit))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var status: Int32 = Z_OK
    var failure: String?
    input.withUnsafeBufferPointer { source in
      stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
      stream.avail_in = UInt32(source.count)
      repeat {
        let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
          stream.next_out = buffer.baseAddress
          stream.avail_out = UInt32(buffer.count)
          status = inflate(&stream, Z_NO_FLUSH)
          return buffer.count - Int(stream.avail_out)
        }
        output.append(contentsOf: chunk[0..<produced])
        if output.count > limit {
          failure = "decompresses to more than \(limit) bytes"
          return
        }
        if status == Z_STREAM_END && stream.avail_in > 0 {
          // Another gzip member follows.
          status = inflateReset(&stream)
        }
      } while status == Z_OK
      if status != Z_STREAM_END {
        failure = "corrupt or truncated gzip data (zlib status \(status))"
      }
    }
    if let failure { throw MotionFormatError(.io, file: file, reason: failure) }
    return output
  }
}
