// What the batched convolution needs of a Winograd scheme F(m×m, 3×3): its tile, its
// number of transformed streams, and its three transforms over a channel-major batch.
//
// The two schemes (`_WinogradF2x3`, `_WinogradF4x3`) share the layout: activations
// `[C][N·H·W]`, transformed inputs `[streams][C][T]`, GEMM products `[streams][K][T]`,
// transformed kernels `[streams][K][C]`, T = N · ⌈H/m⌉ · ⌈W/m⌉ tiles, tile
// t = (r·⌈H/m⌉ + ty)·⌈W/m⌉ + tx. Consecutive streams are `streamStride(_:)` apart, a little
// more than their size.

/// A Winograd minimal-filtering scheme for 3×3, stride-1, zero-padded convolutions.
@usableFromInline
protocol _WinogradScheme {
  associatedtype Scalar: DEQScalar
  /// The side of an output tile, m.
  static var tile: Int { get }
  /// The number of transformed streams (GEMMs), (m + 2)².
  static var streams: Int { get }
  /// Row scratch (scalars per parallel part) for both transforms of `roiCount` planes of
  /// `height × width`.
  static func rowScratchCount(height: Int, width: Int, roiCount: Int) -> Int

  /// The kernels of the output channels in `range` (`weight` is `outChannels × inChannels ×
  /// 3 × 3`) into `u` (`[streams][out][in]`), or, with `transposed`, those of the transposed
  /// convolution `g'[i, o] = weight[o, i]` rotated by 180° (`u` is then `[streams][in][out]`).
  ///
  /// With `scales`, each kernel element of output channel `o` is first multiplied by
  /// `scales[o]`, exactly as a weight-normalised kernel `g_o / ‖v_o‖ · v` is formed, so the
  /// result equals the transform of that kernel without making it.
  static func transformWeight(
    _ weight: UnsafePointer<Scalar>, scales: UnsafePointer<Scalar>?, outChannels: Int,
    inChannels: Int, range: Range<Int>, transposed: Bool, into u: UnsafeMutablePointer<Scalar>)

  /// The input tiles of the channels in `range` of a channel-major batch into `v`.
  static func transformInput(
    _ input: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int,
    height: Int, width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into v: UnsafeMutablePointer<Scalar>)

  /// The products `m` back to a channel-major batch for the channels in `range`, cropping
  /// partial tiles.
  static func transformOutput(
    _ m: UnsafePointer<Scalar>, channels: Int, range: Range<Int>, roiCount: Int, height: Int,
    width: Int, channelStride: Int, rowScratch: UnsafeMutablePointer<Scalar>,
    into output: UnsafeMutablePointer<Scalar>)
}

extension _WinogradScheme {
  /// The distance in scalars between consecutive streams of `count` scalars each
  /// (``_PaddedStride``): the transforms touch all streams at once.
  @inlinable
  static func streamStride(_ count: Int) -> Int {
    _PaddedStride.of(count, Scalar.self)
  }

  /// The number of m×m tiles covering an `height × width` plane.
  @inlinable
  static func tiles(height: Int, width: Int) -> (rows: Int, columns: Int) {
    ((height + tile - 1) / tile, (width + tile - 1) / tile)
  }
}
