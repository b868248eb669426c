import ComplexModule
import RealModule

/// A floating-point scalar the library computes with: `Float` or `Double`.
///
/// `DEQScalar` builds on swift-numerics' `Real` and adds the routing of each
/// BLAS and LAPACK routine the library uses to its single (`s`) or double (`d`)
/// precision variant. Generic code is written once over `DEQScalar` and specialises
/// to `cblas_sgemm` or `cblas_dgemm` and so on.
///
/// The requirements are the linear-algebra layer's private vocabulary: they take raw
/// pointers, follow BLAS/LAPACK argument order and return LAPACK's `info` unchanged.
/// Code outside `DEQCore` should use the typed wrappers in ``LinearAlgebra``,
/// ``BLAS`` and the ``VectorSpace`` conformances instead.
///
/// Matrices passed to the `lapack…` requirements are column-major; those passed
/// to `blasGemv` and `blasGemm` are row-major (the layout of ``Tensor``).
///
/// `SIMDScalar` lets elementwise kernels work on `SIMD8<Scalar>` where a scalar loop would
/// not vectorise (a select the compiler turns into a conditional store).
public protocol DEQScalar: Real, BinaryFloatingPoint, SIMDScalar, Sendable, Codable
where RawSignificand: FixedWidthInteger {
  /// The NumPy type descriptor of this scalar in little-endian byte order (`"<f4"`, `"<f8"`).
  static var numpyDescriptor: String { get }
  /// The safetensors dtype name of this scalar (`"F32"`, `"F64"`).
  static var safetensorsDType: String { get }
  /// A short human-readable precision name (`"float"`, `"double"`).
  static var precisionName: String { get }

  // MARK: BLAS level 1

  /// `Σ x[i·incx] · y[i·incy]` over `n` elements (`?dot`).
  static func blasDot(
    _ n: Int, _ x: UnsafePointer<Self>, _ incx: Int, _ y: UnsafePointer<Self>, _ incy: Int
  ) -> Self
  /// The Euclidean norm of `n` strided elements, computed without overflow (`?nrm2`).
  static func blasNrm2(_ n: Int, _ x: UnsafePointer<Self>, _ incx: Int) -> Self
  /// `y ← alpha·x + y` (`?axpy`).
  static func blasAxpy(
    _ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ incx: Int,
    _ y: UnsafeMutablePointer<Self>, _ incy: Int)
  /// `x ← alpha·x` (`?scal`).
  static func blasScal(_ n: Int, _ alpha: Self, _ x: UnsafeMutablePointer<Self>, _ incx: Int)

  // MARK: BLAS levels 2 and 3 (row-major)

  /// `y ← alpha·op(A)·x + beta·y` for a row-major `rows × columns` matrix `A` (`?gemv`).
  static func blasGemv(
    transpose: Bool, _ rows: Int, _ columns: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ x: UnsafePointer<Self>, _ incx: Int,
    _ beta: Self, _ y: UnsafeMutablePointer<Self>, _ incy: Int)
  /// `C ← alpha·op(A)·op(B) + beta·C` for row-major matrices, `C` being `m × n` (`?gemm`).
  static func blasGemm(
    transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
    _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)

  // MARK: LAPACK (column-major, workspace variants)

  /// Eigenvalues of a general `n × n` matrix, no eigenvectors (`?geev_work`).
  /// Pass `lwork = -1` to query the optimal workspace size into `work[0]`.
  static func lapackGeev(
    _ n: Int, _ a: UnsafeMutablePointer<Self>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Self>, _ wi: UnsafeMutablePointer<Self>,
    _ work: UnsafeMutablePointer<Self>, _ lwork: Int
  ) -> Int
  /// Real Schur form `A = Z·T·Zᵀ` with Schur vectors, no sorting (`?gees_work`, `jobvs = V`,
  /// `sort = N`): `a` is overwritten by the quasi-triangular `T`, `vs` receives `Z`.
  /// Pass `lwork = -1` to query the optimal workspace size into `work[0]`.
  static func lapackGees(
    _ n: Int, _ a: UnsafeMutablePointer<Self>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Self>, _ wi: UnsafeMutablePointer<Self>,
    _ vs: UnsafeMutablePointer<Self>, _ ldvs: Int,
    _ work: UnsafeMutablePointer<Self>, _ lwork: Int
  ) -> Int
  /// Reorders a real Schur factorisation so the selected eigenvalues lead, updating the
  /// Schur vectors (`?trsen_work`, `job = N`, `compq = V`). A complex conjugate pair is moved
  /// whole when either of its two flags is set. `selected` receives the dimension of the
  /// leading invariant subspace. Needs `lwork ≥ n` and `liwork ≥ 1`.
  static func lapackTrsen(
    _ select: UnsafePointer<Int32>, _ n: Int, _ t: UnsafeMutablePointer<Self>, _ ldt: Int,
    _ q: UnsafeMutablePointer<Self>, _ ldq: Int,
    _ wr: UnsafeMutablePointer<Self>, _ wi: UnsafeMutablePointer<Self>,
    _ selected: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Self>, _ lwork: Int,
    _ iwork: UnsafeMutablePointer<Int32>, _ liwork: Int
  ) -> Int
  /// LU factorisation with partial pivoting (`?getrf_work`).
  static func lapackGetrf(
    _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Self>, _ lda: Int,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int
  /// Solves `op(A)·X = B` from an LU factorisation (`?getrs_work`).
  static func lapackGetrs(
    transpose: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Self>, _ lda: Int,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Self>, _ ldb: Int
  ) -> Int
  /// Minimum-norm least squares by the SVD with rank cut-off `rcond` (`?gelsd_work`).
  /// Pass `lwork = -1` to query the workspace sizes into `work[0]` and `iwork[0]`.
  static func lapackGelsd(
    _ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Self>, _ lda: Int,
    _ b: UnsafeMutablePointer<Self>, _ ldb: Int, _ s: UnsafeMutablePointer<Self>,
    _ rcond: Self, _ rank: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Self>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int
  /// Singular value decomposition by divide and conquer (`?gesdd_work`).
  /// `job` is `"N"` (values only), `"S"` (thin factors) or `"A"`.
  /// Pass `lwork = -1` to query the workspace size into `work[0]`.
  static func lapackGesdd(
    job: UInt8, _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Self>, _ lda: Int,
    _ s: UnsafeMutablePointer<Self>, _ u: UnsafeMutablePointer<Self>, _ ldu: Int,
    _ vt: UnsafeMutablePointer<Self>, _ ldvt: Int,
    _ work: UnsafeMutablePointer<Self>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int
}
