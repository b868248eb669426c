// Which algorithm computes the IFR block's 3×3 convolutions, and the automatic choice.

/// How a 3×3, stride-1, zero-padded convolution is computed.
///
/// Both give the direct sum up to rounding (see `Docs/Performance.md` for the measured
/// differences); Winograd F(2×2, 3×3) needs 2.25× fewer flops and is the faster one from a
/// few dozen channels on.
public enum ConvolutionAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
  /// Winograd where it pays (see ``resolved(inChannels:outChannels:height:width:)``),
  /// im2col elsewhere.
  case automatic
  /// im2col and one GEMM (Chellapilla, Puri & Simard 2006).
  case im2col
  /// Winograd's F(2×2, 3×3): transforms and 16 GEMMs (Lavin & Gray 2016).
  case winograd

  /// The algorithm used for a convolution of this shape: `.automatic` picks Winograd when
  /// both channel counts are at least 32 and the plane at least 4 × 4 (measured by the
  /// `IFRBenchmarks` suite: below that the transforms cost more than the saved flops).
  ///
  /// The choice depends on the shape of one RoI only, never on the number of RoIs, so that
  /// a RoI's result does not depend on the batch it is evaluated in.
  public func resolved(inChannels: Int, outChannels: Int, height: Int, width: Int)
    -> ConvolutionAlgorithm
  {
    switch self {
    case .im2col, .winograd: self
    case .automatic:
      Swift.min(inChannels, outChannels) >= 32 && height >= 4 && width >= 4 ? .winograd : .im2col
    }
  }
}
