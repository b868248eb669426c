/// A fixed-point algorithm: a small `Sendable` value holding hyperparameters.
///
/// The library ships ``Picard``, ``Anderson`` and ``Broyden``; switching between them is a
/// one-word edit at the `solve` call. The set is closed: ``algorithmKind`` names which
/// of the three a value is, so that `solve` specialises fully for each.
public protocol FixedPointAlgorithm: Sendable {
  /// Which built-in algorithm this is, with its hyperparameters.
  var algorithmKind: AlgorithmKind { get }
}

/// One of the built-in algorithms with its hyperparameters.
public enum AlgorithmKind: Sendable, Equatable, Hashable, Codable {
  case picard(Picard)
  case anderson(Anderson)
  case broyden(Broyden)

  /// A short name (`"picard"`, `"anderson"`, `"broyden"`).
  public var name: String {
    switch self {
    case .picard: "picard"
    case .anderson: "anderson"
    case .broyden: "broyden"
    }
  }
}
