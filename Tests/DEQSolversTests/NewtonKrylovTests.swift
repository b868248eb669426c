import DEQSolvers
import Testing
import _DEQTestSupport

extension TanhProblem {
  /// `v ↦ ∂f/∂z · v = slope ⊙ (W v)`.
  func jvp(at z: [S], _ v: [S]) -> [S] {
    zip(slope(z), matvec(w, v)).map { $0 * $1 }
  }

  func problemWithJVP(start: [S]? = nil) -> FixedPointProblem<[S]> {
    let copy = self
    return FixedPointProblem(
      start: start ?? [S](repeating: 0, count: n), map: { z in copy.map(z) },
      jacobianVectorProduct: { z, v in copy.jvp(at: z, v) })
  }
}

@Suite("Newton–Krylov")
struct NewtonKrylovTests {
  // ‖W‖ = 0.99: Picard needs thousands of steps; Newton does not care.
  let tanh = TanhProblem<Double>(
    order: 60, norm: 0.99, seed: TestSeeds.standard, inputScale: 1, symmetric: true)

  @Test("with exact JVPs it reaches 1e-12 in a few outer steps, on Broyden's fixed point")
  func exactProducts() {
    let stopping = StoppingCriteria(tolerance: .relative(1e-12), maxIterations: 12)
    let solution = solve(tanh.problemWithJVP(), using: NewtonKrylov(), stopping: stopping)
    #expect(solution.status == .converged, "\(solution.status)")
    #expect(solution.iterations <= 8, "\(solution.iterations) outer steps")
    let reference = solve(
      tanh.problem(), using: Broyden(memory: 200), stopping: tight(1e-13, maxIterations: 500))
    #expect(reference.status == .converged)
    #expect(relativeError(solution.fixedPoint, reference.fixedPoint) < 1e-10)
    // Work: products counted beside map evaluations, and every step records its inner solve.
    #expect(solution.jacobianProducts > 0)
    #expect(solution.trace.last?.jacobianProducts == solution.jacobianProducts)
    let records = solution.trace.dropFirst().compactMap(\.innerSolve)
    #expect(records.count == solution.iterations)
    #expect(records.map(\.products).reduce(0, +) == solution.jacobianProducts)
    for record in records {
      #expect(record.relativeResidual <= record.forcingTerm * (1 + 1e-9) || record.products == 60)
      #expect(record.residualHistory.count == record.products)
    }
    // Superlinear: the forcing terms fall as the residual does.
    #expect(records.last!.forcingTerm < 1e-2)
  }

  @Test(
    "with finite-difference products it converges too, to about √ε relative accuracy per product")
  func finiteDifferenceProducts() {
    let stopping = StoppingCriteria(tolerance: .relative(1e-10), maxIterations: 12)
    let exact = solve(tanh.problemWithJVP(), using: NewtonKrylov(), stopping: stopping)
    let fd = solve(tanh.problem(), using: NewtonKrylov(), stopping: stopping)
    #expect(fd.status == .converged, "\(fd.status)")
    #expect(relativeError(fd.fixedPoint, exact.fixedPoint) < 1e-9)
    #expect(fd.iterations <= exact.iterations + 3)
  }

  @Test("statuses: non-finite map, iteration cap, out-of-range hyperparameters")
  func statuses() {
    let nan = FixedPointProblem(start: [0.0, 0.0]) { z in z.map { $0 > 2.5 ? .nan : 0.5 * $0 + 2 } }
    // The Newton step jumps to 4, where f is NaN; every backtrack stays beyond 2.5.
    let a = solve(nan, using: NewtonKrylov(maxBacktracks: 0), stopping: .init(maxIterations: 20))
    #expect(a.status == .nonFinite)
    #expect(a.fixedPoint.isFinite)
    let capped = solve(
      tanh.problemWithJVP(), using: NewtonKrylov(maxInnerProducts: 2),
      stopping: StoppingCriteria(tolerance: .absolute(1e-14), maxIterations: 3, stall: nil))
    #expect(capped.status == .maxIterations)
    var bad = NewtonKrylov()
    bad.maximumForcing = 1.5
    #expect(solve(tanh.problem(), using: bad).status == .invalidConfiguration)
  }

  @Test("the line search rescues a Newton step that overshoots")
  func lineSearch() {
    // f(z) = z − atan(z): g(z) = −atan(z), whose full Newton step from |z| > 1.39 overshoots
    // and diverges; backtracking converges to 0.
    let map: ([Double]) -> [Double] = { z in z.map { $0 - Double.atan($0) } }
    let jvp: ([Double], [Double]) -> [Double] = { z, v in
      (0..<z.count).map { i -> Double in
        let square: Double = z[i] * z[i]
        return square / (1 + square) * v[i]
      }
    }
    let problem = FixedPointProblem(start: [3.0], map: map, jacobianVectorProduct: jvp)
    let full = solve(
      problem, using: NewtonKrylov(maxBacktracks: 0), stopping: .init(maxIterations: 30))
    #expect(full.status != .converged)
    let searched = solve(problem, using: NewtonKrylov(), stopping: .init(maxIterations: 30))
    #expect(searched.status == .converged, "\(searched.status)")
    #expect(Swift.abs(searched.fixedPoint[0]) < 1e-6)
    #expect(searched.trace.compactMap(\.innerSolve).contains { $0.backtracks > 0 })
  }
}
