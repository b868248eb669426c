/// What a user or a file can get wrong in training: bad hyperparameters, shapes that do not
/// fit, non-finite values.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A hyperparameter or configuration value is out of its range.
  case invalidHyperparameter(name: String, value: String, expected: String)
  /// Two tensors that must agree in shape do not.
  case shapeMismatch(what: String, expected: [Int], actual: [Int])
  /// A value that must be finite is not (NaN or infinity).
  case nonFinite(what: String)

  /// A sentence a person can act on.
  public var description: String {
    switch self {
    case .invalidHyperparameter(let name, let value, let expected):
      "\(name) = \(value) is not valid: expected \(expected)"
    case .shapeMismatch(let what, let expected, let actual):
      "\(what) has shape \(actual), expected \(expected)"
    case .nonFinite(let what):
      "\(what) is not finite (NaN or infinity)"
    }
  }
}
