// Implicit differentiation of a fixed point z* = f(z*, θ) (Bai, Kolter & Koltun 2019).
//
// For a loss L(z*), the implicit function theorem gives
//
//   dL/dθ = u · ∂f/∂θ(z*),   where   u = u · ∂f/∂z(z*) + ∂L/∂z*.
//
// The adjoint u is itself a fixed point, of the linear map u ↦ vjp(u) + ∂L/∂z*, and is
// solved with any of the solvers (Broyden, 15 iterations by default, as the DEQ code and
// the IFR head; GMRES gives the minimal residual per VJP, since the map is affine),
// keeping that solve's own status and trace.
// Goals in priority order: correct status of the backward solve, then cost (one VJP per
// backward iteration and one parameter VJP at the end).

/// The result of an implicit backward pass.
public struct ImplicitGradient<V: VectorSpace, Gradient> {
  /// The adjoint `u` solving `u = u·∂f/∂z + ∂L/∂z*` (the best iterate of the backward solve).
  public var adjoint: V
  /// `u · ∂f/∂θ` from the parameter VJP.
  public var parameterGradient: Gradient
  /// The backward solve, with its status and trace.
  public var backwardSolution: FixedPointSolution<V>

  /// Creates a result.
  public init(adjoint: V, parameterGradient: Gradient, backwardSolution: FixedPointSolution<V>) {
    self.adjoint = adjoint
    self.parameterGradient = parameterGradient
    self.backwardSolution = backwardSolution
  }
}

extension ImplicitGradient: Sendable where V: Sendable, Gradient: Sendable {}

/// The backward defaults of the DEQ code and the IFR head: 15 iterations.
extension StoppingCriteria {
  /// Backward (adjoint) solves: at most 15 iterations, tolerance as the default criteria,
  /// no stall exit.
  public static let backward = StoppingCriteria(maxIterations: 15, stall: nil)
}

/// Computes the implicit gradient of a loss through a fixed point.
///
/// ```
/// u    = u · ∂f/∂z(z*) + ∂L/∂z*        (a fixed-point solve)
/// dL/dθ = u · ∂f/∂θ(z*)
/// ```
///
/// - Parameters:
///   - lossGradient: `∂L/∂z*`.
///   - vectorJacobianProduct: `w ↦ w · ∂f/∂z` at `z*`.
///   - parameterVJP: `w ↦ w · ∂f/∂θ` at `z*` (θ: parameters and/or inputs).
///   - algorithm: the backward solver (default `Broyden()`; ``GMRES`` and ``BiCGStab``
///     solve the linear adjoint equation as such).
///   - stopping: the backward criteria (default ``StoppingCriteria/backward``: 15 steps).
/// - Returns: the adjoint, the parameter gradient and the backward solution.
/// - Complexity: one VJP per backward map evaluation, plus one parameter VJP.
@inlinable
public func implicitGradient<V: ContiguousVectorSpace, Gradient>(
  lossGradient: V,
  vectorJacobianProduct: @escaping (V) -> V,
  parameterVJP: (V) -> Gradient,
  using algorithm: any FixedPointAlgorithm = Broyden(),
  stopping: StoppingCriteria = .backward
) -> ImplicitGradient<V, Gradient> {
  let problem = FixedPointProblem(start: lossGradient.zeroed()) { u in
    vectorJacobianProduct(u).adding(lossGradient)
  }
  let backward = solve(problem, using: algorithm, stopping: stopping)
  return ImplicitGradient(
    adjoint: backward.fixedPoint, parameterGradient: parameterVJP(backward.fixedPoint),
    backwardSolution: backward)
}

/// The implicit gradient for iterates of any `VectorSpace`; see the contiguous overload.
@inlinable
@_disfavoredOverload
public func implicitGradient<V: VectorSpace, Gradient>(
  lossGradient: V,
  vectorJacobianProduct: @escaping (V) -> V,
  parameterVJP: (V) -> Gradient,
  using algorithm: any FixedPointAlgorithm = Broyden(),
  stopping: StoppingCriteria = .backward
) -> ImplicitGradient<V, Gradient> {
  let problem = FixedPointProblem(start: lossGradient.zeroed()) { u in
    vectorJacobianProduct(u).adding(lossGradient)
  }
  let backward = solve(problem, using: algorithm, stopping: stopping)
  return ImplicitGradient(
    adjoint: backward.fixedPoint, parameterGradient: parameterVJP(backward.fixedPoint),
    backwardSolution: backward)
}
