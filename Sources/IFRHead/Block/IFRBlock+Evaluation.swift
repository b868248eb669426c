// Batched evaluation of the IFR block: F, its JVP in H and its VJP, over N RoIs (NCHW),
// each RoI computed on its own through one IFRBlockWorkspace, so that a batch gives every
// RoI's solo result bit for bit.

extension IFRBlock {
  /// Creates the buffers to evaluate this block on RoIs of `height × width`, one at a time.
  public func makeWorkspace(height: Int, width: Int) -> IFRBlockWorkspace<Scalar> {
    IFRBlockWorkspace(block: self, height: height, width: width)
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
  /// - Complexity: `4 · 9 · C · inner · height · width` flops per RoI (two GEMMs).
  @inlinable
  public func callAsFunction(_ state: Tensor<Scalar>, injection: Tensor<Scalar>) -> Tensor<Scalar> {
    let (n, height, width) = checkedGeometry(state, injection)
    var output = Tensor<Scalar>(zeros: state.shape)
    guard n > 0, height > 0, width > 0 else { return output }
    let workspace = makeWorkspace(height: height, width: width)
    let size = workspace.roiCount
    state.withUnsafeBufferPointer { h in
      injection.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
          for roi in 0..<n {
            let range = (roi * size)..<((roi + 1) * size)
            workspace.evaluate(
              state: UnsafeBufferPointer(rebasing: h[range]),
              injection: UnsafeBufferPointer(rebasing: x[range]),
              into: UnsafeMutableBufferPointer(rebasing: y[range]))
          }
        }
      }
    }
    return output
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
    var output = Tensor<Scalar>(zeros: state.shape)
    guard n > 0, height > 0, width > 0 else { return output }
    let workspace = makeWorkspace(height: height, width: width)
    let size = workspace.roiCount
    state.withUnsafeBufferPointer { h in
      injection.withUnsafeBufferPointer { x in
        tangent.withUnsafeBufferPointer { t in
          output.withUnsafeMutableBufferPointer { y in
            for roi in 0..<n {
              let range = (roi * size)..<((roi + 1) * size)
              let out = UnsafeMutableBufferPointer(rebasing: y[range])
              workspace.evaluate(
                state: UnsafeBufferPointer(rebasing: h[range]),
                injection: UnsafeBufferPointer(rebasing: x[range]), into: out)
              workspace.jvp(tangent: UnsafeBufferPointer(rebasing: t[range]), into: out)
            }
          }
        }
      }
    }
    return output
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
    var stateCotangent = Tensor<Scalar>(zeros: state.shape)
    var injectionCotangent = Tensor<Scalar>(zeros: state.shape)
    let workspace = makeWorkspace(height: Swift.max(height, 1), width: Swift.max(width, 1))
    guard n > 0, height > 0, width > 0 else {
      return (stateCotangent, injectionCotangent, workspace.parameterGradient())
    }
    let size = workspace.roiCount
    var output = [Scalar](repeating: 0, count: size)
    state.withUnsafeBufferPointer { h in
      injection.withUnsafeBufferPointer { x in
        cotangent.withUnsafeBufferPointer { u in
          stateCotangent.withUnsafeMutableBufferPointer { dh in
            injectionCotangent.withUnsafeMutableBufferPointer { dx in
              output.withUnsafeMutableBufferPointer { y in
                for roi in 0..<n {
                  let range = (roi * size)..<((roi + 1) * size)
                  workspace.evaluate(
                    state: UnsafeBufferPointer(rebasing: h[range]),
                    injection: UnsafeBufferPointer(rebasing: x[range]), into: y)
                  workspace.vjp(
                    cotangent: UnsafeBufferPointer(rebasing: u[range]),
                    state: UnsafeMutableBufferPointer(rebasing: dh[range]),
                    injection: UnsafeMutableBufferPointer(rebasing: dx[range]),
                    accumulatingParameters: true)
                }
              }
            }
          }
        }
      }
    }
    return (stateCotangent, injectionCotangent, workspace.parameterGradient())
  }
}
