// The 1×1 convolution with bias that ends the Mask R-CNN mask head (He et al. 2017;
// mmdetection's FCNMaskHead `conv_logits`, PyTorch `Conv2d(C, classes, 1)`): a per-pixel
// linear map of the channels, the same at every pixel.
//
// Implementation: one BLAS GEMM per sample, `[Cout, Cin] · [Cin, H·W]`, straight from the
// NCHW sample into the NCHW output (no im2col: a 1×1 kernel's columns are the input itself).
// Goals in priority order: every sample's result is bit-for-bit the same whatever the batch;
// no allocation beyond the results; the GEMM does the work.

/// A 1×1 convolution with bias (PyTorch `Conv2d(inChannels, outChannels, kernel_size: 1)`).
///
/// ```
/// y[n, o, i, j] = bias[o] + Σ_c w[o, c] · x[n, c, i, j]
/// ```
/// Activations are NCHW: `[N, inChannels, H, W]` → `[N, outChannels, H, W]`. The weight is
/// PyTorch's `[outChannels, inChannels, 1, 1]`, so a `state_dict`'s `predictor.weight` (or
/// mmdetection's `conv_logits.weight`) loads unchanged.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let predictor = PointwiseConv2D<Float>(inChannels: 256, outChannels: 80, using: &rng)
/// let logits = predictor(y)       // y: [N, 256, 28, 28] → logits: [N, 80, 28, 28]
/// ```
public struct PointwiseConv2D<Scalar: DEQScalar>: Sendable {
  /// The number of input channels.
  public let inChannels: Int
  /// The number of output channels (the mask classes in the head).
  public let outChannels: Int
  /// The kernel, `[outChannels, inChannels, 1, 1]`.
  public var weight: Tensor<Scalar>
  /// The bias, `[outChannels]`.
  public var bias: Tensor<Scalar>

  /// Creates the layer from its weight and bias.
  ///
  /// - Parameters:
  ///   - weight: `[outChannels, inChannels, 1, 1]`.
  ///   - bias: `[outChannels]`.
  /// - Precondition: the shapes above. Weights from files are checked by the loader, which
  ///   reports bad shapes as errors; a wrong shape here is a programmer error.
  @inlinable
  public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
    precondition(
      weight.rank == 4 && weight.shape[2] == 1 && weight.shape[3] == 1,
      "PointwiseConv2D weight must be [out, in, 1, 1], got \(weight.shape)")
    precondition(
      bias.shape == [weight.shape[0]],
      "PointwiseConv2D bias must be [\(weight.shape[0])], got \(bias.shape)")
    self.outChannels = weight.shape[0]
    self.inChannels = weight.shape[1]
    self.weight = weight
    self.bias = bias
  }

  /// Creates the layer initialised as mmdetection's FCNMaskHead initialises `conv_logits`:
  /// `kaiming_normal_(mode: "fan_out", nonlinearity: "relu")` for the weight, 0 for the bias.
  ///
  /// ```
  /// w ~ N(0, σ²),   σ = √(2 / fanOut),   fanOut = outChannels · 1 · 1,   bias = 0
  /// ```
  /// PyTorch's `_calculate_fan_in_and_fan_out` takes `fanOut = weight.size(0) · k · k`, here
  /// the output channels; the gain √2 is ReLU's.
  ///
  /// - Parameters:
  ///   - inChannels: input channels.
  ///   - outChannels: output channels.
  ///   - generator: the seeded generator that draws the weight (`outChannels · inChannels`
  ///     normal values, in the weight's row-major order).
  public init(inChannels: Int, outChannels: Int, using generator: inout SeededGenerator) {
    let standardDeviation = (2 / Scalar(outChannels)).squareRoot()
    let weight = Tensor<Scalar>(
      normalWithMean: 0, standardDeviation: standardDeviation,
      shape: [outChannels, inChannels, 1, 1], using: &generator)
    self.init(weight: weight, bias: Tensor<Scalar>(zeros: [outChannels]))
  }

  /// The number of trainable scalars: `outChannels · inChannels + outChannels`.
  public var parameterCount: Int { weight.count + bias.count }

  /// The weight and bias under their PyTorch `state_dict` names (`weight`, `bias`), in that
  /// order; prefix them with the module's name (`predictor.`) to place them in a head.
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    [("weight", weight), ("bias", bias)]
  }

  /// Applies the layer to a batch `[N, inChannels, H, W]`, giving `[N, outChannels, H, W]`.
  ///
  /// - Parameter input: the activations, `[N, inChannels, H, W]`.
  /// - Returns: `y`, `[N, outChannels, H, W]`.
  /// - Complexity: `2 · outChannels · inChannels · H · W` flops per sample (one GEMM); no
  ///   memory beyond the output.
  @inlinable
  public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(input, includeBias: true)
  }

  /// The derivative in the direction `tangent`: the layer without its bias, since it is
  /// affine in its input (so the point is not needed).
  ///
  /// ```
  /// ẏ[n, o, i, j] = Σ_c w[o, c] · ẋ[n, c, i, j]
  /// ```
  /// - Parameter tangent: `ẋ`, `[N, inChannels, H, W]`.
  /// - Returns: `ẏ`, `[N, outChannels, H, W]`.
  /// - Complexity: as ``callAsFunction(_:)``.
  @inlinable
  public func jvp(tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(tangent, includeBias: false)
  }

  /// The cotangents of the input, the weight and the bias for an output cotangent.
  ///
  /// With `Wm` the weight as an `[outChannels, inChannels]` matrix and each sample a
  /// `[channels, H·W]` matrix:
  /// ```
  /// ∂x_n = Wmᵀ · ∂y_n,   ∂Wm = Σ_n ∂y_n · x_nᵀ,   ∂b[o] = Σ_{n, i, j} ∂y[n, o, i, j]
  /// ```
  /// - Parameters:
  ///   - input: the point `x`, `[N, inChannels, H, W]` (only the weight cotangent uses it).
  ///   - cotangent: `∂L/∂y`, `[N, outChannels, H, W]`.
  /// - Returns: `∂L/∂x` `[N, inChannels, H, W]`, `∂L/∂w` `[outChannels, inChannels, 1, 1]`
  ///   and `∂L/∂b` `[outChannels]`.
  /// - Complexity: two GEMMs per sample, `4 · outChannels · inChannels · H · W` flops; no
  ///   memory beyond the results.
  @inlinable
  public func vjp(at input: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> (
    input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>
  ) {
    let (n, height, width) = checkedGeometry(input)
    precondition(
      cotangent.shape == [n, outChannels, height, width],
      "PointwiseConv2D cotangent must be \([n, outChannels, height, width]), "
        + "got \(cotangent.shape)")
    let plane = height * width
    var inputCotangent = Tensor<Scalar>(zeros: input.shape)
    var weightCotangent = Tensor<Scalar>(zeros: weight.shape)
    var biasCotangent = Tensor<Scalar>(zeros: [outChannels])
    guard n > 0, plane > 0, outChannels > 0 else {
      return (inputCotangent, weightCotangent, biasCotangent)
    }
    input.withUnsafeBufferPointer { x in
      cotangent.withUnsafeBufferPointer { dy in
        weight.withUnsafeBufferPointer { w in
          inputCotangent.withUnsafeMutableBufferPointer { dx in
            weightCotangent.withUnsafeMutableBufferPointer { dw in
              biasCotangent.withUnsafeMutableBufferPointer { db in
                for sample in 0..<n {
                  let dys = dy.baseAddress.unsafelyUnwrapped + sample * outChannels * plane
                  if inChannels > 0 {
                    let xs = x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                    let dxs = dx.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                    // ∂x_n = Wmᵀ · ∂y_n: [Cin, Cout] · [Cout, H·W].
                    Scalar.blasGemm(
                      transposeA: true, transposeB: false, inChannels, plane, outChannels, 1,
                      w.baseAddress.unsafelyUnwrapped, inChannels, dys, plane, 0, dxs, plane)
                    // ∂Wm += ∂y_n · x_nᵀ: [Cout, H·W] · [H·W, Cin].
                    Scalar.blasGemm(
                      transposeA: false, transposeB: true, outChannels, inChannels, plane, 1,
                      dys, plane, xs, plane, 1, dw.baseAddress.unsafelyUnwrapped, inChannels)
                  }
                  for o in 0..<outChannels {
                    let row = dys + o * plane
                    var sum: Scalar = 0
                    for p in 0..<plane { sum += row[p] }
                    db[o] += sum
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
      "PointwiseConv2D expects [N, \(inChannels), H, W], got \(input.shape)")
    precondition(
      weight.shape == [outChannels, inChannels, 1, 1] && bias.shape == [outChannels],
      "PointwiseConv2D weight \(weight.shape) or bias \(bias.shape) was replaced by a wrong shape")
    return (input.shape[0], input.shape[2], input.shape[3])
  }

  /// `y_n = b + Wm · x_n` per sample: the output starts as the broadcast bias (or 0) and the
  /// GEMM accumulates onto it.
  @inlinable
  func apply(_ input: Tensor<Scalar>, includeBias: Bool) -> Tensor<Scalar> {
    let (n, height, width) = checkedGeometry(input)
    let plane = height * width
    var output = Tensor<Scalar>(zeros: [n, outChannels, height, width])
    guard n > 0, plane > 0, outChannels > 0 else { return output }
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        bias.withUnsafeBufferPointer { b in
          output.withUnsafeMutableBufferPointer { y in
            for sample in 0..<n {
              let ys = y.baseAddress.unsafelyUnwrapped + sample * outChannels * plane
              if includeBias {
                for o in 0..<outChannels { (ys + o * plane).update(repeating: b[o], count: plane) }
              }
              // y_n (+)= Wm · x_n: [Cout, Cin] · [Cin, H·W] (an empty sum adds nothing).
              if inChannels > 0 {
                Scalar.blasGemm(
                  transposeA: false, transposeB: false, outChannels, plane, inChannels, 1,
                  w.baseAddress.unsafelyUnwrapped, inChannels,
                  x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane, plane,
                  includeBias ? 1 : 0, ys, plane)
              }
            }
          }
        }
      }
    }
    return output
  }
}
