/// The stepper of one solve: a built-in one, dispatched by a `switch` so that every call
/// specialises (no existential dispatch in the iteration), or any other algorithm's
/// ``FixedPointStepper`` through the protocol.
@usableFromInline
enum _Stepper<K: _VectorKernel> {
  case picard(_PicardStepper<K>)
  case anderson(_AndersonStepper<K>)
  case broyden(_BroydenStepper<K>)
  case custom(any FixedPointStepper<K.Vector>)

  /// The stepper for `algorithm` at `start`. Picard, Anderson and Broyden (bare or in an
  /// ``AlgorithmKind``) are recognised by a cast, once per solve, and get the specialised
  /// steppers over the kernel `K`.
  @inlinable
  init(_ algorithm: any FixedPointAlgorithm, start: K.Vector, context: StepperContext<K.Vector>) {
    switch _BuiltinAlgorithm(algorithm) {
    case .picard(let a)?: self = .picard(_PicardStepper(a, start: start))
    case .anderson(let a)?: self = .anderson(_AndersonStepper(a, start: start))
    case .broyden(let a)?:
      self = .broyden(_BroydenStepper(a, start: start, maxIterations: context.maxIterations))
    case nil: self = .custom(algorithm.makeStepper(start: start, context: context))
    }
  }

  /// The pending point; after a `.iterate` receipt, the accepted iterate.
  @inlinable
  var point: K.Vector {
    switch self {
    case .picard(let s): s.z
    case .anderson(let s): s.z
    case .broyden(let s): s.z
    case .custom(let s): s.pendingPoint
    }
  }

  /// Evaluates the map at the pending point into the stepper's own output buffer.
  @inlinable
  func evaluate(_ map: (K.Vector, inout K.Vector) -> Void) {
    switch self {
    case .picard(let s): map(s.z, &s.mapValue)
    case .anderson(let s): map(s.z, &s.mapValue)
    case .broyden(let s): map(s.z, &s.mapValue)
    case .custom(let s): map(s.pendingPoint, &s.mapValue)
    }
  }

  /// Stores a map value computed elsewhere (a batched map) as `f(point)`.
  @inlinable
  func setMapValue(_ value: K.Vector) {
    switch self {
    case .picard(let s): s.mapValue = value
    case .anderson(let s): s.mapValue = value
    case .broyden(let s): s.mapValue = value
    case .custom(let s): s.mapValue = value
    }
  }

  @inlinable
  func receive() -> StepReceipt<K.Scalar> {
    switch self {
    case .picard(let s): s.receive()
    case .anderson(let s): s.receive()
    case .broyden(let s): s.receive()
    case .custom(let s): s.receive()
    }
  }

  @inlinable
  func advance() -> StepAdvance {
    switch self {
    case .picard(let s): s.advance()
    case .anderson(let s): s.advance()
    case .broyden(let s): s.advance()
    case .custom(let s): s.advance()
    }
  }

  @inlinable
  var restarts: Int {
    switch self {
    case .picard: 0
    case .anderson(let s): s.restarts
    case .broyden(let s): s.restarts
    case .custom(let s): s.restarts
    }
  }

  @inlinable
  var jacobianProducts: Int {
    if case .custom(let s) = self { return s.jacobianProducts }
    return 0
  }

  @inlinable
  var innerSolve: InnerSolveRecord? {
    if case .custom(let s) = self { return s.innerSolve }
    return nil
  }
}

/// Picard, Anderson or Broyden, recognised in an `any FixedPointAlgorithm`.
@usableFromInline
enum _BuiltinAlgorithm {
  case picard(Picard)
  case anderson(Anderson)
  case broyden(Broyden)

  @inlinable
  init?(_ algorithm: any FixedPointAlgorithm) {
    if let kind = algorithm as? AlgorithmKind {
      switch kind {
      case .picard(let a): self = .picard(a)
      case .anderson(let a): self = .anderson(a)
      case .broyden(let a): self = .broyden(a)
      default: return nil
      }
    } else if let a = algorithm as? Broyden {
      self = .broyden(a)
    } else if let a = algorithm as? Anderson {
      self = .anderson(a)
    } else if let a = algorithm as? Picard {
      self = .picard(a)
    } else {
      return nil
    }
  }
}
