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
  /// `out ← (x − out) + y`, in place.
  static func subtract(from x: Vector, thenAdd y: Vector, into out: inout Vector)
}

// MARK: - Contiguous storage (BLAS)

@usableFromInline
struct _ContiguousKernel<V: ContiguousVectorSpace>: _VectorKernel {
  @usableFromInline typealias Vector = V
  @usableFromInline var storage: [V.Scalar]
  @usableFromInline let n: Int
  @usableFromInline let capacity: Int

  @inlinable
  init(capacity: Int, like: V) {
    self.n = like.scalarCount
    self.capacity = capacity
    // Not zeroed: every row is written (`setRow`) before a product reads it (products and
    // accumulations take the first `count` rows, all written), so the pages of the history
    // are touched row by row as it grows instead of all at once by a memset (48 MB for
    // Broyden-15's four RoIs at the IFR head's paper size: 31 ms before the first step).
    let size = Swift.max(1, capacity * n)
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
        (d + i * n).update(from: s, count: n)
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
          let base = i * n
          for j in 0..<n { dst[base + j] = pa[j] - pb[j] }
        }
      }
    }
  }

  @inlinable
  func rowNorm(_ i: Int) -> V.Scalar {
    storage.withUnsafeBufferPointer { p in
      guard let base = p.baseAddress, n > 0 else { return 0 }
      return _EuclideanNorm.of(base + i * n, count: n)
    }
  }

  @inlinable
  func products(_ count: Int, with x: V, into out: UnsafeMutablePointer<V.Scalar>) {
    guard count > 0 else { return }
    let n = self.n
    x.withUnsafeBufferPointer { px in
      storage.withUnsafeBufferPointer { ph in
        guard let xb = px.baseAddress, let hb = ph.baseAddress else { return }
        V.Scalar.blasGemv(transpose: false, count, n, 1, hb, n, xb, 1, 0, out, 1)
      }
    }
  }

  @inlinable
  func products(_ count: Int, withRow j: Int, into out: UnsafeMutablePointer<V.Scalar>) {
    guard count > 0 else { return }
    let n = self.n
    storage.withUnsafeBufferPointer { ph in
      guard let hb = ph.baseAddress else { return }
      V.Scalar.blasGemv(transpose: false, count, n, 1, hb, n, hb + j * n, 1, 0, out, 1)
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
        V.Scalar.blasGemv(transpose: true, count, n, alpha, hb, n, c, 1, 1, yb, 1)
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
  static func subtract(from x: V, thenAdd y: V, into out: inout V) {
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        out.withUnsafeMutableBufferPointer { po in
          precondition(
            px.count == po.count && py.count == po.count, "VectorSpace operands differ in size")
          for j in 0..<po.count { po[j] = (px[j] - po[j]) + py[j] }
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

  @inlinable
  static func subtract(from x: V, thenAdd y: V, into out: inout V) {
    out = x.subtracting(out).adding(y)
  }
}
