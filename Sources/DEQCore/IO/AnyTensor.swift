/// A tensor read from a file, in the precision the file stores it in.
///
/// Files say their element type only at run time, so the readers that accept either precision
/// (``NPY/readAny(contentsOf:)``, ``SafeTensorsFile``) return this enum. Converting between
/// precisions is always explicit:
///
/// ```swift
/// let weights = try NPY.readAny(contentsOf: url).converted(to: Double.self)
/// ```
public enum AnyTensor: Sendable, Equatable {
  /// A tensor of 32-bit floats (NumPy `<f4`, safetensors `F32`).
  case float(Tensor<Float>)
  /// A tensor of 64-bit floats (NumPy `<f8`, safetensors `F64`).
  case double(Tensor<Double>)

  /// Wraps a tensor of either precision.
  ///
  /// `Float` and `Double` tensors are stored as they are. A tensor of any other ``DEQScalar``
  /// conformance (the library itself has none) is widened to `Double`.
  @inlinable
  public init<Scalar: DEQScalar>(_ tensor: Tensor<Scalar>) {
    if let float = tensor as? Tensor<Float> {
      self = .float(float)
    } else if let double = tensor as? Tensor<Double> {
      self = .double(double)
    } else {
      self = .double(tensor.converted(to: Double.self))
    }
  }

  /// The extent of each axis.
  @inlinable
  public var shape: [Int] {
    switch self {
    case .float(let tensor): tensor.shape
    case .double(let tensor): tensor.shape
    }
  }

  /// The number of elements.
  @inlinable
  public var count: Int {
    switch self {
    case .float(let tensor): tensor.count
    case .double(let tensor): tensor.count
    }
  }

  /// The NumPy type descriptor of the elements (`"<f4"` or `"<f8"`).
  @inlinable
  public var numpyDescriptor: String {
    switch self {
    case .float: Float.numpyDescriptor
    case .double: Double.numpyDescriptor
    }
  }

  /// The safetensors dtype of the elements (`"F32"` or `"F64"`).
  @inlinable
  public var safetensorsDType: String {
    switch self {
    case .float: Float.safetensorsDType
    case .double: Double.safetensorsDType
    }
  }

  /// The tensor, if it is stored in precision `Scalar`; otherwise `nil`.
  ///
  /// - Parameter type: The precision wanted, `Float.self` or `Double.self`.
  /// - Returns: The stored tensor without conversion, or `nil` for the other precision.
  @inlinable
  public func tensor<Scalar: DEQScalar>(as type: Scalar.Type = Scalar.self) -> Tensor<Scalar>? {
    switch self {
    case .float(let tensor): tensor as? Tensor<Scalar>
    case .double(let tensor): tensor as? Tensor<Scalar>
    }
  }

  /// The tensor in precision `Scalar`, converting the elements if they are stored in the other
  /// precision (rounding to nearest when narrowing `Double` to `Float`).
  ///
  /// - Parameter type: The precision wanted, `Float.self` or `Double.self`.
  /// - Returns: The stored tensor, converted if needed.
  /// - Complexity: O(`count`) time and memory when converting; no copy otherwise.
  @inlinable
  public func converted<Scalar: DEQScalar>(to type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
    switch self {
    case .float(let tensor): tensor as? Tensor<Scalar> ?? tensor.converted(to: Scalar.self)
    case .double(let tensor): tensor as? Tensor<Scalar> ?? tensor.converted(to: Scalar.self)
    }
  }
}
