// Whether a contiguous vector is finite, shared by the vector spaces. Underscored: an
// implementation detail of the package's modules, not API.

/// `Σ (xᵢ − xᵢ)`, eight lanes at a time, is 0 exactly when no scalar is infinite or NaN (a
/// loop that returns at the first non-finite scalar does not vectorise).
///
/// Specialised for both precisions: called from unspecialised generic code (a solver over
/// `any` vector space), the generic SIMD arithmetic would otherwise go through witness
/// tables, scalar by scalar.
public enum _FiniteScan {
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public static func all<Scalar: DEQScalar>(_ x: UnsafePointer<Scalar>, count: Int) -> Bool {
    let raw = UnsafeRawPointer(x)
    let stride = MemoryLayout<Scalar>.stride
    var lanes = SIMD8<Scalar>()
    var i = 0
    while i + 8 <= count {
      let v = raw.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<Scalar>.self)
      lanes += v - v
      i += 8
    }
    var sum = lanes.sum()
    while i < count {
      sum += x[i] - x[i]
      i += 1
    }
    return sum == 0
  }
}
