import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: bad input gives a typed error or an untrustworthy result")
struct DiagnosticsBadInputTests {
  static let methods: [SpectralRadiusMethod] = [
    .dense(), .arnoldi(), .powerIteration(), .automatic(),
  ]

  @Test("a zero-dimensional problem throws emptyProblem", arguments: methods)
  func emptyProblem(method: SpectralRadiusMethod) throws {
    let jacobian = try JacobianOperator(at: [Double]()) { $0 }
    #expect(throws: DiagnosticsError.emptyProblem) { try jacobian.spectralRadius(using: method) }
    #expect(throws: DiagnosticsError.emptyProblem) { try jacobian.frobeniusNormSquared() }
    #expect(throws: DiagnosticsError.emptyProblem) {
      try JacobianOperator<Tensor<Double>>.batch(at: Tensor(zeros: [0, 4]), jvp: { $0 })
    }
  }

  @Test("non-finite Jacobian entries throw nonFiniteProduct", arguments: methods)
  func nonFiniteEntries(method: SpectralRadiusMethod) throws {
    let jacobian = try JacobianOperator(at: [Double](repeating: 0, count: 6)) { v in
      var out = v
      out[3] = v[2] == 0 ? v[3] : .nan  // column 2 of J holds NaN
      return out
    }
    #expect(throws: DiagnosticsError.self) { try jacobian.spectralRadius(using: method) }
    do {
      _ = try jacobian.spectralRadius(using: method)
    } catch {
      guard case .nonFiniteProduct = error else {
        Issue.record("expected nonFiniteProduct, got \(error)")
        return
      }
    }
  }

  @Test("a map that returns NaN during finite-difference products throws, naming the product")
  func mapReturnsNaN() throws {
    // f(z) = √(1 − z) elementwise is NaN beyond z = 1; the point sits just inside.
    let map: @Sendable ([Double]) -> [Double] = { z in z.map { (1 - $0).squareRoot() } }
    let point = [Double](repeating: 1 - 1e-9, count: 8)
    let jacobian = try JacobianOperator.finiteDifference(of: map, at: point, scheme: .central)
    #expect(throws: DiagnosticsError.nonFiniteProduct(product: 1)) {
      try jacobian.spectralRadius(using: .arnoldi())
    }
    #expect(throws: DiagnosticsError.nonFiniteProduct(product: 1)) {
      try jacobian.frobeniusNormSquared()
    }
  }

  @Test("finite differences reject a non-finite point or map value")
  func nonFiniteConstruction() throws {
    let identity: @Sendable ([Double]) -> [Double] = { $0 }
    #expect(throws: DiagnosticsError.nonFinitePoint) {
      try JacobianOperator.finiteDifference(of: identity, at: [1, .nan])
    }
    #expect(throws: DiagnosticsError.nonFiniteMapValue) {
      try JacobianOperator.finiteDifference(
        of: { $0.map { _ in .infinity } }, at: [1, 2], scheme: .forward)
    }
    #expect(throws: DiagnosticsError.nonFinitePoint) {
      try JacobianOperator(at: [Double.infinity], jvp: identity)
    }
    #expect(throws: DiagnosticsError.noProducts) { try JacobianOperator<[Double]>(at: [1]) }
    #expect(throws: DiagnosticsError.self) {
      try JacobianOperator.finiteDifference(of: identity, at: [1, 2], step: -1)
    }
  }

  @Test("a product of the wrong size throws dimensionMismatch")
  func wrongSize() throws {
    let jacobian = try JacobianOperator(at: [1.0, 2, 3]) { v in Array(v.dropLast()) }
    #expect(throws: DiagnosticsError.dimensionMismatch(expected: 3, actual: 2)) {
      try jacobian.spectralRadius(using: .dense())
    }
  }

  @Test("a Krylov dimension larger than n is clamped to n, and the answer is exact")
  func krylovDimensionClamped() throws {
    let case_ = KnownSpectrum.companion()
    let result = try ArnoldiIteration(krylovDimension: 500).run(on: case_.jacobian())
    #expect(result.krylovDimension == case_.order)
    #expect(result.converged)
    #expect(result.jacobianProducts <= case_.order)
    #expect(abs(result.spectralRadius - case_.spectralRadius) <= 1e-10)
    let one = try JacobianOperator(at: [2.0]) { $0.map { -0.5 * $0 } }
    #expect(abs((try one.spectralRadius(using: .arnoldi()).value ?? 0) - 0.5) <= 1e-15)
  }

  @Test("invalid parameters throw invalidParameter")
  func invalidParameters() throws {
    let jacobian = try KnownSpectrum.companion().jacobian()
    for method in [
      SpectralRadiusMethod.arnoldi(ArnoldiIteration(krylovDimension: 1)),
      .arnoldi(ArnoldiIteration(maxProducts: 0)), .arnoldi(ArnoldiIteration(tolerance: 0)),
      .powerIteration(PowerIteration(maxIterations: 0)),
    ] {
      #expect(throws: DiagnosticsError.self) { try jacobian.spectralRadius(using: method) }
    }
    #expect(throws: DiagnosticsError.self) {
      try jacobian.frobeniusNormSquared(using: HutchinsonEstimator(probes: 0))
    }
  }

  @Test("Arnoldi out of products says so and keeps its last estimate")
  func arnoldiOutOfProducts() throws {
    let case_ = KnownSpectrum.diagonal(order: 200)
    let estimate = try case_.jacobian().spectralRadius(
      using: .arnoldi(ArnoldiIteration(krylovDimension: 4, maxProducts: 6)))
    #expect(!estimate.isTrustworthy)
    #expect(estimate.value != nil)
    #expect(estimate.jacobianProducts == 6)
    #expect(estimate.explanation.contains("did not converge"))
  }
}
