/// A hyperparameter or stopping rule outside its range.
///
/// Initialisers check their arguments, but public `var` properties and `Codable` decoding
/// can still produce values such as `Broyden(memory: 0)`; `solve` checks every algorithm and
/// criteria with `validate()` first and ends such a solve with
/// ``FixedPointStatus/invalidConfiguration`` instead of trapping.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What is out of range, and its range (for example `"Broyden memory must be ≥ 1, got 0"`).
  public var message: String

  /// Creates an error.
  public init(_ message: String) { self.message = message }

  public var description: String { message }
}
