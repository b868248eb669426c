import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

/// Warm-started Arnoldi along a slowly changing operator: the same residual test, the value
/// LAPACK gives on the changed matrix, and far fewer products than a cold start.
@Suite("Diagnostics: warm-started Arnoldi")
struct ArnoldiWarmStartTests {
  /// `Q·diag(d)·Q` with a clustered top of the spectrum (0.85, then 40 values in
  /// [0.80, 0.84]): a cold start needs many products to separate the top.
  static func clustered(order n: Int, shift: Double) -> KnownSpectrum {
    var d = (0..<n).map { i in 0.7 * Double.sin(Double(i) * 1.7) }
    for i in 0..<40 { d[10 + i] = 0.80 + 0.04 * Double(i) / 40 }
    d[3] = 0.85 + shift
    let q = householder(order: n, seed: 0xC1A5)
    return KnownSpectrum(
      name: "clustered n=\(n)", order: n, matrix: multiply(multiply(q, diagonalMatrix(d), n), q, n),
      eigenvalues: d.map { Complex($0) })
  }

  @Test("warm on a perturbed operator: LAPACK's value, the same test, a third of the products")
  func perturbed() throws {
    let arnoldi = ArnoldiIteration(krylovDimension: 30, maxProducts: 3_000)
    let before = Self.clustered(order: 400, shift: 0)
    let cold = try arnoldi.run(on: before.jacobian(), warmStart: nil)
    #expect(cold.result.converged && !cold.result.warmStarted)
    let warmStart = try #require(cold.warmStart)
    #expect(warmStart.subspaceDimension == 1)
    #expect(abs(warmStart.vector.norm() - 1) < 1e-12)

    let after = Self.clustered(order: 400, shift: 1e-7)
    let warm = try arnoldi.run(on: after.jacobian(), warmStart: warmStart)
    let recold = try arnoldi.run(on: after.jacobian())
    #expect(warm.result.converged && warm.result.warmStarted)
    #expect(warm.result.relativeResidual <= 1e-8)
    // Against LAPACK (geev on the assembled matrix) and the construction.
    let dense = try DenseSpectralAnalysis().spectralRadius(of: after.jacobian())
    #expect(abs(warm.result.spectralRadius - (try #require(dense.value))) < 1e-9)
    #expect(abs(warm.result.spectralRadius - after.spectralRadius) < 1e-9)
    #expect(3 * warm.result.jacobianProducts <= recold.jacobianProducts)
  }

  @Test("a complex dominant pair: the warm start lies in its plane and converges at once")
  func complexPair() throws {
    let case_ = KnownSpectrum.rotation(order: 120)
    let arnoldi = ArnoldiIteration(krylovDimension: 30, maxProducts: 600)
    let cold = try arnoldi.run(on: case_.jacobian(), warmStart: nil)
    let warmStart = try #require(cold.warmStart)
    #expect(warmStart.subspaceDimension == 2)
    let warm = try arnoldi.run(on: case_.jacobian(), warmStart: warmStart)
    #expect(warm.result.converged)
    #expect(abs(warm.result.spectralRadius - 0.725) < 1e-8)
    #expect(warm.result.jacobianProducts <= 10)
    #expect(warm.result.dominantEigenvalues.count == 2)
  }

  @Test("a warm start of the wrong size, zero or NaN is an error")
  func badWarmStarts() throws {
    let jacobian = try KnownSpectrum.diagonal(order: 50).jacobian()
    let arnoldi = ArnoldiIteration()
    #expect(throws: DiagnosticsError.dimensionMismatch(expected: 50, actual: 49)) {
      try arnoldi.run(
        on: jacobian, warmStart: ArnoldiWarmStart(vector: [Double](repeating: 1, count: 49)))
    }
    for bad in [0.0, .nan] {
      #expect(throws: DiagnosticsError.self) {
        try arnoldi.run(
          on: jacobian, warmStart: ArnoldiWarmStart(vector: [Double](repeating: bad, count: 50)))
      }
    }
  }
}
