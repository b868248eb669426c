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
        guard let values = y.baseAddress, let reference = x.baseAddress else { return }
        Self.mask(values, where: reference, count: y.count)
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
    select(values, where: UnsafeRawPointer(reference), count: count)
  }

  /// `values[i] = reference[i] > 0 ? values[i] : 0`, eight lanes at a time: as a scalar
  /// loop the compiler turns the select into a conditional store and does not vectorise it,
  /// and generic SIMD comparisons run lane by lane, so each precision has its own loop.
  @inlinable @inline(__always)
  static func select(
    _ values: UnsafeMutablePointer<Scalar>, where reference: UnsafeRawPointer, count: Int
  ) {
    let target = UnsafeMutableRawPointer(values)
    let done: Int
    if Scalar.self == Double.self {
      done = _selectPositive(target, where: reference, count: count, as: SIMD8<Double>.self)
    } else if Scalar.self == Float.self {
      done = _selectPositive(target, where: reference, count: count, as: SIMD8<Float>.self)
    } else {
      done = 0
    }
    let tail = reference.assumingMemoryBound(to: Scalar.self)
    for i in done..<count where !(tail[i] > 0) { values[i] = 0 }
  }
}

/// `values[i] = reference[i] > 0 ? values[i] : 0` for the whole `SIMD8<Double>`s in `count`
/// scalars; returns how many scalars it did. (Concrete, as only concrete SIMD types compare
/// lanes in one instruction.)
@inlinable
func _selectPositive(
  _ values: UnsafeMutableRawPointer, where reference: UnsafeRawPointer, count: Int,
  as _: SIMD8<Double>.Type
) -> Int {
  var i = 0
  while i + 8 <= count {
    let offset = i * 8
    let v = values.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self)
    let r = reference.loadUnaligned(fromByteOffset: offset, as: SIMD8<Double>.self)
    values.storeBytes(
      of: v.replacing(with: 0, where: .!(r .> 0)), toByteOffset: offset, as: SIMD8<Double>.self)
    i += 8
  }
  return i
}

/// The `Float` variant of the function above.
@inlinable
func _selectPositive(
  _ values: UnsafeMutableRawPointer, where reference: UnsafeRawPointer, count: Int,
  as _: SIMD8<Float>.Type
) -> Int {
  var i = 0
  while i + 8 <= count {
    let offset = i * 4
    let v = values.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
    let r = reference.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
    values.storeBytes(
      of: v.replacing(with: 0, where: .!(r .> 0)), toByteOffset: offset, as: SIMD8<Float>.self)
    i += 8
  }
  return i
}
