// The mask head's forward pass and its loss: refinement, upsampling, prediction, and the
// per-pixel binary cross-entropy on each RoI's target-class channel (as released).

/// What a forward pass of ``MaskHead`` computed, kept for its backward pass.
public struct MaskHeadForward<Scalar: DEQScalar>: Sendable {
  /// The RoI features X, `[N, C, 14, 14]`.
  public var features: Tensor<Scalar>
  /// The refined features H (IFR: the equilibria), `[N, C, 14, 14]`.
  public var refined: Tensor<Scalar>
  /// IFR's forward solves (status, residual, trace per RoI); `nil` for the explicit
  /// refinements and for an unrolled pre-training step.
  public var implicit: ImplicitRefinement<Scalar>.Forward?
  /// When an IFR head ran unrolled (pre-training), the number of steps.
  public var unrolledSteps: Int?
  /// The transposed convolution's output before ReLU, `[N, C, 28, 28]`.
  public var upsampled: Tensor<Scalar>
  /// The predictor's logits, `[N, classes, 28, 28]`.
  public var logits: Tensor<Scalar>
}

extension MaskHead {
  /// Runs the head on a batch of RoI features.
  ///
  /// - Parameters:
  ///   - features: X, `[N, C, H, W]` (14×14 in Mask R-CNN).
  ///   - start: IFR only: a warm start `H₀` for the forward solves (`nil`: `H₀ = 0`).
  ///   - unrolledSteps: IFR only: refine by this many shared-weight steps from `H₀ = 0`
  ///     instead of the solve, with an ordinary backward pass (the IFR recipe's
  ///     pre-training); `nil` solves.
  /// - Returns: every intermediate the backward pass needs, and the logits.
  /// - Complexity: the refinement (IFR: one batched F per Broyden iteration) plus one
  ///   transposed convolution and one 1×1 convolution.
  public func forward(
    _ features: Tensor<Scalar>, from start: Tensor<Scalar>? = nil, unrolledSteps: Int? = nil
  ) -> MaskHeadForward<Scalar> {
    precondition(
      features.rank == 4 && features.shape[1] == configuration.channels,
      "MaskHead expects [N, \(configuration.channels), H, W], got \(features.shape)")
    var implicit: ImplicitRefinement<Scalar>.Forward?
    var unrolled: Int?
    let refined: Tensor<Scalar>
    switch refinement {
    case .implicit(let module):
      if let steps = unrolledSteps {
        unrolled = steps
        refined = ExplicitRefinement(sharedBlock: module.block, steps: steps)(features)
      } else {
        let solved = module.forward(features, from: start)
        implicit = solved
        refined = solved.equilibrium
      }
    case .explicit(let module):
      refined = module(features)
    }
    let upsampled = upsample(refined)
    let logits = predictor(ReLU<Scalar>()(upsampled))
    return MaskHeadForward(
      features: features, refined: refined, implicit: implicit, unrolledSteps: unrolled,
      upsampled: upsampled, logits: logits)
  }

  /// The mask loss: binary cross-entropy with logits, averaged over every pixel of every
  /// RoI, on each RoI's target-class channel; and its gradient with respect to the logits.
  ///
  /// ```
  /// L = (1 / (N·P)) Σₙ Σₚ BCE(logits[n, classₙ, p], target[n, p])
  /// ```
  /// - Parameters:
  ///   - forward: the forward pass.
  ///   - targets: `[N, 2H, 2W]` masks of 0 and 1.
  ///   - classes: each RoI's target class, in `0..<configuration.classes`.
  /// - Returns: the loss and `∂L/∂logits` (zero on the other classes' channels).
  /// - Throws: `TrainingError` for mismatched shapes, classes out of range, targets outside
  ///   [0, 1] or non-finite logits.
  public func loss(
    _ forward: MaskHeadForward<Scalar>, targets: Tensor<Scalar>, classes: [Int]
  ) throws(TrainingError) -> (loss: Scalar, logitsCotangent: Tensor<Scalar>) {
    let shape = forward.logits.shape
    let (n, k, h, w) = (shape[0], shape[1], shape[2], shape[3])
    guard targets.shape == [n, h, w] else {
      throw .shapeMismatch(what: "mask targets", expected: [n, h, w], actual: targets.shape)
    }
    guard classes.count == n else {
      throw .shapeMismatch(what: "class labels", expected: [n], actual: [classes.count])
    }
    if let bad = classes.first(where: { !(0..<k).contains($0) }) {
      throw .invalidHyperparameter(
        name: "class label", value: "\(bad)", expected: "a class in 0..<\(k)")
    }
    let plane = h * w
    let selected = classLogits(forward, classes: classes)
    let (loss, gradient) = try binaryCrossEntropyWithLogits(logits: selected, targets: targets)
    var cotangent = Tensor<Scalar>(zeros: shape)
    cotangent.withUnsafeMutableBufferPointer { out in
      gradient.withUnsafeBufferPointer { g in
        for roi in 0..<n {
          let base = (roi * k + classes[roi]) * plane
          for p in 0..<plane { out[base + p] = g[roi * plane + p] }
        }
      }
    }
    return (loss, cotangent)
  }

  /// Each RoI's logits on its class's channel, `[N, 2H, 2W]` (what the IoU is measured on).
  public func classLogits(_ forward: MaskHeadForward<Scalar>, classes: [Int]) -> Tensor<Scalar> {
    let shape = forward.logits.shape
    let (n, k, plane) = (shape[0], shape[1], shape[2] * shape[3])
    precondition(classes.count == n && classes.allSatisfy { (0..<k).contains($0) })
    return Tensor(shape: [n, shape[2], shape[3]]) { i in
      forward.logits.scalars[(i / plane * k + classes[i / plane]) * plane + i % plane]
    }
  }
}
