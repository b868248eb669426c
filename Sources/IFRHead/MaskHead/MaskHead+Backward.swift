// The mask head's backward pass: the chain rule through the predictor, ReLU and the
// transposed convolution, then the refinement's own backward pass (IFR: the implicit
// adjoint solves), with every RoI's adjoint outcome classified and a RoI whose adjoint
// ended at its zero start handled by a ZeroGradientPolicy instead of silently contributing
// nothing.

/// What a backward pass of ``MaskHead`` computed.
public struct MaskHeadGradient<Scalar: DEQScalar>: Sendable {
  /// `∂L/∂θ` in the layout of ``MaskHead/parameters``.
  public var parameters: NamedParameters<Scalar>
  /// `∂L/∂X`, `[N, C, H, W]`.
  public var features: Tensor<Scalar>
  /// IFR's adjoint solves, one per RoI (empty for the explicit refinements and for an
  /// unrolled pre-training step).
  public var adjointSolutions: [FixedPointSolution<Tensor<Scalar>>]
  /// Each adjoint solve classified (parallel to ``adjointSolutions``).
  public var adjointOutcomes: [AdjointOutcome]
  /// The RoIs whose adjoint ended at its zero start, which the policy handled.
  public var zeroGradientRoIs: [Int]
  /// The policy that handled them (`nil` when there were none).
  public var policyApplied: ZeroGradientPolicy?

  /// Whether the optimiser step should be skipped (`ZeroGradientPolicy/skipStep` met a
  /// zero-start adjoint).
  public var skipsStep: Bool { policyApplied == .skipStep }
}

extension MaskHead {
  /// Gradients of the loss with respect to every parameter and the features.
  ///
  /// - Parameters:
  ///   - forward: the forward pass.
  ///   - logitsCotangent: `∂L/∂logits`, the shape of `forward.logits`.
  ///   - zeroGradientPolicy: what to do with a RoI whose adjoint solve ended at its zero
  ///     start (default: the 5-step phantom gradient for that RoI).
  /// - Returns: the gradients, every RoI's adjoint solve and outcome, and which RoIs the
  ///   policy handled.
  /// - Complexity: IFR: one batched VJP per backward Broyden iteration plus one with
  ///   parameters (and the phantom steps of the RoIs the policy handles); explicit: one F
  ///   and one VJP per block application; plus the upsampling and predictor VJPs.
  public func backward(
    _ forward: MaskHeadForward<Scalar>, logitsCotangent: Tensor<Scalar>,
    zeroGradientPolicy: ZeroGradientPolicy = .default
  ) -> MaskHeadGradient<Scalar> {
    precondition(logitsCotangent.shape == forward.logits.shape, "logits cotangent shape")
    let activated = ReLU<Scalar>()(forward.upsampled)
    let predictorBack = predictor.vjp(at: activated, cotangent: logitsCotangent)
    let upsampledCotangent = ReLU<Scalar>().vjp(
      at: forward.upsampled, cotangent: predictorBack.input)
    let upsampleBack = upsample.vjp(at: forward.refined, cotangent: upsampledCotangent)
    let refinedCotangent = upsampleBack.input

    var blockGradients: [IFRBlock<Scalar>]
    var featureCotangent: Tensor<Scalar>
    var solutions: [FixedPointSolution<Tensor<Scalar>>] = []
    var outcomes: [AdjointOutcome] = []
    var zeroRoIs: [Int] = []
    var policyApplied: ZeroGradientPolicy?
    switch refinement {
    case .implicit(let module):
      if let implicit = forward.implicit {
        let back = module.backward(implicit, cotangent: refinedCotangent)
        featureCotangent = back.injection
        var gradient = back.parameters.parameters
        solutions = back.adjointSolutions
        outcomes = solutions.map(AdjointOutcome.init)
        zeroRoIs = outcomes.indices.filter { outcomes[$0].isZeroGradient }
        if !zeroRoIs.isEmpty {
          policyApplied = zeroGradientPolicy
          if case .phantomGradient(let steps, let damping) = zeroGradientPolicy {
            // A zero-start RoI contributed u = 0; add its phantom gradient instead.
            var phantom = module
            phantom.gradient = .phantom(steps: steps, damping: damping)
            let pick = { (t: Tensor<Scalar>) -> Tensor<Scalar> in
              var rows = Tensor<Scalar>(zeros: [zeroRoIs.count] + t.shape.dropFirst())
              for (k, roi) in zeroRoIs.enumerated() { rows.setSample(k, to: t.sample(roi)) }
              return rows
            }
            let sub = ImplicitRefinement<Scalar>.Forward(
              injection: pick(implicit.injection), equilibrium: pick(implicit.equilibrium),
              solutions: [])
            let phantomBack = phantom.backward(sub, cotangent: pick(refinedCotangent))
            gradient.add(phantomBack.parameters.parameters)
            for (k, roi) in zeroRoIs.enumerated() {
              var row = featureCotangent.sample(roi)
              row.add(phantomBack.injection.sample(k))
              featureCotangent.setSample(roi, to: row)
            }
          }
        }
        blockGradients = [module.block.replacingParameters(with: gradient.scalars)]
      } else {
        let steps = forward.unrolledSteps ?? 1
        let back = ExplicitRefinement(sharedBlock: module.block, steps: steps).vjp(
          at: forward.features, cotangent: refinedCotangent)
        featureCotangent = back.injection
        blockGradients = back.parameters
      }
    case .explicit(let module):
      let back = module.vjp(at: forward.features, cotangent: refinedCotangent)
      featureCotangent = back.injection
      blockGradients = back.parameters
    }

    let gradient = layout(
      blocks: blockGradients, deconv: (upsampleBack.weight, upsampleBack.bias),
      predictor: (predictorBack.weight, predictorBack.bias))
    return MaskHeadGradient(
      parameters: gradient, features: featureCotangent,
      adjointSolutions: solutions, adjointOutcomes: outcomes, zeroGradientRoIs: zeroRoIs,
      policyApplied: policyApplied)
  }
}
