/// Solves `z = f(z)` with the given algorithm.
///
/// ```swift
/// let problem = FixedPointProblem(start: x) { z in tanh(W * z + x) }
/// let solution = solve(problem, using: Broyden(), stopping: StoppingCriteria(maxIterations: 30))
/// if solution.status.isConverged { use(solution.fixedPoint) }
/// ```
///
/// This overload serves iterates with contiguous storage: the history products are BLAS
/// GEMVs and an iteration allocates nothing after the first (beyond what the map does).
///
/// The algorithm is taken as `any FixedPointAlgorithm` on purpose: the solve is generic
/// only over the iterate, and the built-in Picard, Anderson and Broyden are recognised by
/// a cast and run through specialised steppers whether the caller holds a concrete value or
/// an existential chosen at run time. (A `some FixedPointAlgorithm` parameter would make a
/// call with an `any` value open the existential, and a call generic over an opened type
/// is not specialised.) Other algorithms run through their ``FixedPointStepper``.
///
/// - Parameters:
///   - problem: the map and the starting point.
///   - algorithm: ``Picard``, ``Anderson``, ``Broyden``, ``NewtonKrylov``, ``GMRES`` or
///     ``BiCGStab`` (for affine maps), or an algorithm of your own.
///   - stopping: tolerance, iteration cap, stall and divergence rules (see ``StoppingCriteria``).
///   - diagnostics: an optional per-step measurement (spectral radius) recorded in the trace.
///   - observer: sees each accepted step (trace entry and iterate) and may stop the solve.
/// - Returns: the solution; not converging is a ``FixedPointStatus``, not an error.
/// - Complexity: per iteration one map evaluation (more with line search) plus the
///   algorithm's own cost (see each algorithm).
@inlinable
public func solve<V: ContiguousVectorSpace>(
  _ problem: FixedPointProblem<V>,
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: SolverObserver<V>? = nil
) -> FixedPointSolution<V> {
  _solve(
    problem, kernel: _ContiguousKernel<V>.self, algorithm, stopping, diagnostics,
    observer)
}

/// Solves `z = f(z)` for iterates of any `VectorSpace` (the generic path: history products
/// are `m` inner products, and copies may allocate).
///
/// See the `ContiguousVectorSpace` overload of `solve(_:using:stopping:diagnostics:observer:)`
/// for the parameters.
@inlinable
@_disfavoredOverload
public func solve<V: VectorSpace>(
  _ problem: FixedPointProblem<V>,
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: SolverObserver<V>? = nil
) -> FixedPointSolution<V> {
  _solve(
    problem, kernel: _GenericKernel<V>.self, algorithm, stopping, diagnostics,
    observer)
}

/// Solves with the generic (non-BLAS) path even for contiguous iterates; for tests and
/// benchmarks that compare the two paths.
@inlinable
public func solveGeneric<V: VectorSpace>(
  _ problem: FixedPointProblem<V>,
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: SolverObserver<V>? = nil
) -> FixedPointSolution<V> {
  _solve(
    problem, kernel: _GenericKernel<V>.self, algorithm, stopping, diagnostics,
    observer)
}

@inlinable
func _solve<K: _VectorKernel>(
  _ problem: FixedPointProblem<K.Vector>, kernel: K.Type, _ algorithm: any FixedPointAlgorithm,
  _ stopping: StoppingCriteria, _ diagnostics: StepDiagnostics<K.Vector>?,
  _ observer: SolverObserver<K.Vector>?
) -> FixedPointSolution<K.Vector> {
  let run = _SolveRun<K>(
    algorithm: algorithm, start: problem.start, criteria: stopping, map: problem.evaluate,
    jacobianVectorProduct: problem.jacobianVectorProduct, diagnostics: diagnostics,
    observer: observer, startTime: ContinuousClock.now)
  while run.status == nil {
    run.evaluate(problem.evaluate)
    run.deliver()
  }
  return run.solution()
}
