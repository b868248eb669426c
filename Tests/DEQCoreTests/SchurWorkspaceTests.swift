import DEQCore
import Testing
import _DEQTestSupport

@Suite("Ordered real Schur decomposition (LAPACK gees + trsen)")
struct SchurWorkspaceTests {
  /// `Z·T·Zᵀ` from the workspace's column-major factors, row-major.
  func reconstructed(_ w: SchurWorkspace<Double>) -> Tensor<Double> {
    let n = w.order
    return Tensor(shape: [n, n]) { index in
      let (i, j) = (index / n, index % n)
      var sum = 0.0
      for k in 0..<n { for l in 0..<n { sum += w.z(i, k) * w.t(k, l) * w.z(j, l) } }
      return sum
    }
  }

  func expectValidFactorisation(_ w: SchurWorkspace<Double>, of a: Tensor<Double>) {
    let n = w.order
    #expect(relativeError(reconstructed(w), a) < 1e-13)
    for i in 0..<n {
      for j in 0..<n {
        var dot = 0.0
        for k in 0..<n { dot += w.z(k, i) * w.z(k, j) }
        #expect(Swift.abs(dot - (i == j ? 1 : 0)) < 1e-13, "ZᵀZ[\(i), \(j)] = \(dot)")
      }
    }
    // Quasi-triangular: nothing below the first subdiagonal, and no two consecutive
    // subdiagonal entries (2 × 2 blocks do not overlap).
    for i in 0..<n { for j in 0..<Swift.max(0, i - 1) { #expect(w.t(i, j) == 0) } }
    for i in 1..<(n - 1) { #expect(w.t(i, i - 1) == 0 || w.t(i + 1, i) == 0) }
  }

  @Test("A = Z·T·Zᵀ with the eigenvalues of geev; reordering brings the chosen ones first")
  func decomposeAndReorder() throws {
    // The scaled rotation (0.9·e^{±0.7i}) and three real eigenvalues, conjugated by a
    // Householder reflector so that nothing is triangular to begin with.
    var d = Tensor<Double>(zeros: [5, 5])
    let (c, s) = (0.9 * Double.cos(0.7), 0.9 * Double.sin(0.7))
    (d[0, 0], d[0, 1], d[1, 0], d[1, 1]) = (c, -s, s, c)
    (d[2, 2], d[3, 3], d[4, 4]) = (0.5, -0.3, 0.1)
    let a = try conjugated(d, seed: 17)
    var workspace = try SchurWorkspace<Double>(order: 5)
    let values = try a.withUnsafeBufferPointer { try workspace.decompose($0) }
    expectSpectrum(values, try LinearAlgebra.eigenvalues(of: a), tolerance: 1e-12)
    expectValidFactorisation(workspace, of: a)

    // Select the complex pair: it must lead T as a 2 × 2 block, pair kept whole.
    let selection = values.map { Swift.abs($0.imaginary) > 0 }
    let leading = try workspace.reorder(selecting: selection)
    #expect(leading == 2)
    #expect(workspace.eigenvalues[0].length.isApproximatelyEqual(to: 0.9, relativeTolerance: 1e-12))
    #expect(workspace.eigenvalues[1].length.isApproximatelyEqual(to: 0.9, relativeTolerance: 1e-12))
    #expect(workspace.t(1, 0) != 0)
    expectValidFactorisation(workspace, of: a)

    // Select −0.3 only: it leads afterwards.
    let second = try workspace.reorder(
      selecting: workspace.eigenvalues.map { ($0.real + 0.3).magnitude < 1e-9 })
    #expect(second == 1)
    #expect(workspace.t(0, 0).isApproximatelyEqual(to: -0.3, relativeTolerance: 1e-12))
    expectValidFactorisation(workspace, of: a)
  }

  @Test("Bad input is a typed error")
  func badInput() throws {
    #expect(throws: LinearAlgebraError.empty) { try SchurWorkspace<Double>(order: 0) }
    var workspace = try SchurWorkspace<Double>(order: 2)
    #expect(throws: LinearAlgebraError.dimensionMismatch(expected: [2, 2], actual: [3])) {
      try [1.0, 2, 3].withUnsafeBufferPointer { try workspace.decompose($0) }
    }
    #expect(throws: LinearAlgebraError.nonFinite(operand: "matrix")) {
      try [1.0, .nan, 0, 1].withUnsafeBufferPointer { try workspace.decompose($0) }
    }
    #expect(throws: LinearAlgebraError.dimensionMismatch(expected: [2], actual: [1])) {
      try workspace.reorder(selecting: [true])
    }
  }
}
