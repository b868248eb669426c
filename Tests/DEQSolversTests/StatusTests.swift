import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Statuses: each one forced")
struct StatusTests {
  @Test("a map returning NaN ends with .nonFinite and a finite best iterate",
    arguments: allAlgorithms)
  func nonFinite(algorithm: AlgorithmKind) {
    // f(z) = 0.5 z + 2 has its fixed point 4 inside the region z > 2.5 where the map
    // returns NaN: every solver walks into it.
    let problem = FixedPointProblem(start: [0.0, 0.0]) { z in
      z.map { $0 > 2.5 ? .nan : 0.5 * $0 + 2 }
    }
    let solution = solve(problem, using: algorithm, stopping: StoppingCriteria(maxIterations: 100))
    #expect(solution.status == .nonFinite)
    #expect(solution.fixedPoint.isFinite)
    #expect(solution.trace.last?.absoluteResidual.isNaN == true)
    #expect(solution.best.absoluteResidual.isFinite)
    #expect(throws: FixedPointError.self) { try solution.requireConverged() }
  }

  /// A map whose residual grows tenfold with every evaluation, wherever it is evaluated.
  final class Escalating: @unchecked Sendable {
    var evaluations = 0
    func callAsFunction(_ z: [Double]) -> [Double] {
      evaluations += 1
      return z.adding([0.6, 0.8].scaled(by: Double.pow(10, Double(evaluations))))
    }
  }

  @Test("a growing residual ends with .diverged", arguments: allAlgorithms)
  func diverged(algorithm: AlgorithmKind) {
    let map = Escalating()
    let problem = FixedPointProblem(start: [0.0, 0.0]) { map($0) }
    let solution = solve(
      problem, using: algorithm, stopping: StoppingCriteria(maxIterations: 500, stall: nil))
    #expect(solution.status == .diverged, "\(solution.status)")
    let last = solution.trace.last?.absoluteResidual ?? 0
    #expect(last > 1e6 * solution.trace[0].absoluteResidual)
    #expect(solution.bestIteration == 0)
  }

  @Test("a repelling map ends with .diverged, never converged")
  func repelling() {
    let problem = FixedPointProblem(start: [0.0, 1.0]) { z in z.map { 1.5 * $0 + 1 } }
    let solution = solve(
      problem, using: Picard(), stopping: StoppingCriteria(maxIterations: 10_000, stall: nil))
    #expect(solution.status == .diverged)
  }

  @Test("a constant residual ends with .stalled after the window", arguments: [
    AlgorithmKind.picard(Picard()), .anderson(Anderson()),
  ])
  func stalled(algorithm: AlgorithmKind) {
    // f(z) = z + u, ‖u‖ = 1: the residual is 1 at every iterate.
    let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.adding([0.6, 0.8]) }
    let solution = solve(problem, using: algorithm, stopping: StoppingCriteria(maxIterations: 100))
    #expect(solution.status == .stalled)
    #expect(solution.iterations == 30)
    if case .anderson = algorithm {
      // Every Δg is zero: each least-squares system is singular and restarts the history.
      #expect(solution.historyRestarts == 29)
    }
  }

  @Test("a growing state with a shrinking relative residual is never converged by default")
  func relativeTrap() {
    // The eq5 pathology in miniature: ‖f(z) − z‖ = 1 forever while ‖z‖ grows, so the
    // relative residual falls like 1/k.
    let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.adding([0.6, 0.8]) }
    let unsafe = solve(
      problem, using: Picard(),
      stopping: StoppingCriteria(tolerance: .relative(1e-2), maxIterations: 500, stall: nil))
    #expect(unsafe.status == .converged)  // what a relative-only test reports
    for stall in [nil, StallRule()] {
      let safe = solve(
        problem, using: Picard(), stopping: StoppingCriteria(maxIterations: 500, stall: stall))
      #expect(safe.status != .converged)
      #expect(safe.absoluteResidual.isApproximatelyEqual(to: 1, relativeTolerance: 1e-12))
    }
  }

  @Test("the iteration cap ends with .maxIterations", arguments: allAlgorithms)
  func maxIterations(algorithm: AlgorithmKind) {
    let linear = LinearProblem<Double>(order: 30, norm: 0.99, seed: TestSeeds.standard)
    let solution = solve(
      linear.problem, using: algorithm, stopping: StoppingCriteria(maxIterations: 3))
    #expect(solution.status == .maxIterations)
    #expect(solution.iterations == 3)
    #expect(solution.trace.count == 4)
  }

  @Test("a persistent zero Broyden denominator ends with .breakdown")
  func breakdown() {
    // Δg = 0 exactly at every step (integer steps are exact): reset, then zero again
    // right after the reset.
    let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.adding([1, 2]) }
    let solution = solve(problem, using: Broyden(), stopping: StoppingCriteria(maxIterations: 100))
    #expect(solution.status == .breakdown)
    #expect(solution.historyRestarts == 2)
    #expect(solution.iterations == 2)
  }

  @Test("residual differences at rounding level end Broyden as .stalled")
  func broydenFloor() {
    // Δg = 0 at the first step, then 3u − 2u ≠ u in floating point: Δg is rounding noise.
    let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.adding([0.6, 0.8]) }
    let solution = solve(problem, using: Broyden(), stopping: StoppingCriteria(maxIterations: 100))
    #expect(solution.status == .stalled)
    #expect(solution.absoluteResidual.isApproximatelyEqual(to: 1, relativeTolerance: 1e-12))
  }

  @Test("a singular Anderson system restarts the history and the solve goes on")
  func andersonSingular() {
    // All entries equal: every Δg is a multiple of (1, …, 1), so with λ = 0 two columns are
    // collinear and the system is singular.
    let problem = FixedPointProblem(start: [Double](repeating: 0, count: 4)) { z in
      z.map { 0.5 * Double.tanh($0) + 1 }
    }
    let solution = solve(
      problem, using: Anderson(memory: 3, regularization: 0), stopping: tight(1e-12))
    #expect(solution.status == .converged)
    #expect(solution.historyRestarts > 0)
  }

  @Test("an observer sees every step and can stop the solve", arguments: allAlgorithms)
  func observerStops(algorithm: AlgorithmKind) {
    let tanh = TanhProblem<Double>(order: 10, norm: 0.9, seed: 3)
    var seen: [Int] = []
    let solution = solve(tanh.problem(), using: algorithm) { entry, z in
      seen.append(entry.iteration)
      #expect(z.count == 10)
      return entry.iteration == 2 ? .stop : .proceed
    }
    #expect(seen == [0, 1, 2])
    #expect(solution.status == .stoppedByObserver)
    #expect(solution.trace.count == 3)
  }

  @Test("every status explains itself")
  func explanations() {
    for status in FixedPointStatus.allCases {
      #expect(status.explanation.count > 40)
      #expect(status.isConverged == (status == .converged))
    }
    let error = FixedPointError.notConverged(status: .stalled, iterations: 3, absoluteResidual: 1)
    #expect(error.description.contains("Stalled"))
  }
}
