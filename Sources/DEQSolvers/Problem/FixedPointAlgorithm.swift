/// A fixed-point algorithm: a small `Sendable` value holding hyperparameters, which makes
/// the ``FixedPointStepper`` that runs it.
///
/// The library ships ``Picard``, ``Anderson``, ``Broyden``, ``NewtonKrylov``, and for
/// affine maps (adjoint solves) ``GMRES`` and ``BiCGStab``; switching between them is a
/// one-word edit at the `solve` call. The set is open: a type of your own that conforms
/// gets the same statuses, traces, batches, observers and diagnostics (see the DocC article
/// "Writing your own solver").
///
/// `solve` takes the algorithm as `any FixedPointAlgorithm`. It recognises the built-in
/// Picard, Anderson and Broyden (also inside an ``AlgorithmKind``) with a dynamic cast and
/// runs them through a `switch` over concrete stepper types, so those solves specialise for
/// the iterate whether the caller holds a concrete algorithm or an existential chosen at
/// run time. Every other algorithm runs through ``makeStepper(start:context:)``.
public protocol FixedPointAlgorithm: Sendable {
  /// A short name for reports (`"broyden"`; default: the type's name).
  var name: String { get }

  /// Checks the hyperparameters (which public properties and decoding can set out of range).
  ///
  /// - Throws: ``ConfigurationError`` naming the value and its range. The default accepts
  ///   everything.
  func validate() throws(ConfigurationError)

  /// A stepper for one solve from `start`.
  ///
  /// - Parameters:
  ///   - start: `z₀`, the first pending point.
  ///   - context: the iteration cap, tolerance, and the problem's map and Jacobian products.
  func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
}

extension FixedPointAlgorithm {
  public var name: String { String(describing: Self.self) }
  public func validate() throws(ConfigurationError) {}
}

/// One of the library's algorithms with its hyperparameters.
///
/// Itself a ``FixedPointAlgorithm``, and `Codable`, so a choice made at run time (a
/// command-line flag, a configuration file) passes straight to `solve`.
public enum AlgorithmKind: FixedPointAlgorithm, Equatable, Hashable, Codable {
  case picard(Picard)
  case anderson(Anderson)
  case broyden(Broyden)
  case newtonKrylov(NewtonKrylov)
  case gmres(GMRES)
  case bicgstab(BiCGStab)

  /// The algorithm value itself.
  public var algorithm: any FixedPointAlgorithm {
    switch self {
    case .picard(let a): a
    case .anderson(let a): a
    case .broyden(let a): a
    case .newtonKrylov(let a): a
    case .gmres(let a): a
    case .bicgstab(let a): a
    }
  }

  /// A short name (`"picard"`, `"anderson"`, `"broyden"`, `"gmres"`, …).
  public var name: String { algorithm.name }

  public func validate() throws(ConfigurationError) { try algorithm.validate() }

  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    algorithm.makeStepper(start: start, context: context)
  }
}
