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
    var (jobvl, jobvr) = (_Fortran.character("N"), _Fortran.character("N"))
    var (order, leading, ldvl, ldvr, size) = (
      Int32(n), Int32(lda), Int32(1), Int32(1), Int32(lwork)
    )
    var info: Int32 = 0
    sgeev_(
      &jobvl, &jobvr, &order, a, &leading, wr, wi, &unusedLeft, &ldvl, &unusedRight, &ldvr, work,
      &size, &info, 1, 1)
    return _Fortran.info(info)
  }

  public static func lapackGees(
    _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ wr: UnsafeMutablePointer<Float>, _ wi: UnsafeMutablePointer<Float>,
    _ vs: UnsafeMutablePointer<Float>, _ ldvs: Int,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int
  ) -> Int {
    var sorted: Int32 = 0
    var (jobvs, sort) = (_Fortran.character("V"), _Fortran.character("N"))
    var (order, leading, leadingVS, size) = (Int32(n), Int32(lda), Int32(ldvs), Int32(lwork))
    var info: Int32 = 0
    sgees_(
      &jobvs, &sort, nil, &order, a, &leading, &sorted, wr, wi, vs, &leadingVS, work, &size, nil,
      &info, 1, 1)
    return _Fortran.info(info)
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
    var (job, compq) = (_Fortran.character("N"), _Fortran.character("V"))
    var (order, leadingT, leadingQ) = (Int32(n), Int32(ldt), Int32(ldq))
    var (size, integerSize) = (Int32(lwork), Int32(liwork))
    var info: Int32 = 0
    strsen_(
      &job, &compq, select, &order, t, &leadingT, q, &leadingQ, wr, wi, selected, &unusedS,
      &unusedSep, work, &size, iwork, &integerSize, &info, 1, 1)
    return _Fortran.info(info)
  }

  public static func lapackGetrf(
    _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ ipiv: UnsafeMutablePointer<Int32>
  ) -> Int {
    var (rows, columns, leading) = (Int32(m), Int32(n), Int32(lda))
    var info: Int32 = 0
    sgetrf_(&rows, &columns, a, &leading, ipiv, &info)
    return _Fortran.info(info)
  }

  public static func lapackGetrs(
    transpose: Bool, _ n: Int, _ nrhs: Int, _ a: UnsafePointer<Float>, _ lda: Int,
    _ ipiv: UnsafePointer<Int32>, _ b: UnsafeMutablePointer<Float>, _ ldb: Int
  ) -> Int {
    var trans = _Fortran.character(transpose ? "T" : "N")
    var (order, count, leadingA, leadingB) = (Int32(n), Int32(nrhs), Int32(lda), Int32(ldb))
    var info: Int32 = 0
    sgetrs_(&trans, &order, &count, a, &leadingA, ipiv, b, &leadingB, &info, 1)
    return _Fortran.info(info)
  }

  public static func lapackGelsd(
    _ m: Int, _ n: Int, _ nrhs: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ b: UnsafeMutablePointer<Float>, _ ldb: Int, _ s: UnsafeMutablePointer<Float>,
    _ rcond: Float, _ rank: UnsafeMutablePointer<Int32>,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    var (rows, columns, count) = (Int32(m), Int32(n), Int32(nrhs))
    var (leadingA, leadingB, size) = (Int32(lda), Int32(ldb), Int32(lwork))
    var condition = rcond
    var info: Int32 = 0
    sgelsd_(
      &rows, &columns, &count, a, &leadingA, b, &leadingB, s, &condition, rank, work, &size,
      iwork, &info)
    return _Fortran.info(info)
  }

  public static func lapackGesdd(
    job: UInt8, _ m: Int, _ n: Int, _ a: UnsafeMutablePointer<Float>, _ lda: Int,
    _ s: UnsafeMutablePointer<Float>, _ u: UnsafeMutablePointer<Float>, _ ldu: Int,
    _ vt: UnsafeMutablePointer<Float>, _ ldvt: Int,
    _ work: UnsafeMutablePointer<Float>, _ lwork: Int, _ iwork: UnsafeMutablePointer<Int32>
  ) -> Int {
    var jobz = CChar(bitPattern: job)
    var (rows, columns, leadingA) = (Int32(m), Int32(n), Int32(lda))
    var (leadingU, leadingVT, size) = (Int32(ldu), Int32(ldvt), Int32(lwork))
    var info: Int32 = 0
    sgesdd_(
      &jobz, &rows, &columns, a, &leadingA, s, u, &leadingU, vt, &leadingVT, work, &size, iwork,
      &info, 1)
    return _Fortran.info(info)
  }
}
