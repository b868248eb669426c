// Per-RoI conveniences on IFRBlockWorkspace taking and returning `Tensor`s of shape
// [C, H, W] (one RoI): the form a per-RoI fixed-point solver works with.

extension IFRBlockWorkspace {
  /// The shape of one RoI, `[C, height, width]`.
  public var roiShape: [Int] { [channels, height, width] }

  /// `F(H; X)` for one RoI (`[C, height, width]` each), recording the point.
  ///
  /// - Complexity: as ``evaluate(state:injection:into:)`` plus one output allocation.
  @inlinable
  public func evaluate(state: Tensor<Scalar>, injection: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = Tensor<Scalar>(zeros: [channels, height, width])
    state.withUnsafeBufferPointer { h in
      injection.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in evaluate(state: h, injection: x, into: y) }
      }
    }
    return output
  }

  /// `∂F/∂H · V` for one RoI at the last evaluated point.
  @inlinable
  public func jvp(tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = Tensor<Scalar>(zeros: [channels, height, width])
    tangent.withUnsafeBufferPointer { t in
      output.withUnsafeMutableBufferPointer { y in jvp(tangent: t, into: y) }
    }
    return output
  }

  /// `Uᵀ·∂F/∂H` for one RoI at the last evaluated point (no parameter cotangents).
  @inlinable
  public func vjp(cotangent: Tensor<Scalar>) -> Tensor<Scalar> {
    var output = Tensor<Scalar>(zeros: [channels, height, width])
    cotangent.withUnsafeBufferPointer { u in
      output.withUnsafeMutableBufferPointer { y in vjp(cotangent: u, state: y) }
    }
    return output
  }

  /// `Uᵀ·∂F/∂H` and `Uᵀ·∂F/∂X` for one RoI at the last evaluated point; optionally adds
  /// `Uᵀ·∂F/∂θ` to the parameter accumulators (see ``parameterGradient()``).
  @inlinable
  public func vjp(cotangent: Tensor<Scalar>, accumulatingParameters: Bool)
    -> (state: Tensor<Scalar>, injection: Tensor<Scalar>)
  {
    var dh = Tensor<Scalar>(zeros: [channels, height, width])
    var dx = Tensor<Scalar>(zeros: [channels, height, width])
    cotangent.withUnsafeBufferPointer { u in
      dh.withUnsafeMutableBufferPointer { h in
        dx.withUnsafeMutableBufferPointer { x in
          vjp(
            cotangent: u, state: h, injection: x, accumulatingParameters: accumulatingParameters)
        }
      }
    }
    return (dh, dx)
  }
}
