import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

/// A 50,000-dimensional block-diagonal operator applied matrix-free: three 2 × 2 scaled
/// rotation blocks (moduli 0.9, 0.85, 0.8) then a decaying diagonal in (−0.7, 0.7).
struct BlockRotationOperator: Sendable {
  let dimension: Int
  let blocks: [(radius: Double, angle: Double)]
  let diagonal: [Double]

  init(
    dimension: Int,
    blocks: [(radius: Double, angle: Double)] = [(0.9, 0.7), (0.85, 1.9), (0.8, 2.6)]
  ) {
    self.dimension = dimension
    self.blocks = blocks
    let start = 2 * blocks.count
    diagonal = (0..<dimension).map { i in
      i < start ? 0 : 0.7 * Double.cos(Double(i) * 0.37) * Double.exp(-Double(i) / 20_000)
    }
  }

  func apply(_ v: [Double], transposed: Bool = false) -> [Double] {
    var out = [Double](repeating: 0, count: dimension)
    for (b, block) in blocks.enumerated() {
      let (c, s) = (block.radius * Double.cos(block.angle), block.radius * Double.sin(block.angle))
      let sign = transposed ? -1.0 : 1.0
      out[2 * b] = c * v[2 * b] - sign * s * v[2 * b + 1]
      out[2 * b + 1] = sign * s * v[2 * b] + c * v[2 * b + 1]
    }
    for i in (2 * blocks.count)..<dimension { out[i] = diagonal[i] * v[i] }
    return out
  }
}

@Suite("Diagnostics: Arnoldi at the paper's size")
struct DiagnosticsLargeArnoldiTests {
  @Test("Arnoldi on a 50,000-dimensional known spectrum converges to 1e-6 within 300 products")
  func largeOperator() throws {
    let operator_ = BlockRotationOperator(dimension: 50_000)
    let jacobian = try JacobianOperator(
      at: [Double](repeating: 0, count: 50_000), jvp: { operator_.apply($0) })
    let estimate = try jacobian.spectralRadius()  // automatic: Arnoldi at this size
    #expect(estimate.method == .arnoldi)
    #expect(estimate.isTrustworthy)
    #expect(estimate.jacobianProducts <= 300)
    let rho = try #require(estimate.value)
    #expect(abs(rho - 0.9) <= 1e-6)
    try #require(estimate.dominantEigenvalues.count == 2)
    #expect(abs(estimate.dominantEigenvalues[0].imaginary - 0.9 * Double.sin(0.7)) <= 1e-6)
    #expect(abs(estimate.dominantEigenvalues[1].imaginary + 0.9 * Double.sin(0.7)) <= 1e-6)
    #expect((estimate.errorEstimate ?? 1) <= 1e-6)
  }

  /// Twenty rotation blocks, moduli 0.9, 0.8995, …, 0.8905 and angles 0.70, 0.702, …: forty
  /// eigenvalues within 1% in modulus, more than one Krylov cycle holds. Measured: 145
  /// products (6 Krylov–Schur cycles) with the defaults; 185 with k = 30 and the old
  /// Ritz-vector thick restart, 250 with k = 30 and Krylov–Schur keeping 2k/3.
  @Test("a cluster of forty eigenvalues within 1% of ρ converges to 1e-10 within 300 products")
  func clusteredDominantEigenvalues() throws {
    let cluster: [(radius: Double, angle: Double)] = (0..<20).map { (i: Int) in
      (radius: 0.9 - 0.0005 * Double(i), angle: 0.7 + 0.002 * Double(i))
    }
    let operator_ = BlockRotationOperator(dimension: 50_000, blocks: cluster)
    let jacobian = try JacobianOperator(
      at: [Double](repeating: 0, count: 50_000), jvp: { operator_.apply($0) })
    let result = try ArnoldiIteration(tolerance: 1e-10).run(on: jacobian)
    #expect(result.converged)
    #expect(result.jacobianProducts <= 300)
    #expect(abs(result.spectralRadius - 0.9) <= 1e-8)
    try #require(result.dominantEigenvalues.count == 2)
    #expect(abs(result.dominantEigenvalues[0].real - 0.9 * Double.cos(0.7)) <= 1e-8)
    #expect(abs(result.dominantEigenvalues[0].imaginary - 0.9 * Double.sin(0.7)) <= 1e-8)
  }

  @Test("Arnoldi from VJPs only (the transpose) gives the same radius")
  func largeOperatorTranspose() throws {
    let operator_ = BlockRotationOperator(dimension: 50_000)
    let jacobian = try JacobianOperator(
      at: [Double](repeating: 0, count: 50_000), vjp: { operator_.apply($0, transposed: true) })
    let estimate = try jacobian.spectralRadius(using: .arnoldi())
    #expect(estimate.isTrustworthy && estimate.jacobianProducts <= 300)
    #expect(abs((estimate.value ?? 0) - 0.9) <= 1e-6)
  }

  @Test("power iteration refuses the 50,000-dimensional complex pair")
  func powerRefuses() throws {
    let operator_ = BlockRotationOperator(dimension: 50_000)
    let jacobian = try JacobianOperator(
      at: [Double](repeating: 0, count: 50_000), jvp: { operator_.apply($0) })
    let estimate = try jacobian.spectralRadius(
      using: .powerIteration(PowerIteration(maxIterations: 300)))
    #expect(!estimate.isTrustworthy)
    #expect(estimate.value == nil)
  }
}
