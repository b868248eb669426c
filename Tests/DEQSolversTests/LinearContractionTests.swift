import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Linear contractions z = A z + b against LAPACK")
struct LinearContractionTests {
  // ‖A‖₂ ≤ 0.5, so the error is at most twice the residual: a 1e-13 residual tolerance
  // leaves three orders of magnitude under the 1e-10 target for rounding in the map.
  @Test(
    "each solver matches LAPACK's solve of (I − A) z = b to 1e-10",
    arguments: allAlgorithms, [5, 40, 200])
  func matchesLAPACK(algorithm: AlgorithmKind, order: Int) throws {
    let seed = TestSeeds.standard &+ UInt64(order)
    let linear = LinearProblem<Double>(order: order, norm: 0.5, seed: seed)
    let exact = try linear.exactSolution()
    let solution = solve(linear.problem, using: algorithm, stopping: tight())
    #expect(solution.status == .converged, "seed \(seed)")
    let error = relativeError(solution.fixedPoint, exact)
    #expect(error < 1e-10, "seed \(seed): relative error \(error)")
  }

  // Broyden's method terminates on a linear n-dimensional problem in at most 2n steps
  // (Gay 1979) in exact arithmetic; a slowly contracting A makes Picard-like luck impossible.
  @Test(
    "Broyden with full memory solves an n-dimensional linear problem within 2n steps",
    arguments: [4, 10, 25])
  func broydenFiniteTermination(order: Int) throws {
    let seed = TestSeeds.standard &+ 100 &+ UInt64(order)
    let linear = LinearProblem<Double>(order: order, norm: 0.95, seed: seed)
    let exact = try linear.exactSolution()
    let solution = solve(
      linear.problem, using: Broyden(memory: 2 * order),
      stopping: tight(1e-11, maxIterations: 2 * order))
    #expect(solution.status == .converged, "seed \(seed), \(solution.iterations) steps")
    #expect(solution.iterations <= 2 * order)
    #expect(relativeError(solution.fixedPoint, exact) < 1e-9, "seed \(seed)")
  }

  /// Float: a 1e-5 residual with ‖A‖ = 0.5 bounds the error by 2e-5 relative to ‖z*‖ ≈ 1, plus
  /// Float rounding in the map (~1e-6); Double as above.
  func converges<S: DEQScalar>(
    _: S.Type, _ algorithm: AlgorithmKind, residual: Double, error: S
  ) throws {
    let seed = TestSeeds.standard &+ 11
    let linear = LinearProblem<S>(order: 20, norm: 0.5, seed: seed)
    let exact = try linear.exactSolution()
    let solution = solve(
      linear.problem, using: algorithm,
      stopping: StoppingCriteria(tolerance: .relative(residual), maxIterations: 300))
    #expect(solution.status == .converged, "\(S.self), seed \(seed)")
    #expect(relativeError(solution.fixedPoint, exact) < error, "\(S.self), seed \(seed)")
  }

  @Test(
    "each solver converges in Float and in Double",
    arguments: ScalarKind.allCases, allAlgorithms)
  func bothPrecisions(kind: ScalarKind, algorithm: AlgorithmKind) throws {
    switch kind {
    case .float: try converges(Float.self, algorithm, residual: 1e-5, error: 1e-4)
    case .double: try converges(Double.self, algorithm, residual: 1e-13, error: 1e-11)
    }
  }

  @Test("contiguous (BLAS) and generic paths agree", arguments: allAlgorithms)
  func contiguousMatchesGeneric(algorithm: AlgorithmKind) {
    let linear = LinearProblem<Double>(order: 30, norm: 0.7, seed: TestSeeds.standard)
    let fast = solve(linear.problem, using: algorithm, stopping: exactly(12))
    let generic = solveGeneric(linear.problem, using: algorithm, stopping: exactly(12))
    #expect(fast.trace.count == generic.trace.count)
    // Only the summation order of the inner products differs (BLAS GEMV against separate
    // dots). Picard and Broyden carry that ulp-level difference forward almost unchanged;
    // Anderson's coefficients come from a system whose condition number reaches m/λ = 5e10,
    // which amplifies a 1e-16 difference in the Gram matrix to ~1e-6 in γ late in the solve.
    let tolerance = if case .anderson = algorithm { 1e-5 } else { 1e-10 }
    for (a, b) in zip(fast.trace, generic.trace) {
      #expect(
        a.absoluteResidual.isApproximatelyEqual(
          to: b.absoluteResidual, relativeTolerance: tolerance))
    }
    #expect(relativeError(fast.lastIterate, generic.lastIterate) < tolerance)
  }
}
