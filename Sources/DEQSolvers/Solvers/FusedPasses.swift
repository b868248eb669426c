// Single passes over contiguous vectors for the solvers' steps: at n = 50,176 × 4 RoIs a
// Broyden step's vector operations are memory traffic, so what is read once should be used
// for everything that needs it (a difference and its norm, a combination and two dot
// products). The contiguous kernel (`_ContiguousKernel`) implements its fused operations
// with these loops; the generic kernel composes the same arithmetic from `VectorSpace`.
//
// Each element gets the same operations, in the same order, as the unfused code (so a
// difference, a combination or a scaled row is bit for bit what it was), with two
// exceptions: sums (norms, dot products) are taken in another order, eight lanes at a time,
// and `w + c·u` is a multiply and an add where BLAS's `axpy` may fuse them (the package
// builds for baseline x86-64, without FMA).
//
// Goals in priority order: the unfused results up to the summation order of sums; one pass;
// eight-lane arithmetic (the generic `SIMD8<Scalar>` arithmetic compiles to vector code).

/// The fused loops (`count` scalars behind each pointer; outputs may not alias inputs
/// unless stated).
@usableFromInline
enum _FusedPasses<Scalar: DEQScalar> {
  @usableFromInline typealias Lanes = SIMD8<Scalar>

  @inlinable @inline(__always)
  static func load(_ p: UnsafePointer<Scalar>, _ i: Int) -> Lanes {
    UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
  }

  @inlinable @inline(__always)
  static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Scalar>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: Lanes.self)
  }

  /// `g ← f − z`; returns `(‖g‖, ‖f‖)`.
  @inlinable
  static func residual(
    _ f: UnsafePointer<Scalar>, _ z: UnsafePointer<Scalar>, into g: UnsafeMutablePointer<Scalar>,
    count: Int
  ) -> (Scalar, Scalar) {
    var gs = _SquareSum<Scalar>()
    var fs = _SquareSum<Scalar>()
    var i = 0
    while i + 8 <= count {
      let fv = load(f, i)
      let d = fv - load(z, i)
      store(d, g, i)
      gs.add(d)
      fs.add(fv)
      i += 8
    }
    while i < count {
      let d = f[i] - z[i]
      g[i] = d
      gs.add(d)
      fs.add(f[i])
      i += 1
    }
    return (
      gs.norm { Scalar.blasNrm2(count, g, 1) }, fs.norm { Scalar.blasNrm2(count, f, 1) }
    )
  }

  /// `x ← z − x` and `gx ← gz − gx` (in place); returns `‖gx‖` after.
  @inlinable
  static func differences(
    _ z: UnsafePointer<Scalar>, _ x: UnsafeMutablePointer<Scalar>,
    _ gz: UnsafePointer<Scalar>, _ gx: UnsafeMutablePointer<Scalar>, count: Int
  ) -> Scalar {
    var s = _SquareSum<Scalar>()
    var i = 0
    while i + 8 <= count {
      store(load(z, i) - load(x, i), x, i)
      let d = load(gz, i) - load(gx, i)
      store(d, gx, i)
      s.add(d)
      i += 8
    }
    while i < count {
      x[i] = z[i] - x[i]
      let d = gz[i] - gx[i]
      gx[i] = d
      s.add(d)
      i += 1
    }
    return s.norm { Scalar.blasNrm2(count, gx, 1) }
  }

  /// `out ← (x − out) + y` (in place) and `v` copied to `copy`; returns `(⟨v, a⟩, ⟨v, b⟩)`.
  @inlinable
  static func numerator(
    _ x: UnsafePointer<Scalar>, _ y: UnsafePointer<Scalar>, _ out: UnsafeMutablePointer<Scalar>,
    copying v: UnsafePointer<Scalar>, to copy: UnsafeMutablePointer<Scalar>,
    dotting a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, count: Int
  ) -> (Scalar, Scalar) {
    var da = Lanes()
    var db = Lanes()
    var i = 0
    while i + 8 <= count {
      store((load(x, i) - load(out, i)) + load(y, i), out, i)
      let vv = load(v, i)
      store(vv, copy, i)
      da += vv * load(a, i)
      db += vv * load(b, i)
      i += 8
    }
    var sa = da.sum()
    var sb = db.sum()
    while i < count {
      out[i] = (x[i] - out[i]) + y[i]
      copy[i] = v[i]
      sa += v[i] * a[i]
      sb += v[i] * b[i]
      i += 1
    }
    return (sa, sb)
  }

  /// `u ← n · scale`, `w ← w + c · u` (in place), `p ← base + 1 · w`; returns `‖w‖` and
  /// whether `u` is finite.
  @inlinable
  static func direction(
    _ n: UnsafePointer<Scalar>, scale: Scalar, into u: UnsafeMutablePointer<Scalar>,
    _ w: UnsafeMutablePointer<Scalar>, coefficient c: Scalar, base: UnsafePointer<Scalar>,
    point p: UnsafeMutablePointer<Scalar>, count: Int
  ) -> (Scalar, Bool) {
    var s = _SquareSum<Scalar>()
    var finite = Lanes()
    let one: Scalar = 1
    var i = 0
    while i + 8 <= count {
      let uv = load(n, i) * scale
      store(uv, u, i)
      finite += uv - uv
      let wv = load(w, i) + c * uv
      store(wv, w, i)
      store(load(base, i) + one * wv, p, i)
      s.add(wv)
      i += 8
    }
    var check = finite.sum()
    while i < count {
      let uv = n[i] * scale
      u[i] = uv
      check += uv - uv
      let wv = w[i] + c * uv
      w[i] = wv
      p[i] = base[i] + one * wv
      s.add(wv)
      i += 1
    }
    return (s.norm { Scalar.blasNrm2(count, UnsafePointer(w), 1) }, check == 0)
  }
}
