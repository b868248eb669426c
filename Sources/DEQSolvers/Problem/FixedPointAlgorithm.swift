/// A fixed-point algorithm: a small `Sendable` value holding hyperparameters.
///
/// The library ships ``Picard``, ``Anderson`` and ``Broyden``; switching between them is a
/// one-word edit at the `solve` call. The set is closed: ``algorithmKind`` names which
/// of the three a value is, so that `solve` specialises fully for each.
///
/// `solve` takes the algorithm as `any FixedPointAlgorithm` and reads ``algorithmKind``
/// once, so the solve is generic only over the iterate and specialises for it whether the
/// caller holds a concrete algorithm or an existential chosen at run time. (Taking it as
/// `some FixedPointAlgorithm` made a call with an `any` value open the existential, and a
/// call generic over an opened type is not specialised: the IFR head's forward solve at
/// C·H·W = 50,176 then took about twice as long.)
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
