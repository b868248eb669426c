// The Euclidean norm of a contiguous vector, and the sum of squares behind it, shared by the
// vector spaces, the solvers' histories and their fused passes. Underscored: an
// implementation detail of the package's modules, not API.

/// `‖x‖₂` of `count` contiguous scalars.
///
/// In double precision, the square root of a ``_SquareSum`` (error about 70 ε relative):
/// OpenBLAS's `dnrm2` on x86-64 is a scalar x87 loop, several times slower. BLAS's
/// overflow- and underflow-safe `nrm2` when that sum is not finite or so small that squares
/// may have underflowed, and always in single precision.
///
/// Specialised for both precisions: called from unspecialised generic code (a solver over
/// `any` vector space), the generic SIMD arithmetic would otherwise go through witness
/// tables, scalar by scalar.
public enum _EuclideanNorm {
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public static func of<Scalar: DEQScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Scalar {
    guard Scalar.self == Double.self else { return Scalar.blasNrm2(count, x, 1) }
    let raw = UnsafeRawPointer(x)
    let stride = MemoryLayout<Scalar>.stride
    var sum = _SquareSum<Scalar>()
    var i = 0
    while i + 8 <= count {
      sum.add(raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Scalar>.self))
      i += 8
    }
    while i < count {
      sum.add(x[i])
      i += 1
    }
    return sum.norm { Scalar.blasNrm2(count, x, 1) }
  }
}

/// A sum of squares taken eight lanes at a time: `Float` squares are summed exactly in
/// `Double` (no overflow or underflow is possible), `Double` squares in blocks of 64 vectors
/// (512 scalars) in `Double` lanes, each block's lanes added to the total, then the scalars
/// added one by one after the vectors.
public struct _SquareSum<Scalar: DEQScalar> {
  @usableFromInline var lanes = SIMD8<Scalar>()
  @usableFromInline var wide = SIMD4<Double>()
  @usableFromInline var blocks = 0
  @usableFromInline var total = 0.0

  @inlinable public init() {}

  @inlinable @inline(__always)
  public mutating func add(_ v: SIMD8<Scalar>) {
    if Scalar.self == Float.self {
      let (low, high) = _Widened.pair(v)
      wide += low * low
      wide += high * high
    } else {
      lanes += v * v
      blocks += 1
      if blocks == 64 { flush() }
    }
  }

  @inlinable @inline(__always)
  public mutating func add(_ x: Scalar) {
    if blocks > 0 { flush() }
    total += Double(x) * Double(x)
  }

  @inlinable @inline(__always)
  mutating func flush() {
    total += Double(lanes.sum())
    lanes = SIMD8<Scalar>()
    blocks = 0
  }

  /// `‖x‖₂` from the sum of `x`'s squares, or `exact()` (BLAS's scaled `nrm2` of `x`) when
  /// a `Double` sum overflowed or may have underflowed.
  @inlinable
  public func norm(exact: () -> Scalar) -> Scalar {
    if Scalar.self == Float.self {
      return Scalar((total + wide.sum()).squareRoot())
    }
    let sum = total + Double(lanes.sum())
    return sum.isFinite && sum >= 0x1p-900 ? Scalar(sum.squareRoot()) : exact()
  }
}

/// Eight scalars as two `Double` vectors (exact: a `Float` widens exactly), for sums that
/// accumulate in `Double` eight lanes at a time.
public enum _Widened {
  @inlinable @inline(__always)
  public static func pair<Scalar: DEQScalar>(_ v: SIMD8<Scalar>) -> (SIMD4<Double>, SIMD4<Double>) {
    if Scalar.self == Float.self {
      let f = unsafeBitCast(v, to: SIMD8<Float>.self)
      return (SIMD4<Double>(f.lowHalf), SIMD4<Double>(f.highHalf))
    }
    let d = unsafeBitCast(v, to: SIMD8<Double>.self)
    return (d.lowHalf, d.highHalf)
  }
}
