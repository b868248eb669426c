// The rectified linear unit max(x, 0), with PyTorch's derivative convention: the derivative
// at exactly x = 0 is 0.

/// The rectified linear unit, elementwise `y = max(x, 0)`.
///
/// ```
/// ẏ = 1[x > 0] · ẋ,   ∂x = 1[x > 0] · ∂y
/// ```
/// At `x = 0` the derivative is taken as 0, as in PyTorch.
public struct ReLU<Scalar: DEQScalar>: Sendable {
  /// Creates the (parameterless) layer.
  public init() {}

  /// `max(x, 0)` elementwise. A NaN input stays NaN.
  ///
  /// - Complexity: O(count).
  @inlinable
  public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = input
    output.withUnsafeMutableBufferPointer { y in
      for i in y.indices where y[i] < 0 { y[i] = 0 }
    }
    return output
  }

  /// The derivative at `input` in the direction `tangent`: `1[x > 0] · ẋ`.
  ///
  /// - Complexity: O(count).
  @inlinable
  public func jvp(at input: Tensor<Scalar>, tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(input.shape == tangent.shape, "ReLU tangent shape mismatch")
    var output = tangent
    input.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        for i in y.indices where !(x[i] > 0) { y[i] = 0 }
      }
    }
    return output
  }

  /// The input cotangent for an output cotangent: `1[x > 0] · ∂y` (ReLU is self-adjoint
  /// as a diagonal map).
  ///
  /// - Complexity: O(count).
  @inlinable
  public func vjp(at input: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> Tensor<Scalar> {
    jvp(at: input, tangent: cotangent)
  }

  /// Masks `values` in place where `reference` is not positive (one sample's kernel).
  @inlinable
  static func mask(
    _ values: UnsafeMutablePointer<Scalar>, where reference: UnsafePointer<Scalar>, count: Int
  ) {
    for i in 0..<count where !(reference[i] > 0) { values[i] = 0 }
  }
}
