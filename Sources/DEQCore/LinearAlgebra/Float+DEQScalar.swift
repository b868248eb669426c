import CBLASLAPACK
import RealModule

extension Float: DEQScalar {
  public static var numpyDescriptor: String { "<f4" }
  public static var safetensorsDType: String { "F32" }
  public static var precisionName: String { "float" }

  @inlinable
  public static func blasDot(
    _ n: Int, _ x: UnsafePointer<Float>, _ incx: Int, _ y: UnsafePointer<Float>, _ incy: Int
  ) -> Float {
    cblas_sdot(blasint(n), x, blasint(incx), y, blasint(incy))
  }

  @inlinable
  public static func blasNrm2(_ n: Int, _ x: UnsafePointer<Float>, _ incx: Int) -> Float {
    cblas_snrm2(blasint(n), x, blasint(incx))
  }

  @inlinable
  public static func blasAxpy(
    _ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ incx: Int,
    _ y: UnsafeMutablePointer<Float>, _ incy: Int
  ) {
    cblas_saxpy(blasint(n), alpha, x, blasint(incx), y, blasint(incy))
  }

  @inlinable
  public static func blasScal(
    _ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>, _ incx: Int
  ) {
    cblas_sscal(blasint(n), alpha, x, blasint(incx))
  }

  @inlinable
  public static func blasGemv(
    transpose: Bool, _ rows: Int, _ columns: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ x: UnsafePointer<Float>, _ incx: Int,
    _ beta: Float, _ y: UnsafeMutablePointer<Float>, _ incy: Int
  ) {
    cblas_sgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(rows), blasint(columns),
      alpha, a, blasint(lda), x, blasint(incx), beta, y, blasint(incy))
  }

  @inlinable
  public static func blasGemm(
    transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
      transposeB ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k),
      alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }

  public static func lapackGeev(
    _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Float>, _ wi: UnsafeMutablePointer<Float>,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int
  ) -> Int {
    var unusedLeft: Float = 0
    var unusedRight: Float = 0
    return Int(
      LAPACKE_sgeev_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")),
        Int32(n), a, Int32(lda), wr, wi, &unusedLeft, 1, &unusedRight, 1,
        work, Int32(lwork)))
  }

  public static func lapackGees(
    _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Float>, _ wi: UnsafeMutablePointer<Float>,
    _ vs: UnsafeMutablePointer<Float>, _ ldvs: Int,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int
  ) -> Int {
    var sorted: Int32 = 0
    return Int(
      LAPACKE_sgees_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "N")), nil,
        Int32(n), a, Int32(lda), &sorted, wr, wi, vs, Int32(ldvs), work, Int32(lwork), nil))
  }

  public static func lapackTrsen(
    _ select: UnsafePointer<Int32>, _ n: Int, _ t: UnsafeMutablePointer<Float>, _ ldt: Int,
    _ q: UnsafeMutablePointer<Float>, _ ldq: Int,
    _ wr: UnsafeMutablePointer<Float>, _ wi: UnsafeMutablePointer<Float>,
    _ selected: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int,
    _ iwork: UnsafeMutablePointer<Int32>, _ liwork: Int
  ) -> Int {
    var unusedS: Float = 0
    var unusedSep: Float = 0
    return Int(
      LAPACKE_strsen_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "V")), select,
        Int32(n), t, Int32(ldt), q, Int32(ldq), wr, wi, selected, &unusedS, &unusedSep,
        work, Int32(lwork), iwork, Int32(liwork)))
  }

  public static func lapackGetrf(
    _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_sgetrf_work(
        LAPACK_COL_MAJOR, Int32(m), Int32(n), a, Int32(lda), ipiv))
  }

  public static func lapackGetrs(
    transpose: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Float>, _ lda: Int,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Float>, _ ldb: Int
  ) -> Int {
    Int(
      LAPACKE_sgetrs_work(
        LAPACK_COL_MAJOR, CChar(UInt8(ascii: transpose ? "T" : "N")), Int32(n),
        Int32(nrhs), a, Int32(lda), ipiv, b, Int32(ldb)))
  }

  public static func lapackGelsd(
    _ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ b: UnsafeMutablePointer<Float>, _ ldb: Int, _ s: UnsafeMutablePointer<Float>,
    _ rcond: Float, _ rank: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_sgelsd_work(
        LAPACK_COL_MAJOR, Int32(m), Int32(n), Int32(nrhs), a, Int32(lda),
        b, Int32(ldb), s, rcond, rank, work, Int32(lwork), iwork))
  }

  public static func lapackGesdd(
    job: UInt8, _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ s: UnsafeMutablePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ ldu: Int,
    _ vt: UnsafeMutablePointer<Float>, _ ldvt: Int,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    Int(
      LAPACKE_sgesdd_work(
        LAPACK_COL_MAJOR, CChar(job), Int32(m), Int32(n), a, Int32(lda), s,
        u, Int32(ldu), vt, Int32(ldvt), work, Int32(lwork), iwork))
  }
}
