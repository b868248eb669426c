/// Dense linear algebra on rank-2 ``Tensor`` values (row-major matrices) through LAPACK.
///
/// Every routine validates shapes and finiteness first and reports LAPACK's `info`
/// as a ``LinearAlgebraError``; none traps on bad input. Inputs are never modified
/// (LAPACK overwrites its arguments, so each routine works on its own buffer).
/// For calls inside a loop, use ``EigenvalueWorkspace`` or ``LeastSquaresWorkspace``.
public enum LinearAlgebra {
  @usableFromInline
  static func squareOrder<S: DEQScalar>(_ a: Tensor<S>) throws(LinearAlgebraError) -> Int {
    guard a.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: a.shape) }
    guard a.shape[0] == a.shape[1] else { throw .notSquare(rows: a.shape[0], columns: a.shape[1]) }
    guard a.shape[0] > 0 else { throw .empty }
    return a.shape[0]
  }

  static func checkFinite<S: DEQScalar>(
    _ a: Tensor<S>, _ name: String
  ) throws(LinearAlgebraError) {
    guard a.isFinite else { throw .nonFinite(operand: name) }
  }

  /// All eigenvalues of a square matrix (LAPACK `?geev`).
  ///
  /// Complex conjugate pairs are adjacent, the one with positive imaginary part first.
  ///
  /// - Throws: ``LinearAlgebraError`` for a non-square, empty or non-finite matrix, or
  ///   when the QR algorithm does not converge.
  /// - Complexity: about 10·n³ flops; O(n²) memory.
  public static func eigenvalues<S: DEQScalar>(
    of a: Tensor<S>
  ) throws(LinearAlgebraError) -> [Complex<S>] {
    let n = try squareOrder(a)
    var workspace = try EigenvalueWorkspace<S>(order: n)
    return try a.withUnsafeBufferPointer { (p) throws(LinearAlgebraError) in
      try workspace.eigenvalues(of: p)
    }
  }

  /// The spectral radius `max |λᵢ|` of a square matrix.
  ///
  /// - Throws: as ``eigenvalues(of:)``.
  /// - Complexity: about 10·n³ flops.
  public static func spectralRadius<S: DEQScalar>(of a: Tensor<S>) throws(LinearAlgebraError) -> S {
    try eigenvalues(of: a).reduce(0) { Swift.max($0, $1.length) }
  }

  /// Solves `A·X = B` by LU factorisation with partial pivoting (LAPACK `?getrf`/`?getrs`).
  ///
  /// - Parameters:
  ///   - a: an `n × n` matrix.
  ///   - b: a vector of `n` elements (rank 1) or an `n × k` matrix.
  /// - Returns: `X` with the shape of `b`.
  /// - Throws: ``LinearAlgebraError/singular(pivot:)`` for an exactly singular matrix,
  ///   and the shape and finiteness errors.
  /// - Complexity: (2/3)·n³ + 2·n²·k flops.
  public static func solve<S: DEQScalar>(
    _ a: Tensor<S>, _ b: Tensor<S>
  ) throws(LinearAlgebraError) -> Tensor<S> {
    let n = try squareOrder(a)
    guard (b.rank == 1 || b.rank == 2), b.shape[0] == n else {
      throw .dimensionMismatch(expected: [n], actual: b.shape)
    }
    try checkFinite(a, "matrix")
    try checkFinite(b, "right-hand side")
    let k = b.rank == 1 ? 1 : b.shape[1]
    // Row-major A is column-major Aᵀ: factor Aᵀ and solve with the transpose.
    var lu = a.scalars
    var pivots = [Int32](repeating: 0, count: n)
    let info = lu.withUnsafeMutableBufferPointer { pa in
      pivots.withUnsafeMutableBufferPointer { pp in
        S.lapackGetrf(n, n, pa.unsafeBase, n, pp.unsafeBase)
      }
    }
    if info < 0 { throw .lapack(routine: "getrf", info: info) }
    if info > 0 { throw .singular(pivot: info) }
    // B column-major: transpose the row-major n × k right-hand side.
    var x = [S](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { x[j * n + i] = b.scalars[i * k + j] } }
    let info2 = lu.withUnsafeBufferPointer { pa in
      pivots.withUnsafeBufferPointer { pp in
        x.withUnsafeMutableBufferPointer { px in
          S.lapackGetrs(transpose: true, n, k, pa.unsafeBase, n, pp.unsafeBase, px.unsafeBase, n)
        }
      }
    }
    if info2 != 0 { throw .lapack(routine: "getrs", info: info2) }
    var out = [S](repeating: 0, count: n * k)
    for i in 0..<n { for j in 0..<k { out[i * k + j] = x[j * n + i] } }
    return Tensor(uncheckedShape: b.shape, scalars: out)
  }

  /// The (Tikhonov-regularised) least-squares solution by the SVD (LAPACK `?gelsd`).
  ///
  /// ```
  /// x = argmin ‖A·x − b‖₂² + λ‖x‖₂²
  /// ```
  /// For a rank-deficient `A` and `λ = 0`, the minimum-norm solution.
  ///
  /// - Parameters:
  ///   - a: an `m × n` matrix.
  ///   - b: `m` elements.
  ///   - regularization: `λ ≥ 0`.
  /// - Returns: `x`, `n` elements.
  /// - Throws: shape and finiteness errors, or ``LinearAlgebraError/noConvergence(routine:info:)``.
  /// - Complexity: O(m·n²) flops.
  public static func leastSquares<S: DEQScalar>(
    _ a: Tensor<S>, _ b: [S], regularization: S = 0
  ) throws(LinearAlgebraError) -> [S] {
    guard a.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: a.shape) }
    var workspace = try LeastSquaresWorkspace<S>(rows: a.shape[0], columns: a.shape[1])
    return try a.withUnsafeBufferPointer { (pa) throws(LinearAlgebraError) in
      try b.withUnsafeBufferPointer { (pb) throws(LinearAlgebraError) in
        try workspace.solve(pa, pb, regularization: regularization)
      }
    }
  }

  /// The singular value decomposition `A = U·diag(σ)·Vᵀ` (thin; LAPACK `?gesdd`).
  ///
  /// - Returns: `u` (`m × r`), `singularValues` (`r`, descending) and `vt` (`r × n`),
  ///   `r = min(m, n)`.
  /// - Throws: shape and finiteness errors, or ``LinearAlgebraError/noConvergence(routine:info:)``.
  /// - Complexity: O(m·n·min(m, n)) flops.
  public static func svd<S: DEQScalar>(
    _ a: Tensor<S>
  ) throws(LinearAlgebraError) -> (u: Tensor<S>, singularValues: [S], vt: Tensor<S>) {
    guard a.rank == 2 else { throw .dimensionMismatch(expected: [-1, -1], actual: a.shape) }
    let (m, n) = (a.shape[0], a.shape[1])
    guard m > 0, n > 0 else { throw .empty }
    try checkFinite(a, "matrix")
    // Row-major A is column-major Aᵀ = V·Σ·Uᵀ: decompose Aᵀ (n × m) and swap the factors.
    // Column-major factors of Aᵀ: U' is n × r (= V), Vᵀ' is r × m (= Uᵀ).
    // Read as row-major, column-major U' (n × r) is the r × n matrix Vᵀ, and column-major
    // Vᵀ' (r × m) is the m × r matrix U.
    let r = Swift.min(m, n)
    var work = a.scalars
    var s = [S](repeating: 0, count: r)
    var uPrime = [S](repeating: 0, count: n * r)
    var vtPrime = [S](repeating: 0, count: r * m)
    var iwork = [Int32](repeating: 0, count: 8 * r)
    var query: S = 0
    let job = UInt8(ascii: "S")
    var info = call(&work, &s, &uPrime, &vtPrime, &iwork) { pa, ps, pu, pv, pi in
      S.lapackGesdd(job: job, n, m, pa, n, ps, pu, n, pv, r, &query, -1, pi)
    }
    guard info == 0 else { throw .lapack(routine: "gesdd", info: info) }
    var buffer = [S](repeating: 0, count: Swift.max(1, Int(query)))
    let lwork = buffer.count
    info = call(&work, &s, &uPrime, &vtPrime, &iwork) { pa, ps, pu, pv, pi in
      buffer.withUnsafeMutableBufferPointer { pw in
        S.lapackGesdd(job: job, n, m, pa, n, ps, pu, n, pv, r, pw.unsafeBase, lwork, pi)
      }
    }
    if info < 0 { throw .lapack(routine: "gesdd", info: info) }
    if info > 0 { throw .noConvergence(routine: "gesdd", info: info) }
    return (
      Tensor(uncheckedShape: [m, r], scalars: vtPrime), s,
      Tensor(uncheckedShape: [r, n], scalars: uPrime)
    )
  }

  private static func call<S: DEQScalar>(
    _ a: inout [S], _ s: inout [S], _ u: inout [S], _ vt: inout [S], _ iwork: inout [Int32],
    _ body: (
      UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<S>,
      UnsafeMutablePointer<S>, UnsafeMutablePointer<Int32>
    ) -> Int
  ) -> Int {
    a.withUnsafeMutableBufferPointer { pa in
      s.withUnsafeMutableBufferPointer { ps in
        u.withUnsafeMutableBufferPointer { pu in
          vt.withUnsafeMutableBufferPointer { pv in
            iwork.withUnsafeMutableBufferPointer { pi in
              body(pa.unsafeBase, ps.unsafeBase, pu.unsafeBase, pv.unsafeBase, pi.unsafeBase)
            }
          }
        }
      }
    }
  }

  /// The singular values of a matrix, descending.
  ///
  /// - Throws: as ``svd(_:)``.
  public static func singularValues<S: DEQScalar>(
    of a: Tensor<S>
  ) throws(LinearAlgebraError) -> [S] {
    try svd(a).singularValues
  }

  /// The 2-norm condition number `σ_max / σ_min` of a square matrix; `+∞` when singular.
  ///
  /// - Throws: ``LinearAlgebraError/notSquare(rows:columns:)`` and the errors of ``svd(_:)``.
  /// - Complexity: O(n³) flops.
  public static func conditionNumber<S: DEQScalar>(of a: Tensor<S>) throws(LinearAlgebraError) -> S
  {
    _ = try squareOrder(a)
    let s = try singularValues(of: a)
    guard let largest = s.first, let smallest = s.last else { throw .empty }
    return smallest == 0 ? .infinity : largest / smallest
  }
}
