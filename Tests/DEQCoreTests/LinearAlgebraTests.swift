import DEQCore
import Testing
import _DEQTestSupport

/// Householder reflector `Q = I − 2vvᵀ/(vᵀv)`: orthogonal and symmetric, so `Q⁻¹ = Q`.
func householder(order n: Int, seed: UInt64) -> Tensor<Double> {
  let v: [Double] = randomVector(count: n, seed: seed)
  let vv = v.dot(v)
  return Tensor(shape: [n, n]) { index in
    let (i, j) = (index / n, index % n)
    return (i == j ? 1 : 0) - 2 * v[i] * v[j] / vv
  }
}

/// `Q·A·Q` for a Householder `Q`: a similarity transform with a known inverse.
func conjugated(_ a: Tensor<Double>, seed: UInt64) throws -> Tensor<Double> {
  let q = householder(order: a.shape[0], seed: seed)
  return try BLAS.matmul(BLAS.matmul(q, a), q)
}

/// Sorts complex numbers by (real, imaginary) for comparison with a known spectrum.
func sortedSpectrum(_ values: [Complex<Double>]) -> [Complex<Double>] {
  values.sorted { ($0.real, $0.imaginary) < ($1.real, $1.imaginary) }
}

func expectSpectrum(
  _ computed: [Complex<Double>], _ expected: [Complex<Double>], tolerance: Double
) {
  let a = sortedSpectrum(computed)
  let b = sortedSpectrum(expected)
  #expect(a.count == b.count)
  for (x, y) in zip(a, b) {
    #expect((x - y).length <= tolerance, "eigenvalue \(x) vs expected \(y)")
  }
}

@Suite("Eigenvalues (LAPACK geev) against known spectra")
struct EigenvalueTests {
  @Test("A scaled rotation gives the complex dominant pair 0.9·e^{±iθ}")
  func scaledRotation() throws {
    let theta = 0.7
    let (c, s) = (0.9 * Double.cos(theta), 0.9 * Double.sin(theta))
    var a = Tensor<Double>(zeros: [4, 4])
    a[0, 0] = c
    a[0, 1] = -s
    a[1, 0] = s
    a[1, 1] = c
    a[2, 2] = 0.5
    a[3, 3] = -0.3
    let b = try conjugated(a, seed: 11)
    let values = try LinearAlgebra.eigenvalues(of: b)
    expectSpectrum(
      values,
      [Complex(c, s), Complex(c, -s), Complex(0.5, 0), Complex(-0.3, 0)],
      tolerance: 1e-12)
    #expect(
      try LinearAlgebra.spectralRadius(of: b).isApproximatelyEqual(
        to: 0.9, relativeTolerance: 1e-12))
  }

  @Test("A companion matrix has the roots of its polynomial as eigenvalues")
  func companion() throws {
    // (x−1)(x−2)(x−3)(x−4) = x⁴ − 10x³ + 35x² − 50x + 24.
    let a = try Tensor<Double>(
      shape: [4, 4],
      scalars: [
        10, -35, 50, -24,
        1, 0, 0, 0,
        0, 1, 0, 0,
        0, 0, 1, 0,
      ])
    let values = try LinearAlgebra.eigenvalues(of: a)
    expectSpectrum(values, [1, 2, 3, 4].map { Complex($0, 0) }, tolerance: 1e-10)
  }

  @Test("A symmetric matrix QDQᵀ has the real spectrum D", arguments: [3, 10, 40])
  func symmetric(order n: Int) throws {
    let d = (0..<n).map { Double($0) / Double(n) - 0.4 }
    var diagonal = Tensor<Double>(zeros: [n, n])
    for i in 0..<n { diagonal[i, i] = d[i] }
    let a = try conjugated(diagonal, seed: UInt64(n))
    let values = try LinearAlgebra.eigenvalues(of: a)
    expectSpectrum(values, d.map { Complex($0, 0) }, tolerance: 1e-12)
    #expect(values.allSatisfy { $0.imaginary == 0 })
  }

  @Test("A defective Jordan block: eigenvalues within the ε^(1/3) perturbation bound")
  func jordanBlock() throws {
    // J = 0.5·I + N (one 3×3 block). A perturbation of size ε moves a defective eigenvalue
    // of multiplicity 3 by about ε^(1/3) ≈ 6e-6, hence the tolerance.
    var j = Tensor<Double>(zeros: [3, 3])
    for i in 0..<3 { j[i, i] = 0.5 }
    j[0, 1] = 1
    j[1, 2] = 1
    let values = try LinearAlgebra.eigenvalues(of: try conjugated(j, seed: 5))
    expectSpectrum(values, [Complex(0.5, 0), Complex(0.5, 0), Complex(0.5, 0)], tolerance: 1e-4)
    #expect(values.map { $0.length }.max()!.isApproximatelyEqual(to: 0.5, relativeTolerance: 1e-4))
  }

  @Test("Float eigenvalues of the companion matrix, to single precision")
  func floatCompanion() throws {
    let a = try Tensor<Float>(
      shape: [3, 3], scalars: [6, -11, 6, 1, 0, 0, 0, 1, 0])  // roots 1, 2, 3
    let values = try LinearAlgebra.eigenvalues(of: a).map { $0.real }.sorted()
    for (x, y) in zip(values, [Float(1), 2, 3]) {
      #expect(x.isApproximatelyEqual(to: y, relativeTolerance: 1e-4))
    }
  }

  @Test("A workspace reused in a loop gives the same eigenvalues each time")
  func workspaceReuse() throws {
    var workspace = try EigenvalueWorkspace<Double>(order: 4)
    let a = try Tensor<Double>(
      shape: [4, 4], scalars: [10, -35, 50, -24, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    for _ in 0..<3 {
      let values = try a.withUnsafeBufferPointer { try workspace.eigenvalues(of: $0) }
      expectSpectrum(values, [1, 2, 3, 4].map { Complex($0, 0) }, tolerance: 1e-10)
    }
  }

  @Test("Bad matrices give typed errors, not traps")
  func badInput() throws {
    #expect(throws: LinearAlgebraError.notSquare(rows: 2, columns: 3)) {
      try LinearAlgebra.eigenvalues(of: Tensor<Double>(zeros: [2, 3]))
    }
    #expect(throws: LinearAlgebraError.empty) {
      try LinearAlgebra.eigenvalues(of: Tensor<Double>(zeros: [0, 0]))
    }
    var nan = Tensor<Double>(zeros: [2, 2])
    nan[1, 0] = .nan
    #expect(throws: LinearAlgebraError.nonFinite(operand: "matrix")) {
      try LinearAlgebra.eigenvalues(of: nan)
    }
    #expect(throws: LinearAlgebraError.self) {
      try LinearAlgebra.eigenvalues(of: Tensor<Double>(zeros: [4]))
    }
  }
}

@Suite("Linear solves, least squares, SVD")
struct SolveTests {
  @Test("LU solve: residual at rounding level", arguments: [1, 5, 50])
  func solveResidual(order n: Int) throws {
    var rng = SeededGenerator(seed: TestSeeds.standard &+ UInt64(n))
    var a = Tensor<Double>(normalWithMean: 0, standardDeviation: 1, shape: [n, n], using: &rng)
    for i in 0..<n { a[i, i] += Double(n) }  // well conditioned
    let b = Tensor<Double>(normalWithMean: 0, standardDeviation: 1, shape: [n], using: &rng)
    let x = try LinearAlgebra.solve(a, b)
    let residual = try BLAS.matvec(a, x.scalars).subtracting(b.scalars).norm() / b.norm()
    #expect(residual < 1e-13, "seed \(TestSeeds.standard &+ UInt64(n))")

    let bMatrix = Tensor<Double>(
      normalWithMean: 0, standardDeviation: 1, shape: [n, 3], using: &rng)
    let xMatrix = try LinearAlgebra.solve(a, bMatrix)
    let product = try BLAS.matmul(a, xMatrix)
    #expect(relativeError(product, bMatrix) < 1e-13)
  }

  @Test("Float LU solve")
  func floatSolve() throws {
    let a = try Tensor<Float>(shape: [2, 2], scalars: [4, 1, 2, 3])
    let x = try LinearAlgebra.solve(a, Tensor([1, 2]))  // closed form: [0.1, 0.6]
    #expect(x[0].isApproximatelyEqual(to: 0.1, relativeTolerance: 1e-6))
    #expect(x[1].isApproximatelyEqual(to: 0.6, relativeTolerance: 1e-6))
  }

  @Test("A singular matrix is reported with its pivot")
  func singular() throws {
    let a = try Tensor<Double>(shape: [2, 2], scalars: [1, 2, 2, 4])
    #expect(throws: LinearAlgebraError.singular(pivot: 2)) {
      try LinearAlgebra.solve(a, Tensor([1, 1]))
    }
    #expect(throws: LinearAlgebraError.dimensionMismatch(expected: [2], actual: [3])) {
      try LinearAlgebra.solve(a, Tensor([1, 1, 1]))
    }
  }

  @Test("Least squares agrees with the normal equations", arguments: [0.0, 1e-3])
  func leastSquares(regularization: Double) throws {
    var rng = SeededGenerator(seed: 99)
    let a = Tensor<Double>(normalWithMean: 0, standardDeviation: 1, shape: [20, 5], using: &rng)
    let b = (0..<20).map { _ in rng.nextNormal(Double.self) }
    let x = try LinearAlgebra.leastSquares(a, b, regularization: regularization)
    // Normal equations (AᵀA + λI) x = Aᵀb, solved by LU: a different route to the answer.
    var normal = try BLAS.matmul(a, a, transposeA: true)
    for i in 0..<5 { normal[i, i] += regularization }
    let rhs = try BLAS.matvec(a, b, transpose: true)
    let reference = try LinearAlgebra.solve(normal, Tensor(rhs))
    #expect(relativeError(x, reference.scalars) < 1e-12)
  }

  @Test("Least squares on a rank-deficient matrix gives the minimum-norm solution")
  func rankDeficient() throws {
    // Columns 0 and 1 equal: x0 + x1 = 2 has the minimum-norm solution x0 = x1 = 1.
    let a = try Tensor<Double>(shape: [3, 2], scalars: [1, 1, 1, 1, 1, 1])
    var workspace = try LeastSquaresWorkspace<Double>(rows: 3, columns: 2)
    let x = try a.withUnsafeBufferPointer { pa in
      try [2.0, 2, 2].withUnsafeBufferPointer { try workspace.solve(pa, $0) }
    }
    #expect(x[0].isApproximatelyEqual(to: 1, relativeTolerance: 1e-12))
    #expect(x[1].isApproximatelyEqual(to: 1, relativeTolerance: 1e-12))
    #expect(workspace.rank == 1)
  }

  @Test("Least squares rejects non-finite systems")
  func leastSquaresNonFinite() throws {
    let a = try Tensor<Double>(shape: [2, 1], scalars: [1, .infinity])
    #expect(throws: LinearAlgebraError.nonFinite(operand: "least-squares matrix")) {
      try LinearAlgebra.leastSquares(a, [1, 1])
    }
  }

  @Test("SVD reconstructs the matrix; the condition number matches σmax/σmin")
  func svd() throws {
    var rng = SeededGenerator(seed: 3)
    for shape in [[6, 4], [4, 6], [5, 5]] {
      let a = Tensor<Double>(normalWithMean: 0, standardDeviation: 1, shape: shape, using: &rng)
      let (u, s, vt) = try LinearAlgebra.svd(a)
      var us = u
      for i in 0..<u.shape[0] { for j in 0..<s.count { us[i, j] *= s[j] } }
      #expect(relativeError(try BLAS.matmul(us, vt), a) < 1e-13, "shape \(shape)")
      #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
    }
    // Q·diag(4, 2, 0.5)·Q has singular values 4, 2, 0.5 and condition number 8.
    var d = Tensor<Double>(zeros: [3, 3])
    (d[0, 0], d[1, 1], d[2, 2]) = (4, -2, 0.5)
    let a = try conjugated(d, seed: 8)
    let s = try LinearAlgebra.singularValues(of: a)
    #expect(relativeError(s, [4, 2, 0.5]) < 1e-14)
    #expect(
      try LinearAlgebra.conditionNumber(of: a).isApproximatelyEqual(to: 8, relativeTolerance: 1e-13)
    )
  }
}
