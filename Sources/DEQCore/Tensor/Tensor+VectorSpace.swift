extension Tensor: VectorSpace {
  /// A tensor of zeros with the same shape.
  @inlinable
  public func zeroed() -> Tensor { Tensor(zeros: shape) }
}

extension Tensor: ContiguousVectorSpace {}
