// Ritz vectors of a small upper Hessenberg matrix by inverse iteration (Wilkinson 1965;
// Golub & Van Loan §7.6.1). DEQCore's `geev` wrapper returns eigenvalues only; for the
// m × m projected matrix of an Arnoldi cycle (m ≤ a few hundred) two steps of inverse
// iteration in complex double precision give the eigenvector to working accuracy.
import DEQCore

enum RitzVectors {
  /// A unit-norm eigenvector `y` of the row-major `m × m` matrix `h` for its eigenvalue
  /// `theta`: two inverse-iteration steps on `(H − θ·I)` by Gaussian elimination with
  /// partial pivoting, zero pivots replaced by `ε·‖H‖_F`.
  ///
  /// - Complexity: O(m³) flops, `m²` complex scalars of memory.
  static func eigenvector(of h: [Double], order m: Int, for theta: Complex<Double>)
    -> [Complex<Double>]
  {
    let frobenius = h.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let tiny = Swift.max(frobenius, 1) * Double.ulpOfOne
    var lu = [Complex<Double>](repeating: .zero, count: m * m)
    for i in 0..<m {
      for j in 0..<m { lu[i * m + j] = Complex(h[i * m + j]) }
      lu[i * m + i] = lu[i * m + i] - theta
    }
    // LU with partial pivoting, in place; pivots recorded.
    var pivots = [Int](repeating: 0, count: m)
    for k in 0..<m {
      var best = k
      for i in k..<m where lu[i * m + k].length > lu[best * m + k].length { best = i }
      pivots[k] = best
      if best != k {
        for j in 0..<m { lu.swapAt(k * m + j, best * m + j) }
      }
      if lu[k * m + k].length < tiny { lu[k * m + k] = Complex(tiny) }
      let pivot = lu[k * m + k]
      for i in (k + 1)..<Swift.max(k + 1, m) {
        let factor = lu[i * m + k] / pivot
        lu[i * m + k] = factor
        if factor == .zero { continue }
        for j in (k + 1)..<m { lu[i * m + j] = lu[i * m + j] - factor * lu[k * m + j] }
      }
    }
    var y = [Complex<Double>](repeating: Complex(1), count: m)
    for _ in 0..<2 {
      // Solve L·U·x = P·y.
      for k in 0..<m where pivots[k] != k { y.swapAt(k, pivots[k]) }
      for i in 0..<m {
        var sum = y[i]
        for j in 0..<i { sum = sum - lu[i * m + j] * y[j] }
        y[i] = sum
      }
      for i in stride(from: m - 1, through: 0, by: -1) {
        var sum = y[i]
        for j in (i + 1)..<Swift.max(i + 1, m) { sum = sum - lu[i * m + j] * y[j] }
        y[i] = sum / lu[i * m + i]
      }
      let norm = y.reduce(0) { $0 + $1.lengthSquared }.squareRoot()
      guard norm > 0, norm.isFinite else { break }
      for i in 0..<m { y[i] = y[i].divided(by: norm) }
    }
    return y
  }
}
