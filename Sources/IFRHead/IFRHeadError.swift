/// What went wrong building the IFR head from user-supplied tensors or files.
public enum IFRHeadError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A parameter the block needs is not in the state_dict.
  case missingTensor(name: String)
  /// The state_dict holds tensors the block does not use.
  case unexpectedTensors(names: [String])
  /// A tensor has the wrong shape.
  case shapeMismatch(name: String, expected: [Int], actual: [Int])
  /// A metadata entry could not be read (or contradicts the tensors).
  case invalidMetadata(key: String, value: String)
  /// The tensor file could not be read or written.
  case tensorFile(TensorFileError)
  /// A head or training configuration value is out of range (the message names it).
  case invalidConfiguration(String)
  /// A training checkpoint cannot be read (truncated, corrupt, or not a checkpoint).
  case unreadableCheckpoint(path: String, reason: String)
  /// A training checkpoint belongs to another run (configuration, precision or format).
  case checkpointMismatch(path: String, reason: String)

  /// A sentence a person can act on.
  public var description: String {
    switch self {
    case .missingTensor(let name):
      "the state_dict has no tensor '\(name)', which the IFR block needs"
    case .unexpectedTensors(let names):
      "the state_dict has tensors the IFR block does not use: \(names.joined(separator: ", "))"
    case .shapeMismatch(let name, let expected, let actual):
      "tensor '\(name)' has shape \(actual), expected \(expected)"
    case .invalidMetadata(let key, let value):
      "metadata '\(key)' = '\(value)' is not valid"
    case .tensorFile(let error):
      error.description
    case .invalidConfiguration(let message):
      message
    case .unreadableCheckpoint(let path, let reason):
      "cannot resume from \(path): \(reason)"
    case .checkpointMismatch(let path, let reason):
      "the checkpoint \(path) belongs to another run: \(reason)"
    }
  }
}
