// The Mask R-CNN mask head with its four convolutions replaced by a feature refinement
// (Ma et al. 2021, Sec. 4 and Tables 6–8; He et al. 2017 and mmdetection's FCNMaskHead for
// the rest): RoI features X [N, C, 14, 14] → refinement H → 2× transposed convolution and
// ReLU [N, C, 28, 28] → 1×1 predictor [N, classes, 28, 28] logits; the loss is per-pixel
// binary cross-entropy with logits on each RoI's target-class channel. Goals in priority
// order: exact gradients (implicit for IFR, the chain rule for the explicit refinements);
// parameters under the names MaskHeadParameterCount lists, so that P(M) and a checkpoint
// agree; one forward and one backward pass per training step.

/// A refinement inside the mask head: IFR's equilibrium or a fixed number of blocks.
public enum MaskRefinement<Scalar: DEQScalar>: Sendable {
  /// IFR: Broyden forward, implicit backward.
  case implicit(ImplicitRefinement<Scalar>)
  /// Independent blocks, or one shared block unrolled.
  case explicit(ExplicitRefinement<Scalar>)

  /// The distinct blocks (one for IFR and unrolled, `depth` for explicit).
  public var blocks: [IFRBlock<Scalar>] {
    switch self {
    case .implicit(let module): [module.block]
    case .explicit(let module): module.blocks
    }
  }

  /// `refine.shared.` for one shared block, `refine.<i>.` for independent blocks.
  var blockPrefixes: [String] {
    switch self {
    case .implicit: ["refine.shared."]
    case .explicit(let module):
      module.isShared ? ["refine.shared."] : module.blocks.indices.map { "refine.\($0)." }
    }
  }

  /// The same refinement with `blocks` (same count and shapes).
  func replacingBlocks(_ blocks: [IFRBlock<Scalar>]) -> MaskRefinement {
    switch self {
    case .implicit(var module):
      module.block = blocks[0]
      return .implicit(module)
    case .explicit(let module):
      return .explicit(
        module.blocks.count == 1
          ? ExplicitRefinement(sharedBlock: blocks[0], steps: module.steps)
          : ExplicitRefinement(independentBlocks: blocks))
    }
  }
}

/// The mask head: refinement, 2× transposed convolution with ReLU, 1×1 predictor.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let head = MaskHead<Double>(
///   configuration: MaskHeadConfiguration(channels: 16, classes: 3), using: &rng)
/// let forward = head.forward(features)                  // features: [N, 16, 14, 14]
/// let (loss, dLogits) = try head.loss(forward, targets: masks, classes: labels)
/// let gradient = head.backward(forward, logitsCotangent: dLogits)
/// var parameters = head.parameters
/// parameters.add(gradient.parameters, scaledBy: -0.01)
/// ```
public struct MaskHead<Scalar: DEQScalar>: Sendable {
  /// What the head was built from.
  public let configuration: MaskHeadConfiguration
  /// The refinement of the RoI features.
  public var refinement: MaskRefinement<Scalar>
  /// `deconv`: `C → C`, kernel 2, stride 2, with bias (then ReLU).
  public var upsample: TransposedConv2D<Scalar>
  /// `predictor`: `C → classes`, 1×1, with bias.
  public var predictor: PointwiseConv2D<Scalar>

  /// Creates a head from its parts.
  ///
  /// - Precondition: the parts fit `configuration` (channels and classes).
  public init(
    configuration: MaskHeadConfiguration, refinement: MaskRefinement<Scalar>,
    upsample: TransposedConv2D<Scalar>, predictor: PointwiseConv2D<Scalar>
  ) {
    precondition(refinement.blocks.allSatisfy { $0.channels == configuration.channels })
    precondition(upsample.inChannels == configuration.channels)
    precondition(upsample.outChannels == configuration.channels)
    precondition(predictor.inChannels == configuration.channels)
    precondition(predictor.outChannels == configuration.classes)
    self.configuration = configuration
    self.refinement = refinement
    self.upsample = upsample
    self.predictor = predictor
  }

  /// A freshly initialised head: blocks as PyTorch initialises them (weight-normalised
  /// convolutions, GroupNorm γ = 1, β = 0), the transposed convolution and predictor as
  /// mmdetection does (Kaiming normal, fan-out, bias 0). Blocks are drawn first, then
  /// `deconv`, then `predictor`.
  ///
  /// - Precondition: `configuration.validate()` passes (call it first for user input).
  public init(configuration: MaskHeadConfiguration, using generator: inout SeededGenerator) {
    precondition((try? configuration.validate()) != nil, "invalid MaskHeadConfiguration")
    let c = configuration
    let form: IFRBlockForm = c.doubleResidual ? .ifrCode : .noResidual
    func block() -> IFRBlock<Scalar> {
      IFRBlock(
        channels: c.channels, innerChannels: c.innerChannels, groups: c.groups, form: form,
        using: &generator)
    }
    let refinement: MaskRefinement<Scalar>
    switch c.refinement {
    case .ifr:
      refinement = .implicit(
        ImplicitRefinement(
          block: block(),
          forwardStopping: StoppingCriteria(maxIterations: c.forwardIterations, stall: nil),
          backwardStopping: StoppingCriteria(maxIterations: c.backwardIterations, stall: nil)))
    case .explicit:
      refinement = .explicit(
        ExplicitRefinement(independentBlocks: (0..<c.depth).map { _ in block() }))
    case .unrolled:
      refinement = .explicit(ExplicitRefinement(sharedBlock: block(), steps: c.depth))
    }
    let upsample = TransposedConv2D<Scalar>(
      inChannels: c.channels, outChannels: c.channels, using: &generator)
    let predictor = PointwiseConv2D<Scalar>(
      inChannels: c.channels, outChannels: c.classes, using: &generator)
    self.init(
      configuration: c, refinement: refinement, upsample: upsample, predictor: predictor)
  }

  /// The number of trainable scalars (equal to `configuration.parameterCount.total`).
  public var parameterCount: Int { parameters.count }

  /// Every parameter under its name (`refine.shared.conv1.weight_g` or
  /// `refine.<i>.conv1.weight_g`, …, `deconv.weight`, `deconv.bias`, `predictor.weight`,
  /// `predictor.bias`), in MaskHeadParameterCount's order. Setting it replaces them all.
  ///
  /// - Precondition (set): the same names and shapes.
  public var parameters: NamedParameters<Scalar> {
    get {
      layout(
        blocks: refinement.blocks, deconv: (upsample.weight, upsample.bias),
        predictor: (predictor.weight, predictor.bias))
    }
    set {
      precondition(newValue.hasSameLayout(as: parameters), "MaskHead.parameters: layout differs")
      let blocks = refinement.blocks
      let counts = blocks.map { $0.namedParameters.count } + [2, 2]
      let pieces = newValue.split(entryCounts: counts)
      let newBlocks = blocks.indices.map {
        blocks[$0].replacingParameters(with: pieces[$0].scalars)
      }
      refinement = refinement.replacingBlocks(newBlocks)
      let deconv = pieces[blocks.count]
      upsample = TransposedConv2D(
        weight: deconv.tensor(deconv.entries[0]), bias: deconv.tensor(deconv.entries[1]))
      let predictorPiece = pieces[blocks.count + 1]
      predictor = PointwiseConv2D(
        weight: predictorPiece.tensor(predictorPiece.entries[0]),
        bias: predictorPiece.tensor(predictorPiece.entries[1]))
    }
  }

  /// Tensors in the order and under the names of ``parameters``: the blocks' (one per
  /// distinct block of the refinement), then `deconv.*` and `predictor.*`. The parameters
  /// themselves and the backward pass's gradient are both laid out by it.
  func layout(
    blocks: [IFRBlock<Scalar>], deconv: (weight: Tensor<Scalar>, bias: Tensor<Scalar>),
    predictor: (weight: Tensor<Scalar>, bias: Tensor<Scalar>)
  ) -> NamedParameters<Scalar> {
    var tensors: [(name: String, tensor: Tensor<Scalar>)] = []
    for (prefix, block) in zip(refinement.blockPrefixes, blocks) {
      tensors += block.namedParameters.map { (prefix + $0.name, $0.tensor) }
    }
    tensors += [
      ("deconv.weight", deconv.weight), ("deconv.bias", deconv.bias),
      ("predictor.weight", predictor.weight), ("predictor.bias", predictor.bias),
    ]
    return NamedParameters(tensors)
  }
}
