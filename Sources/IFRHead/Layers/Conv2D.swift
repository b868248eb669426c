// A 3×3 convolution, stride 1, zero padding 1, computed as PyTorch's `conv2d` does
// (cross-correlation): y[o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[c, i + u − 1, j + v − 1].
//
// Implementation: im2col (Chellapilla, Puri & Simard 2006) and one BLAS GEMM per sample.
// Goals in priority order: every sample's result is bit-for-bit the same whatever the batch
// (the solvers treat each RoI as its own problem); no allocation in the per-sample kernels;
// the GEMM does the work, so the layer runs near the machine's GEMM rate.

/// A 3×3 convolution with stride 1 and zero padding 1 (PyTorch `Conv2d(i, o, 3, padding: 1)`).
///
/// ```
/// y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, i + u − 1, j + v − 1]
/// ```
/// Activations are NCHW, the weight is OIHW (`outChannels × inChannels × 3 × 3`), as in
/// PyTorch. There is no bias unless one is given.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let conv = Conv2D<Double>(inChannels: 8, outChannels: 16, using: &rng)
/// let y = conv(x)                 // x: [N, 8, H, W] → y: [N, 16, H, W]
/// ```
public struct Conv2D<Scalar: DEQScalar>: Sendable {
  /// The number of input channels.
  public let inChannels: Int
  /// The number of output channels.
  public let outChannels: Int
  /// The kernel, `outChannels × inChannels × 3 × 3`.
  public var weight: Tensor<Scalar>
  /// The optional bias, `[outChannels]`.
  public var bias: Tensor<Scalar>?

  /// The kernel side length (3).
  public static var kernelSize: Int { 3 }

  /// Creates a convolution from its weight (and optional bias).
  ///
  /// - Precondition: `weight` is `[outChannels, inChannels, 3, 3]` and `bias`, if any,
  ///   is `[outChannels]`. Weights from files go through ``IFRBlock/init(stateDictionary:metadata:form:)``,
  ///   which reports bad shapes as errors.
  @inlinable
  public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil) {
    precondition(
      weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
      "Conv2D weight must be [out, in, 3, 3], got \(weight.shape)")
    self.outChannels = weight.shape[0]
    self.inChannels = weight.shape[1]
    precondition(bias.map { $0.shape == [weight.shape[0]] } ?? true, "Conv2D bias shape")
    self.weight = weight
    self.bias = bias
  }

  /// Creates a convolution initialised as PyTorch's `Conv2d` default: every weight (and
  /// bias) uniform in `±1/√fanIn`, `fanIn = inChannels · 9`.
  ///
  /// PyTorch's default is `kaiming_uniform_(a: √5)`, whose bound `gain · √(3 / fanIn)`
  /// with `gain = √(2 / (1 + 5))` is exactly `1/√fanIn`.
  public init(
    inChannels: Int, outChannels: Int, bias: Bool = false,
    using generator: inout SeededGenerator
  ) {
    let bound = 1 / Scalar(inChannels * 9).squareRoot()
    let weight = Tensor<Scalar>(
      uniformIn: -bound...bound, shape: [outChannels, inChannels, 3, 3], using: &generator)
    let biasTensor =
      bias
      ? Tensor<Scalar>(uniformIn: -bound...bound, shape: [outChannels], using: &generator)
      : nil
    self.init(weight: weight, bias: biasTensor)
  }

  /// The number of trainable scalars (weight and bias).
  public var parameterCount: Int { weight.count + (bias?.count ?? 0) }

  /// Applies the convolution to a batch `[N, inChannels, H, W]`.
  ///
  /// - Complexity: `2 · outChannels · inChannels · 9 · H · W` flops per sample (one GEMM),
  ///   plus an im2col buffer of `inChannels · 9 · H · W` scalars.
  @inlinable
  public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(input, includeBias: true)
  }

  /// The derivative in the direction `tangent` (the convolution without its bias, since the
  /// layer is affine in its input).
  ///
  /// - Complexity: as ``callAsFunction(_:)``.
  @inlinable
  public func jvp(tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    apply(tangent, includeBias: false)
  }

  /// The cotangents of the input, the weight and the bias for an output cotangent.
  ///
  /// ```
  /// ∂x = Wᵀ ⋆ ∂y (col2im of Wᵀ·∂y),   ∂W = Σ_n ∂y_n · col(x_n)ᵀ,   ∂b[o] = Σ_{n,i,j} ∂y[n, o, i, j]
  /// ```
  /// - Parameters:
  ///   - input: the point `x`, `[N, inChannels, H, W]`.
  ///   - cotangent: `∂L/∂y`, `[N, outChannels, H, W]`.
  /// - Returns: `∂L/∂x`, `∂L/∂W` and `∂L/∂b` (`nil` without a bias).
  /// - Complexity: two GEMMs per sample, `4 · outChannels · inChannels · 9 · H · W` flops.
  @inlinable
  public func vjp(at input: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> (
    input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>?
  ) {
    let (n, height, width) = checkedGeometry(input)
    precondition(
      cotangent.shape == [n, outChannels, height, width], "Conv2D cotangent shape mismatch")
    let plane = height * width
    var inputCotangent = Tensor<Scalar>(zeros: input.shape)
    var weightCotangent = Tensor<Scalar>(zeros: weight.shape)
    var biasCotangent = bias.map { _ in Tensor<Scalar>(zeros: [outChannels]) }
    guard n > 0, plane > 0, inChannels > 0, outChannels > 0 else {
      return (inputCotangent, weightCotangent, biasCotangent)
    }
    var columns = [Scalar](repeating: 0, count: inChannels * 9 * plane)
    input.withUnsafeBufferPointer { x in
      cotangent.withUnsafeBufferPointer { dy in
        weight.withUnsafeBufferPointer { w in
          inputCotangent.withUnsafeMutableBufferPointer { dx in
            weightCotangent.withUnsafeMutableBufferPointer { dw in
              columns.withUnsafeMutableBufferPointer { col in
                for sample in 0..<n {
                  let xs = x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                  let dys = dy.baseAddress.unsafelyUnwrapped + sample * outChannels * plane
                  let dxs = dx.baseAddress.unsafelyUnwrapped + sample * inChannels * plane
                  Self.im2col(
                    xs, channels: inChannels, height: height, width: width,
                    into: col.baseAddress.unsafelyUnwrapped)
                  Self.accumulateWeightCotangent(
                    dys, columns: UnsafePointer(col.baseAddress.unsafelyUnwrapped),
                    outChannels: outChannels, inChannels: inChannels, plane: plane,
                    into: dw.baseAddress.unsafelyUnwrapped)
                  Self.inputCotangent(
                    dys, weight: w.baseAddress.unsafelyUnwrapped, outChannels: outChannels,
                    inChannels: inChannels, height: height, width: width,
                    columns: col.baseAddress.unsafelyUnwrapped, into: dxs)
                }
              }
            }
          }
        }
        if biasCotangent != nil {
          biasCotangent?.withUnsafeMutableBufferPointer { db in
            for sample in 0..<n {
              for o in 0..<outChannels {
                let row = dy.baseAddress.unsafelyUnwrapped + (sample * outChannels + o) * plane
                var sum: Scalar = 0
                for p in 0..<plane { sum += row[p] }
                db[o] += sum
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
      "Conv2D expects [N, \(inChannels), H, W], got \(input.shape)")
    return (input.shape[0], input.shape[2], input.shape[3])
  }

  @inlinable
  func apply(_ input: Tensor<Scalar>, includeBias: Bool) -> Tensor<Scalar> {
    let (n, height, width) = checkedGeometry(input)
    let plane = height * width
    var output = Tensor<Scalar>(zeros: [n, outChannels, height, width])
    guard n > 0, plane > 0, inChannels > 0, outChannels > 0 else { return output }
    var columns = [Scalar](repeating: 0, count: inChannels * 9 * plane)
    input.withUnsafeBufferPointer { x in
      weight.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
          columns.withUnsafeMutableBufferPointer { col in
            for sample in 0..<n {
              let ys = y.baseAddress.unsafelyUnwrapped + sample * outChannels * plane
              Self.forward(
                x.baseAddress.unsafelyUnwrapped + sample * inChannels * plane,
                weight: w.baseAddress.unsafelyUnwrapped, outChannels: outChannels,
                inChannels: inChannels, height: height, width: width,
                columns: col.baseAddress.unsafelyUnwrapped, into: ys)
              if includeBias, let bias {
                for o in 0..<outChannels {
                  let b = bias.scalars[o]
                  for p in 0..<plane { ys[o * plane + p] += b }
                }
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

extension Conv2D {
  /// Unfolds one sample `[channels, H, W]` into the `(channels · 9) × (H · W)` row-major
  /// matrix whose row `c · 9 + u · 3 + v` holds `x[c, i + u − 1, j + v − 1]` (zero outside).
  ///
  /// The sample's channels lie `channelStride` scalars apart (default `H · W`) and the rows
  /// of `columns` `rowStride` apart (default `H · W`): a channel-major batch unfolds one
  /// RoI at a time into the columns of one matrix.
  @inlinable
  static func im2col(
    _ input: UnsafePointer<Scalar>, channels: Int, height: Int, width: Int,
    channelStride: Int? = nil, rowStride: Int? = nil,
    into columns: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let inputStride = channelStride ?? plane
    let columnStride = rowStride ?? plane
    for c in 0..<channels {
      let source = input + c * inputStride
      for u in 0..<3 {
        for v in 0..<3 {
          let row = columns + ((c * 3 + u) * 3 + v) * columnStride
          for i in 0..<height {
            let target = row + i * width
            let si = i + u - 1
            guard si >= 0 && si < height else {
              target.update(repeating: 0, count: width)
              continue
            }
            let line = source + si * width
            switch v {
            case 0:
              target[0] = 0
              if width > 1 { (target + 1).update(from: line, count: width - 1) }
            case 1:
              target.update(from: line, count: width)
            default:
              if width > 1 { target.update(from: line + 1, count: width - 1) }
              target[width - 1] = 0
            }
          }
        }
      }
    }
  }

  /// The adjoint of ``im2col(_:channels:height:width:channelStride:rowStride:into:)``:
  /// adds every column entry back onto the input position it was read from. `output`
  /// (its channels `channelStride` apart) is overwritten.
  @inlinable
  static func col2im(
    _ columns: UnsafePointer<Scalar>, channels: Int, height: Int, width: Int,
    channelStride: Int? = nil, rowStride: Int? = nil,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let outputStride = channelStride ?? plane
    let columnStride = rowStride ?? plane
    for c in 0..<channels {
      let target = output + c * outputStride
      target.update(repeating: 0, count: plane)
      for u in 0..<3 {
        for v in 0..<3 {
          let row = columns + ((c * 3 + u) * 3 + v) * columnStride
          for i in 0..<height {
            let si = i + u - 1
            guard si >= 0 && si < height else { continue }
            let source = row + i * width
            let line = target + si * width
            switch v {
            case 0:
              for j in 1..<Swift.max(width, 1) { line[j - 1] += source[j] }
            case 1:
              for j in 0..<width { line[j] += source[j] }
            default:
              for j in 0..<Swift.max(width - 1, 0) { line[j + 1] += source[j] }
            }
          }
        }
      }
    }
  }

  /// `y = W · col(x)` for one sample (no bias): im2col then one GEMM
  /// (`outChannels × H·W × inChannels·9`). `columns` is scratch of `inChannels · 9 · H · W`.
  @inlinable
  static func forward(
    _ input: UnsafePointer<Scalar>, weight: UnsafePointer<Scalar>, outChannels: Int,
    inChannels: Int, height: Int, width: Int, columns: UnsafeMutablePointer<Scalar>,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let depth = inChannels * 9
    im2col(input, channels: inChannels, height: height, width: width, into: columns)
    Scalar.blasGemm(
      transposeA: false, transposeB: false, outChannels, plane, depth, 1,
      weight, depth, columns, plane, 0, output, plane)
  }

  /// `∂W += ∂y · col(x)ᵀ` for one sample, `columns` holding `col(x)`.
  @inlinable
  static func accumulateWeightCotangent(
    _ cotangent: UnsafePointer<Scalar>, columns: UnsafePointer<Scalar>, outChannels: Int,
    inChannels: Int, plane: Int, into weightCotangent: UnsafeMutablePointer<Scalar>
  ) {
    let depth = inChannels * 9
    Scalar.blasGemm(
      transposeA: false, transposeB: true, outChannels, depth, plane, 1,
      cotangent, plane, columns, plane, 1, weightCotangent, depth)
  }

  /// `∂x = col2im(Wᵀ · ∂y)` for one sample; `columns` is scratch (overwritten).
  @inlinable
  static func inputCotangent(
    _ cotangent: UnsafePointer<Scalar>, weight: UnsafePointer<Scalar>, outChannels: Int,
    inChannels: Int, height: Int, width: Int, columns: UnsafeMutablePointer<Scalar>,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let plane = height * width
    let depth = inChannels * 9
    Scalar.blasGemm(
      transposeA: true, transposeB: false, depth, plane, outChannels, 1,
      weight, depth, cotangent, plane, 0, columns, plane)
    col2im(columns, channels: inChannels, height: height, width: width, into: output)
  }
}
