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
    var (jobvl, jobvr) = (_Fortran.character("N"), _Fortran.character("N"))
    var (order, leading, ldvl, ldvr, size) = (
      Int32(n), Int32(lda), Int32(1), Int32(1), Int32(lwork)
    )
    var info: Int32 = 0
    dgeev_(
      &jobvl, &jobvr, &order, a, &leading, wr, wi, &unusedLeft, &ldvl, &unusedRight, &ldvr, work,
      &size, &info, 1, 1)
    return _Fortran.info(info)
  }

  public static func lapackGees(
    _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Double>, _ wi: UnsafeMutablePointer<Double>,
    _ vs: UnsafeMutablePointer<Double>, _ ldvs: Int,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int
  ) -> Int {
    var sorted: Int32 = 0
    var (jobvs, sort) = (_Fortran.character("V"), _Fortran.character("N"))
    var (order, leading, leadingVS, size) = (Int32(n), Int32(lda), Int32(ldvs), Int32(lwork))
    var info: Int32 = 0
    dgees_(
      &jobvs, &sort, nil, &order, a, &leading, &sorted, wr, wi, vs, &leadingVS, work, &size, nil,
      &info, 1, 1)
    return _Fortran.info(info)
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
    var (job, compq) = (_Fortran.character("N"), _Fortran.character("V"))
    var (order, leadingT, leadingQ) = (Int32(n), Int32(ldt), Int32(ldq))
    var (size, integerSize) = (Int32(lwork), Int32(liwork))
    var info: Int32 = 0
    dtrsen_(
      &job, &compq, select, &order, t, &leadingT, q, &leadingQ, wr, wi, selected, &unusedS,
      &unusedSep, work, &size, iwork, &integerSize, &info, 1, 1)
    return _Fortran.info(info)
  }

  public static func lapackGetrf(
    _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int {
    var (rows, columns, leading) = (Int32(m), Int32(n), Int32(lda))
    var info: Int32 = 0
    dgetrf_(&rows, &columns, a, &leading, ipiv, &info)
    return _Fortran.info(info)
  }

  public static func lapackGetrs(
    transpose: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Double>, _ lda: Int,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Double>, _ ldb: Int
  ) -> Int {
    var trans = _Fortran.character(transpose ? "T" : "N")
    var (order, count, leadingA, leadingB) = (Int32(n), Int32(nrhs), Int32(lda), Int32(ldb))
    var info: Int32 = 0
    dgetrs_(&trans, &order, &count, a, &leadingA, ipiv, b, &leadingB, &info, 1)
    return _Fortran.info(info)
  }

  public static func lapackGelsd(
    _ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ b: UnsafeMutablePointer<Double>, _ ldb: Int, _ s: UnsafeMutablePointer<Double>,
    _ rcond: Double, _ rank: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    var (rows, columns, count) = (Int32(m), Int32(n), Int32(nrhs))
    var (leadingA, leadingB, size) = (Int32(lda), Int32(ldb), Int32(lwork))
    var condition = rcond
    var info: Int32 = 0
    dgelsd_(
      &rows, &columns, &count, a, &leadingA, b, &leadingB, s, &condition, rank, work, &size,
      iwork, &info)
    return _Fortran.info(info)
  }

  public static func lapackGesdd(
    job: UInt8, _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Double>, _ lda: Int,
    _ s: UnsafeMutablePointer<Double>, _ u: UnsafeMutablePointer<Double>, _ ldu: Int,
    _ vt: UnsafeMutablePointer<Double>, _ ldvt: Int,
    _ work: UnsafeMutablePointer<Double>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    var jobz = CChar(bitPattern: job)
    var (rows, columns, leadingA) = (Int32(m), Int32(n), Int32(lda))
    var (leadingU, leadingVT, size) = (Int32(ldu), Int32(ldvt), Int32(lwork))
    var info: Int32 = 0
    dgesdd_(
      &jobz, &rows, &columns, a, &leadingA, s, u, &leadingU, vt, &leadingVT, work, &size, iwork,
      &info, 1)
    return _Fortran.info(info)
  }
}
