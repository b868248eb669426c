// The IFR block as the batched map of a lockstep batch solve: every round, the RoIs still
// running are evaluated together in one workspace call (one set of GEMMs), each RoI keeping
// its own solver history, stopping decision, status and trace.

/// The block's forward map and adjoint map over the active RoIs of a batch.
final class _RoIBatchMap<Scalar: DEQScalar> {
  let workspace: IFRBlockWorkspace<Scalar>
  let injections: [Tensor<Scalar>]
  /// The cores the solve may use (the caller's `BLASThreads.count` when made).
  let cores: Int
  /// The RoIs whose linearisation the workspace holds, in tape order (adjoint solves).
  private var tapeRoIs: [Int] = []

  init(block: IFRBlock<Scalar>, injection: Tensor<Scalar>, convolution: ConvolutionAlgorithm) {
    let n = injection.shape[0]
    cores = BLASThreads.count
    workspace = block.makeWorkspace(
      height: injection.shape[2], width: injection.shape[3], capacity: Swift.max(n, 1),
      convolution: convolution, blasThreads: cores)
    injections = (0..<n).map { injection.sample($0) }
  }

  /// `F(Hᵢ; Xᵢ)` for the active RoIs (the others keep their points: the driver ignores them).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func forward(_ points: [Tensor<Scalar>], _ active: [Bool]) -> [Tensor<Scalar>] {
    let rois = points.indices.filter { active[$0] }
    // The solve never differentiates its iterates: F only, no tape.
    let values = workspace.evaluate(
      states: rois.map { points[$0] }, injections: rois.map { injections[$0] }, recording: false)
    tapeRoIs = []  // the tape no longer holds the equilibria
    var result = points
    for (k, roi) in rois.enumerated() { result[roi] = values[k] }
    return result
  }

  /// Makes the workspace hold the linearisation at the equilibria of `rois`, in that order,
  /// evaluating F only when it holds another set.
  func linearise(at equilibria: [Tensor<Scalar>], rois: [Int]) {
    guard rois != tapeRoIs else { return }
    _ = workspace.evaluate(
      states: rois.map { equilibria[$0] }, injections: rois.map { injections[$0] })
    tapeRoIs = rois
  }

  /// The adjoint map `uᵢ ↦ uᵢ·∂F/∂H(Hᵢ*) + gᵢ` for the active RoIs, linearised at the
  /// equilibria of the active RoIs (see ``linearise(at:rois:)``).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func adjoint(equilibria: [Tensor<Scalar>], lossGradients: [Tensor<Scalar>])
    -> ([Tensor<Scalar>], [Bool]) -> [Tensor<Scalar>]
  {
    { [self] points, active in
      let rois = points.indices.filter { active[$0] }
      linearise(at: equilibria, rois: rois)
      let products = workspace.vjp(cotangents: rois.map { points[$0] })
      var result = points
      for (k, roi) in rois.enumerated() { result[roi] = products[k].adding(lossGradients[roi]) }
      return result
    }
  }
}
