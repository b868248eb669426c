// The vector and history operations the solvers are written against, with two
// implementations chosen at compile time by the `solve` overloads:
//
// - `_ContiguousKernel` for `ContiguousVectorSpace` iterates: the history is one row-major
//   `rows × n` buffer allocated once, all products with it are one BLAS `gemv`, and every
//   vector update writes into an existing buffer (no allocation after the first iteration).
// - `_GenericKernel` for any other `VectorSpace`: the history is an array of values and the
//   products are `rows` inner products; copies may allocate (copy-on-write).
//
// Goals in priority order: the same arithmetic on both paths (up to summation order inside
// BLAS), no allocation on the contiguous path, speed.

/// A history of up to `capacity` vectors (rows) and the vector operations solvers need.
@usableFromInline
protocol _VectorKernel {
  associatedtype Vector: VectorSpace
  typealias Scalar = Vector.Scalar

  /// A history with room for `capacity` rows shaped like `like`.
  init(capacity: Int, like: Vector)

  /// `row[i] ← v`.
  mutating func setRow(_ i: Int, to v: Vector)
  /// `row[i] ← a − b`.
  mutating func setRow(_ i: Int, difference a: Vector, minus b: Vector)
  /// `‖row[i]‖₂`.
  func rowNorm(_ i: Int) -> Scalar
  /// `out[i] ← ⟨row[i], x⟩` for `i < count`.
  func products(_ count: Int, with x: Vector, into out: UnsafeMutablePointer<Scalar>)
  /// `out[i] ← ⟨row[i], row[j]⟩` for `i < count`.
  func products(_ count: Int, withRow j: Int, into out: UnsafeMutablePointer<Scalar>)
  /// `y ← y + alpha · Σ_{i<count} c[i] · row[i]`.
  func accumulate(
    _ count: Int, coefficients c: UnsafePointer<Scalar>, scale alpha: Scalar, into y: inout Vector)

  /// `dst ← src` (same shape).
  static func copy(_ src: Vector, into dst: inout Vector)
  /// `out ← a − b`.
  static func difference(_ a: Vector, _ b: Vector, into out: inout Vector)
  /// `out ← a − out`, in place (passing `out` also as an operand would copy it).
  static func subtract(from a: Vector, into out: inout Vector)
  /// `out ← x + s · y`.
  static func combine(_ x: Vector, _ s: Scalar, _ y: Vector, into out: inout Vector)
  /// `out ← −x`.
  static func negate(_ x: Vector, into out: inout Vector)

  // Fused operations: each is the composition its default implementation spells out, in one
  // pass over the vectors on the contiguous path (`_FusedPasses`).

  /// `g ← f − z`; returns `(‖g‖, ‖f‖)`.
  static func residual(of f: Vector, at z: Vector, into g: inout Vector) -> (Scalar, Scalar)
  /// `x ← z − x` and `gx ← gz − gx`; returns `‖gx‖`.
  static func differences(_ z: Vector, into x: inout Vector, _ gz: Vector, into gx: inout Vector)
    -> Scalar
  /// `out[i] ← ⟨row[i], x⟩` for `i < count`, and `y ← b + alpha · Σ_{i<count} c[i] · row[i]`.
  func products(
    _ count: Int, with x: Vector, into out: UnsafeMutablePointer<Scalar>,
    combining c: UnsafePointer<Scalar>, scale alpha: Scalar, base b: Vector, into y: inout Vector)
  /// `row[i] ← v` and `out ← (x − out) + y`; returns `(⟨v, a⟩, ⟨v, b⟩)`.
  mutating func setRow(
    _ i: Int, to v: Vector, subtractingFrom x: Vector, thenAdding y: Vector,
    into out: inout Vector, dotting a: Vector, _ b: Vector
  ) -> (Scalar, Scalar)
  /// `row[i] ← n · scale`, `w ← w + c · row[i]` and `p ← base + 1 · w`; returns `‖w‖` and
  /// whether `row[i]` is finite.
  mutating func setRow(
    _ i: Int, to n: Vector, scaledBy scale: Scalar, adding c: Scalar, into w: inout Vector,
    base: Vector, point p: inout Vector
  ) -> (Scalar, Bool)
}

extension _VectorKernel {
  @inlinable
  static func residual(of f: Vector, at z: Vector, into g: inout Vector) -> (Scalar, Scalar) {
    difference(f, z, into: &g)
    return (g.norm(), f.norm())
  }

  @inlinable
  static func differences(_ z: Vector, into x: inout Vector, _ gz: Vector, into gx: inout Vector)
    -> Scalar
  {
    subtract(from: z, into: &x)
    subtract(from: gz, into: &gx)
    return gx.norm()
  }

  @inlinable
  func products(
    _ count: Int, with x: Vector, into out: UnsafeMutablePointer<Scalar>,
    combining c: UnsafePointer<Scalar>, scale alpha: Scalar, base b: Vector, into y: inout Vector
  ) {
    products(count, with: x, into: out)
    Self.copy(b, into: &y)
    accumulate(count, coefficients: c, scale: alpha, into: &y)
  }

  @inlinable
  mutating func setRow(
    _ i: Int, to v: Vector, subtractingFrom x: Vector, thenAdding y: Vector,
    into out: inout Vector, dotting a: Vector, _ b: Vector
  ) -> (Scalar, Scalar) {
    setRow(i, to: v)
    Self.subtract(from: x, into: &out)
    out.add(y, scaledBy: 1)
    return (v.dot(a), v.dot(b))
  }

  @inlinable
  mutating func setRow(
    _ i: Int, to n: Vector, scaledBy scale: Scalar, adding c: Scalar, into w: inout Vector,
    base: Vector, point p: inout Vector
  ) -> (Scalar, Bool) {
    var u = n
    u.scale(by: scale)
    setRow(i, to: u)
    w.add(u, scaledBy: c)
    Self.combine(base, 1, w, into: &p)
    return (w.norm(), u.isFinite)
  }
}

// MARK: - Contiguous storage (BLAS)

@usableFromInline
struct _ContiguousKernel<V: ContiguousVectorSpace>: _VectorKernel {
  @usableFromInline typealias Vector = V
  @usableFromInline var storage: [V.Scalar]
  @usableFromInline let n: Int
  /// Scalars from one row to the next (``_PaddedStride``: a GEMV reads several rows at once).
  @usableFromInline let rowStride: Int
  @usableFromInline let capacity: Int

  @inlinable
  init(capacity: Int, like: V) {
    let n = like.scalarCount
    self.n = n
    self.rowStride = capacity > 1 ? _PaddedStride.of(n, V.Scalar.self) : n
    self.capacity = capacity
    // Not zeroed: every row is written (`setRow`) before a product reads it (products and
    // accumulations take the first `count` rows, all written), so the pages of the history
    // are touched row by row as it grows instead of all at once by a memset (48 MB for
    // Broyden-15's four RoIs at the IFR head's paper size: 31 ms before the first step).
    let size = Swift.max(1, capacity * rowStride)
    self.storage = [V.Scalar](unsafeUninitializedCapacity: size) { _, initialized in
      initialized = size
    }
  }

  @inlinable
  mutating func setRow(_ i: Int, to v: V) {
    precondition(i >= 0 && i < capacity, "history row \(i) out of range")
    let n = self.n
    v.withUnsafeBufferPointer { src in
      storage.withUnsafeMutableBufferPointer { dst in
        guard let s = src.baseAddress, let d = dst.baseAddress else { return }
        (d + i * rowStride).update(from: s, count: n)
      }
    }
  }

  @inlinable
  mutating func setRow(_ i: Int, difference a: V, minus b: V) {
    let n = self.n
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        storage.withUnsafeMutableBufferPointer { dst in
          precondition(pa.count == n && pb.count == n, "VectorSpace operands differ in size")
          let base = i * rowStride
          for j in 0..<n { dst[base + j] = pa[j] - pb[j] }
        }
      }
    }
  }

  @inlinable
  func rowNorm(_ i: Int) -> V.Scalar {
    storage.withUnsafeBufferPointer { p in
      guard let base = p.baseAddress, n > 0 else { return 0 }
      return _EuclideanNorm.of(base + i * rowStride, count: n)
    }
  }

  @inlinable
  func products(_ count: Int, with x: V, into out: UnsafeMutablePointer<V.Scalar>) {
    guard count > 0 else { return }
    let n = self.n
    x.withUnsafeBufferPointer { px in
      storage.withUnsafeBufferPointer { ph in
        guard let xb = px.baseAddress, let hb = ph.baseAddress else { return }
        V.Scalar.blasGemv(transpose: false, count, n, 1, hb, rowStride, xb, 1, 0, out, 1)
      }
    }
  }

  @inlinable
  func products(_ count: Int, withRow j: Int, into out: UnsafeMutablePointer<V.Scalar>) {
    guard count > 0 else { return }
    let n = self.n
    storage.withUnsafeBufferPointer { ph in
      guard let hb = ph.baseAddress else { return }
      V.Scalar.blasGemv(
        transpose: false, count, n, 1, hb, rowStride, hb + j * rowStride, 1, 0, out, 1)
    }
  }

  @inlinable
  func accumulate(
    _ count: Int, coefficients c: UnsafePointer<V.Scalar>, scale alpha: V.Scalar,
    into y: inout V
  ) {
    guard count > 0 else { return }
    let n = self.n
    storage.withUnsafeBufferPointer { ph in
      y.withUnsafeMutableBufferPointer { py in
        guard let hb = ph.baseAddress, let yb = py.baseAddress else { return }
        V.Scalar.blasGemv(transpose: true, count, n, alpha, hb, rowStride, c, 1, 1, yb, 1)
      }
    }
  }

  @inlinable
  static func copy(_ src: V, into dst: inout V) { dst.assign(src) }

  @inlinable
  static func difference(_ a: V, _ b: V, into out: inout V) {
    out.assign(1, a, plus: -1, b)
  }

  @inlinable
  static func subtract(from a: V, into out: inout V) {
    a.withUnsafeBufferPointer { pa in
      out.withUnsafeMutableBufferPointer { po in
        precondition(pa.count == po.count, "VectorSpace operands differ in size")
        for j in 0..<po.count { po[j] = pa[j] - po[j] }
      }
    }
  }

  @inlinable
  static func combine(_ x: V, _ s: V.Scalar, _ y: V, into out: inout V) {
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        out.withUnsafeMutableBufferPointer { po in
          precondition(
            px.count == po.count && py.count == po.count, "VectorSpace operands differ in size")
          for j in 0..<po.count { po[j] = px[j] + s * py[j] }
        }
      }
    }
  }

  @inlinable
  static func negate(_ x: V, into out: inout V) {
    x.withUnsafeBufferPointer { px in
      out.withUnsafeMutableBufferPointer { po in
        precondition(px.count == po.count, "VectorSpace operands differ in size")
        for j in 0..<po.count { po[j] = -px[j] }
      }
    }
  }

  @inlinable
  static func residual(of f: V, at z: V, into g: inout V) -> (V.Scalar, V.Scalar) {
    f.withUnsafeBufferPointer { pf in
      z.withUnsafeBufferPointer { pz in
        g.withUnsafeMutableBufferPointer { pg in
          precondition(
            pf.count == pg.count && pz.count == pg.count, "VectorSpace operands differ in size")
          guard let f = pf.baseAddress, let z = pz.baseAddress, let g = pg.baseAddress else {
            return (0, 0)
          }
          return _FusedPasses.residual(f, z, into: g, count: pg.count)
        }
      }
    }
  }

  @inlinable
  static func differences(_ z: V, into x: inout V, _ gz: V, into gx: inout V) -> V.Scalar {
    z.withUnsafeBufferPointer { pz in
      gz.withUnsafeBufferPointer { pgz in
        x.withUnsafeMutableBufferPointer { px in
          gx.withUnsafeMutableBufferPointer { pgx in
            precondition(
              pz.count == px.count && pgz.count == px.count && pgx.count == px.count,
              "VectorSpace operands differ in size")
            guard let z = pz.baseAddress, let gz = pgz.baseAddress, let x = px.baseAddress,
              let gx = pgx.baseAddress
            else { return 0 }
            return _FusedPasses.differences(z, x, gz, gx, count: px.count)
          }
        }
      }
    }
  }

  /// Both products in column blocks of 4,096 (at most 15 × 16 KB of history in double per
  /// block, which the second product reads from cache): the history is read once.
  @inlinable
  func products(
    _ count: Int, with x: V, into out: UnsafeMutablePointer<V.Scalar>,
    combining c: UnsafePointer<V.Scalar>, scale alpha: V.Scalar, base b: V, into y: inout V
  ) {
    guard count > 0 else {
      Self.copy(b, into: &y)
      return
    }
    let n = self.n
    let ld = rowStride
    x.withUnsafeBufferPointer { px in
      b.withUnsafeBufferPointer { pb in
        y.withUnsafeMutableBufferPointer { py in
          storage.withUnsafeBufferPointer { ph in
            precondition(px.count == n && pb.count == n && py.count == n, "history size mismatch")
            guard let xb = px.baseAddress, let bb = pb.baseAddress, let yb = py.baseAddress,
              let hb = ph.baseAddress
            else { return }
            var start = 0
            while start < n {
              let width = Swift.min(4096, n - start)
              V.Scalar.blasGemv(
                transpose: false, count, width, 1, hb + start, ld, xb + start, 1,
                start == 0 ? 0 : 1, out, 1)
              (yb + start).update(from: bb + start, count: width)
              V.Scalar.blasGemv(
                transpose: true, count, width, alpha, hb + start, ld, c, 1, 1, yb + start, 1)
              start += width
            }
          }
        }
      }
    }
  }

  @inlinable
  mutating func setRow(
    _ i: Int, to v: V, subtractingFrom x: V, thenAdding y: V, into out: inout V,
    dotting a: V, _ b: V
  ) -> (V.Scalar, V.Scalar) {
    precondition(i >= 0 && i < capacity, "history row \(i) out of range")
    let n = self.n
    let offset = i * rowStride
    return v.withUnsafeBufferPointer { pv in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in
          a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
              out.withUnsafeMutableBufferPointer { po in
                storage.withUnsafeMutableBufferPointer { ph in
                  precondition(
                    pv.count == n && px.count == n && py.count == n && pa.count == n
                      && pb.count == n && po.count == n, "VectorSpace operands differ in size")
                  guard let v = pv.baseAddress, let x = px.baseAddress, let y = py.baseAddress,
                    let a = pa.baseAddress, let b = pb.baseAddress, let o = po.baseAddress,
                    let h = ph.baseAddress
                  else { return (0, 0) }
                  return _FusedPasses.numerator(
                    x, y, o, copying: v, to: h + offset, dotting: a, b, count: n)
                }
              }
            }
          }
        }
      }
    }
  }

  @inlinable
  mutating func setRow(
    _ i: Int, to n: V, scaledBy scale: V.Scalar, adding c: V.Scalar, into w: inout V,
    base: V, point p: inout V
  ) -> (V.Scalar, Bool) {
    precondition(i >= 0 && i < capacity, "history row \(i) out of range")
    let count = self.n
    let offset = i * rowStride
    return n.withUnsafeBufferPointer { pn in
      base.withUnsafeBufferPointer { pbase in
        w.withUnsafeMutableBufferPointer { pw in
          p.withUnsafeMutableBufferPointer { pp in
            storage.withUnsafeMutableBufferPointer { ph in
              precondition(
                pn.count == count && pbase.count == count && pw.count == count
                  && pp.count == count, "VectorSpace operands differ in size")
              guard let nb = pn.baseAddress, let bb = pbase.baseAddress, let wb = pw.baseAddress,
                let pb = pp.baseAddress, let h = ph.baseAddress
              else { return (0, true) }
              return _FusedPasses.direction(
                nb, scale: scale, into: h + offset, wb, coefficient: c, base: bb, point: pb,
                count: count)
            }
          }
        }
      }
    }
  }

}

// MARK: - Generic storage (any VectorSpace)

@usableFromInline
struct _GenericKernel<V: VectorSpace>: _VectorKernel {
  @usableFromInline typealias Vector = V
  @usableFromInline var rows: [V]

  @inlinable
  init(capacity: Int, like: V) {
    rows = [V](repeating: like.zeroed(), count: capacity)
  }

  @inlinable
  mutating func setRow(_ i: Int, to v: V) { rows[i] = v }

  @inlinable
  mutating func setRow(_ i: Int, difference a: V, minus b: V) { rows[i] = a.subtracting(b) }

  @inlinable
  func rowNorm(_ i: Int) -> V.Scalar { rows[i].norm() }

  @inlinable
  func products(_ count: Int, with x: V, into out: UnsafeMutablePointer<V.Scalar>) {
    for i in 0..<count { out[i] = rows[i].dot(x) }
  }

  @inlinable
  func products(_ count: Int, withRow j: Int, into out: UnsafeMutablePointer<V.Scalar>) {
    for i in 0..<count { out[i] = rows[i].dot(rows[j]) }
  }

  @inlinable
  func accumulate(
    _ count: Int, coefficients c: UnsafePointer<V.Scalar>, scale alpha: V.Scalar,
    into y: inout V
  ) {
    for i in 0..<count { y.add(rows[i], scaledBy: alpha * c[i]) }
  }

  @inlinable
  static func copy(_ src: V, into dst: inout V) { dst = src }

  @inlinable
  static func difference(_ a: V, _ b: V, into out: inout V) { out = a.subtracting(b) }

  @inlinable
  static func subtract(from a: V, into out: inout V) { out = a.subtracting(out) }

  @inlinable
  static func combine(_ x: V, _ s: V.Scalar, _ y: V, into out: inout V) {
    out = x.adding(y, scaledBy: s)
  }

  @inlinable
  static func negate(_ x: V, into out: inout V) { out = x.scaled(by: -1) }

}
