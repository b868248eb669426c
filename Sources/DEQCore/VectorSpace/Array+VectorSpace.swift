extension Array: VectorSpace where Element: DEQScalar {
  public typealias Scalar = Element

  /// An array of zeros with the same count.
  @inlinable
  public func zeroed() -> [Element] { [Element](repeating: 0, count: count) }
}

// The standard library's typed-throws `withUnsafeBufferPointer` and
// `withUnsafeMutableBufferPointer` satisfy the requirements as they are.
extension Array: ContiguousVectorSpace where Element: DEQScalar {}
