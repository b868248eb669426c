// The Jacobian ∂F/∂H of one RoI as a DEQSolvers JacobianOperator, with exact products from
// the block's JVP and VJP: what the Section 3.5 analysis (spectral radius along a solve)
// needs.

extension IFRBlock {
  /// The Jacobian `∂F/∂H` of one RoI at `(H, X)`, as an operator with exact JVP and VJP
  /// products.
  ///
  /// ```swift
  /// let jacobian = try block.stateJacobian(at: h, injection: x)   // h, x: [C, H, W]
  /// let rho = try DenseSpectralAnalysis().spectralRadius(of: jacobian).value
  /// ```
  /// - Parameters:
  ///   - state: one RoI's H, `[C, height, width]`.
  ///   - injection: its X, the same shape.
  /// - Throws: `DiagnosticsError` (`DEQSolvers`) for a non-finite point.
  /// - Complexity: each product is one F evaluation and one JVP (or VJP) of one RoI.
  public func stateJacobian(at state: Tensor<Scalar>, injection: Tensor<Scalar>)
    throws(DiagnosticsError) -> JacobianOperator<Tensor<Scalar>>
  {
    precondition(
      state.rank == 3 && state.shape[0] == channels && state.shape == injection.shape,
      "stateJacobian expects one RoI [\(channels), H, W], got \(state.shape)")
    let roi = state.shape
    let batch = [1] + roi
    @Sendable func batched(_ t: Tensor<Scalar>, _ shape: [Int]) -> Tensor<Scalar> {
      guard let result = try? t.reshaped(to: shape) else {
        preconditionFailure("stateJacobian: a product has \(t.count) scalars, expected \(shape)")
      }
      return result
    }
    let h = batched(state, batch)
    let x = batched(injection, batch)
    let block = self
    return try JacobianOperator(
      at: state,
      jvp: { v in batched(block.jvp(at: h, injection: x, tangent: batched(v, batch)), roi) },
      vjp: { u in
        batched(block.vjp(at: h, injection: x, cotangent: batched(u, batch)).state, roi)
      })
  }
}
