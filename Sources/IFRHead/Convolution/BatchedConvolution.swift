// One 3×3, stride-1, zero-padded convolution of the IFR block applied to a channel-major
// batch of RoIs: forward (and so the JVP, the layer being linear), the input cotangent
// (the transposed convolution) and the weight cotangent, each as one GEMM over all RoIs
// (im2col) or 16 (Winograd F(2×2, 3×3)).
//
// Goals in priority order: a RoI's result does not depend on which RoIs share its batch
// (per-RoI transforms; the algorithm is chosen from the RoI's shape only); every RoI's
// columns in the same GEMM, so that small per-RoI GEMMs become one large one; no
// allocation per call once the batch capacity is reached.

/// A 3×3 convolution over a channel-major batch `[channels][N · H · W]`.
@usableFromInline
final class _BatchedConvolution<Scalar: DEQScalar> {
  @usableFromInline let inChannels: Int
  @usableFromInline let outChannels: Int
  @usableFromInline let height: Int
  @usableFromInline let width: Int
  @usableFromInline let plane: Int
  /// The resolved algorithm (never `.automatic`).
  @usableFromInline let algorithm: ConvolutionAlgorithm
  /// The kernel, `outChannels × inChannels × 3 × 3` (im2col's GEMM operand).
  @usableFromInline let weight: _ScalarBuffer<Scalar>
  /// Winograd: `[16][out][in]` and, for the transposed convolution, `[16][in][out]`.
  @usableFromInline let transformed: _ScalarBuffer<Scalar>
  @usableFromInline let transformedTranspose: _ScalarBuffer<Scalar>
  @usableFromInline let rowScratch: _ScalarBuffer<Scalar>
  /// Batch-sized scratch: im2col columns, or Winograd's transformed inputs and products.
  @usableFromInline var columns: _ScalarBuffer<Scalar>
  @usableFromInline var transformedInput: _ScalarBuffer<Scalar>
  @usableFromInline var products: _ScalarBuffer<Scalar>
  /// The number of RoIs the scratch holds.
  @usableFromInline var capacity = 0

  @usableFromInline
  init(
    weight kernel: Tensor<Scalar>, height: Int, width: Int, algorithm: ConvolutionAlgorithm
  ) {
    precondition(kernel.rank == 4 && kernel.shape[2] == 3 && kernel.shape[3] == 3)
    outChannels = kernel.shape[0]
    inChannels = kernel.shape[1]
    self.height = height
    self.width = width
    plane = height * width
    self.algorithm = algorithm.resolved(
      inChannels: inChannels, outChannels: outChannels, height: height, width: width)
    let weight = _ScalarBuffer<Scalar>(count: kernel.count)
    kernel.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      weight.pointer(count: source.count).update(from: base, count: source.count)
    }
    self.weight = weight
    let winograd = self.algorithm == .winograd
    let matrix = 16 * outChannels * inChannels
    transformed = _ScalarBuffer(count: winograd ? matrix : 0)
    transformedTranspose = _ScalarBuffer(count: winograd ? matrix : 0)
    let tileColumns = (width + 1) / 2
    rowScratch = _ScalarBuffer(count: 4 * (2 * tileColumns + 2) + width)
    columns = _ScalarBuffer(count: 0)
    transformedInput = _ScalarBuffer(count: 0)
    products = _ScalarBuffer(count: 0)
    if winograd {
      _WinogradF2x3<Scalar>.transformWeight(
        weight.base, outChannels: outChannels, inChannels: inChannels, transposed: false,
        into: transformed.pointer(count: matrix))
      _WinogradF2x3<Scalar>.transformWeight(
        weight.base, outChannels: outChannels, inChannels: inChannels, transposed: true,
        into: transformedTranspose.pointer(count: matrix))
    }
  }

  /// The number of tiles per RoI (Winograd).
  @inlinable var tilesPerRoI: Int { ((height + 1) / 2) * ((width + 1) / 2) }

  /// Makes the batch-sized scratch hold `count` RoIs (allocates only when it grows).
  @inlinable
  func reserve(_ count: Int) {
    guard count > capacity else { return }
    let widest = Swift.max(inChannels, outChannels)
    // im2col columns serve the weight cotangent under both algorithms.
    columns = _ScalarBuffer(count: 9 * widest * plane * count)
    if algorithm == .winograd {
      transformedInput = _ScalarBuffer(count: 16 * widest * tilesPerRoI * count)
      products = _ScalarBuffer(count: 16 * widest * tilesPerRoI * count)
    }
    capacity = count
  }

  /// `y = W ⋆ x` for `count` RoIs: `input` is `[inChannels][count · H · W]`, `output`
  /// `[outChannels][count · H · W]`.
  ///
  /// - Complexity: im2col: `2 · 9 · in · out · count · H · W` flops in one GEMM; Winograd:
  ///   `2 · 16 · in · out · count · ⌈H/2⌉⌈W/2⌉` in 16 GEMMs plus `O((in + out) · count · H · W)`.
  @inlinable
  func forward(
    _ input: UnsafePointer<Scalar>, count: Int, into output: UnsafeMutablePointer<Scalar>
  ) {
    apply(
      input, count: count, into: output, sourceChannels: inChannels,
      targetChannels: outChannels, transposed: false)
  }

  /// `∂x = Wᵀ ⋆ ∂y` (the transposed convolution) for `count` RoIs: `cotangent` is
  /// `[outChannels][count · H · W]`, `output` `[inChannels][count · H · W]`.
  ///
  /// - Complexity: as ``forward(_:count:into:)``.
  @inlinable
  func inputCotangent(
    _ cotangent: UnsafePointer<Scalar>, count: Int, into output: UnsafeMutablePointer<Scalar>
  ) {
    apply(
      cotangent, count: count, into: output, sourceChannels: outChannels,
      targetChannels: inChannels, transposed: true)
  }

  /// `∂W += Σ_RoIs ∂y · col(x)ᵀ` (`outChannels × inChannels·9`), im2col and one GEMM.
  @inlinable
  func accumulateWeightCotangent(
    _ cotangent: UnsafePointer<Scalar>, input: UnsafePointer<Scalar>, count: Int,
    into weightCotangent: UnsafeMutablePointer<Scalar>
  ) {
    reserve(count)
    let span = count * plane
    let depth = inChannels * 9
    let cols = columns.pointer(count: depth * span)
    for r in 0..<count {
      Conv2D<Scalar>.im2col(
        input + r * plane, channels: inChannels, height: height, width: width,
        channelStride: span, rowStride: span, into: cols + r * plane)
    }
    Scalar.blasGemm(
      transposeA: false, transposeB: true, outChannels, depth, span, 1,
      cotangent, span, cols, span, 1, weightCotangent, depth)
  }

  @inlinable
  func apply(
    _ source: UnsafePointer<Scalar>, count: Int, into target: UnsafeMutablePointer<Scalar>,
    sourceChannels: Int, targetChannels: Int, transposed: Bool
  ) {
    reserve(count)
    let span = count * plane
    guard span > 0 else { return }
    switch algorithm {
    case .winograd:
      let tiles = count * tilesPerRoI
      let v = transformedInput.pointer(count: 16 * sourceChannels * tiles)
      let m = products.pointer(count: 16 * targetChannels * tiles)
      let u = (transposed ? transformedTranspose : transformed).pointer(
        count: 16 * targetChannels * sourceChannels)
      _WinogradF2x3<Scalar>.transformInput(
        source, channels: sourceChannels, roiCount: count, height: height, width: width,
        channelStride: span, rowScratch: rowScratch.base, into: v)
      for xi in 0..<16 {
        Scalar.blasGemm(
          transposeA: false, transposeB: false, targetChannels, tiles, sourceChannels, 1,
          u + xi * targetChannels * sourceChannels, sourceChannels,
          v + xi * sourceChannels * tiles, tiles, 0, m + xi * targetChannels * tiles, tiles)
      }
      _WinogradF2x3<Scalar>.transformOutput(
        m, channels: targetChannels, roiCount: count, height: height, width: width,
        channelStride: span, rowScratch: rowScratch.base, into: target)
    case .im2col, .automatic:
      if transposed {
        let depth = inChannels * 9
        let cols = columns.pointer(count: depth * span)
        Scalar.blasGemm(
          transposeA: true, transposeB: false, depth, span, outChannels, 1,
          weight.base, depth, source, span, 0, cols, span)
        for r in 0..<count {
          Conv2D<Scalar>.col2im(
            cols + r * plane, channels: inChannels, height: height, width: width,
            channelStride: span, rowStride: span, into: target + r * plane)
        }
      } else {
        let depth = inChannels * 9
        let cols = columns.pointer(count: depth * span)
        for r in 0..<count {
          Conv2D<Scalar>.im2col(
            source + r * plane, channels: inChannels, height: height, width: width,
            channelStride: span, rowStride: span, into: cols + r * plane)
        }
        Scalar.blasGemm(
          transposeA: false, transposeB: false, outChannels, span, depth, 1,
          weight.base, depth, cols, span, 0, target, span)
      }
    }
  }
}
