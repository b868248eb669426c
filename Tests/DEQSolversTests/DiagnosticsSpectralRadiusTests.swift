import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: spectral radius on known spectra")
struct DiagnosticsSpectralRadiusTests {
  @Test("dense geev matches the exact spectrum to 1e-8", arguments: KnownSpectrum.all)
  func denseMatchesExact(_ case_: KnownSpectrum) throws {
    let jacobian = try case_.jacobian()
    let spectrum = try DenseSpectralAnalysis().spectrum(of: jacobian)
    #expect(spectrum.jacobianProducts == case_.order)
    #expect(abs(spectrum.spectralRadius - case_.spectralRadius) <= 1e-8)
    #expect(eigenvalueDistance(spectrum.eigenvalues, case_.eigenvalues) <= 1e-8)
    let dominant = spectrum.dominantEigenvalues
    try #require(dominant.count == case_.dominant.count)
    for (computed, exact) in zip(dominant, case_.dominant) {
      #expect((computed - exact).length <= 1e-8, "\(computed) vs \(exact)")
    }
  }

  @Test(
    "dense from VJPs only gives the same spectrum",
    arguments: [KnownSpectrum.companion(), .jordanLike()])
  func denseFromVJPs(_ case_: KnownSpectrum) throws {
    let estimate = try DenseSpectralAnalysis().spectralRadius(
      of: case_.jacobian(jvp: false, vjp: true))
    let rho = try #require(estimate.value)
    #expect(abs(rho - case_.spectralRadius) <= 1e-8)
    #expect(estimate.isTrustworthy)
  }

  @Test("restarted Arnoldi matches the exact spectral radius to 1e-8", arguments: KnownSpectrum.all)
  func arnoldiMatchesExact(_ case_: KnownSpectrum) throws {
    let jacobian = try case_.jacobian()
    let arnoldi = ArnoldiIteration(krylovDimension: 30, maxProducts: 600, tolerance: 1e-12)
    let result = try arnoldi.run(on: jacobian)
    #expect(result.converged)
    #expect(abs(result.spectralRadius - case_.spectralRadius) <= 1e-8)
    #expect(result.krylovDimension == min(30, case_.order))
    #expect(eigenvalueDistance(result.dominantEigenvalues, case_.dominant) <= 1e-8)
    let estimate = try jacobian.spectralRadius(using: .arnoldi(arnoldi))
    #expect(estimate.isTrustworthy && estimate.method == .arnoldi)
    #expect(estimate.hasComplexDominantPair == case_.dominant.contains { $0.imaginary != 0 })
  }

  @Test("the complex dominant pair is reported with its imaginary parts")
  func complexPairReported() throws {
    let case_ = KnownSpectrum.rotation(order: 120)
    let estimate = try case_.jacobian().spectralRadius(using: .dense())
    try #require(estimate.dominantEigenvalues.count == 2)
    let (first, second) = (estimate.dominantEigenvalues[0], estimate.dominantEigenvalues[1])
    #expect(abs(first.imaginary - 0.725 * Double.sin(1.9)) <= 1e-10)
    #expect(abs(second.imaginary + 0.725 * Double.sin(1.9)) <= 1e-10)
    #expect(abs((estimate.value ?? 0) - 0.725) <= 1e-10)
    #expect(estimate.linearConvergenceRate.map { abs($0 - 0.725) <= 1e-10 } == true)
  }

  @Test("condition number of I − J for a diagonal J is max|1 − d| / min|1 − d|")
  func conditionNumber() throws {
    let d: [Double] = [0.5, -0.9, 0.99, 0.1]
    let jacobian = try JacobianOperator(at: [0, 0, 0, 0] as [Double]) { v in
      (0..<4).map { d[$0] * v[$0] }
    }
    let estimate = try jacobian.spectralRadius(using: .dense())
    let kappa = try #require(estimate.conditionNumberOfIdentityMinusJacobian)
    #expect(kappa.isApproximatelyEqual(to: 1.9 / 0.01, relativeTolerance: 1e-10))
    let without = try jacobian.spectralRadius(
      using: .dense(DenseSpectralAnalysis(computesConditionNumber: false)))
    #expect(without.conditionNumberOfIdentityMinusJacobian == nil)
  }

  @Test("Float: dense and Arnoldi agree with the exact radius to Float precision")
  func floatPrecision() throws {
    let case_ = KnownSpectrum.rotation(order: 60)
    let matrix = case_.matrix.map { Float($0) }
    let n = case_.order
    let jacobian = try JacobianOperator(at: [Float](repeating: 0, count: n)) { v in
      matvec(matrix, v, n)
    }
    let dense = try #require(try jacobian.spectralRadius(using: .dense()).value)
    #expect(abs(Double(dense) - case_.spectralRadius) <= 1e-5)
    let arnoldi = try jacobian.spectralRadius(
      using: .arnoldi(ArnoldiIteration(krylovDimension: 20)))
    #expect(arnoldi.isTrustworthy)
    #expect(abs(Double(arnoldi.value ?? 0) - case_.spectralRadius) <= 1e-5)
  }

  @Test("automatic choice: dense up to the threshold, Arnoldi above, overridable")
  func choiceRule() throws {
    #expect(SpectralRadiusMethod.defaultDenseThreshold == 1_024)
    #expect(SpectralRadiusMethod.automatic().resolved(forDimension: 1_024) == .dense())
    #expect(SpectralRadiusMethod.automatic().resolved(forDimension: 1_025) == .arnoldi())
    #expect(
      SpectralRadiusMethod.automatic(denseThreshold: 10).resolved(forDimension: 11) == .arnoldi())
    let case_ = KnownSpectrum.symmetric(order: 100)
    #expect(try case_.jacobian().spectralRadius().method == .dense)
    #expect(
      try case_.jacobian().spectralRadius(using: .automatic(denseThreshold: 50)).method
        == .arnoldi)
    #expect(try case_.jacobian().spectralRadius(using: .powerIteration()).method == .powerIteration)
  }
}
