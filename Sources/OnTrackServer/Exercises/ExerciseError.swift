/// What can go wrong with the exercise library, in the domain's words; the HTTP edge turns each
/// into a status (`APIError`).
public enum ExerciseError: Error, Sendable, Equatable, CustomStringConvertible {
  case notFound(String)
  /// A new exercise under an id that exists.
  case exists(String)
  /// A definition or reference that cannot be used, with the reason.
  case invalid(String)
  /// The exercise belongs to someone else (or to the bundled library).
  case notYours(String)
  /// A stored exercise no longer loads (a bug or a damaged store).
  case unloadable(String)

  public var description: String {
    switch self {
    case .notFound(let m), .exists(let m), .invalid(let m), .notYours(let m), .unloadable(let m):
      m
    }
  }
}
