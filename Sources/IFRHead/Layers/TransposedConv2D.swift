// The 2×2, stride-2 transposed convolution that upsamples the refined RoI features in the
// Mask R-CNN mask head (He et al. 2017; mmdetection's FCNMaskHead `upsample`, PyTorch
// `ConvTranspose2d(C, C, 2, stride: 2)`): every input pixel paints its own 2×2 output patch,
// so the output windows never overlap and the layer is a matrix product followed by a scatter.
//
// Implementation: one BLAS GEMM per sample, `[Cout·4, Cin] · [Cin, H·W]`, then a scatter of
// the `[Cout·4, H·W]` product into the `[Cout, 2H, 2W]` output. Goals in priority order:
// every sample's result is bit-for-bit the same whatever the batch; one scratch buffer per
// call (the product, reused by every sample); the GEMM does the work.

/// A 2×2 transposed convolution with stride 2, no padding, with bias (PyTorch
/// `ConvTranspose2d(inChannels, outChannels, kernel_size: 2, stride: 2)`).
///
/// ```
/// y[n, o, 2i + a, 2j + b] = bias[o] + Σ_c w[c, o, a, b] · x[n, c, i, j]     a, b ∈ {0, 1}
/// ```
/// Activations are NCHW: `[N, inChannels, H, W]` → `[N, outChannels, 2H, 2W]`. The weight
/// has PyTorch's `ConvTranspose2d` layout `[inChannels, outChannels, 2, 2]` (input channels
/// first, unlike ``Conv2D``), so a `state_dict`'s `deconv.weight` loads unchanged.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let upsample = TransposedConv2D<Float>(inChannels: 256, outChannels: 256, using: &rng)
/// let y = upsample(x)             // x: [N, 256, 14, 14] → y: [N, 256, 28, 28]
/// ```
public struct TransposedConv2D<Scalar: DEQScalar>: Sendable {
  /// The number of input channels.
  public let inChannels: Int
  /// The number of output channels.
  public let outChannels: Int
  /// The kernel, `[inChannels, outChannels, 2, 2]` (PyTorch `ConvTranspose2d` layout).
  public var weight: Tensor<Scalar>
  /// The bias, `[outChannels]`.
  public var bias: Tensor<Scalar>

  /// The kernel side length and the stride (2).
  public static var kernelSize: Int { 2 }

  /// Creates the layer from its weight and bias.
  ///
  /// - Parameters:
  ///   - weight: `[inChannels, outChannels, 2, 2]`.
  ///   - bias: `[outChannels]`.
  /// - Precondition: the shapes above. Weights from files are checked by the loader, which
  ///   reports bad shapes as errors; a wrong shape here is a programmer error.
  @inlinable
  public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
    precondition(
      weight.rank == 4 && weight.shape[2] == 2 && weight.shape[3] == 2,
      "TransposedConv2D weight must be [in, out, 2, 2], got \(weight.shape)")
    precondition(
      bias.shape == [weight.shape[1]],
      "TransposedConv2D bias must be [\(weight.shape[1])], got \(bias.shape)")
    self.inChannels = weight.shape[0]
    self.outChannels = weight.shape[1]
    self.weight = weight
    self.bias = bias
  }

  /// Creates the layer initialised as mmdetection's FCNMaskHead initialises `upsample`:
  /// `kaiming_normal_(mode: "fan_out", nonlinearity: "relu")` for the weight, 0 for the bias.
  ///
  /// ```
  /// w ~ N(0, σ²),   σ = √(2 / fanOut),   fanOut = inChannels · 2 · 2,   bias = 0
  /// ```
  /// PyTorch's `_calculate_fan_in_and_fan_out` takes `fanOut = weight.size(0) · k · k`; for
  /// a `ConvTranspose2d` weight `[in, out, k, k]` dimension 0 is the *input* channels. The
  /// gain √2 is ReLU's.
  ///
  /// - Parameters:
  ///   - inChannels: input channels.
  ///   - outChannels: output channels.
  ///   - generator: the seeded generator that draws the weight (`inChannels · outChannels · 4`
  ///     normal values, in the weight's row-major order).
  public init(inChannels: Int, outChannels: Int, using generator: inout SeededGenerator) {
    let fanOut = inChannels * Self.kernelSize * Self.kernelSize
    let standardDeviation = (2 / Scalar(fanOut)).squareRoot()
    let weight = Tensor<Scalar>(
      normalWithMean: 0, standardDeviation: standardDeviation,
      shape: [inChannels, outChannels, Self.kernelSize, Self.kernelSize], using: &generator)
    self.init(weight: weight, bias: Tensor<Scalar>(zeros: [outChannels]))
  }

  /// The number of trainable scalars: `inChannels · outChannels · 4 + outChannels`.
  public var parameterCount: Int { weight.count + bias.count }

  /// The weight and bias under their PyTorch `state_dict` names (`weight`, `bias`), in that
  /// order; prefix them with the module's name (`deconv.`) to place them in a head.
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    [("weight", weight), ("bias", bias)]
  }

  /// Applies the layer to a batch `[N, inChannels, H, W]`, giving `[N, outChannels, 2H, 2W]`.
  ///
  /// - Parameter input: the activations, `[N, inChannels, H, W]`.
  /// - Returns: `y`, `[N, outChannels, 2H, 2W]`.
  /// - Complexity: `8 · outChannels · inChannels · H · W` flops per sample (one GEMM) plus
  ///   `4 · outChannels · H · W` for the bias; a scratch of `4 · outChannels · H · W` scalars.
  @inlinable
  public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(input, includeBias: true)
  }

  /// The derivative in the direction `tangent`: the layer without its bias, since it is
  /// affine in its input (so the point is not needed).
  ///
  /// ```
  /// ẏ[n, o, 2i + a, 2j + b] = Σ_c w[c, o, a, b] · ẋ[n, c, i, j]
  /// ```
  /// - Parameter tangent: `ẋ`, `[N, inChannels, H, W]`.
  /// - Returns: `ẏ`, `[N, outChannels, 2H, 2W]`.
  /// - Complexity: as ``callAsFunction(_:)``, without the bias.
  @inlinable
  public func jvp(tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(tangent, includeBias: false)
  }

  /// The cotangents of the input, the weight and the bias for an output cotangent.
  ///
  /// With `G[o·4 + a·2 + b, i·W + j] = ∂y[n, o, 2i + a, 2j + b]` (the cotangent gathered
  /// back into the GEMM's layout) and `Wm` the weight as a `[inChannels, outChannels·4]`
  /// matrix:
  /// ```
  /// ∂x_n = Wm · G_n,   ∂Wm = Σ_n x_n · G_nᵀ,   ∂b[o] = Σ_{n, p, q} ∂y[n, o, p, q]
  /// ```
  /// - Parameters:
  ///   - input: the point `x`, `[N, inChannels, H, W]` (only the weight cotangent uses it).
  ///   - cotangent: `∂L/∂y`, `[N, outChannels, 2H, 2W]`.
  /// - Returns: `∂L/∂x` `[N, inChannels, H, W]`, `∂L/∂w` `[inChannels, outChannels, 2, 2]`
  ///   and `∂L/∂b` `[outChannels]`.
  /// - Complexity: two GEMMs per sample, `16 · outChannels · inChannels · H · W` flops, plus
  ///   a scratch of `4 · outChannels · H · W` scalars.
  @inlinable
  public func vjp(at input: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> (
    input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>
  ) {
    let (n, height, width) = checkedGeometry(input)
    precondition(
      cotangent.shape == [n, outChannels, 2 * height, 2 * width],
      "TransposedConv2D cotangent must be \([n, outChannels, 2 * height, 2 * width]), "
        + "got \(cotangent.shape)")
    let plane = height * width
    let rows = outChannels * 4
    var inputCotangent = Tensor<Scalar>(zeros: input.shape)
    var weightCotangent = Tensor<Scalar>(zeros: weight.shape)
    var biasCotangent = Tensor<Scalar>(zeros: [outChannels])
    guard n > 0, plane > 0, outChannels > 0 else {
      return (inputCotangent, weightCotangent, biasCotangent)
    }
    var gathered = [Scalar](repeating: 0, count: rows * plane)
    input.withUnsafeBufferPointer { x in
      cotangent.withUnsafeBufferPointer { dy in
        weight.withUnsafeBufferPointer { w in
          inputCotangent.withUnsafeMutableBufferPointer { dx in
            weightCotangent.withUnsafeMutableBufferPointer { dw in
              biasCotangent.withUnsafeMutableBufferPointer { db in
                gathered.withUnsafeMutableBufferPointer { g in
                  let gp = g.baseAddress.unsafelyUnwrapped
                  for sample in 0..<n {
                    let dys = dy.baseAddress.unsafelyUnwrapped + sample * rows * plane
                    Self.gather(
                      dys, channels: outChannels, height: height, width: width, into: gp)
                    if inChannels > 0 {
                      let xs = x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                      let dxs = dx.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                      // ∂x_n = Wm · G_n: [Cin, Cout·4] · [Cout·4, H·W].
                      Scalar.blasGemm(
                        transposeA: false, transposeB: false, inChannels, plane, rows, 1,
                        w.baseAddress.unsafelyUnwrapped, rows, gp, plane, 0, dxs, plane)
                      // ∂Wm += x_n · G_nᵀ: [Cin, H·W] · [H·W, Cout·4].
                      Scalar.blasGemm(
                        transposeA: false, transposeB: true, inChannels, rows, plane, 1,
                        xs, plane, gp, plane, 1, dw.baseAddress.unsafelyUnwrapped, rows)
                    }
                    // ∂b[o] += Σ over the 2×2 patches of every pixel = Σ of row block o of G.
                    for o in 0..<outChannels {
                      let block = gp + o * 4 * plane
                      var sum: Scalar = 0
                      for p in 0..<(4 * plane) { sum += block[p] }
                      db[o] += sum
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return (inputCotangent, weightCotangent, biasCotangent)
  }

  @inlinable
  func checkedGeometry(_ input: Tensor<Scalar>) -> (n: Int, height: Int, width: Int) {
    precondition(
      input.rank == 4 && input.shape[1] == inChannels,
      "TransposedConv2D expects [N, \(inChannels), H, W], got \(input.shape)")
    precondition(
      weight.shape == [inChannels, outChannels, 2, 2] && bias.shape == [outChannels],
      "TransposedConv2D weight \(weight.shape) or bias \(bias.shape) was replaced by a wrong shape")
    return (input.shape[0], input.shape[2], input.shape[3])
  }

  @inlinable
  func apply(_ input: Tensor<Scalar>, includeBias: Bool) -> Tensor<Scalar> {
    let (n, height, width) = checkedGeometry(input)
    let plane = height * width
    let rows = outChannels * 4
    var output = Tensor<Scalar>(zeros: [n, outChannels, 2 * height, 2 * width])
    guard n > 0, plane > 0, outChannels > 0 else { return output }
    var product = [Scalar](repeating: 0, count: rows * plane)
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        bias.withUnsafeBufferPointer { b in
          output.withUnsafeMutableBufferPointer { y in
            product.withUnsafeMutableBufferPointer { p in
              let pp = p.baseAddress.unsafelyUnwrapped
              for sample in 0..<n {
                // P = Wmᵀ · x_n: [Cout·4, Cin] · [Cin, H·W] (an empty sum stays 0).
                if inChannels > 0 {
                  Scalar.blasGemm(
                    transposeA: true, transposeB: false, rows, plane, inChannels, 1,
                    w.baseAddress.unsafelyUnwrapped, rows,
                    x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane, plane,
                    0, pp, plane)
                }
                Self.scatter(
                  pp, bias: includeBias ? b.baseAddress : nil, channels: outChannels,
                  height: height, width: width,
                  into: y.baseAddress.unsafelyUnwrapped + sample * rows * plane)
              }
            }
          }
        }
      }
    }
    return output
  }

}

// MARK: - Per-sample kernels

extension TransposedConv2D {
  /// Writes one sample's output `[channels, 2H, 2W]` from the GEMM product `[channels·4, H·W]`
  /// (row `o·4 + a·2 + b` holds the `(a, b)` corner of every pixel's patch), adding `bias`
  /// if given.
  @inlinable
  static func scatter(
    _ product: UnsafePointer<Scalar>, bias: UnsafePointer<Scalar>?, channels: Int, height: Int,
    width: Int, into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let outputWidth = 2 * width
    for o in 0..<channels {
      let offset = bias?[o] ?? 0
      let target = output + o * 4 * plane
      for a in 0..<2 {
        for b in 0..<2 {
          let row = product + (o * 4 + a * 2 + b) * plane
          for i in 0..<height {
            let line = target + (2 * i + a) * outputWidth + b
            let source = row + i * width
            for j in 0..<width { line[2 * j] = source[j] + offset }
          }
        }
      }
    }
  }

  /// The adjoint of the scatter: reads one sample's cotangent `[channels, 2H, 2W]` into the
  /// GEMM layout `[channels·4, H·W]` (overwritten).
  @inlinable
  static func gather(
    _ cotangent: UnsafePointer<Scalar>, channels: Int, height: Int, width: Int,
    into gathered: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let outputWidth = 2 * width
    for o in 0..<channels {
      let source = cotangent + o * 4 * plane
      for a in 0..<2 {
        for b in 0..<2 {
          let row = gathered + (o * 4 + a * 2 + b) * plane
          for i in 0..<height {
            let line = source + (2 * i + a) * outputWidth + b
            let target = row + i * width
            for j in 0..<width { target[j] = line[2 * j] }
          }
        }
      }
    }
  }
}
