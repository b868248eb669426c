import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("GMRES and BiCGStab on affine maps, against LAPACK")
struct KrylovAdjointTests {
  static let krylov: [AlgorithmKind] = [
    .gmres(GMRES()), .gmres(GMRES(restart: 7)), .bicgstab(BiCGStab()),
  ]

  /// `z = A z + b` with symmetric A: eigenvalues in [−0.5, 0.5] (contractive) or in
  /// [−3, 0.5] (ρ(A) = 3: Picard diverges, but κ(I − A) ≤ 8).
  static func problem(repelling: Bool) -> (FixedPointProblem<[Double]>, [Double], [Double]) {
    let n = 40
    let s = contraction(order: n, norm: 1.0, seed: TestSeeds.standard &+ 7, symmetric: true)
    let a = (0..<(n * n)).map { i in
      repelling ? 1.75 * s[i] - (i / n == i % n ? 1.25 : 0) : 0.5 * s[i]
    }
    let b = randomVector(count: n, seed: 11, as: Double.self)
    let problem = FixedPointProblem(start: [Double](repeating: 0, count: n)) { z in
      matvec(a, z).adding(b)
    }
    return (problem, a, b)
  }

  @Test(
    "they match LAPACK's solve of (I − A) z = b to 1e-10, also where Picard diverges",
    arguments: krylov, [false, true])
  func matchesLAPACK(algorithm: AlgorithmKind, repelling: Bool) throws {
    let (problem, a, b) = Self.problem(repelling: repelling)
    let n = b.count
    let m = Tensor<Double>(shape: [n, n]) { index in (index / n == index % n ? 1 : 0) - a[index] }
    let exact = try LinearAlgebra.solve(m, Tensor(b)).scalars
    let solution = solve(
      problem, using: algorithm,
      stopping: StoppingCriteria(
        tolerance: .absolute(1e-12), maxIterations: 400, stall: nil, divergenceFactor: nil))
    #expect(solution.status == .converged, "\(solution.status) after \(solution.iterations)")
    let error = relativeError(solution.fixedPoint, exact)
    #expect(error < 1e-10, "relative error \(error)")
    // Converged only on a true residual: the map, evaluated again, agrees.
    let residual = problem.map(solution.fixedPoint).subtracting(solution.fixedPoint).norm()
    #expect(residual <= 1e-12)
    #expect(residual.isApproximatelyEqual(to: solution.absoluteResidual, relativeTolerance: 1e-6))
    if repelling {
      let picard = solve(problem, using: Picard(), stopping: StoppingCriteria(maxIterations: 400))
      #expect(picard.status == .diverged)
    }
  }

  @Test("full GMRES terminates within n products on an n-dimensional system")
  func finiteTermination() throws {
    let linear = LinearProblem<Double>(order: 12, norm: 2, seed: 5)
    let solution = solve(
      linear.problem, using: GMRES(restart: 12),
      stopping: StoppingCriteria(
        tolerance: .absolute(1e-10), maxIterations: 12, stall: nil, divergenceFactor: nil))
    #expect(solution.status == .converged, "\(solution.status)")
    #expect(relativeError(solution.fixedPoint, try linear.exactSolution()) < 1e-9)
    // One product per iteration, plus the start and one true-residual evaluation.
    #expect(solution.mapEvaluations == solution.iterations + 2)
  }

  /// `u = A u + b` with `I − A = M` given directly.
  static func affine(_ m: [[Double]], _ b: [Double]) -> FixedPointProblem<[Double]> {
    let n = b.count
    return FixedPointProblem(start: [Double](repeating: 0, count: n)) { (u: [Double]) -> [Double] in
      var out = u
      for i in 0..<n {
        var mu = 0.0
        for j in 0..<n { mu += m[i][j] * u[j] }
        out[i] = u[i] - mu + b[i]
      }
      return out
    }
  }

  static let loose = StoppingCriteria(
    tolerance: .absolute(1e-10), maxIterations: 50, stall: nil, divergenceFactor: nil)

  @Test("GMRES(1) on a rotation makes no progress: .stalled after one cycle")
  func stagnation() {
    // M = 90° rotation: M r ⟂ r, so every one-dimensional minimisation returns 0.
    let problem = Self.affine([[0, 1], [-1, 0]], [1, 0])
    let solution = solve(problem, using: GMRES(restart: 1), stopping: Self.loose)
    #expect(solution.status == .stalled, "\(solution.status)")
    #expect(solution.iterations == 1)
    #expect(solution.absoluteResidual.isApproximatelyEqual(to: 1, relativeTolerance: 1e-12))
    // Full GMRES solves the same system in two products.
    let full = solve(problem, using: GMRES(restart: 2), stopping: Self.loose)
    #expect(full.status == .converged)
    #expect(relativeError(full.fixedPoint, [0, 1]) < 1e-12)
  }

  @Test("GMRES on a singular system with b outside its range ends with .breakdown")
  func gmresBreakdown() {
    // M = diag(1, 0), b = (1, 1): no solution; the Krylov space becomes invariant while
    // R is singular.
    let solution = solve(
      Self.affine([[1, 0], [0, 0]], [1, 1]), using: GMRES(restart: 5), stopping: Self.loose)
    #expect(solution.status == .breakdown, "\(solution.status)")
    // The least-squares solution is still the best iterate: residual 1 (the b₂ part).
    #expect(solution.absoluteResidual.isApproximatelyEqual(to: 1, relativeTolerance: 1e-10))
  }

  @Test("BiCGStab with ⟨r̂, M p⟩ = 0 restarts once, then ends with .breakdown")
  func bicgstabBreakdown() {
    let solution = solve(
      Self.affine([[0, 1], [-1, 0]], [1, 0]), using: BiCGStab(), stopping: Self.loose)
    #expect(solution.status == .breakdown, "\(solution.status)")
    #expect(solution.historyRestarts == 1)
  }

  @Test("a NaN from the map ends GMRES and BiCGStab with .nonFinite", arguments: krylov)
  func nonFinite(algorithm: AlgorithmKind) {
    let problem = FixedPointProblem(start: [0.0, 0.0]) { u in
      u[0] != 0 ? [Double.nan, 0] : [0.5 * u[0] + 1, 0.5 * u[1] + 1]
    }
    let solution = solve(problem, using: algorithm, stopping: Self.loose)
    #expect(solution.status == .nonFinite, "\(solution.status)")
    #expect(solution.fixedPoint == [0, 0])
  }
}
