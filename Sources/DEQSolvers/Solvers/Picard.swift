// Picard (fixed-point) iteration with damping:
//
//   z_{k+1} = (1 − β) z_k + β f(z_k)
//
// The baseline every DEQ paper unrolls. With β = 1 the new iterate is a bit-exact copy of
// f(z_k), so a Picard solve reproduces a plain unrolled loop exactly (the Section 3.5
// analysis of the IFR paper relies on this).
// Goals in priority order: correct status, no allocation per iteration, speed.

/// Picard iteration `z ← (1 − β) z + β f(z)`.
///
/// Cheap per step (one map evaluation, O(n) work) and converges linearly at the rate of
/// the map's contraction, `ρ(∂f/∂z)`; pick it for strongly contractive maps or for exact
/// unrolled traces.
///
/// - Complexity: per iteration one evaluation of `f` plus O(n) flops; memory 3 vectors.
public struct Picard: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// The damping `β` in `(0, 1]` (default 1: plain iteration). A smaller β makes
  /// `(1 − β) I + β ∂f/∂z` contractive for maps whose Jacobian has eigenvalues with
  /// real part below 1 but modulus above 1.
  public var damping: Double

  /// Creates Picard iteration with damping `β` (default 1).
  public init(damping: Double = 1) {
    precondition(damping > 0 && damping <= 1, "Picard damping must be in (0, 1]")
    self.damping = damping
  }

  public var name: String { "picard" }

  /// - Throws: ``ConfigurationError`` unless `0 < damping ≤ 1`.
  public func validate() throws(ConfigurationError) {
    guard damping > 0 && damping <= 1 else {
      throw ConfigurationError("Picard damping must be in (0, 1], got \(damping)")
    }
  }

  /// A stepper over any `VectorSpace` (`solve` itself uses a specialised one).
  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _PicardStepper<_GenericKernel<V>>(self, start: start)
  }
}

@usableFromInline
final class _PicardStepper<K: _VectorKernel>: FixedPointStepper {
  @usableFromInline typealias V = K.Vector
  @usableFromInline var z: V
  @usableFromInline var mapValue: V
  @usableFromInline var g: V
  @usableFromInline let damping: K.Scalar
  @usableFromInline var stepNorm: K.Scalar = 0
  @usableFromInline var residualNorm: K.Scalar = 0

  @inlinable
  var pendingPoint: V { z }

  @inlinable
  init(_ algorithm: Picard, start: V) {
    var z = start.zeroed()
    K.copy(start, into: &z)
    self.z = z
    self.mapValue = start.zeroed()
    self.g = start.zeroed()
    self.damping = K.Scalar(algorithm.damping)
  }

  @inlinable
  func receive() -> StepReceipt<K.Scalar> {
    K.difference(mapValue, z, into: &g)
    residualNorm = g.norm()
    return .iterate(
      residual: residualNorm, mapNorm: mapValue.norm(), stepNorm: stepNorm, isFinite: g.isFinite)
  }

  @inlinable
  func advance() -> StepAdvance {
    if damping == 1 {
      K.copy(mapValue, into: &z)
    } else {
      z.scale(by: 1 - damping)
      z.add(mapValue, scaledBy: damping)
    }
    stepNorm = Swift.abs(damping) * residualNorm
    return .proceed
  }
}
