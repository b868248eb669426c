import CBLASLAPACK
import RealModule

extension Double: DEQScalar {
  public static var numpyDescriptor: String { "<f8" }
  public static var safetensorsDType: String { "F64" }
  public static var precisionName: String { "double" }

  @inlinable
  public static func blasDot(
    _ n: Int, _ x: UnsafePointer<Double>, _ incx: Int, _ y: UnsafePointer<Double>, _ incy: Int
  ) -> Double {
    cblas_ddot(blasint(n), x, blasint(incx), y, blasint(incy))
  }

  @inlinable
  public static func blasNrm2(_ n: Int, _ x: UnsafePointer<Double>, _ incx: Int) -> Double {
    cblas_dnrm2(blasint(n), x, blasint(incx))
  }

  @inlinable
  public static func blasAxpy(
    _ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ incx: Int,
    _ y: UnsafeMutablePointer<Double>, _ incy: Int
  ) {
    cblas_daxpy(blasint(n), alpha, x, blasint(incx), y, blasint(incy))
  }

  @inlinable
  public static func blasScal(
    _ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>, _ incx: Int
  ) {
    cblas_dscal(blasint(n), alpha, x, blasint(incx))
  }

  @inlinable
  public static func blasGemv(
    transpose: Bool, _ rows: Int, _ columns: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ x: UnsafePointer<Double>, _ incx: Int,
    _ beta: Double, _ y: UnsafeMutablePointer<Double>, _ incy: Int
  ) {
    cblas_dgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns),
      alpha, a, blasint(lda), x, blasint(incx), beta, y, blasint(incy))
  }

  @inlinable
  public static func blasGemm(
    transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
    _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
      transposeB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k),
      alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }

  public static func lapackGeev(
    _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Double>, _ wi: UnsafeMutablePointer<Double>,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int
  ) -> Int {
    var unusedLeft: Double = 0
    var unusedRight: Double = 0
    return Int(
      LAPACKE_dgeev_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")),
        Int32(n), a, Int32(lda), wr, wi, &unusedLeft, 1, &unusedRight, 1,
        work, Int32(lwork)))
  }

  public static func lapackGees(
    _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Double>, _ wi: UnsafeMutablePointer<Double>,
    _ vs: UnsafeMutablePointer<Double>, _ ldvs: Int,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int
  ) -> Int {
    var sorted: Int32 = 0
    return Int(
      LAPACKE_dgees_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "N")), nil,
        Int32(n), a, Int32(lda), &sorted, wr, wi, vs, Int32(ldvs), work, Int32(lwork), nil))
  }

  public static func lapackTrsen(
    _ select: UnsafePointer<Int32>, _ n: Int, _ t: UnsafeMutablePointer<Double>, _ ldt: Int,
    _ q: UnsafeMutablePointer<Double>, _ ldq: Int,
    _ wr: UnsafeMutablePointer<Double>, _ wi: UnsafeMutablePointer<Double>,
    _ selected: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int,
    _ iwork: UnsafeMutablePointer<Int32>, _ liwork: Int
  ) -> Int {
    var unusedS: Double = 0
    var unusedSep: Double = 0
    return Int(
      LAPACKE_dtrsen_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "V")), select,
        Int32(n), t, Int32(ldt), q, Int32(ldq), wr, wi, selected, &unusedS, &unusedSep,
        work, Int32(lwork), iwork, Int32(liwork)))
  }

  public static func lapackGetrf(
    _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_dgetrf_work(
        LAPACK_COL_MAJOR, Int32(m), Int32(n), a, Int32(lda), ipiv))
  }

  public static func lapackGetrs(
    transpose: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Double>, _ lda: Int,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Double>, _ ldb: Int
  ) -> Int {
    Int(
      LAPACKE_dgetrs_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: transpose ? "T" : "N")), Int32(n),
        Int32(nrhs), a, Int32(lda), ipiv, b, Int32(ldb)))
  }

  public static func lapackGelsd(
    _ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ b: UnsafeMutablePointer<Double>, _ ldb: Int, _ s: UnsafeMutablePointer<Double>,
    _ rcond: Double, _ rank: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_dgelsd_work(
        LAPACK_COL_MAJOR, Int32(m), Int32(n), Int32(nrhs), a, Int32(lda),
        b, Int32(ldb), s, rcond, rank, work, Int32(lwork), iwork))
  }

  public static func lapackGesdd(
    job: UInt8, _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ s: UnsafeMutablePointer<Double>, _ u: UnsafeMutablePointer<Double>, _ ldu: Int,
    _ vt: UnsafeMutablePointer<Double>, _ ldvt: Int,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_dgesdd_work(
        LAPACK_COL_MAJOR, CChar(job), Int32(m), Int32(n), a, Int32(lda), s,
        u, Int32(ldu), vt, Int32(ldvt), work, Int32(lwork), iwork))
  }
}
