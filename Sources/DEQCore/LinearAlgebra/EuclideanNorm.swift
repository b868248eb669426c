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
      // The concrete loop: called from unspecialised generic code (a solver over `any`
      // vector space), generic SIMD arithmetic would go through witness tables.
      let sum = sumOfSquares(UnsafeRawPointer(x).assumingMemoryBound(to: Double.self), count: count)
      if sum.isFinite && sum >= 0x1p-900 { return Scalar(sum.squareRoot()) }
    }
    return Scalar.blasNrm2(count, x, 1)
  }

  /// `Σ xᵢ²`, eight lanes at a time within blocks of 512 scalars, in `Double` across blocks.
  @inlinable
  static func sumOfSquares(_ x: UnsafePointer<Double>, count: Int) -> Double {
    let raw = UnsafeRawPointer(x)
    var total = 0.0
    var i = 0
    while i + 8 <= count {
      let end = Swift.min(count - (count - i) % 8, i + 512)
      var lanes = SIMD8<Double>()
      while i < end {
        let v = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
        lanes += v * v
        i += 8
      }
      total += lanes.sum()
    }
    while i < count {
      total += x[i] * x[i]
      i += 1
    }
    return total
  }
}
