// The Euclidean norm of a contiguous vector, shared by the vector spaces and the solvers'
// histories. Underscored: an implementation detail of the package's modules, not API.

/// `‖x‖₂` of `count` contiguous scalars.
///
/// In double precision, the square root of a sum of squares taken eight lanes at a time in
/// blocks of 512 and in `Double` across blocks (error about 70 ε relative): OpenBLAS's
/// `dnrm2` on x86-64 is a scalar x87 loop, several times slower. BLAS's overflow- and
/// underflow-safe `nrm2` when that sum is not finite or so small that squares may have
/// underflowed, and always in single precision.
public enum _EuclideanNorm {
  @inlinable
  public static func of<Scalar: DEQScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Scalar {
    if Scalar.self == Double.self {
      let sum = sumOfSquares(x, count: count)
      if sum.isFinite && sum >= 0x1p-900 { return Scalar(sum.squareRoot()) }
    }
    return Scalar.blasNrm2(count, x, 1)
  }

  /// `Σ xᵢ²`, eight lanes at a time within blocks of 512 scalars, in `Double` across blocks.
  @inlinable
  static func sumOfSquares<Scalar: DEQScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Double {
    let raw = UnsafeRawPointer(x)
    let stride = MemoryLayout<Scalar>.stride
    var total = 0.0
    var i = 0
    while i + 8 <= count {
      let end = Swift.min(count - (count - i) % 8, i + 512)
      var lanes = SIMD8<Scalar>()
      while i < end {
        let v = raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Scalar>.self)
        lanes += v * v
        i += 8
      }
      total += Double(lanes.sum())
    }
    while i < count {
      total += Double(x[i]) * Double(x[i])
      i += 1
    }
    return total
  }
}
