// One 3×3, stride-1, zero-padded convolution of the IFR block applied to a channel-major
// batch of RoIs: forward (and so the JVP, the layer being linear), the input cotangent
// (the transposed convolution) and the weight cotangent, each as one GEMM over all RoIs
// (im2col), 16 (Winograd F(2×2, 3×3)) or 36 (Winograd F(4×4, 3×3)).
//
// Goals in priority order: a RoI's result does not depend on which RoIs share its batch
// (per-RoI transforms; the algorithm is chosen from the RoI's shape only); every RoI's
// columns in the same GEMM, so that small per-RoI GEMMs become one large one; no
// allocation per call once the scratch has grown to the batch; a lean start (the transposed
// kernels and the im2col columns are made on first use, the scratch is shared by the
// block's two convolutions); the cores kept busy by the engine itself, every BLAS call
// single-threaded (Winograd's transforms split by channel, its GEMMs as parallel
// streams, im2col's GEMM by column blocks), so that OpenBLAS's worker threads, which spin
// for a while after each multi-threaded call, never compete with the engine's.

/// Scratch shared by the convolutions of one workspace, which never run at the same time.
@usableFromInline
final class _ConvolutionScratch<Scalar: DEQScalar> {
  @usableFromInline var columns = _ScalarBuffer<Scalar>(count: 0)
  @usableFromInline var transformedInput = _ScalarBuffer<Scalar>(count: 0)
  @usableFromInline var products = _ScalarBuffer<Scalar>(count: 0)
  /// One row scratch per parallel part.
  @usableFromInline var rows: [_ScalarBuffer<Scalar>] = []

  @usableFromInline init() {}

  /// `buffer` grown to at least `count` scalars (allocates only when it grows).
  @inlinable
  static func grown(_ buffer: inout _ScalarBuffer<Scalar>, _ count: Int)
    -> UnsafeMutablePointer<Scalar>
  {
    if buffer.count < count { buffer = _ScalarBuffer(count: count, zeroed: false) }
    return buffer.pointer(count: count)
  }

  /// Row scratch of `count` scalars for each of `parts` parts.
  @inlinable
  func rowScratch(parts: Int, count: Int) -> [_ScalarBuffer<Scalar>] {
    if rows.count < parts || (rows.first?.count ?? 0) < count {
      rows = (0..<Swift.max(parts, rows.count)).map { _ in
        _ScalarBuffer(count: count, zeroed: false)
      }
    }
    return rows
  }
}

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
  /// The kernel's parametrisation (a weight-normalised one is not multiplied out unless
  /// im2col needs the kernel itself).
  @usableFromInline let parametrisation: ConvolutionWeight<Scalar>
  /// The kernel, `outChannels × inChannels × 3 × 3` (im2col's GEMM operand), made on first
  /// use: Winograd transforms the parametrisation directly.
  @usableFromInline lazy var weight: Tensor<Scalar> = parametrisation.effectiveWeight
  /// Winograd: `[streams][out][in]`, made at creation.
  @usableFromInline let transformed: _ScalarBuffer<Scalar>
  /// Winograd, transposed convolution: `[streams][in][out]`, made on first use.
  @usableFromInline var transformedTranspose: _ScalarBuffer<Scalar>?
  @usableFromInline let scratch: _ConvolutionScratch<Scalar>

  @usableFromInline
  init(
    weight kernel: ConvolutionWeight<Scalar>, height: Int, width: Int,
    algorithm: ConvolutionAlgorithm, scratch: _ConvolutionScratch<Scalar>
  ) {
    let shape = kernel.shape
    precondition(shape.count == 4 && shape[2] == 3 && shape[3] == 3)
    outChannels = shape[0]
    inChannels = shape[1]
    self.height = height
    self.width = width
    plane = height * width
    self.scratch = scratch
    let resolved = algorithm.resolved(
      inChannels: inChannels, outChannels: outChannels, height: height, width: width)
    self.algorithm = resolved
    parametrisation = kernel
    switch resolved {
    case .winograd:
      transformed = Self.transformedKernels(
        _WinogradF2x3<Scalar>.self, of: kernel, transposed: false, parts: BLASThreads.count)
    case .winograd4x4:
      transformed = Self.transformedKernels(
        _WinogradF4x3<Scalar>.self, of: kernel, transposed: false, parts: BLASThreads.count)
    case .im2col, .automatic:
      transformed = _ScalarBuffer(count: 0)
    }
  }

  /// The Winograd kernels of the convolution by `kernel` (`out × in × 3 × 3`) or, with
  /// `transposed`, of the transposed one, made on `parts` cores. A weight-normalised kernel
  /// is transformed from `v` and `g / ‖v‖` (the same products as `g / ‖v‖ · v`, not stored).
  @inlinable
  static func transformedKernels<S: _WinogradScheme>(
    _ scheme: S.Type, of kernel: ConvolutionWeight<Scalar>, transposed: Bool, parts: Int
  ) -> _ScalarBuffer<Scalar> where S.Scalar == Scalar {
    let (weight, scales): (Tensor<Scalar>, [Scalar]?) =
      switch kernel {
      case .plain(let weight): (weight, nil)
      case .normalized(let norm): (norm.direction, norm.scales)
      }
    let outChannels = weight.shape[0]
    let inChannels = weight.shape[1]
    let count = S.streams * S.streamStride(outChannels * inChannels)
    let buffer = _ScalarBuffer<Scalar>(count: count, zeroed: false)
    let u = buffer.pointer(count: count)
    weight.withUnsafeBufferPointer { direction in
      guard let w = direction.baseAddress else { return }
      func transform(_ scales: UnsafePointer<Scalar>?) {
        _ParallelRanges.forEach(outChannels, parts: parts) { _, range in
          S.transformWeight(
            w, scales: scales, outChannels: outChannels, inChannels: inChannels, range: range,
            transposed: transposed, into: u)
        }
      }
      if let scales {
        scales.withUnsafeBufferPointer { transform($0.baseAddress) }
      } else {
        transform(nil)
      }
    }
    return buffer
  }

  /// `y = W ⋆ x` for `count` RoIs: `input` is `[inChannels][count · H · W]`, `output`
  /// `[outChannels][count · H · W]`, on `parts` cores (BLAS must be single-threaded).
  ///
  /// - Complexity: im2col: `2 · 9 · in · out · count · H · W` flops in one GEMM; Winograd
  ///   F(m×m, 3×3): `2 · (m+2)² · in · out · count · ⌈H/m⌉⌈W/m⌉` in `(m+2)²` GEMMs plus
  ///   `O((in + out) · count · H · W)`.
  @inlinable
  func forward(
    _ input: UnsafePointer<Scalar>, count: Int, parts: Int,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    apply(
      input, count: count, parts: parts, into: output, sourceChannels: inChannels,
      targetChannels: outChannels, transposed: false)
  }

  /// `∂x = Wᵀ ⋆ ∂y` (the transposed convolution) for `count` RoIs: `cotangent` is
  /// `[outChannels][count · H · W]`, `output` `[inChannels][count · H · W]`.
  ///
  /// - Complexity: as ``forward(_:count:parts:into:)``.
  @inlinable
  func inputCotangent(
    _ cotangent: UnsafePointer<Scalar>, count: Int, parts: Int,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    apply(
      cotangent, count: count, parts: parts, into: output, sourceChannels: outChannels,
      targetChannels: inChannels, transposed: true)
  }

  /// `∂W += Σ_RoIs ∂y · col(x)ᵀ` (`outChannels × inChannels·9`), im2col and one GEMM
  /// (split by kernel columns over `parts` cores).
  @inlinable
  func accumulateWeightCotangent(
    _ cotangent: UnsafePointer<Scalar>, input: UnsafePointer<Scalar>, count: Int, parts: Int,
    into weightCotangent: UnsafeMutablePointer<Scalar>
  ) {
    let span = count * plane
    let depth = inChannels * 9
    let cols = _ConvolutionScratch.grown(&scratch.columns, depth * span)
    unfold(input, count: count, parts: parts, into: cols)
    _ParallelRanges.forEach(depth, parts: parts) { _, rows in
      Scalar.blasGemm(
        transposeA: false, transposeB: true, outChannels, rows.count, span, 1,
        cotangent, span, cols + rows.lowerBound * span, span, 1,
        weightCotangent + rows.lowerBound, depth)
    }
  }

  /// im2col of every RoI of a channel-major `[inChannels][count · H · W]` input.
  @inlinable
  func unfold(
    _ input: UnsafePointer<Scalar>, count: Int, parts: Int,
    into cols: UnsafeMutablePointer<Scalar>
  ) {
    let span = count * plane
    _ParallelRanges.forEach(inChannels, parts: parts) { _, channels in
      for r in 0..<count {
        Conv2D<Scalar>.im2col(
          input + channels.lowerBound * span + r * plane, channels: channels.count,
          height: height, width: width, channelStride: span, rowStride: span,
          into: cols + channels.lowerBound * 9 * span + r * plane)
      }
    }
  }

  @inlinable
  func apply(
    _ source: UnsafePointer<Scalar>, count: Int, parts: Int,
    into target: UnsafeMutablePointer<Scalar>, sourceChannels: Int, targetChannels: Int,
    transposed: Bool
  ) {
    let span = count * plane
    guard span > 0 else { return }
    switch algorithm {
    case .winograd:
      applyWinograd(
        _WinogradF2x3<Scalar>.self, source, count: count, parts: parts, into: target,
        sourceChannels: sourceChannels, targetChannels: targetChannels, transposed: transposed)
    case .winograd4x4:
      applyWinograd(
        _WinogradF4x3<Scalar>.self, source, count: count, parts: parts, into: target,
        sourceChannels: sourceChannels, targetChannels: targetChannels, transposed: transposed)
    case .im2col, .automatic:
      let depth = inChannels * 9
      let cols = _ConvolutionScratch.grown(&scratch.columns, depth * span)
      weight.withUnsafeBufferPointer { kernel in
        guard let w = kernel.baseAddress else { return }
        if transposed {
          _ParallelRanges.forEach(span, parts: parts) { _, range in
            Scalar.blasGemm(
              transposeA: true, transposeB: false, depth, range.count, outChannels, 1,
              w, depth, source + range.lowerBound, span, 0, cols + range.lowerBound, span)
          }
          _ParallelRanges.forEach(inChannels, parts: parts) { _, channels in
            for r in 0..<count {
              Conv2D<Scalar>.col2im(
                cols + channels.lowerBound * 9 * span + r * plane, channels: channels.count,
                height: height, width: width, channelStride: span, rowStride: span,
                into: target + channels.lowerBound * span + r * plane)
            }
          }
        } else {
          unfold(source, count: count, parts: parts, into: cols)
          _ParallelRanges.forEach(span, parts: parts) { _, range in
            Scalar.blasGemm(
              transposeA: false, transposeB: false, outChannels, range.count, depth, 1,
              w, depth, cols + range.lowerBound, span, 0, target + range.lowerBound, span)
          }
        }
      }
    }
  }

  /// The convolution (or the transposed one) by the Winograd scheme `S`: the input
  /// transform split by channel, the `S.streams` GEMMs as parallel single-threaded streams,
  /// the output transform split by channel.
  @inlinable
  func applyWinograd<S: _WinogradScheme>(
    _ scheme: S.Type, _ source: UnsafePointer<Scalar>, count: Int, parts: Int,
    into target: UnsafeMutablePointer<Scalar>, sourceChannels: Int, targetChannels: Int,
    transposed: Bool
  ) where S.Scalar == Scalar {
    let span = count * plane
    let (tileRows, tileColumns) = S.tiles(height: height, width: width)
    let tiles = count * tileRows * tileColumns
    let streams = S.streams
    let (vStride, mStride) = (
      S.streamStride(sourceChannels * tiles), S.streamStride(targetChannels * tiles)
    )
    let uStride = S.streamStride(targetChannels * sourceChannels)
    let v = _ConvolutionScratch.grown(&scratch.transformedInput, streams * vStride)
    let m = _ConvolutionScratch.grown(&scratch.products, streams * mStride)
    let kernels: _ScalarBuffer<Scalar>
    if transposed {
      if transformedTranspose == nil {
        transformedTranspose = Self.transformedKernels(
          S.self, of: parametrisation, transposed: true, parts: parts)
      }
      kernels = transformedTranspose.unsafelyUnwrapped
    } else {
      kernels = transformed
    }
    let u = UnsafePointer(kernels.pointer(count: streams * uStride))
    let rows = scratch.rowScratch(
      parts: parts, count: S.rowScratchCount(height: height, width: width, roiCount: count))
    _ParallelRanges.forEach(sourceChannels, parts: parts) { part, channels in
      S.transformInput(
        source, channels: sourceChannels, range: channels, roiCount: count, height: height,
        width: width, channelStride: span, rowScratch: rows[part].base, into: v)
    }
    _ParallelRanges.forEach(streams, parts: parts) { _, range in
      for xi in range {
        Scalar.blasGemm(
          transposeA: false, transposeB: false, targetChannels, tiles, sourceChannels, 1,
          u + xi * uStride, sourceChannels, v + xi * vStride, tiles, 0, m + xi * mStride, tiles)
      }
    }
    _ParallelRanges.forEach(targetChannels, parts: parts) { part, channels in
      S.transformOutput(
        m, channels: targetChannels, range: channels, roiCount: count, height: height,
        width: width, channelStride: span, rowScratch: rows[part].base, into: target)
    }
  }
}
