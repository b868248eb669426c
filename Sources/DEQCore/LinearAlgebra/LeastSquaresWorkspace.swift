/// Preallocated buffers for repeated least-squares solves of one size.
///
/// Solves `min ‖A·x − b‖₂² + λ‖x‖₂²` for a `rows × columns` matrix `A` by LAPACK's
/// SVD-based `?gelsd` (minimum-norm solution, singular values below `rcond·σ_max`
/// treated as zero). Tikhonov regularisation `λ > 0` appends `√λ·I` below `A`.
/// The workspace query runs once at initialisation; ``solve(_:_:regularization:)``
/// does not allocate beyond its result, so it can run inside a solver iteration.
///
/// - Complexity: O(rows·columns²) flops per solve; memory O((rows + columns)·columns).
public struct LeastSquaresWorkspace<Scalar: DEQScalar>: Sendable {
  /// The number of rows of `A` this workspace serves.
  public let rows: Int
  /// The number of columns of `A` (unknowns).
  public let columns: Int
  /// Relative cut-off for small singular values; `-1` means machine precision.
  public var rcond: Scalar
  @usableFromInline var a: [Scalar]
  @usableFromInline var b: [Scalar]
  @usableFromInline var singular: [Scalar]
  @usableFromInline var work: [Scalar]
  @usableFromInline var iwork: [Int32]
  /// The effective rank found by the last solve.
  public private(set) var rank: Int = 0

  /// Creates buffers for `rows × columns` systems (both ≥ 1).
  ///
  /// - Throws: ``LinearAlgebraError/empty`` for a zero size, or the workspace query's error.
  public init(rows: Int, columns: Int, rcond: Scalar = -1) throws(LinearAlgebraError) {
    guard rows >= 1, columns >= 1 else { throw .empty }
    self.rows = rows
    self.columns = columns
    self.rcond = rcond
    let m = rows + columns  // room for the regularisation rows
    var a = [Scalar](repeating: 0, count: m * columns)
    var b = [Scalar](repeating: 0, count: Swift.max(m, columns))
    var singular = [Scalar](repeating: 0, count: columns)
    var query: Scalar = 0
    var iquery: Int32 = 0
    var rank: Int32 = 0
    let ldb = b.count
    let info = a.withUnsafeMutableBufferPointer { pa in
      b.withUnsafeMutableBufferPointer { pb in
        singular.withUnsafeMutableBufferPointer { ps in
          Scalar.lapackGelsd(
            m, columns, 1, pa.unsafeBase, m, pb.unsafeBase, ldb, ps.unsafeBase, rcond,
            &rank, &query, -1, &iquery)
        }
      }
    }
    guard info == 0 else { throw .lapack(routine: "gelsd", info: info) }
    (self.a, self.b, self.singular) = (a, b, singular)
    work = [Scalar](repeating: 0, count: Swift.max(1, Int(query)))
    iwork = [Int32](repeating: 0, count: Swift.max(1, Int(iquery)))
  }

  /// Solves the (regularised) least-squares problem.
  ///
  /// ```
  /// x = argmin ‖A·x − b‖₂² + λ‖x‖₂²
  /// ```
  ///
  /// - Parameters:
  ///   - matrix: `A`, `rows × columns` scalars, **row-major**.
  ///   - rhs: `b`, `rows` scalars.
  ///   - regularization: `λ ≥ 0`.
  /// - Returns: `x`, `columns` scalars.
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)``,
  ///   ``LinearAlgebraError/nonFinite(operand:)``, or
  ///   ``LinearAlgebraError/noConvergence(routine:info:)`` when the SVD fails.
  public mutating func solve(
    _ matrix: UnsafeBufferPointer<Scalar>, _ rhs: UnsafeBufferPointer<Scalar>,
    regularization: Scalar = 0
  ) throws(LinearAlgebraError) -> [Scalar] {
    var x = [Scalar](repeating: 0, count: columns)
    try x.withUnsafeMutableBufferPointer { (out) throws(LinearAlgebraError) in
      try solve(matrix, rhs, regularization: regularization, into: out)
    }
    return x
  }

  /// Solves the (regularised) least-squares problem into a caller-owned buffer, without
  /// allocating: the variant for solver iterations.
  ///
  /// - Parameters:
  ///   - matrix: `A`, `rows × columns` scalars, **row-major**.
  ///   - rhs: `b`, `rows` scalars.
  ///   - regularization: `λ ≥ 0`.
  ///   - solution: receives `x`; at least `columns` scalars.
  /// - Throws: as ``solve(_:_:regularization:)``.
  public mutating func solve(
    _ matrix: UnsafeBufferPointer<Scalar>, _ rhs: UnsafeBufferPointer<Scalar>,
    regularization: Scalar = 0, into solution: UnsafeMutableBufferPointer<Scalar>
  ) throws(LinearAlgebraError) {
    guard solution.count >= columns else {
      throw .dimensionMismatch(expected: [columns], actual: [solution.count])
    }
    guard matrix.count == rows * columns else {
      throw .dimensionMismatch(expected: [rows, columns], actual: [matrix.count])
    }
    guard rhs.count == rows else { throw .dimensionMismatch(expected: [rows], actual: [rhs.count]) }
    for v in matrix where !v.isFinite { throw .nonFinite(operand: "least-squares matrix") }
    for v in rhs where !v.isFinite { throw .nonFinite(operand: "least-squares right-hand side") }
    guard regularization >= 0, regularization.isFinite else {
      throw .nonFinite(operand: "regularization")
    }
    let m = regularization > 0 ? rows + columns : rows
    let (n, lwork, ldb, rcond) = (columns, work.count, b.count, self.rcond)
    let root = regularization.squareRoot()
    var rank: Int32 = 0
    // Move the buffers into locals for the call (no copy, no allocation).
    var (a, b, singular, work, iwork) = (self.a, self.b, self.singular, self.work, self.iwork)
    (self.a, self.b, self.singular, self.work, self.iwork) = ([], [], [], [], [])
    defer { (self.a, self.b, self.singular, self.work, self.iwork) = (a, b, singular, work, iwork) }
    let info = a.withUnsafeMutableBufferPointer { pa in
      // Column-major copy of A, then √λ·I below it.
      for j in 0..<n {
        for i in 0..<rows { pa[j * m + i] = matrix[i * n + j] }
        if m > rows { for i in 0..<n { pa[j * m + rows + i] = i == j ? root : 0 } }
      }
      return b.withUnsafeMutableBufferPointer { pb in
        for i in 0..<pb.count { pb[i] = i < rows ? rhs[i] : 0 }
        return singular.withUnsafeMutableBufferPointer { ps in
          work.withUnsafeMutableBufferPointer { pw in
            iwork.withUnsafeMutableBufferPointer { pi in
              Scalar.lapackGelsd(
                m, n, 1, pa.unsafeBase, m, pb.unsafeBase, ldb, ps.unsafeBase, rcond, &rank,
                pw.unsafeBase, lwork, pi.unsafeBase)
            }
          }
        }
      }
    }
    if info < 0 { throw .lapack(routine: "gelsd", info: info) }
    if info > 0 { throw .noConvergence(routine: "gelsd", info: info) }
    self.rank = Int(rank)
    for i in 0..<n { solution[i] = b[i] }
  }
}
