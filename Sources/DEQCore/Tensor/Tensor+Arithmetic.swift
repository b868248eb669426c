extension Tensor {
  /// Elementwise sum of two tensors of the same shape.
  @inlinable
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) vs \(rhs.shape)")
    return lhs.adding(rhs)
  }

  /// Elementwise difference of two tensors of the same shape.
  @inlinable
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) vs \(rhs.shape)")
    return lhs.subtracting(rhs)
  }

  /// A tensor scaled by a scalar.
  @inlinable
  public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.scaled(by: lhs) }

  /// Adds a tensor of the same shape in place.
  @inlinable
  public static func += (lhs: inout Tensor, rhs: Tensor) {
    precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) vs \(rhs.shape)")
    lhs.add(rhs)
  }

  /// Subtracts a tensor of the same shape in place.
  @inlinable
  public static func -= (lhs: inout Tensor, rhs: Tensor) {
    precondition(lhs.shape == rhs.shape, "shape mismatch \(lhs.shape) vs \(rhs.shape)")
    lhs.subtract(rhs)
  }
}
