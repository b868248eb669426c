// Batched evaluation of the IFR block: F, its JVP in H and its VJP, over N RoIs (NCHW),
// all RoIs in one IFRBlockWorkspace call (one set of GEMMs), each RoI normalised on its own.

extension IFRBlock {
  /// Creates the buffers to evaluate this block on RoIs of `height × width`.
  ///
  /// - Parameters:
  ///   - height: the RoI height.
  ///   - width: the RoI width.
  ///   - capacity: the number of RoIs to allocate for (a larger batch grows the buffers).
  ///   - convolution: the convolution algorithm (default: Winograd where it pays).
  ///   - blasThreads: the cores a call may use (default: the caller's `BLASThreads.count`;
  ///     calls too small to share run on one).
  public func makeWorkspace(
    height: Int, width: Int, capacity: Int = 1, convolution: ConvolutionAlgorithm = .automatic,
    blasThreads: Int? = nil
  ) -> IFRBlockWorkspace<Scalar> {
    IFRBlockWorkspace(
      block: self, height: height, width: width, capacity: capacity, convolution: convolution,
      blasThreads: blasThreads)
  }

  @inlinable
  func checkedGeometry(_ state: Tensor<Scalar>, _ injection: Tensor<Scalar>) -> (
    n: Int, height: Int, width: Int
  ) {
    precondition(
      state.rank == 4 && state.shape[1] == channels,
      "IFRBlock expects [N, \(channels), H, W], got \(state.shape)")
    precondition(
      state.shape == injection.shape, "IFRBlock: H \(state.shape) vs X \(injection.shape)")
    return (state.shape[0], state.shape[2], state.shape[3])
  }

  /// `F(H; X)` for a batch of RoIs.
  ///
  /// - Parameters:
  ///   - state: H, `[N, C, height, width]`.
  ///   - injection: X, the same shape.
  /// - Returns: F, the same shape.
  /// - Complexity: `4 · 9 · C · inner · height · width` flops per RoI under im2col, 2.25×
  ///   fewer under Winograd; one workspace for the call.
  @inlinable
  public func callAsFunction(_ state: Tensor<Scalar>, injection: Tensor<Scalar>) -> Tensor<Scalar> {
    let (n, height, width) = checkedGeometry(state, injection)
    guard n > 0, height > 0, width > 0 else { return Tensor(zeros: state.shape) }
    return makeWorkspace(height: height, width: width, capacity: n)
      .evaluate(state: state, injection: injection)
  }

  /// The derivative `∂F/∂H · V` at `(H, X)` for a batch of RoIs (block diagonal: RoI `i`'s
  /// output depends on RoI `i`'s tangent only).
  ///
  /// - Complexity: twice ``callAsFunction(_:injection:)``.
  @inlinable
  public func jvp(at state: Tensor<Scalar>, injection: Tensor<Scalar>, tangent: Tensor<Scalar>)
    -> Tensor<Scalar>
  {
    let (n, height, width) = checkedGeometry(state, injection)
    precondition(tangent.shape == state.shape, "IFRBlock: tangent shape \(tangent.shape)")
    guard n > 0, height > 0, width > 0 else { return Tensor(zeros: state.shape) }
    let workspace = makeWorkspace(height: height, width: width, capacity: n)
    _ = workspace.evaluate(state: state, injection: injection)
    return workspace.jvp(tangent: tangent)
  }

  /// The cotangents of H, X and every parameter for an output cotangent `U`, at `(H, X)`.
  ///
  /// ```
  /// ∂H = Uᵀ ∂F/∂H,   ∂X = Uᵀ ∂F/∂X,   ∂θ = Σ_RoIs Uᵀ ∂F/∂θ
  /// ```
  /// - Returns: `state` and `injection` cotangents (H's shape) and `parameters`, a block
  ///   whose tensors hold the parameter cotangents under the same names
  ///   (``namedParameters``; `weight_g`/`weight_v` for weight-normalised kernels).
  /// - Complexity: three times ``callAsFunction(_:injection:)``.
  @inlinable
  public func vjp(at state: Tensor<Scalar>, injection: Tensor<Scalar>, cotangent: Tensor<Scalar>)
    -> (state: Tensor<Scalar>, injection: Tensor<Scalar>, parameters: IFRBlock<Scalar>)
  {
    let (n, height, width) = checkedGeometry(state, injection)
    precondition(cotangent.shape == state.shape, "IFRBlock: cotangent shape \(cotangent.shape)")
    let workspace = makeWorkspace(
      height: Swift.max(height, 1), width: Swift.max(width, 1), capacity: Swift.max(n, 1))
    guard n > 0, height > 0, width > 0 else {
      return (Tensor(zeros: state.shape), Tensor(zeros: state.shape), workspace.parameterGradient())
    }
    _ = workspace.evaluate(state: state, injection: injection)
    let (dh, dx) = workspace.vjp(cotangent: cotangent, accumulatingParameters: true)
    return (dh, dx, workspace.parameterGradient())
  }
}
