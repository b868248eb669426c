/// Preallocated buffers for repeated eigenvalue computations of `n × n` matrices.
///
/// Runs LAPACK `?geev` (no eigenvectors) after one workspace query made at
/// initialisation, so calling ``eigenvalues(of:)`` in a loop does not allocate
/// beyond its result.
///
/// - Complexity: about 10·n³ flops per call; memory O(n²).
public struct EigenvalueWorkspace<Scalar: DEQScalar>: Sendable {
  /// The matrix order this workspace serves.
  public let order: Int
  @usableFromInline var matrix: [Scalar]
  @usableFromInline var real: [Scalar]
  @usableFromInline var imaginary: [Scalar]
  @usableFromInline var work: [Scalar]

  /// Creates buffers for matrices of order `order` (≥ 1).
  ///
  /// - Throws: ``LinearAlgebraError/empty`` for `order < 1`, or the workspace query's error.
  public init(order: Int) throws(LinearAlgebraError) {
    guard order >= 1 else { throw .empty }
    self.order = order
    var matrix = [Scalar](repeating: 0, count: order * order)
    var real = [Scalar](repeating: 0, count: order)
    var imaginary = [Scalar](repeating: 0, count: order)
    var query: Scalar = 0
    let info = matrix.withUnsafeMutableBufferPointer { a in
      real.withUnsafeMutableBufferPointer { wr in
        imaginary.withUnsafeMutableBufferPointer { wi in
          Scalar.lapackGeev(
            order, a.unsafeBase, order, wr.unsafeBase, wi.unsafeBase, &query, -1)
        }
      }
    }
    guard info == 0 else { throw .lapack(routine: "geev", info: info) }
    self.matrix = matrix
    self.real = real
    self.imaginary = imaginary
    work = [Scalar](repeating: 0, count: Swift.max(1, Int(query)))
  }

  /// The eigenvalues of a square matrix given row-major, in LAPACK's order
  /// (complex conjugate pairs adjacent, positive imaginary part first).
  ///
  /// - Parameter matrix: `order × order` scalars, row-major. (The eigenvalues of a matrix
  ///   and its transpose agree, so no transposition is needed.)
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)``,
  ///   ``LinearAlgebraError/nonFinite(operand:)``,
  ///   ``LinearAlgebraError/noConvergence(routine:info:)`` when the QR algorithm fails.
  public mutating func eigenvalues(
    of matrix: UnsafeBufferPointer<Scalar>
  ) throws(LinearAlgebraError) -> [Complex<Scalar>] {
    let n = order
    guard matrix.count == n * n else {
      throw .dimensionMismatch(expected: [n, n], actual: [matrix.count])
    }
    for v in matrix where !v.isFinite { throw .nonFinite(operand: "matrix") }
    let lwork = work.count
    // Move the buffers into locals for the call (no copy, no allocation).
    var (a0, real, imaginary, work) = (self.matrix, self.real, self.imaginary, self.work)
    (self.matrix, self.real, self.imaginary, self.work) = ([], [], [], [])
    defer { (self.matrix, self.real, self.imaginary, self.work) = (a0, real, imaginary, work) }
    let info = a0.withUnsafeMutableBufferPointer { a in
      a.unsafeBase.update(from: matrix.unsafeBase, count: n * n)
      return real.withUnsafeMutableBufferPointer { wr in
        imaginary.withUnsafeMutableBufferPointer { wi in
          work.withUnsafeMutableBufferPointer { w in
            Scalar.lapackGeev(
              n, a.unsafeBase, n, wr.unsafeBase, wi.unsafeBase, w.unsafeBase, lwork)
          }
        }
      }
    }
    if info < 0 { throw .lapack(routine: "geev", info: info) }
    if info > 0 { throw .noConvergence(routine: "geev", info: info) }
    return (0..<n).map { Complex(real[$0], imaginary[$0]) }
  }
}
