import DEQCore
import DEQSolvers
import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The IFR problems the Krylov claims are checked on: the package's own PyTorch fixture
/// (always) and `../shared/reference/ifr-small` (when present), in the ifr_code and xshort
/// forms.
enum KrylovIFRProblems {
  struct Problem: CustomTestStringConvertible {
    let name: String
    let block: IFRBlock<Double>
    let injection: Tensor<Double>
    var testDescription: String { name }
  }

  static func all() throws -> [Problem] {
    var problems: [Problem] = []
    for form in [IFRBlockForm.ifrCode, .xshort] {
      problems.append(
        Problem(
          name: "fixture seed 11 \(form.referenceName)",
          block: try PyTorchFixture.block(form: form),
          injection: try PyTorchFixture.npy("x.npy")))
      if ReferenceData.isAvailable {
        problems.append(
          Problem(
            name: "ifr-small \(form.referenceName)", block: try ReferenceFiles.block(form: form),
            injection: try ReferenceFiles.npy("x.npy")))
      }
    }
    return problems
  }
}

@Suite("Newton–Krylov and Krylov adjoints on the IFR block")
struct KrylovIFRTests {
  /// Newton–Krylov from H₀ = 0 to 1e-10 relative: at most 12 outer steps on every RoI but
  /// one. The seed-11 fixture's ifr_code RoI 0 needs 18 (measured): F is far from
  /// contractive at H = 0 (ρ(∂F/∂H) > 2 there), the inner GMRES cannot solve the Newton
  /// equation well, and ‖F(H) − H‖ has a local minimum near 8e-2 that a monotone line search
  /// stalls in (the non-monotone default walks through it).
  static func outerStepCap(_ name: String, roi: Int) -> Int {
    name == "fixture seed 11 ifr_code" && roi == 0 ? 18 : 12
  }

  @Test("Newton–Krylov reaches 1e-10 relative within 12 outer steps (18 on one hard RoI)")
  func newtonKrylov() throws {
    for problem in try KrylovIFRProblems.all() {
      for roi in 0..<problem.injection.shape[0] {
        let fixedPoint = problem.block.fixedPointProblem(injection: problem.injection.sample(roi))
        let target = StoppingCriteria(
          tolerance: .relative(1e-10), maxIterations: Self.outerStepCap(problem.name, roi: roi))
        let solution = solve(fixedPoint, using: NewtonKrylov(), stopping: target)
        #expect(solution.status == .converged, "\(problem.name) RoI \(roi): \(solution.status)")
        #expect(solution.relativeResidual <= 1e-10)
        // The residual, recomputed by F itself.
        let f = problem.block.fixedPointProblem(injection: problem.injection.sample(roi))
          .map(solution.fixedPoint)
        let residual = f.subtracting(solution.fixedPoint).norm()
        #expect(
          residual.isApproximatelyEqual(to: solution.absoluteResidual, relativeTolerance: 1e-6))
        // Work in map-equivalents, beside Broyden's for the same target.
        let broyden = solve(
          fixedPoint, using: Broyden(),
          stopping: StoppingCriteria(tolerance: .relative(1e-10), maxIterations: 300))
        #expect(broyden.status == .converged)
        #expect(relativeError(solution.fixedPoint, broyden.fixedPoint) < 1e-8)
        if ProcessInfo.processInfo.environment["DEQ_PRINT_WORK"] != nil {
          print(
            "[work] \(problem.name) RoI \(roi): newton-krylov \(solution.iterations) outer, "
              + "\(solution.mapEvaluations) F + \(solution.jacobianProducts) JVP = "
              + "\(solution.mapEvaluations + solution.jacobianProducts); broyden "
              + "\(broyden.iterations) steps, \(broyden.mapEvaluations) F")
        }
      }
    }
  }

  /// The adjoint system `(I − Jᵀ) u = g` at `H*`, assembled densely and solved by LAPACK.
  static func denseAdjoint(
    _ block: IFRBlock<Double>, at hStar: Tensor<Double>, injection: Tensor<Double>,
    cotangent g: Tensor<Double>
  ) throws -> [Double] {
    let j = try block.stateJacobian(at: hStar, injection: injection).assembled()
    let n = hStar.count
    let m = Tensor<Double>(shape: [n, n]) { index in
      // (I − Jᵀ)[r, c] = δ − J[c, r]
      let (r, c) = (index / n, index % n)
      return (r == c ? 1 : 0) - j.scalars[c * n + r]
    }
    return try LinearAlgebra.solve(m, Tensor(shape: [n]) { g.scalars[$0] }).scalars
  }

  /// `min ‖g − (I − Jᵀ) u‖` over `u ∈ K_k(I − Jᵀ, g)`, by LAPACK least squares on the
  /// dense matrix times a normalised Krylov basis.
  static func minimalResidual(
    _ block: IFRBlock<Double>, at hStar: Tensor<Double>, injection: Tensor<Double>,
    cotangent g: Tensor<Double>, dimension k: Int
  ) throws -> Double {
    let j = try block.stateJacobian(at: hStar, injection: injection).assembled().scalars
    let n = hStar.count
    func apply(_ v: [Double]) -> [Double] {  // (I − Jᵀ) v
      (0..<n).map { r in v[r] - (0..<n).reduce(0.0) { $0 + j[$1 * n + r] * v[$1] } }
    }
    var basis: [[Double]] = []
    var v = g.scalars
    for _ in 0..<k {
      let norm = v.norm()
      v = v.map { $0 / norm }
      basis.append(v)
      v = apply(v)
    }
    let columns = basis.map(apply)  // (I − Jᵀ) K, n × k
    let a = Tensor<Double>(shape: [n, k]) { index in columns[index % k][index / k] }
    let c = try LinearAlgebra.leastSquares(a, g.scalars)
    var residual = g.scalars
    for i in 0..<k { residual.add(columns[i], scaledBy: -c[i]) }
    return residual.norm()
  }

  @Test(
    "the 15-product GMRES adjoint is the minimal-residual one (≤ Broyden-15's); tight GMRES and BiCGStab match LAPACK's (I − Jᵀ)⁻¹ to 1e-8"
  )
  func adjoint() throws {
    for problem in try KrylovIFRProblems.all() {
      for roi in 0..<problem.injection.shape[0] {
        let x = problem.injection.sample(roi)
        let equilibrium = solve(
          problem.block.fixedPointProblem(injection: x), using: NewtonKrylov(),
          stopping: StoppingCriteria(tolerance: .relative(1e-13), maxIterations: 20))
        let hStar = equilibrium.fixedPoint
        let g = hStar.scaled(by: 1 / hStar.norm())
        let workspace = problem.block.makeWorkspace(height: x.shape[1], width: x.shape[2])
        _ = workspace.evaluate(state: hStar, injection: x)
        let vjp: (Tensor<Double>) -> Tensor<Double> = { u in workspace.vjp(cotangent: u) }
        let exact = try Self.denseAdjoint(problem.block, at: hStar, injection: x, cotangent: g)

        func adjoint(_ algorithm: any FixedPointAlgorithm, _ stopping: StoppingCriteria)
          -> ImplicitGradient<Tensor<Double>, Tensor<Double>>
        {
          implicitGradient(
            lossGradient: g, vectorJacobianProduct: vjp, parameterVJP: { $0 }, using: algorithm,
            stopping: stopping)
        }
        let label = "\(problem.name) RoI \(roi)"
        let broyden = adjoint(Broyden(), .backward)
        let gmres = adjoint(GMRES(), .backward)
        let broydenResidual = broyden.backwardSolution.absoluteResidual
        let gmresResidual = gmres.backwardSolution.absoluteResidual
        #expect(gmres.backwardSolution.iterations == 15, "\(label)")
        // Both 15-step iterates lie in the Krylov space K₁₅(I − Jᵀ, g): GMRES's is the
        // minimal-residual one (checked against a dense least-squares solve), so Broyden
        // can only match it, not beat it.
        let optimum = try Self.minimalResidual(
          problem.block, at: hStar, injection: x, cotangent: g, dimension: 15)
        #expect(
          gmresResidual.isApproximatelyEqual(to: optimum, relativeTolerance: 1e-3),
          "\(label): GMRES \(gmresResidual), dense optimum \(optimum)")
        #expect(
          gmresResidual <= broydenResidual,
          "\(label): GMRES \(gmresResidual) vs Broyden \(broydenResidual)")
        // The residual GMRES reports is the true one: recompute it.
        let u = gmres.adjoint
        let true_ = vjp(u).adding(g).subtracting(u).norm()
        #expect(true_.isApproximatelyEqual(to: gmresResidual, relativeTolerance: 1e-6))
        if ProcessInfo.processInfo.environment["DEQ_PRINT_WORK"] != nil {
          print(
            "[adjoint] \(label): broyden-15 \(broydenResidual) "
              + "(\(broyden.backwardSolution.mapEvaluations) VJP), gmres-15 \(gmresResidual) "
              + "(\(gmres.backwardSolution.mapEvaluations) VJP)")
        }
        let tight = StoppingCriteria(
          tolerance: .absolute(1e-13), maxIterations: 200, stall: nil, divergenceFactor: nil)
        for algorithm in [AlgorithmKind.gmres(GMRES()), .bicgstab(BiCGStab())] {
          let solved = adjoint(algorithm, tight)
          #expect(solved.backwardSolution.status == .converged, "\(label) \(algorithm.name)")
          let error = relativeError(solved.adjoint.scalars, exact)
          #expect(error < 1e-8, "\(label) \(algorithm.name): \(error)")
        }
      }
    }
  }

  @Test("ImplicitRefinement takes GMRES as its backward solver, with 15 products per RoI")
  func refinementWithGMRES() throws {
    let block = try PyTorchFixture.block()
    let x = try PyTorchFixture.npy("x.npy")
    let module = ImplicitRefinement(
      block: block, forwardSolver: NewtonKrylov(),
      forwardStopping: StoppingCriteria(tolerance: .relative(1e-12), maxIterations: 30),
      backwardSolver: GMRES(),
      backwardStopping: StoppingCriteria(
        tolerance: .absolute(1e-12), maxIterations: 100, stall: nil))
    let forward = module.forward(x)
    #expect(forward.solutions.allSatisfy { $0.status == .converged })
    let backward = module.backward(forward, cotangent: forward.equilibrium)
    #expect(backward.adjointSolutions.allSatisfy { $0.status == .converged })
    // Against the Broyden module solved as tightly.
    let reference = ImplicitRefinement(
      block: block,
      forwardStopping: StoppingCriteria(tolerance: .relative(1e-13), maxIterations: 300),
      backwardStopping: StoppingCriteria(
        tolerance: .absolute(1e-12), maxIterations: 300, stall: nil))
    let f2 = reference.forward(x)
    let b2 = reference.backward(f2, cotangent: f2.equilibrium)
    #expect(relativeError(backward.injection, b2.injection) < 1e-8)
  }
}
