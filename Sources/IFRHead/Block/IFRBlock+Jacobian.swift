// The Jacobian ∂F/∂H of one RoI as a DEQSolvers JacobianOperator, with exact products from
// the block's JVP and VJP: what the Section 3.5 analysis (spectral radius along a solve)
// needs.
//
// The operator evaluates F once, when it is made, in a workspace of its own, and every
// product then differentiates at that recorded linearisation: no product re-runs F, copies
// the kernels or allocates a workspace (the products of an Arnoldi run cost one JVP each,
// about 1.3 F at the paper's size, where going through `IFRBlock.jvp` cost about 6 F).
// JacobianOperator's closures are `@Sendable` and products may run concurrently, so the
// workspace sits behind a mutex: concurrent products are serialised, never interleaved.

import Synchronization

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
  /// - Complexity: one F evaluation and one workspace here; then each product is one JVP
  ///   (or VJP) of one RoI at the recorded point, with one output allocation.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func stateJacobian(at state: Tensor<Scalar>, injection: Tensor<Scalar>)
    throws(DiagnosticsError) -> JacobianOperator<Tensor<Scalar>>
  {
    precondition(
      state.rank == 3 && state.shape[0] == channels && state.shape == injection.shape,
      "stateJacobian expects one RoI [\(channels), H, W], got \(state.shape)")
    guard state.isFinite else { throw .nonFinitePoint }
    let shape = state.shape
    let workspace = makeWorkspace(height: shape[1], width: shape[2])
    _ = workspace.evaluate(state: state, injection: injection)
    let linearisation = _SharedLinearisation(workspace)
    @Sendable func checked(_ v: Tensor<Scalar>) {
      precondition(
        v.count == state.count,
        "stateJacobian: a product's vector has \(v.count) scalars, expected \(state.count)")
    }
    return try JacobianOperator(
      at: state,
      jvp: { v in
        checked(v)
        return linearisation.withWorkspace { $0.jvp(tangent: v) }
      },
      vjp: { u in
        checked(u)
        return linearisation.withWorkspace { $0.vjp(cotangent: u) }
      })
  }
}

/// A workspace holding one recorded linearisation, shared by `@Sendable` product closures.
final class _SharedLinearisation<Scalar: DEQScalar>: Sendable {
  private let workspace: Mutex<IFRBlockWorkspace<Scalar>>

  init(_ workspace: sending IFRBlockWorkspace<Scalar>) {
    self.workspace = Mutex(workspace)
  }

  /// Runs `body` with exclusive use of the workspace.
  func withWorkspace(_ body: (IFRBlockWorkspace<Scalar>) -> Tensor<Scalar>) -> Tensor<Scalar> {
    workspace.withLock { body($0) }
  }
}
