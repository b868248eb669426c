/// A tensor built from shapes or scalars that do not fit together.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A shape with a negative extent.
  case invalidShape([Int])
  /// `count` scalars do not fill `shape` (or the shape's element count overflows).
  case countMismatch(shape: [Int], count: Int)
  /// Two tensors that must share a shape do not.
  case shapeMismatch(expected: [Int], actual: [Int])
  /// An operation that needs at least one tensor or element got none.
  case empty

  public var description: String {
    switch self {
    case .invalidShape(let shape): "invalid shape \(shape): extents must be non-negative"
    case .countMismatch(let shape, let count):
      "\(count) elements do not fill shape \(shape)"
    case .shapeMismatch(let expected, let actual): "expected shape \(expected), got \(actual)"
    case .empty: "no tensors or elements were given"
    }
  }
}
