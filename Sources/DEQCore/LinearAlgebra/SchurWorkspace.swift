/// Preallocated buffers for repeated ordered real Schur decompositions of `n × n` matrices.
///
/// ```
/// A = Z·T·Zᵀ,   Zᵀ·Z = I,   T upper quasi-triangular (1 × 1 and 2 × 2 diagonal blocks)
/// ```
/// ``decompose(_:)`` runs LAPACK `?gees` (Schur vectors, no sorting);
/// ``reorder(selecting:)`` then runs `?trsen` so the selected eigenvalues lead `T`, with `Z`
/// updated: the first `s` columns of `Z` span the invariant subspace of the selected
/// eigenvalues. A complex conjugate pair (a 2 × 2 block) always moves whole. Both routines'
/// workspaces are sized once, at initialisation (Krylov–Schur restarts call them in a loop).
///
/// - Complexity: about `25·n³` flops per decomposition and at most `O(n³)` per reordering;
///   memory O(n²).
public struct SchurWorkspace<Scalar: DEQScalar>: Sendable {
  /// The matrix order this workspace serves.
  public let order: Int
  /// `T` after the last ``decompose(_:)`` or ``reorder(selecting:)``, column-major.
  public private(set) var schurForm: [Scalar]
  /// `Z` after the last ``decompose(_:)`` or ``reorder(selecting:)``, column-major.
  public private(set) var schurVectors: [Scalar]
  var real: [Scalar]
  var imaginary: [Scalar]
  var work: [Scalar]
  var integerWork: [Int32]
  var flags: [Int32]

  /// Creates buffers for matrices of order `order` (≥ 1).
  ///
  /// - Throws: ``LinearAlgebraError/empty`` for `order < 1`, or the workspace query's error.
  public init(order: Int) throws(LinearAlgebraError) {
    guard order >= 1 else { throw .empty }
    self.order = order
    var t = [Scalar](repeating: 0, count: order * order)
    var z = [Scalar](repeating: 0, count: order * order)
    var real = [Scalar](repeating: 0, count: order)
    var imaginary = [Scalar](repeating: 0, count: order)
    var query: Scalar = 0
    let info = t.withUnsafeMutableBufferPointer { a in
      z.withUnsafeMutableBufferPointer { vs in
        real.withUnsafeMutableBufferPointer { wr in
          imaginary.withUnsafeMutableBufferPointer { wi in
            Scalar.lapackGees(
              order, a.unsafeBase, order, wr.unsafeBase, wi.unsafeBase, vs.unsafeBase, order,
              &query, -1)
          }
        }
      }
    }
    guard info == 0 else { throw .lapack(routine: "gees", info: info) }
    schurForm = t
    schurVectors = z
    self.real = real
    self.imaginary = imaginary
    work = [Scalar](repeating: 0, count: Swift.max(order, Int(query), 1))
    integerWork = [0]
    flags = [Int32](repeating: 0, count: order)
  }

  /// `T[i, j]` of the current factorisation (0-based).
  @inlinable public func t(_ i: Int, _ j: Int) -> Scalar { schurForm[j * order + i] }
  /// `Z[i, j]` of the current factorisation (0-based).
  @inlinable public func z(_ i: Int, _ j: Int) -> Scalar { schurVectors[j * order + i] }

  /// The eigenvalues in the order of `T`'s diagonal blocks (a pair: positive imaginary
  /// part first).
  public var eigenvalues: [Complex<Scalar>] {
    (0..<order).map { Complex(real[$0], imaginary[$0]) }
  }

  /// The real Schur decomposition of a square matrix given row-major.
  ///
  /// - Parameter matrix: `order × order` scalars, row-major.
  /// - Returns: the eigenvalues in the order of `T`'s diagonal.
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)``,
  ///   ``LinearAlgebraError/nonFinite(operand:)``,
  ///   ``LinearAlgebraError/noConvergence(routine:info:)`` when the QR algorithm fails.
  public mutating func decompose(
    _ matrix: UnsafeBufferPointer<Scalar>
  ) throws(LinearAlgebraError) -> [Complex<Scalar>] {
    let n = order
    guard matrix.count == n * n else {
      throw .dimensionMismatch(expected: [n, n], actual: [matrix.count])
    }
    for v in matrix where !v.isFinite { throw .nonFinite(operand: "matrix") }
    for i in 0..<n { for j in 0..<n { schurForm[j * n + i] = matrix[i * n + j] } }
    let lwork = work.count
    let info = schurForm.withUnsafeMutableBufferPointer { a in
      schurVectors.withUnsafeMutableBufferPointer { vs in
        real.withUnsafeMutableBufferPointer { wr in
          imaginary.withUnsafeMutableBufferPointer { wi in
            work.withUnsafeMutableBufferPointer { w in
              Scalar.lapackGees(
                n, a.unsafeBase, n, wr.unsafeBase, wi.unsafeBase, vs.unsafeBase, n,
                w.unsafeBase, lwork)
            }
          }
        }
      }
    }
    if info < 0 { throw .lapack(routine: "gees", info: info) }
    if info > 0 { throw .noConvergence(routine: "gees", info: info) }
    return eigenvalues
  }

  /// Reorders the current factorisation so the flagged eigenvalues lead `T`.
  ///
  /// - Parameter selecting: one flag per diagonal position of `T` (its current order); a
  ///   complex pair is selected when either of its two flags is set.
  /// - Returns: `s`, the dimension of the leading invariant subspace (flags set, pairs
  ///   counted twice).
  /// - Throws: ``LinearAlgebraError/dimensionMismatch(expected:actual:)``;
  ///   ``LinearAlgebraError/noConvergence(routine:info:)`` when a swap would have been
  ///   too ill-conditioned (eigenvalues too close; `T` is then partly reordered).
  public mutating func reorder(selecting: [Bool]) throws(LinearAlgebraError) -> Int {
    let n = order
    guard selecting.count == n else {
      throw .dimensionMismatch(expected: [n], actual: [selecting.count])
    }
    for i in 0..<n { flags[i] = selecting[i] ? 1 : 0 }
    var selected: Int32 = 0
    let (lwork, liwork) = (work.count, integerWork.count)
    let info = flags.withUnsafeBufferPointer { select in
      schurForm.withUnsafeMutableBufferPointer { t in
        schurVectors.withUnsafeMutableBufferPointer { q in
          real.withUnsafeMutableBufferPointer { wr in
            imaginary.withUnsafeMutableBufferPointer { wi in
              work.withUnsafeMutableBufferPointer { w in
                integerWork.withUnsafeMutableBufferPointer { iw in
                  Scalar.lapackTrsen(
                    select.unsafeBase, n, t.unsafeBase, n, q.unsafeBase, n, wr.unsafeBase,
                    wi.unsafeBase, &selected, w.unsafeBase, lwork, iw.unsafeBase, liwork)
                }
              }
            }
          }
        }
      }
    }
    if info < 0 { throw .lapack(routine: "trsen", info: info) }
    if info > 0 { throw .noConvergence(routine: "trsen", info: info) }
    return Int(selected)
  }
}
