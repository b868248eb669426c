/// The shape of a Mask R-CNN mask head around a feature refinement: which refinement, its
/// depth and solver budget, the widths and the classes (Ma et al. 2021, Tables 6–8).
///
/// ```swift
/// var configuration = MaskHeadConfiguration(refinement: .ifr, channels: 16)
/// configuration.forwardIterations = 5                      // Table 7's rows: 3, 5, 10, 15, 20
/// var rng = SeededGenerator(seed: 1)
/// let head = MaskHead<Float>(configuration: configuration, using: &rng)
/// ```
public struct MaskHeadConfiguration: Sendable, Hashable, Codable {
  /// How the RoI features are refined before upsampling.
  public enum Refinement: String, Sendable, Hashable, Codable, CaseIterable {
    /// IFR: one block's equilibrium `H* = F(H*; X)`, Broyden forward and implicit backward.
    case ifr
    /// ``MaskHeadConfiguration/depth`` independent blocks applied in turn (Table 6,
    /// "explicit").
    case explicit
    /// One block applied ``MaskHeadConfiguration/depth`` times with shared weights (Table 6,
    /// "unrolling").
    case unrolled
  }

  /// The refinement (default ``Refinement/ifr``).
  public var refinement: Refinement
  /// RoI feature channels C (256 in the paper; small in the miniature).
  public var channels: Int
  /// The blocks' inner width; `nil` means ``channels``.
  public var innerChannels: Int?
  /// GroupNorm groups (4, as released).
  public var groups: Int
  /// Mask classes: the predictor's output channels.
  public var classes: Int
  /// Whether the blocks carry the double residual (default on). Off gives the plain
  /// two-convolution blocks of Table 8, for the explicit and unrolled refinements only
  /// (without the residual connections X no longer enters the block, so it has no
  /// equilibrium that depends on X).
  public var doubleResidual: Bool
  /// Explicit blocks, or unrolled steps (4, Mask R-CNN's four convolutions).
  public var depth: Int
  /// IFR's forward Broyden iterations (15).
  public var forwardIterations: Int
  /// IFR's backward (adjoint) Broyden iterations (15).
  public var backwardIterations: Int

  /// Creates a configuration; the defaults are the released IFR head's, at `channels`.
  public init(
    refinement: Refinement = .ifr, channels: Int = 256, innerChannels: Int? = nil,
    groups: Int = 4, classes: Int = 80, doubleResidual: Bool = true, depth: Int = 4,
    forwardIterations: Int = 15, backwardIterations: Int = 15
  ) {
    self.refinement = refinement
    self.channels = channels
    self.innerChannels = innerChannels
    self.groups = groups
    self.classes = classes
    self.doubleResidual = doubleResidual
    self.depth = depth
    self.forwardIterations = forwardIterations
    self.backwardIterations = backwardIterations
  }

  /// Checks every field.
  ///
  /// - Throws: ``IFRHeadError/invalidConfiguration(_:)`` naming the field: channels,
  ///   inner width, classes, depth or iterations below 1, groups that do not divide both
  ///   widths, or IFR without the double residual.
  public func validate() throws(IFRHeadError) {
    let inner = innerChannels ?? channels
    guard channels >= 1, inner >= 1 else {
      throw .invalidConfiguration("channels must be at least 1 (got \(channels), inner \(inner))")
    }
    guard groups >= 1, channels % groups == 0, inner % groups == 0 else {
      throw .invalidConfiguration(
        "\(groups) GroupNorm groups must divide the channels (\(channels)) and the inner width (\(inner))"
      )
    }
    guard classes >= 1 else { throw .invalidConfiguration("classes must be at least 1") }
    guard depth >= 1 else { throw .invalidConfiguration("depth must be at least 1") }
    guard forwardIterations >= 0, backwardIterations >= 0 else {
      throw .invalidConfiguration("solver iterations must be non-negative")
    }
    guard doubleResidual || refinement != .ifr else {
      throw .invalidConfiguration(
        "the IFR refinement needs the double residual: without it X does not enter the block; "
          + "use the explicit or unrolled refinement for Table 8")
    }
  }

  /// The head's tensors and their total, from shapes (Tables 6 and 9's P(M)).
  public var parameterCount: MaskHeadParameterCount {
    MaskHeadParameterCount(
      refinement: refinement == .explicit ? .independentBlocks(depth) : .sharedBlock,
      channels: channels, innerChannels: innerChannels, classes: classes)
  }

  /// `ifr` / `explicit×4` / `unrolled×4`, with ` (no residual)` when it applies, and the
  /// IFR iteration budget: a row label.
  public var label: String {
    var text: String =
      switch refinement {
      case .ifr: "IFR (Broyden \(forwardIterations)/\(backwardIterations))"
      case .explicit: "explicit ×\(depth)"
      case .unrolled: "unrolled ×\(depth)"
      }
    if !doubleResidual { text += " (no residual)" }
    return text
  }
}
