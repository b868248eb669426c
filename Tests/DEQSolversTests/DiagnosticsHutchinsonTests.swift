import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: Hutchinson Frobenius-norm estimate")
struct DiagnosticsHutchinsonTests {
  @Test("the estimate lies within 3 standard errors of the exact ‖J‖_F²", arguments: [16, 64, 256])
  func withinErrorBars(probes: Int) throws {
    let layer = TanhLayer<Double>(order: 40, norm: 1.5, seed: TestSeeds.standard)
    let z: [Double] = randomVector(count: 40, seed: 9)
    let jacobian = try layer.jacobian(at: z)
    let exact = try jacobian.assembled().scalars.reduce(0) { $0 + $1 * $1 }
    let estimate = try jacobian.frobeniusNormSquared(
      using: HutchinsonEstimator(probes: probes, seed: TestSeeds.standard))
    let error = try #require(estimate.standardError)
    #expect(estimate.jacobianProducts == probes)
    #expect(error > 0)
    #expect(
      abs(estimate.value - exact) <= 3 * error,
      "seed \(TestSeeds.standard): \(estimate.value) vs \(exact) ± \(error)")
    // The error bar is a fair size: not wildly larger than the actual spread.
    #expect(error <= 0.5 * exact)
  }

  @Test("Rademacher probes are exact, with zero variance, on a diagonal Jacobian")
  func exactOnDiagonal() throws {
    let d: [Double] = [0.5, -2, 0.25, 1, 3]
    let jacobian = try JacobianOperator(at: [Double](repeating: 0, count: 5)) { v in
      (0..<5).map { d[$0] * v[$0] }
    }
    let estimate = try jacobian.frobeniusNormSquared(using: HutchinsonEstimator(probes: 4))
    #expect(estimate.value.isApproximatelyEqual(to: d.dot(d), relativeTolerance: 1e-14))
    #expect(estimate.standardError == 0)
    #expect(
      try jacobian.frobeniusNormSquared(using: HutchinsonEstimator(probes: 1)).standardError == nil)
  }

  @Test("the standard error shrinks like 1/√p")
  func errorShrinks() throws {
    let layer = TanhLayer<Double>(order: 40, norm: 1.5, seed: TestSeeds.standard)
    let jacobian = try layer.jacobian(at: randomVector(count: 40, seed: 9))
    let few = try jacobian.frobeniusNormSquared(using: HutchinsonEstimator(probes: 16))
    let many = try jacobian.frobeniusNormSquared(using: HutchinsonEstimator(probes: 1_024))
    #expect((many.standardError ?? 1) < (few.standardError ?? 0))
  }
}
