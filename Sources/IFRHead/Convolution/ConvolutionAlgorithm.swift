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
  /// Winograd's F(4×4, 3×3): transforms and 36 GEMMs, 4× fewer flops than im2col on
  /// planes that are multiples of 4 (Lavin & Gray 2016).
  case winograd4x4

  /// The algorithm used for a convolution of this shape: `.automatic` picks Winograd when
  /// both channel counts are at least 32 and the plane at least 4 × 4 (measured by the
  /// `IFRBenchmarks` suite: below that the transforms cost more than the saved flops), and
  /// F(4×4, 3×3) over F(2×2, 3×3) from 16 × 16 on. Measured with `deq solve` (256 channels,
  /// 4 RoIs, Broyden 15, double): F(4×4) is 10 % faster at 28 × 28 and 7 % at 20 × 20, as
  /// fast at 14 × 14 and slower at 8 × 8, where its 36 GEMMs have too few tiles for
  /// OpenBLAS's per-call packing of the kernels to pay.
  ///
  /// The choice depends on the shape of one RoI only, never on the number of RoIs, so that
  /// a RoI's result does not depend on the batch it is evaluated in.
  public func resolved(inChannels: Int, outChannels: Int, height: Int, width: Int)
    -> ConvolutionAlgorithm
  {
    switch self {
    case .im2col, .winograd, .winograd4x4: self
    case .automatic:
      if Swift.min(inChannels, outChannels) < 32 || height < 4 || width < 4 {
        .im2col
      } else if height >= 16 && width >= 16 {
        .winograd4x4
      } else {
        .winograd
      }
    }
  }
}
