import DEQSolvers
import Testing
import _DEQTestSupport

/// The DEQ Broyden written the long way: a dense n × n inverse-Jacobian estimate `B` of
/// `g(z) = f(z) − z`, `B₀ = −I`, updated by Sherman–Morrison on the dense matrix.
/// Returns the iterates z₀ … z_steps and their absolute residuals ‖g(z_k)‖.
func denseBroyden(
  map f: ([Double]) -> [Double], start: [Double], steps: Int
) -> (iterates: [[Double]], residuals: [Double]) {
  let n = start.count
  var b = [Double](repeating: 0, count: n * n)
  for i in 0..<n { b[i * n + i] = -1 }
  func times(_ v: [Double]) -> [Double] {  // B v
    (0..<n).map { i in (0..<n).reduce(0) { $0 + b[i * n + $1] * v[$1] } }
  }
  func timesTransposed(_ v: [Double]) -> [Double] {  // vᵀ B
    (0..<n).map { j in (0..<n).reduce(0) { $0 + v[$1] * b[$1 * n + j] } }
  }
  var z = start
  var g = f(z).subtracting(z)
  var iterates = [z]
  var residuals = [g.norm()]
  for _ in 0..<steps {
    let update = times(g).scaled(by: -1)
    let next = z.adding(update)
    let gNext = f(next).subtracting(next)
    let dz = next.subtracting(z)
    let dg = gNext.subtracting(g)
    let vT = timesTransposed(dz)
    let u = dz.subtracting(times(dg)).scaled(by: 1 / vT.dot(dg))
    for i in 0..<n { for j in 0..<n { b[i * n + j] += u[i] * vT[j] } }
    (z, g) = (next, gNext)
    iterates.append(z)
    residuals.append(g.norm())
  }
  return (iterates, residuals)
}

@Suite("Limited-memory Broyden")
struct BroydenTests {
  /// Runs our Broyden for `steps` steps and collects every accepted iterate.
  func run(
    _ problem: FixedPointProblem<[Double]>, _ algorithm: Broyden, steps: Int
  ) -> (FixedPointSolution<[Double]>, [[Double]]) {
    var iterates: [[Double]] = []
    let solution = solve(problem, using: algorithm, stopping: exactly(steps)) { _, z in
      iterates.append(z)
      return .proceed
    }
    return (solution, iterates)
  }

  // The two implementations do the same arithmetic in a different order (GEMV against
  // dense matrix products), so iterates agree to rounding amplified by the conditioning of
  // B over 12 steps; 1e-12 relative leaves ample margin on these well-conditioned problems.
  @Test("matches a dense Sherman–Morrison Broyden step for step (linear)")
  func matchesDenseLinear() {
    let linear = LinearProblem<Double>(order: 12, norm: 0.9, seed: TestSeeds.standard)
    let steps = 12
    let reference = denseBroyden(map: linear.map, start: linear.problem.start, steps: steps)
    let (solution, iterates) = run(linear.problem, Broyden(memory: steps), steps: steps)
    #expect(solution.trace.count == steps + 1)
    #expect(solution.historyRestarts == 0)
    for k in 0...steps {
      let error = relativeError(iterates[k], reference.iterates[k])
      #expect(error < 1e-12, "iterate \(k): relative error \(error)")
      #expect(
        solution.trace[k].absoluteResidual.isApproximatelyEqual(
          to: reference.residuals[k], absoluteTolerance: 1e-14, relativeTolerance: 1e-8),
        "residual \(k)")
    }
  }

  @Test("matches a dense Sherman–Morrison Broyden step for step (tanh)")
  func matchesDenseNonlinear() {
    let tanh = TanhProblem<Double>(order: 16, norm: 0.9, seed: TestSeeds.standard, inputScale: 2)
    let steps = 15
    let reference = denseBroyden(map: tanh.map, start: tanh.problem().start, steps: steps)
    let (solution, iterates) = run(tanh.problem(), Broyden(memory: 15), steps: steps)
    for k in 0...steps {
      let error = relativeError(iterates[k], reference.iterates[k])
      #expect(error < 1e-12, "iterate \(k): relative error \(error)")
    }
    // The first step is z₁ = z₀ + g(z₀) = f(z₀).
    #expect(relativeError(iterates[1], tanh.map(tanh.problem().start)) < 1e-15)
    #expect(solution.mapEvaluations == steps + 1)
  }

  @Test(
    "memory policies keep working past the memory size",
    arguments: [
      Broyden.MemoryPolicy.cyclic, .restart,
    ])
  func limitedMemory(policy: Broyden.MemoryPolicy) throws {
    let linear = LinearProblem<Double>(order: 40, norm: 0.9, seed: TestSeeds.standard &+ 3)
    let solution = solve(
      linear.problem, using: Broyden(memory: 4, memoryPolicy: policy), stopping: tight())
    #expect(solution.status == .converged)
    #expect(relativeError(solution.fixedPoint, try linear.exactSolution()) < 1e-10)
    if policy == .restart { #expect(solution.historyRestarts > 0) }
  }

  @Test("Armijo line search converges and counts its evaluations")
  func lineSearch() {
    // A poor start far from the fixed point of a strongly nonlinear map.
    let tanh = TanhProblem<Double>(order: 20, norm: 0.95, seed: TestSeeds.standard, inputScale: 3)
    let start = [Double](repeating: 5, count: 20)
    let solution = solve(
      tanh.problem(start: start), using: Broyden(lineSearch: ArmijoLineSearch()),
      stopping: tight())
    #expect(solution.status == .converged)
    #expect(solution.mapEvaluations >= solution.iterations + 1)
    #expect(solution.trace.last?.mapEvaluations == solution.mapEvaluations)
  }

  @Test("a one-off zero denominator resets the history and the solve goes on")
  func oneOffZeroDenominator() {
    // Elementwise f(z) = z + 1 for z ≤ 1.5, 0.5 z + 1.5 beyond: from 0 the first step
    // lands on 1 where g is still 1, so Δg = 0 and vᵀΔg = 0. Then the map is linear with
    // fixed point 3.
    let problem = FixedPointProblem(start: [Double](repeating: 0, count: 3)) { z in
      z.map { $0 <= 1.5 ? $0 + 1 : 0.5 * $0 + 1.5 }
    }
    let solution = solve(problem, using: Broyden(), stopping: tight())
    #expect(solution.status == .converged)
    #expect(solution.historyRestarts == 1)
    #expect(relativeError(solution.fixedPoint, [3, 3, 3]) < 1e-12)
  }
}
