/// What a user or a file can get wrong in training: bad hyperparameters, shapes that do not
/// fit, non-finite values.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A hyperparameter or configuration value is out of its range.
  case invalidHyperparameter(name: String, value: String, expected: String)
  /// Two tensors that must agree in shape do not.
  case shapeMismatch(what: String, expected: [Int], actual: [Int])
  /// A value that must be finite is not (NaN or infinity).
  case nonFinite(what: String)
  /// A value given as data (not a hyperparameter) is outside its allowed range, for example
  /// a binary target outside [0, 1].
  case valueOutOfRange(what: String, value: String, expected: String)
  /// An input that must hold at least one element is empty.
  case emptyInput(what: String)
  /// A checkpoint lacks a tensor of optimiser state (`optimizer.conv1.weight_v.exp_avg`).
  case missingState(name: String)

  /// A sentence a person can act on.
  public var description: String {
    switch self {
    case .invalidHyperparameter(let name, let value, let expected):
      "\(name) = \(value) is not valid: expected \(expected)"
    case .shapeMismatch(let what, let expected, let actual):
      "\(what) has shape \(actual), expected \(expected)"
    case .nonFinite(let what):
      "\(what) is not finite (NaN or infinity)"
    case .valueOutOfRange(let what, let value, let expected):
      "\(what) = \(value) is out of range: expected \(expected)"
    case .emptyInput(let what):
      "\(what) is empty: expected at least one element"
    case .missingState(let name):
      "optimizer state '\(name)' is missing (a checkpoint saved by another optimizer or model?)"
    }
  }
}
