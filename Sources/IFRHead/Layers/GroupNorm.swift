// Group normalisation (Wu & He 2018), as PyTorch's `GroupNorm(groups, channels, eps)`: per
// sample, the channels are split into `groups` contiguous groups; each group is shifted by its
// mean and divided by √(biased variance + ε) over (channels/groups) × H × W values; then a
// per-channel affine map γ_c · x̂ + β_c.
//
// Goals in priority order: PyTorch's semantics (biased variance, ε inside the root); exact
// derivatives; per-sample kernels that never allocate.

/// Group normalisation with a per-channel affine map (PyTorch `GroupNorm`).
///
/// For each sample and group `g` of `m = (channels / groups) · H · W` values:
/// ```
/// μ = (1/m) Σ x,   σ² = (1/m) Σ (x − μ)²,   x̂ = (x − μ) / √(σ² + ε),   y = γ_c · x̂ + β_c
/// ```
public struct GroupNorm<Scalar: DEQScalar>: Sendable {
  /// The number of channels.
  public let channels: Int
  /// The number of groups; divides ``channels``.
  public let groups: Int
  /// The ε added to the variance (PyTorch's `eps`, default `1e-5`).
  public let epsilon: Scalar
  /// The per-channel scale γ (PyTorch `weight`), `[channels]`.
  public var scale: Tensor<Scalar>
  /// The per-channel offset β (PyTorch `bias`), `[channels]`.
  public var offset: Tensor<Scalar>

  /// Creates a group normalisation with γ = 1 and β = 0 (PyTorch's initialisation).
  ///
  /// - Precondition: `groups` divides `channels`.
  public init(channels: Int, groups: Int = 4, epsilon: Scalar = 1e-5) {
    self.init(
      channels: channels, groups: groups, epsilon: epsilon,
      scale: Tensor(shape: [channels], repeating: 1), offset: Tensor(zeros: [channels]))
  }

  /// Creates a group normalisation with the given affine parameters.
  ///
  /// - Precondition: `groups` divides `channels`; `scale` and `offset` are `[channels]`.
  @inlinable
  public init(
    channels: Int, groups: Int, epsilon: Scalar, scale: Tensor<Scalar>, offset: Tensor<Scalar>
  ) {
    precondition(
      groups > 0 && channels % groups == 0, "GroupNorm: \(groups) groups must divide \(channels)")
    precondition(scale.shape == [channels] && offset.shape == [channels], "GroupNorm affine shape")
    self.channels = channels
    self.groups = groups
    self.epsilon = epsilon
    self.scale = scale
    self.offset = offset
  }

  /// The number of trainable scalars (γ and β).
  public var parameterCount: Int { 2 * channels }

  /// Normalises a batch `[N, channels, H, W]`.
  ///
  /// - Complexity: about `8 · count` flops, no scratch beyond the output.
  @inlinable
  public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
    let (n, plane) = checkedGeometry(input)
    var output = Tensor<Scalar>(zeros: input.shape)
    var inverseDeviation = [Scalar](repeating: 0, count: groups)
    withAffine { gamma, beta in
      forEachSample(n, plane, input, &output, &inverseDeviation) { x, y, s in
        Self.normalize(
          x, channels: channels, groups: groups, plane: plane, epsilon: epsilon, normalized: y,
          inverseDeviation: s)
        Self.applyAffine(
          y, scale: gamma, offset: beta, channels: channels, plane: plane, into: y)
      }
    }
    return output
  }

  /// The derivative at `input` in the direction `tangent`.
  ///
  /// ```
  /// ẏ = γ_c · (ẋ − mean_g(ẋ) − x̂ · mean_g(ẋ · x̂)) / √(σ² + ε)
  /// ```
  /// - Complexity: about `10 · count` flops.
  @inlinable
  public func jvp(at input: Tensor<Scalar>, tangent: Tensor<Scalar>) -> Tensor<Scalar> {
    let (n, plane) = checkedGeometry(input)
    precondition(tangent.shape == input.shape, "GroupNorm tangent shape mismatch")
    var output = Tensor<Scalar>(zeros: input.shape)
    var normalized = [Scalar](repeating: 0, count: channels * plane)
    var inverseDeviation = [Scalar](repeating: 0, count: groups)
    guard n > 0, plane > 0 else { return output }
    input.withUnsafeBufferPointer { x in
      tangent.withUnsafeBufferPointer { t in
        output.withUnsafeMutableBufferPointer { y in
          normalized.withUnsafeMutableBufferPointer { xhat in
            inverseDeviation.withUnsafeMutableBufferPointer { s in
              for sample in 0..<n {
                let offset = sample * channels * plane
                Self.normalize(
                  x.baseAddress.unsafelyUnwrapped + offset, channels: channels, groups: groups,
                  plane: plane, epsilon: epsilon, normalized: xhat.baseAddress.unsafelyUnwrapped,
                  inverseDeviation: s.baseAddress.unsafelyUnwrapped)
                withAffine { gamma, _ in
                  Self.jvp(
                    t.baseAddress.unsafelyUnwrapped + offset,
                    normalized: xhat.baseAddress.unsafelyUnwrapped,
                    inverseDeviation: s.baseAddress.unsafelyUnwrapped, scale: gamma,
                    channels: channels, groups: groups, plane: plane,
                    into: y.baseAddress.unsafelyUnwrapped + offset)
                }
              }
            }
          }
        }
      }
    }
    return output
  }

  /// The cotangents of the input, γ and β for an output cotangent `∂y`.
  ///
  /// ```
  /// ∂γ_c = Σ ∂y · x̂,   ∂β_c = Σ ∂y,
  /// ∂x = (g − mean_g(g) − x̂ · mean_g(g · x̂)) / √(σ² + ε),   g = γ_c · ∂y
  /// ```
  /// - Returns: `∂L/∂x` (the input's shape), `∂L/∂γ` and `∂L/∂β` (`[channels]`).
  /// - Complexity: about `12 · count` flops.
  @inlinable
  public func vjp(at input: Tensor<Scalar>, cotangent: Tensor<Scalar>) -> (
    input: Tensor<Scalar>, scale: Tensor<Scalar>, offset: Tensor<Scalar>
  ) {
    let (n, plane) = checkedGeometry(input)
    precondition(cotangent.shape == input.shape, "GroupNorm cotangent shape mismatch")
    var inputCotangent = Tensor<Scalar>(zeros: input.shape)
    var scaleCotangent = Tensor<Scalar>(zeros: [channels])
    var offsetCotangent = Tensor<Scalar>(zeros: [channels])
    var normalized = [Scalar](repeating: 0, count: channels * plane)
    var inverseDeviation = [Scalar](repeating: 0, count: groups)
    guard n > 0, plane > 0 else { return (inputCotangent, scaleCotangent, offsetCotangent) }
    input.withUnsafeBufferPointer { x in
      cotangent.withUnsafeBufferPointer { dy in
        inputCotangent.withUnsafeMutableBufferPointer { dx in
          normalized.withUnsafeMutableBufferPointer { xhat in
            inverseDeviation.withUnsafeMutableBufferPointer { s in
              scaleCotangent.withUnsafeMutableBufferPointer { dg in
                offsetCotangent.withUnsafeMutableBufferPointer { db in
                  for sample in 0..<n {
                    let offset = sample * channels * plane
                    Self.normalize(
                      x.baseAddress.unsafelyUnwrapped + offset, channels: channels,
                      groups: groups, plane: plane, epsilon: epsilon,
                      normalized: xhat.baseAddress.unsafelyUnwrapped,
                      inverseDeviation: s.baseAddress.unsafelyUnwrapped)
                    withAffine { gamma, _ in
                      Self.vjp(
                        dy.baseAddress.unsafelyUnwrapped + offset,
                        normalized: xhat.baseAddress.unsafelyUnwrapped,
                        inverseDeviation: s.baseAddress.unsafelyUnwrapped, scale: gamma,
                        channels: channels, groups: groups, plane: plane,
                        into: dx.baseAddress.unsafelyUnwrapped + offset,
                        scaleCotangent: dg.baseAddress.unsafelyUnwrapped,
                        offsetCotangent: db.baseAddress.unsafelyUnwrapped)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return (inputCotangent, scaleCotangent, offsetCotangent)
  }

  @inlinable
  func checkedGeometry(_ input: Tensor<Scalar>) -> (n: Int, plane: Int) {
    precondition(
      input.rank >= 2 && input.shape[1] == channels,
      "GroupNorm expects [N, \(channels), …], got \(input.shape)")
    let n = input.shape[0]
    return (n, n == 0 || channels == 0 ? 0 : input.count / (n * channels))
  }

  @inlinable
  func withAffine<R>(_ body: (UnsafePointer<Scalar>, UnsafePointer<Scalar>) -> R) -> R {
    scale.withUnsafeBufferPointer { gamma in
      offset.withUnsafeBufferPointer { beta in
        body(gamma.baseAddress.unsafelyUnwrapped, beta.baseAddress.unsafelyUnwrapped)
      }
    }
  }

  @inlinable
  func forEachSample(
    _ n: Int, _ plane: Int, _ input: Tensor<Scalar>, _ output: inout Tensor<Scalar>,
    _ inverseDeviation: inout [Scalar],
    _ body: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, UnsafeMutablePointer<Scalar>) ->
      Void
  ) {
    guard n > 0, plane > 0 else { return }
    input.withUnsafeBufferPointer { x in
      output.withUnsafeMutableBufferPointer { y in
        inverseDeviation.withUnsafeMutableBufferPointer { s in
          for sample in 0..<n {
            let offset = sample * channels * plane
            body(
              x.baseAddress.unsafelyUnwrapped + offset, y.baseAddress.unsafelyUnwrapped + offset,
              s.baseAddress.unsafelyUnwrapped)
          }
        }
      }
    }
  }
}

// MARK: - Per-sample kernels
//
// One sample's channels are rows of `plane` scalars, `channelStride` apart (`plane` for
// NCHW; `N · plane` when a batch is stored channel-major, as the block's workspace does so
// that one GEMM covers every RoI). Sums run channel by channel, each row in order, so the
// result does not depend on the stride. Sums accumulate in Double whatever the scalar:
// Float's own sums over a group (12,544 values at the paper's size) lost two digits of F
// against PyTorch (2.5e-5 relative), the Double ones keep F at Float's rounding level.

extension GroupNorm {
  /// Writes `x̂` and each group's `1/√(σ² + ε)` for one sample `[channels, plane]`.
  /// `normalized` may alias `input`.
  @inlinable
  static func normalize(
    _ input: UnsafePointer<Scalar>, channels: Int, groups: Int, plane: Int,
    channelStride: Int? = nil, epsilon: Scalar,
    normalized: UnsafeMutablePointer<Scalar>, inverseDeviation: UnsafeMutablePointer<Scalar>
  ) {
    let stride = channelStride ?? plane
    let perGroup = channels / groups
    for g in 0..<groups {
      let (mean, s) = statistics(
        input + g * perGroup * stride, channels: perGroup, plane: plane, channelStride: stride,
        epsilon: epsilon)
      inverseDeviation[g] = s
      for k in 0..<perGroup {
        let offset = (g * perGroup + k) * stride
        let x = input + offset
        let y = normalized + offset
        for i in 0..<plane { y[i] = (x[i] - mean) * s }
      }
    }
  }

  /// The mean and `1/√(σ² + ε)` of one group (`channels` rows of `plane`, `channelStride`
  /// apart): two passes in `Double`, the exact mean first.
  @inlinable
  static func statistics(
    _ input: UnsafePointer<Scalar>, channels: Int, plane: Int, channelStride stride: Int,
    epsilon: Scalar
  ) -> (mean: Scalar, inverseDeviation: Scalar) {
    let count = Double(channels * plane)
    var sum: Double = 0
    for k in 0..<channels { sum += rowSum(input + k * stride, plane) }
    let exactMean = sum / count
    var squares: Double = 0
    for k in 0..<channels {
      squares += rowSquaredDeviation(input + k * stride, plane, mean: exactMean)
    }
    return (Scalar(exactMean), Scalar(1 / (squares / count + Double(epsilon)).squareRoot()))
  }

  /// `y = γ_c · x̂ + β_c` for one sample; `output` may alias `normalized`.
  @inlinable
  static func applyAffine(
    _ normalized: UnsafePointer<Scalar>, scale gamma: UnsafePointer<Scalar>,
    offset beta: UnsafePointer<Scalar>, channels: Int, plane: Int, channelStride: Int? = nil,
    into output: UnsafeMutablePointer<Scalar>
  ) {
    let stride = channelStride ?? plane
    for c in 0..<channels {
      let a = gamma[c]
      let b = beta[c]
      let x = normalized + c * stride
      let y = output + c * stride
      for i in 0..<plane { y[i] = a * x[i] + b }
    }
  }

  /// The JVP for one sample; `output` may alias `tangent`.
  @inlinable
  static func jvp(
    _ tangent: UnsafePointer<Scalar>, normalized: UnsafePointer<Scalar>,
    inverseDeviation: UnsafePointer<Scalar>, scale gamma: UnsafePointer<Scalar>, channels: Int,
    groups: Int, plane: Int, channelStride: Int? = nil, into output: UnsafeMutablePointer<Scalar>
  ) {
    let stride = channelStride ?? plane
    let perGroup = channels / groups
    let count = Double(perGroup * plane)
    for g in 0..<groups {
      var sum: Double = 0
      var projection: Double = 0
      for k in 0..<perGroup {
        let offset = (g * perGroup + k) * stride
        let row = rowSumAndProjection(tangent + offset, normalized + offset, plane)
        sum += row.sum
        projection += row.projection
      }
      let mean = Scalar(sum / count)
      let meanProjection = Scalar(projection / count)
      let s = inverseDeviation[g]
      for k in 0..<perGroup {
        let c = g * perGroup + k
        let factor = gamma[c] * s
        let offset = c * stride
        let t = tangent + offset
        let xhat = normalized + offset
        let y = output + offset
        for i in 0..<plane { y[i] = factor * (t[i] - mean - xhat[i] * meanProjection) }
      }
    }
  }

  /// The VJP for one sample: writes `∂x` (may alias `cotangent`) and adds to `∂γ`, `∂β`.
  @inlinable
  static func vjp(
    _ cotangent: UnsafePointer<Scalar>, normalized: UnsafePointer<Scalar>,
    inverseDeviation: UnsafePointer<Scalar>, scale gamma: UnsafePointer<Scalar>, channels: Int,
    groups: Int, plane: Int, channelStride: Int? = nil, into output: UnsafeMutablePointer<Scalar>,
    scaleCotangent: UnsafeMutablePointer<Scalar>?, offsetCotangent: UnsafeMutablePointer<Scalar>?
  ) {
    let stride = channelStride ?? plane
    let perGroup = channels / groups
    let count = Double(perGroup * plane)
    for g in 0..<groups {
      var sum: Double = 0
      var projection: Double = 0
      for k in 0..<perGroup {
        let c = g * perGroup + k
        let dy = cotangent + c * stride
        let xhat = normalized + c * stride
        let (channelSum, channelProjection) = rowSumAndProjection(dy, xhat, plane)
        scaleCotangent?[c] += Scalar(channelProjection)
        offsetCotangent?[c] += Scalar(channelSum)
        sum += Double(gamma[c]) * channelSum
        projection += Double(gamma[c]) * channelProjection
      }
      let mean = Scalar(sum / count)
      let meanProjection = Scalar(projection / count)
      let s = inverseDeviation[g]
      for k in 0..<perGroup {
        let c = g * perGroup + k
        let a = gamma[c]
        let dy = cotangent + c * stride
        let xhat = normalized + c * stride
        let dx = output + c * stride
        for i in 0..<plane { dx[i] = s * (a * dy[i] - mean - xhat[i] * meanProjection) }
      }
    }
  }

  // MARK: Row reductions
  //
  // Eight Double lanes per row (two four-lane vectors of exactly widened scalars), so the
  // additions pipeline and vectorise, combined in a fixed order: the result depends only
  // on the row, never on the batch or the stride.

  /// `Σ x[i]` over one row.
  @inlinable @inline(__always)
  static func rowSum(_ x: UnsafePointer<Scalar>, _ count: Int) -> Double {
    var (a, b) = (SIMD4<Double>(), SIMD4<Double>())
    var i = 0
    while i + 8 <= count {
      let (low, high) = widened(x + i)
      a += low
      b += high
      i += 8
    }
    var total = (a + b).sum()
    while i < count {
      total += Double(x[i])
      i += 1
    }
    return total
  }

  /// `Σ (x[i] − mean)²` over one row.
  @inlinable @inline(__always)
  static func rowSquaredDeviation(_ x: UnsafePointer<Scalar>, _ count: Int, mean: Double)
    -> Double
  {
    var (a, b) = (SIMD4<Double>(), SIMD4<Double>())
    let m = SIMD4<Double>(repeating: mean)
    var i = 0
    while i + 8 <= count {
      let (low, high) = widened(x + i)
      let (e, f) = (low - m, high - m)
      a += e * e
      b += f * f
      i += 8
    }
    var total = (a + b).sum()
    while i < count {
      let e = Double(x[i]) - mean
      total += e * e
      i += 1
    }
    return total
  }

  /// `(Σ t[i], Σ t[i]·x̂[i])` over one row.
  @inlinable @inline(__always)
  static func rowSumAndProjection(
    _ t: UnsafePointer<Scalar>, _ xhat: UnsafePointer<Scalar>, _ count: Int
  ) -> (sum: Double, projection: Double) {
    var (a, b) = (SIMD4<Double>(), SIMD4<Double>())
    var (p, q) = (SIMD4<Double>(), SIMD4<Double>())
    var i = 0
    while i + 8 <= count {
      let (t0, t1) = widened(t + i)
      let (x0, x1) = widened(xhat + i)
      a += t0
      b += t1
      p += t0 * x0
      q += t1 * x1
      i += 8
    }
    var (sum, projection) = ((a + b).sum(), (p + q).sum())
    while i < count {
      let t0 = Double(t[i])
      sum += t0
      projection += t0 * Double(xhat[i])
      i += 1
    }
    return (sum, projection)
  }

  /// Eight scalars from `p` as two `Double` vectors (``_Widened``).
  @inlinable @inline(__always)
  static func widened(_ p: UnsafePointer<Scalar>) -> (SIMD4<Double>, SIMD4<Double>) {
    _Widened.pair(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Scalar>.self))
  }
}
