/// One of the built-in steppers, dispatched by a `switch` so that every call specialises
/// (no existential or class-hierarchy dispatch in the iteration).
@usableFromInline
enum _Stepper<K: _VectorKernel> {
  case picard(_PicardStepper<K>)
  case anderson(_AndersonStepper<K>)
  case broyden(_BroydenStepper<K>)

  /// A stepper at `start` for a solve of at most `maxIterations` steps (which bounds how
  /// much history can fill).
  @inlinable
  init(_ kind: AlgorithmKind, start: K.Vector, maxIterations: Int) {
    switch kind {
    case .picard(let a): self = .picard(_PicardStepper(a, start: start))
    case .anderson(let a): self = .anderson(_AndersonStepper(a, start: start))
    case .broyden(let a):
      self = .broyden(_BroydenStepper(a, start: start, maxIterations: maxIterations))
    }
  }

  /// The pending point; after a `.iterate` receipt, the accepted iterate.
  @inlinable
  var point: K.Vector {
    switch self {
    case .picard(let s): s.z
    case .anderson(let s): s.z
    case .broyden(let s): s.z
    }
  }

  /// Evaluates the map at the pending point into the stepper's own output buffer.
  @inlinable
  func evaluate(_ map: (K.Vector, inout K.Vector) -> Void) {
    switch self {
    case .picard(let s): map(s.z, &s.fz)
    case .anderson(let s): map(s.z, &s.fz)
    case .broyden(let s): map(s.z, &s.fz)
    }
  }

  /// Stores a map value computed elsewhere (a batched map) as `f(point)`.
  @inlinable
  func setMapValue(_ value: K.Vector) {
    switch self {
    case .picard(let s): s.fz = value
    case .anderson(let s): s.fz = value
    case .broyden(let s): s.fz = value
    }
  }

  @inlinable
  func receive() -> _Receipt<K.Scalar> {
    switch self {
    case .picard(let s): s.receive()
    case .anderson(let s): s.receive()
    case .broyden(let s): s.receive()
    }
  }

  @inlinable
  func advance() -> _Advance {
    switch self {
    case .picard(let s): s.advance()
    case .anderson(let s): s.advance()
    case .broyden(let s): s.advance()
    }
  }

  @inlinable
  var restarts: Int {
    switch self {
    case .picard: 0
    case .anderson(let s): s.restarts
    case .broyden(let s): s.restarts
    }
  }
}
