/// What can go wrong with programmes, in the domain's words; the HTTP edge turns each into a
/// status (`APIError`).
public enum ProgrammeError: Error, Sendable, Equatable, CustomStringConvertible {
  case notFound(String)
  /// A definition or day record that cannot be used, with the reason.
  case invalid(String)
  /// The programme belongs to another therapist or patient.
  case notYours(String)

  public var description: String {
    switch self {
    case .notFound(let m), .invalid(let m), .notYours(let m): m
    }
  }
}
