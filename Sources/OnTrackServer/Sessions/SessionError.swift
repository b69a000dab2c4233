/// What can go wrong with a session, in the domain's words; the HTTP edge turns each into a
/// status (`APIError`).
public enum SessionError: Error, Sendable, Equatable, CustomStringConvertible {
  case notFound(String)
  /// The session is finished and takes no more frames.
  case finished(String)
  /// The request is wrong (an unknown skeleton, a skeleton that cannot be scored, …).
  case invalid(String)
  /// A quota is reached (open sessions per patient or in all, pairing attempts).
  case quota(String)
  /// The server's disk is below its free-space floor.
  case storageFull(String)
  /// The recording cannot be made (too few frames, no usable clock).
  case unusable(String)
  /// Another server scores the session now (its lease runs until it stops or expires).
  case heldElsewhere(String)

  public var description: String {
    switch self {
    case .notFound(let m), .finished(let m), .invalid(let m), .quota(let m), .storageFull(let m),
      .unusable(let m), .heldElsewhere(let m):
      m
    }
  }

  /// "no session 'abc…'", the id cut to a readable length.
  static func missing(_ id: String) -> SessionError {
    .notFound("no session '\(ServerText.truncated(id))'")
  }
}

/// How user-supplied text appears in messages: cut to a readable length.
enum ServerText {
  static func truncated(_ text: String, to length: Int = 40) -> String {
    text.count <= length ? text : text.prefix(length) + "…"
  }
}
