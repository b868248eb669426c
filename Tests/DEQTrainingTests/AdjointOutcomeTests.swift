import DEQTraining
import Testing

@Suite("AdjointOutcome and ZeroGradientPolicy")
struct AdjointOutcomeTests {
  /// The adjoint of the linear map z ↦ a·z + b (∂f/∂z = a·I): u = a·u + g.
  func adjoint(_ a: Double, using algorithm: any FixedPointAlgorithm, iterations: Int = 15)
    -> FixedPointSolution<[Double]>
  {
    let g = [1.0, -2.0, 0.5]
    return implicitGradient(
      lossGradient: g, vectorJacobianProduct: { u in u.map { a * $0 } },
      parameterVJP: { $0 }, using: algorithm,
      stopping: StoppingCriteria(maxIterations: iterations, stall: nil)
    ).backwardSolution
  }

  @Test("an expansive Jacobian under Picard: every iterate is worse than u = 0")
  func expansiveAdjointIsAZeroStart() {
    // Picard's first iterate is g, with residual ‖a·g‖ = 3‖g‖ > ‖g‖ = the start's; it grows.
    let solution = adjoint(3, using: Picard())
    #expect(solution.bestIteration == 0 && solution.fixedPoint == [0, 0, 0])
    let outcome = AdjointOutcome(solution)
    #expect(outcome == .zeroStart(solution.status) && outcome.isZeroGradient)
    #expect(outcome.description.hasPrefix("zero start ("))
  }

  @Test("a contraction converges; a slow one improves without converging")
  func otherOutcomes() {
    #expect(AdjointOutcome(adjoint(0.5, using: Picard(), iterations: 100)) == .converged)
    let slow = adjoint(0.99, using: Picard(), iterations: 5)
    #expect(AdjointOutcome(slow) == .improved(.maxIterations))
    #expect(!AdjointOutcome(slow).isZeroGradient)
    // No iterations at all: the start is the only iterate.
    #expect(
      AdjointOutcome(adjoint(0.5, using: Broyden(), iterations: 0)) == .zeroStart(.maxIterations))
  }

  @Test("a zero loss gradient converges at the start: zero is the right answer, not a failure")
  func zeroCotangentConverges() {
    let solution = implicitGradient(
      lossGradient: [0.0, 0.0], vectorJacobianProduct: { $0 }, parameterVJP: { $0 },
      using: Picard()
    ).backwardSolution
    #expect(AdjointOutcome(solution) == .converged)
  }

  @Test("policies parse and print back; bad text is refused")
  func policies() throws {
    #expect(try ZeroGradientPolicy(parsing: "phantom") == .default)
    #expect(
      try ZeroGradientPolicy(parsing: "phantom:3") == .phantomGradient(steps: 3, damping: 0.5))
    #expect(
      try ZeroGradientPolicy(parsing: "phantom:2,1") == .phantomGradient(steps: 2, damping: 1))
    #expect(try ZeroGradientPolicy(parsing: "skip") == .skipStep)
    #expect(try ZeroGradientPolicy(parsing: "zero") == .applyZero)
    for policy in [
      ZeroGradientPolicy.default, .skipStep, .applyZero, .phantomGradient(steps: 7, damping: 0.25),
    ] {
      #expect(try ZeroGradientPolicy(parsing: policy.description) == policy)
    }
    for bad in ["", "phantom:", "phantom:0", "phantom:2,0", "phantom:2,1.5", "phantom:a", "ignore"]
    {
      #expect(throws: TrainingError.self, "\(bad)") { try ZeroGradientPolicy(parsing: bad) }
    }
  }
}
