// The explicit baselines of the IFR paper (Ma et al. 2021, Fig. 1 and Tables 6 and 8): a
// fixed number of blocks applied one after another, either independent blocks (Fig. 1a,
// "explicit") or one shared block unrolled (Fig. 1b/c, "unrolling"), with the double
// residual (H_{i+1} = F_i(H_i; X) from H₀ = 0) or without it (H_{i+1} = g_i(H_i) from
// H₀ = X, Table 8). Backpropagation is the ordinary chain rule through the stored states.

/// A refinement by a fixed number of explicit block applications.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let explicit = ExplicitRefinement<Float>.independent(count: 4, channels: 256, using: &rng)
/// let unrolled = ExplicitRefinement(sharedBlock: block, steps: 4)
/// let h = explicit(x)
/// ```
public struct ExplicitRefinement<Scalar: DEQScalar>: Sendable {
  /// The distinct blocks: `steps` of them when independent, one when shared.
  public var blocks: [IFRBlock<Scalar>]
  /// The number of block applications.
  public let steps: Int

  /// Independent blocks, applied in order (one application each).
  ///
  /// - Precondition: at least one block; all of one channel count and one of
  ///   ``IFRBlockForm/noResidual`` or not.
  public init(independentBlocks blocks: [IFRBlock<Scalar>]) {
    precondition(!blocks.isEmpty, "ExplicitRefinement needs a block")
    precondition(Set(blocks.map(\.channels)).count == 1, "blocks differ in channels")
    precondition(
      Set(blocks.map { $0.form == .noResidual }).count == 1, "mixed residual and plain blocks")
    self.blocks = blocks
    self.steps = blocks.count
  }

  /// One block shared by all `steps` applications (weight sharing).
  public init(sharedBlock block: IFRBlock<Scalar>, steps: Int) {
    precondition(steps >= 1, "ExplicitRefinement needs at least one step")
    self.blocks = [block]
    self.steps = steps
  }

  /// `count` independent randomly initialised blocks (PyTorch defaults), with the double
  /// residual (``IFRBlockForm/ifrCode``) or without (``IFRBlockForm/noResidual``).
  public static func independent(
    count: Int, channels: Int, innerChannels: Int? = nil, doubleResidual: Bool = true,
    using generator: inout SeededGenerator
  ) -> ExplicitRefinement {
    let blocks = (0..<count).map { _ in
      IFRBlock<Scalar>(
        channels: channels, innerChannels: innerChannels,
        form: doubleResidual ? .ifrCode : .noResidual, using: &generator)
    }
    return ExplicitRefinement(independentBlocks: blocks)
  }

  /// Whether the blocks are shared (one block unrolled).
  public var isShared: Bool { blocks.count == 1 && steps > 1 }

  /// Whether the blocks carry the double residual (everything but ``IFRBlockForm/noResidual``).
  @inlinable public var hasDoubleResidual: Bool { blocks[0].form != .noResidual }

  /// The block of application `i`.
  @inlinable func block(_ i: Int) -> IFRBlock<Scalar> { blocks[blocks.count == 1 ? 0 : i] }

  /// The number of trainable scalars (a shared block counted once).
  public var parameterCount: Int { blocks.reduce(0) { $0 + $1.parameterCount } }

  /// The refined features: `H_steps` with `H_{i+1} = F_i(H_i; X)`, `H₀ = 0` (or `X` without
  /// the double residual).
  ///
  /// - Complexity: `steps` F evaluations.
  @inlinable
  public func callAsFunction(_ injection: Tensor<Scalar>) -> Tensor<Scalar> {
    states(injection).last ?? injection
  }

  /// `H₀, …, H_steps`.
  @inlinable
  func states(_ injection: Tensor<Scalar>) -> [Tensor<Scalar>] {
    var h = hasDoubleResidual ? Tensor<Scalar>(zeros: injection.shape) : injection
    var result = [h]
    for i in 0..<steps {
      h = block(i)(h, injection: injection)
      result.append(h)
    }
    return result
  }

  /// `∂L/∂X` and `∂L/∂θ` (one cotangent block per entry of ``blocks``) from `∂L/∂H_steps`.
  ///
  /// - Complexity: `steps` F evaluations and `steps` VJPs; `steps + 1` stored states.
  @inlinable
  public func vjp(at injection: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> (
    injection: Tensor<Scalar>, parameters: [IFRBlock<Scalar>]
  ) {
    let h = states(injection)
    var dh = cotangent
    var dx = Tensor<Scalar>(zeros: injection.shape)
    var gradients: [IFRBlock<Scalar>?] = Array(repeating: nil, count: blocks.count)
    for i in stride(from: steps - 1, through: 0, by: -1) {
      let back = block(i).vjp(at: h[i], injection: injection, cotangent: dh)
      dh = back.state
      dx.add(back.injection)
      let slot = blocks.count == 1 ? 0 : i
      if let previous = gradients[slot] {
        let sum = zip(previous.parameterVector, back.parameters.parameterVector).map { $0 + $1 }
        gradients[slot] = previous.replacingParameters(with: sum)
      } else {
        gradients[slot] = back.parameters
      }
    }
    if !hasDoubleResidual { dx.add(dh) }
    return (dx, gradients.compactMap { $0 })
  }
}
