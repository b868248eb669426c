/// A fixed-point problem `z = f(z)`: the map and the starting point.
///
/// The problem says *what* to solve; the algorithm value (``Picard``, ``Anderson``,
/// ``Broyden``) says *how*. The root view `g(z) = f(z) − z` that the solvers work with is
/// derived from the map, not stored.
///
/// Maps do not throw: a map that cannot produce a value returns NaN, and the solve ends
/// with ``FixedPointStatus/nonFinite``.
///
/// ```swift
/// let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.map { 0.5 * $0 + 1 } }
/// let solution = solve(problem, using: Anderson())
/// ```
public struct FixedPointProblem<V: VectorSpace> {
  /// The starting point `z₀`.
  public var start: V
  /// Evaluates `f(z)` into the second argument (same shape as `z`).
  public var evaluate: (V, inout V) -> Void
  /// `(z, v) ↦ ∂f/∂z(z)·v`, the exact Jacobian–vector product, when known. Newton–Krylov
  /// uses it; without it, it differences the map. Other algorithms ignore it.
  public var jacobianVectorProduct: ((V, V) -> V)?

  /// A problem from a map that returns a new value.
  ///
  /// - Parameters:
  ///   - start: `z₀`.
  ///   - map: `f`; must return a value of the shape of its argument.
  ///   - jacobianVectorProduct: `(z, v) ↦ ∂f/∂z(z)·v`, if known (default `nil`).
  public init(
    start: V, map: @escaping (V) -> V, jacobianVectorProduct: ((V, V) -> V)? = nil
  ) {
    self.start = start
    self.evaluate = { z, out in out = map(z) }
    self.jacobianVectorProduct = jacobianVectorProduct
  }

  /// A problem from a map that writes `f(z)` into a buffer it is given, so that a whole
  /// solve can run without allocating.
  ///
  /// - Parameters:
  ///   - start: `z₀`.
  ///   - inPlaceMap: writes `f(z)` into its second argument, which has `z`'s shape.
  ///   - jacobianVectorProduct: `(z, v) ↦ ∂f/∂z(z)·v`, if known (default `nil`).
  public init(
    start: V, inPlaceMap: @escaping (V, inout V) -> Void,
    jacobianVectorProduct: ((V, V) -> V)? = nil
  ) {
    self.start = start
    self.evaluate = inPlaceMap
    self.jacobianVectorProduct = jacobianVectorProduct
  }

  /// `f(z)`.
  @inlinable
  public func map(_ z: V) -> V {
    var out = z.zeroed()
    evaluate(z, &out)
    return out
  }

  /// The root-finding residual `g(z) = f(z) − z`.
  @inlinable
  public func residual(at z: V) -> V { map(z).subtracting(z) }
}
