/// A fixed-point algorithm: a small `Sendable` value holding hyperparameters.
///
/// The library ships ``Picard``, ``Anderson`` and ``Broyden``; switching between them is a
/// one-word edit at the `solve` call. The set is closed: ``algorithmKind`` names which
/// of the three a value is, so that `solve` specialises fully for each.
///
/// Keep a choice made at run time as an ``AlgorithmKind``, or pass `algorithm.algorithmKind`:
/// an `any FixedPointAlgorithm` handed to `solve` is opened at the call, and a call generic
/// over an opened type is not specialised, so the whole solve then runs as unspecialised
/// generic code (about twice the IFR head's forward time at C·H·W = 50,176).
public protocol FixedPointAlgorithm: Sendable {
  /// Which built-in algorithm this is, with its hyperparameters.
  var algorithmKind: AlgorithmKind { get }
}

/// One of the built-in algorithms with its hyperparameters.
///
/// Itself a ``FixedPointAlgorithm``, so a choice made at run time (a command-line flag, a
/// configuration file) passes straight to `solve`.
public enum AlgorithmKind: FixedPointAlgorithm, Equatable, Hashable, Codable {
  case picard(Picard)
  case anderson(Anderson)
  case broyden(Broyden)

  public var algorithmKind: AlgorithmKind { self }

  /// A short name (`"picard"`, `"anderson"`, `"broyden"`).
  public var name: String {
    switch self {
    case .picard: "picard"
    case .anderson: "anderson"
    case .broyden: "broyden"
    }
  }
}
