import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Implicit and phantom gradients")
struct GradientTests {
  let tanh = TanhProblem<Double>(order: 12, norm: 0.8, seed: TestSeeds.standard, symmetric: true)
  /// L(z*) = ½‖z*‖² + cᵀz*, so ∂L/∂z* = z* + c.
  let c = randomVector(count: 12, seed: 99, as: Double.self)

  func loss(_ z: [Double]) -> Double { 0.5 * z.dot(z) + c.dot(z) }

  func fixedPoint(input x: [Double]) -> [Double] {
    let problem = TanhProblem(w: tanh.w, x: x)
    return solve(problem.problem(), using: Broyden(), stopping: tight(1e-15, maxIterations: 200))
      .fixedPoint
  }

  /// dL/dx by central differences, h = 1e-5: truncation O(h²) ≈ 1e-10, and a solve error
  /// of ~1e-15 contributes ~1e-10 after division by 2h.
  func finiteDifferenceGradient() -> [Double] {
    let h = 1e-5
    return tanh.x.indices.map { j in
      var plus = tanh.x
      var minus = tanh.x
      plus[j] += h
      minus[j] -= h
      return (loss(fixedPoint(input: plus)) - loss(fixedPoint(input: minus))) / (2 * h)
    }
  }

  func implicit(using algorithm: some FixedPointAlgorithm, stopping: StoppingCriteria)
    -> ImplicitGradient<[Double], [Double]>
  {
    let z = fixedPoint(input: tanh.x)
    let tanh = self.tanh
    return implicitGradient(
      lossGradient: z.adding(c),
      vectorJacobianProduct: { tanh.vjp(at: z, $0) },
      parameterVJP: { tanh.inputVJP(at: z, $0) },
      using: algorithm, stopping: stopping)
  }

  @Test("implicit gradients match central finite differences to 1e-6", arguments: allAlgorithms)
  func implicitMatchesFiniteDifferences(algorithm: AlgorithmKind) {
    let reference = finiteDifferenceGradient()
    let result = implicit(using: algorithm, stopping: tight(1e-14, maxIterations: 300))
    #expect(result.backwardSolution.status == .converged)
    let error = relativeError(result.parameterGradient, reference)
    #expect(error < 1e-6, "relative error \(error)")
  }

  @Test("the default backward solve is Broyden with 15 iterations and keeps its trace")
  func defaultBackward() {
    let result = implicit(using: Broyden(), stopping: .backward)
    #expect(StoppingCriteria.backward.maxIterations == 15)
    #expect(result.backwardSolution.trace.count <= 16)
    #expect(result.backwardSolution.trace.count == result.backwardSolution.iterations + 1)
    // 12 dimensions, full memory: Broyden is exact within 2n = 24 steps; after 15 the
    // gradient is already close.
    #expect(relativeError(result.parameterGradient, finiteDifferenceGradient()) < 1e-3)
  }

  @Test("phantom gradients approach the implicit gradient as k grows")
  func phantomApproachesImplicit() {
    let z = fixedPoint(input: tanh.x)
    let exact = implicit(using: Broyden(), stopping: tight(1e-15, maxIterations: 300))
      .parameterGradient
    let tanh = self.tanh
    let c = self.c
    var errors: [Double] = []
    for k in [1, 2, 5, 10, 20, 40] {
      let phantom = phantomGradient(
        at: z, steps: k, damping: 0.8, map: tanh.map,
        lossGradient: { $0.adding(c) },
        vectorJacobianProduct: { tanh.vjp(at: $0, $1) },
        parameterVJP: { tanh.inputVJP(at: $0, $1) })
      #expect(phantom.steps == k)
      errors.append(relativeError(phantom.parameterGradient, exact))
    }
    for (a, b) in zip(errors, errors.dropFirst()) { #expect(b < a, "\(errors)") }
    // Contraction of (1 − λ)I + λJ is ≤ 0.2 + 0.8·0.8 = 0.84: 0.84⁴⁰ ≈ 1e-3.
    #expect(errors[errors.count - 1] < 1e-2, "\(errors)")
  }
}
