import DEQCore

extension JacobianOperator {
  /// The dense `n × n` Jacobian, row-major: entry `(i, j)` is `∂fᵢ/∂zⱼ`.
  ///
  /// Built from `n` JVPs (`J·eⱼ` is column `j`) or, when the operator has only VJPs, from
  /// `n` VJPs (`Jᵀ·eᵢ` is row `i`).
  ///
  /// - Throws: ``DiagnosticsError/emptyProblem`` for `n = 0`,
  ///   ``DiagnosticsError/nonFiniteProduct(product:)`` when a column (or row) holds NaN or
  ///   infinity, ``DiagnosticsError/dimensionMismatch(expected:actual:)``.
  /// - Complexity: `n` products; `n²` scalars of memory.
  public func assembled() throws(DiagnosticsError) -> Tensor<Scalar> {
    let (buffer, transposed, _) = try assembleLines()
    let n = dimension
    if transposed {
      return Tensor(shape: [n, n]) { index in buffer[(index % n) * n + index / n] }
    }
    return Tensor(shape: [n, n]) { buffer[$0] }
  }

  /// The Jacobian's `n` columns (from JVPs) or `n` rows (from VJPs), each stored
  /// contiguously: row-major `Jᵀ` when `transposed`, row-major `J` otherwise. Eigenvalues
  /// and singular values do not care which.
  func assembleLines() throws(DiagnosticsError) -> (
    scalars: [Scalar], transposed: Bool, products: Int
  ) {
    try requireNonEmpty()
    let n = dimension
    let (rows, columns) = n.multipliedReportingOverflow(by: n)
    guard !columns else {
      throw .invalidParameter(name: "dimension", reason: "n² overflows for n = \(n)")
    }
    var buffer = [Scalar](repeating: 0, count: rows)
    var products = 0
    for j in 0..<n {
      let line = try checkedProduct(basisVector(j), count: &products)
      line.withUnsafeBufferPointer { source in
        buffer.withUnsafeMutableBufferPointer { target in
          guard let from = source.baseAddress, let to = target.baseAddress else { return }
          (to + j * n).update(from: from, count: n)
        }
      }
    }
    return (buffer, jvp != nil, products)
  }
}
