extension Duration {
  /// The duration in seconds, as a `Double` (for rates and the records' `seconds`).
  package var seconds: Double {
    let (s, a) = components
    return Double(s) + Double(a) * 1e-18
  }
}
