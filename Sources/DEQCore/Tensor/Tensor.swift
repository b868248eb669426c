/// A dense, row-major (C-order) array of scalars with a shape.
///
/// `Tensor` is a value type: copies share storage until one of them is mutated
/// (copy-on-write, inherited from `Array`). Activations are laid out NCHW and
/// convolution weights OIHW, as in PyTorch, so a tensor saved by NumPy or PyTorch in C
/// order loads element for element.
///
/// ```swift
/// var x = Tensor<Double>(zeros: [2, 8, 6, 6])    // N × C × H × W
/// x[0, 3, 1, 2] = 1
/// let roi = x.sample(0)                            // shape [8, 6, 6], a copy
/// ```
public struct Tensor<Scalar: DEQScalar>: Sendable {
  @usableFromInline internal var _shape: [Int]
  @usableFromInline internal var _scalars: [Scalar]

  /// The extent of each axis. An empty shape is a scalar (one element).
  @inlinable public var shape: [Int] { _shape }
  /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
  @inlinable public var scalars: [Scalar] { _scalars }

  /// Creates a tensor of the given shape filled with `value`.
  ///
  /// - Precondition: every extent is non-negative (a programmer error otherwise;
  ///   shapes that come from users or files go through ``init(shape:scalars:)``).
  @inlinable
  public init(shape: [Int], repeating value: Scalar) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    self._shape = shape
    self._scalars = [Scalar](repeating: value, count: shape.reduce(1, *))
  }

  /// Creates a tensor of zeros.
  @inlinable
  public init(zeros shape: [Int]) { self.init(shape: shape, repeating: 0) }

  /// Creates a tensor from row-major scalars.
  ///
  /// - Throws: ``TensorError/invalidShape(_:)`` for a negative extent,
  ///   ``TensorError/countMismatch(shape:count:)`` when `scalars` does not fill `shape`.
  @inlinable
  public init(shape: [Int], scalars: [Scalar]) throws(TensorError) {
    guard shape.allSatisfy({ $0 >= 0 }) else { throw .invalidShape(shape) }
    let (count, overflow) = shape.reduce((1, false)) { acc, d in
      let (p, o) = acc.0.multipliedReportingOverflow(by: d)
      return (p, acc.1 || o)
    }
    guard !overflow, count == scalars.count else {
      throw .countMismatch(shape: shape, count: scalars.count)
    }
    self._shape = shape
    self._scalars = scalars
  }

  /// Creates a tensor of `shape` whose scalars `initializer` writes, every one of them, into
  /// uninitialised memory (no zero fill first, as `Array(unsafeUninitializedCapacity:
  /// initializingWith:)`).
  ///
  /// - Precondition: every extent is non-negative.
  @inlinable
  public init(
    shape: [Int],
    unsafeUninitializedScalars initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void
  ) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    let count = shape.reduce(1, *)
    self._shape = shape
    self._scalars = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
      initializer(buffer)
      initialized = count
    }
  }

  /// Creates a rank-1 tensor from scalars.
  @inlinable
  public init(_ scalars: [Scalar]) {
    self._shape = [scalars.count]
    self._scalars = scalars
  }

  /// Creates a tensor of the given shape whose element at each flat (row-major)
  /// index is `generator(index)`.
  @inlinable
  public init(shape: [Int], generator: (Int) -> Scalar) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    self._shape = shape
    self._scalars = (0..<shape.reduce(1, *)).map(generator)
  }

  /// The number of axes.
  @inlinable public var rank: Int { shape.count }

  /// The number of elements.
  @inlinable public var count: Int { scalars.count }

  /// The row-major strides, in elements.
  @inlinable
  public var strides: [Int] {
    var result = [Int](repeating: 1, count: shape.count)
    var stride = 1
    for axis in shape.indices.reversed() {
      result[axis] = stride
      stride *= shape[axis]
    }
    return result
  }

  @inlinable
  func flatIndex(_ indices: [Int]) -> Int {
    precondition(indices.count == shape.count, "expected \(shape.count) indices")
    var flat = 0
    for (axis, index) in indices.enumerated() {
      precondition(index >= 0 && index < shape[axis], "index \(index) out of range on axis \(axis)")
      flat = flat * shape[axis] + index
    }
    return flat
  }

  /// The element at the given multi-index.
  @inlinable
  public subscript(indices: Int...) -> Scalar {
    get { scalars[flatIndex(indices)] }
    set { _scalars[flatIndex(indices)] = newValue }
  }

  /// The element at a flat row-major index.
  @inlinable
  public subscript(flat index: Int) -> Scalar {
    get { scalars[index] }
    set { _scalars[index] = newValue }
  }

  /// The same elements under another shape with the same element count.
  ///
  /// - Throws: ``TensorError/countMismatch(shape:count:)`` when the counts differ.
  @inlinable
  public func reshaped(to newShape: [Int]) throws(TensorError) -> Tensor {
    try Tensor(shape: newShape, scalars: scalars)
  }

  /// The elements of one sample of a batch: the axis-0 slice `index`, of shape
  /// `shape.dropFirst()`, as a new tensor.
  ///
  /// - Complexity: O(count / shape[0]) copies.
  @inlinable
  public func sample(_ index: Int) -> Tensor {
    precondition(rank >= 1 && index >= 0 && index < shape[0], "sample \(index) out of range")
    let size = count / Swift.max(shape[0], 1)
    return Tensor(
      uncheckedShape: Array(shape.dropFirst()),
      scalars: Array(scalars[(index * size)..<((index + 1) * size)]))
  }

  /// Calls `body` with the elements of one sample of a batch, without copying.
  @inlinable
  public func withSample<R, E: Error>(
    _ index: Int, _ body: (UnsafeBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    precondition(rank >= 1 && index >= 0 && index < shape[0], "sample \(index) out of range")
    let size = count / Swift.max(shape[0], 1)
    return try scalars.withUnsafeBufferPointer { (all) throws(E) -> R in
      try body(UnsafeBufferPointer(rebasing: all[(index * size)..<((index + 1) * size)]))
    }
  }

  /// Replaces sample `index` of a batch with `sample`, whose shape is `shape.dropFirst()`.
  @inlinable
  public mutating func setSample(_ index: Int, to sample: Tensor) {
    precondition(rank >= 1 && index >= 0 && index < shape[0], "sample \(index) out of range")
    precondition(Array(shape.dropFirst()) == sample.shape, "sample shape mismatch")
    let size = sample.count
    _scalars.replaceSubrange((index * size)..<((index + 1) * size), with: sample.scalars)
  }

  /// Stacks tensors of one shape along a new leading axis.
  ///
  /// - Throws: ``TensorError/shapeMismatch(expected:actual:)`` when the shapes differ.
  public static func stacking(_ samples: [Tensor]) throws(TensorError) -> Tensor {
    guard let first = samples.first else { throw .empty }
    var scalars = [Scalar]()
    scalars.reserveCapacity(first.count * samples.count)
    for sample in samples {
      guard sample.shape == first.shape else {
        throw .shapeMismatch(expected: first.shape, actual: sample.shape)
      }
      scalars += sample.scalars
    }
    return Tensor(uncheckedShape: [samples.count] + first.shape, scalars: scalars)
  }

  @inlinable
  init(uncheckedShape shape: [Int], scalars: [Scalar]) {
    self._shape = shape
    self._scalars = scalars
  }

  /// Converts the elements to another precision.
  @inlinable
  public func converted<Other: DEQScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
    Tensor<Other>(uncheckedShape: shape, scalars: scalars.map { Other($0) })
  }

  /// Calls `body` with the elements.
  @inlinable
  public func withUnsafeBufferPointer<R, E: Error>(
    _ body: (UnsafeBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    try scalars.withUnsafeBufferPointer(body)
  }

  /// Calls `body` with the elements, which it may change (not their number).
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws(E) -> R
  ) throws(E) -> R {
    try _scalars.withUnsafeMutableBufferPointer(body)
  }
}

extension Tensor: Equatable {}

extension Tensor: CustomStringConvertible {
  /// The shape and the first few elements.
  public var description: String {
    let head = scalars.prefix(6).map { "\($0)" }.joined(separator: ", ")
    return "Tensor<\(Scalar.self)>(shape: \(shape), [\(head)\(count > 6 ? ", …" : "")])"
  }
}
