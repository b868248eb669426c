import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: power iteration")
struct DiagnosticsPowerIterationTests {
  @Test(
    "converges on a real dominant eigenvalue",
    arguments: [KnownSpectrum.diagonal(order: 200), .symmetric(order: 100)])
  func convergesOnRealDominant(_ case_: KnownSpectrum) throws {
    let result = try PowerIteration(maxIterations: 2_000, tolerance: 1e-8).run(on: case_.jacobian())
    #expect(result.status == .converged)
    let eigenvalue = try #require(result.eigenvalue)
    #expect(abs(eigenvalue - case_.dominant[0].real) <= 1e-7)
    #expect(result.jacobianProducts < 2_000)
  }

  @Test(
    "reports a dominant pair, not a number, on complex and tied spectra",
    arguments: [KnownSpectrum.rotation(order: 120), .companion(), tiedPair])
  func reportsDominantPair(_ case_: KnownSpectrum) throws {
    let jacobian = try case_.jacobian()
    let result = try PowerIteration().run(on: jacobian)
    #expect(result.status == .dominantPair)
    #expect(result.eigenvalue == nil)
    let estimate = try jacobian.spectralRadius(using: .powerIteration())
    #expect(!estimate.isTrustworthy)
    #expect(estimate.value == nil)
    #expect(estimate.explanation.contains("Arnoldi"))
  }

  /// Eigenvalues ±0.9 (tied in modulus) and a decaying rest.
  static let tiedPair: KnownSpectrum = {
    var d = (0..<40).map { 0.5 * Double.cos(Double($0)) * Double.exp(-Double($0) / 20) }
    d[2] = 0.9
    d[9] = -0.9
    return KnownSpectrum(
      name: "tied ±0.9 n=40", order: 40, matrix: diagonalMatrix(d),
      eigenvalues: d.map { Complex($0) })
  }()

  @Test("a fixed-count Rayleigh quotient (the torchdeq estimate) is wrong on a complex pair")
  func fixedCountRayleighQuotientIsWrong() throws {
    // What peers do: 20 steps of v ← Jv/‖Jv‖ and report |vᵀJv|. On the 0.725 pair it lands
    // well below the truth; the library refuses to report it.
    let case_ = KnownSpectrum.rotation(order: 120)
    var v: [Double] = randomVector(count: case_.order, seed: TestSeeds.standard)
    for _ in 0..<20 {
      let w = case_.apply(v)
      v = w.scaled(by: 1 / w.norm())
    }
    let naive = abs(v.dot(case_.apply(v)))
    #expect(abs(naive - 0.725) > 0.05, "naive estimate \(naive) happened to be close")
    #expect(try PowerIteration().run(on: case_.jacobian()).status == .dominantPair)
  }

  @Test("reports maxIterations when the dominant eigenvalue is barely separated")
  func maxIterationsWhenSlow() throws {
    var d = [Double](repeating: 0.1, count: 30)
    d[0] = 0.9
    d[1] = 0.8995  // 0.06 % gap: 1.2e4 steps for 1e-6
    d[2] = 0.7
    let case_ = KnownSpectrum(
      name: "slow", order: 30, matrix: diagonalMatrix(d), eigenvalues: d.map { Complex($0) })
    let result = try PowerIteration(maxIterations: 200).run(on: case_.jacobian())
    #expect(result.status != .converged)
    #expect(result.eigenvalue == nil)
    #expect(result.jacobianProducts <= 200)
  }
}
