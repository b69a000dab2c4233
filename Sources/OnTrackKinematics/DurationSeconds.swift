extension Duration {
  /// The duration in seconds, as a `Double` (the libraries' unit of time).
  public var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) * 1e-18
  }
}
