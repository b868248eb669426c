// Per-RoI evaluation of the IFR block with preallocated buffers: F(H; X), its JVP in H and
// its VJP in H, X and every parameter, one RoI (C × H × W) at a time.
//
// Goals in priority order: exact derivatives at the last evaluated point (the "tape");
// no allocation per call (one slab allocated at creation); the two 3×3 convolutions as one
// GEMM each (forward, JVP, state VJP) plus one more per convolution when parameter gradients
// are wanted.

/// Buffers and a tape for evaluating one ``IFRBlock`` on one RoI at a time.
///
/// ``evaluate(state:injection:into:)`` computes `F(H; X)` for one RoI and records what the
/// derivatives need; ``jvp(tangent:into:)`` and ``vjp(cotangent:state:injection:accumulatingParameters:)``
/// then differentiate at that point, as often as wanted (a solver's backward pass calls the
/// VJP many times at the equilibrium). Parameter cotangents accumulate across calls until
/// ``parameterGradient()`` collects them and ``resetParameterGradient()`` clears them.
///
/// The workspace copies the block's effective kernels when it is created: later changes to
/// the block do not reach it. It is a reference type with mutable buffers and is not
/// `Sendable`; give each task its own.
///
/// - Complexity: memory `(9·max(C, inner) + 6·C + 4·inner)·H·W + 2·9·C·inner` scalars.
public final class IFRBlockWorkspace<Scalar: DEQScalar> {
  /// The block, as it was when the workspace was made.
  public let block: IFRBlock<Scalar>
  /// The RoI height.
  public let height: Int
  /// The RoI width.
  public let width: Int

  @usableFromInline let channels: Int
  @usableFromInline let inner: Int
  @usableFromInline let groups: Int
  @usableFromInline let plane: Int
  @usableFromInline let form: IFRBlockForm
  @usableFromInline let epsilon: Scalar
  @usableFromInline let slab: UnsafeMutablePointer<Scalar>
  @usableFromInline let slabCount: Int

  // Parameters (effective kernels, GroupNorm affine maps).
  @usableFromInline let w1: UnsafeMutablePointer<Scalar>
  @usableFromInline let w2: UnsafeMutablePointer<Scalar>
  @usableFromInline let gamma1: UnsafeMutablePointer<Scalar>
  @usableFromInline let beta1: UnsafeMutablePointer<Scalar>
  @usableFromInline let gamma2: UnsafeMutablePointer<Scalar>
  @usableFromInline let beta2: UnsafeMutablePointer<Scalar>
  @usableFromInline let gamma3: UnsafeMutablePointer<Scalar>
  @usableFromInline let beta3: UnsafeMutablePointer<Scalar>
  // Tape.
  @usableFromInline let convInput: UnsafeMutablePointer<Scalar>  // R (H for mdeq), C·P
  @usableFromInline let xhat1: UnsafeMutablePointer<Scalar>  // inner·P
  @usableFromInline let s1: UnsafeMutablePointer<Scalar>  // groups
  @usableFromInline let hidden: UnsafeMutablePointer<Scalar>  // ReLU(GN1(·)), inner·P
  @usableFromInline let xhat2: UnsafeMutablePointer<Scalar>  // C·P
  @usableFromInline let s2: UnsafeMutablePointer<Scalar>
  @usableFromInline let preActivation: UnsafeMutablePointer<Scalar>  // input of the final ReLU
  @usableFromInline let xhat3: UnsafeMutablePointer<Scalar>
  @usableFromInline let s3: UnsafeMutablePointer<Scalar>
  // Scratch.
  @usableFromInline let columns: UnsafeMutablePointer<Scalar>  // 9·max(C, inner)·P
  @usableFromInline let scratchInner: UnsafeMutablePointer<Scalar>  // inner·P
  @usableFromInline let scratchA: UnsafeMutablePointer<Scalar>  // C·P
  @usableFromInline let scratchB: UnsafeMutablePointer<Scalar>  // C·P
  // Parameter cotangent accumulators.
  @usableFromInline let dw1: UnsafeMutablePointer<Scalar>
  @usableFromInline let dw2: UnsafeMutablePointer<Scalar>
  @usableFromInline let dgamma1: UnsafeMutablePointer<Scalar>
  @usableFromInline let dbeta1: UnsafeMutablePointer<Scalar>
  @usableFromInline let dgamma2: UnsafeMutablePointer<Scalar>
  @usableFromInline let dbeta2: UnsafeMutablePointer<Scalar>
  @usableFromInline let dgamma3: UnsafeMutablePointer<Scalar>
  @usableFromInline let dbeta3: UnsafeMutablePointer<Scalar>
  /// Whether ``evaluate(state:injection:into:)`` has recorded a point.
  @usableFromInline var hasTape = false

  /// Creates the buffers for RoIs of `height × width`.
  public init(block: IFRBlock<Scalar>, height: Int, width: Int) {
    precondition(height > 0 && width > 0, "IFRBlockWorkspace: empty RoI \(height)×\(width)")
    self.block = block
    self.height = height
    self.width = width
    let c = block.channels
    let k = block.innerChannels
    let p = height * width
    let g = block.groups
    channels = c
    inner = k
    groups = g
    plane = p
    form = block.form
    epsilon = block.epsilon
    let kernel = 9 * c * k
    let sizes = [
      kernel, kernel, k, k, c, c, c, c,  // parameters
      c * p, k * p, g, k * p, c * p, g, c * p, c * p, g,  // tape
      9 * Swift.max(c, k) * p, k * p, c * p, c * p,  // scratch
      kernel, kernel, k, k, c, c, c, c,  // cotangents
    ]
    slabCount = sizes.reduce(0, +)
    slab = UnsafeMutablePointer<Scalar>.allocate(capacity: slabCount)
    slab.initialize(repeating: 0, count: slabCount)
    var pointers: [UnsafeMutablePointer<Scalar>] = []
    var offset = 0
    for size in sizes {
      pointers.append(slab + offset)
      offset += size
    }
    (w1, w2, gamma1, beta1, gamma2, beta2, gamma3, beta3) = (
      pointers[0], pointers[1], pointers[2], pointers[3], pointers[4], pointers[5], pointers[6],
      pointers[7]
    )
    (convInput, xhat1, s1, hidden, xhat2, s2, preActivation, xhat3, s3) = (
      pointers[8], pointers[9], pointers[10], pointers[11], pointers[12], pointers[13],
      pointers[14], pointers[15], pointers[16]
    )
    (columns, scratchInner, scratchA, scratchB) = (
      pointers[17], pointers[18], pointers[19], pointers[20]
    )
    (dw1, dw2, dgamma1, dbeta1, dgamma2, dbeta2, dgamma3, dbeta3) = (
      pointers[21], pointers[22], pointers[23], pointers[24], pointers[25], pointers[26],
      pointers[27], pointers[28]
    )
    func copy(_ tensor: Tensor<Scalar>, to target: UnsafeMutablePointer<Scalar>) {
      tensor.withUnsafeBufferPointer { source in
        guard let base = source.baseAddress else { return }
        target.update(from: base, count: source.count)
      }
    }
    copy(block.conv1Weight.effectiveWeight, to: w1)
    copy(block.conv2Weight.effectiveWeight, to: w2)
    copy(block.gn1.scale, to: gamma1)
    copy(block.gn1.offset, to: beta1)
    copy(block.gn2.scale, to: gamma2)
    copy(block.gn2.offset, to: beta2)
    copy(block.gn3.scale, to: gamma3)
    copy(block.gn3.offset, to: beta3)
  }

  deinit {
    slab.deinitialize(count: slabCount)
    slab.deallocate()
  }

  /// The number of scalars in one RoI, `C · H · W`.
  @inlinable public var roiCount: Int { channels * plane }

  // MARK: Forward

  /// Computes `F(H; X)` for one RoI and records the point for the derivatives.
  ///
  /// - Parameters:
  ///   - state: H, `C·H·W` scalars (CHW order).
  ///   - injection: X, likewise.
  ///   - output: receives F, `C·H·W` scalars; may not alias the inputs.
  /// - Complexity: `2 · 2 · 9 · C · inner · H · W` flops in two GEMMs, plus O(C·H·W).
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func evaluate(
    state: UnsafeBufferPointer<Scalar>, injection: UnsafeBufferPointer<Scalar>,
    into output: UnsafeMutableBufferPointer<Scalar>
  ) {
    let n = roiCount
    precondition(
      state.count == n && injection.count == n && output.count == n,
      "IFRBlockWorkspace: expected \(n) scalars per RoI")
    let h = state.baseAddress.unsafelyUnwrapped
    let x = injection.baseAddress.unsafelyUnwrapped
    let out = output.baseAddress.unsafelyUnwrapped
    // conv1 input.
    if form.convolvesStateOnly {
      convInput.update(from: h, count: n)
    } else {
      for i in 0..<n { convInput[i] = h[i] + x[i] }
    }
    // hidden = ReLU(GN1(conv1(·))).
    Conv2D<Scalar>.forward(
      convInput, weight: w1, outChannels: inner, inChannels: channels, height: height,
      width: width, columns: columns, into: scratchInner)
    GroupNorm<Scalar>.normalize(
      scratchInner, channels: inner, groups: groups, plane: plane, epsilon: epsilon,
      normalized: xhat1, inverseDeviation: s1)
    GroupNorm<Scalar>.applyAffine(
      xhat1, scale: gamma1, offset: beta1, channels: inner, plane: plane, into: hidden)
    for i in 0..<(inner * plane) where !(hidden[i] > 0) { hidden[i] = 0 }
    // scratchA = GN2(conv2(hidden) [+ X for mdeq]).
    Conv2D<Scalar>.forward(
      hidden, weight: w2, outChannels: channels, inChannels: inner, height: height,
      width: width, columns: columns, into: scratchA)
    if form == .mdeq { for i in 0..<n { scratchA[i] += x[i] } }
    GroupNorm<Scalar>.normalize(
      scratchA, channels: channels, groups: groups, plane: plane, epsilon: epsilon,
      normalized: xhat2, inverseDeviation: s2)
    GroupNorm<Scalar>.applyAffine(
      xhat2, scale: gamma2, offset: beta2, channels: channels, plane: plane, into: scratchA)
    switch form {
    case .eq5:
      for i in 0..<n { out[i] = scratchA[i] + convInput[i] }
    case .xshort:
      for i in 0..<n { out[i] = scratchA[i] + x[i] }
    case .noResidual:
      out.update(from: scratchA, count: n)
    case .ifrCode, .mdeq:
      for i in 0..<n {
        let value = scratchA[i] + convInput[i]
        preActivation[i] = value
        scratchA[i] = value > 0 ? value : 0
      }
      GroupNorm<Scalar>.normalize(
        scratchA, channels: channels, groups: groups, plane: plane, epsilon: epsilon,
        normalized: xhat3, inverseDeviation: s3)
      GroupNorm<Scalar>.applyAffine(
        xhat3, scale: gamma3, offset: beta3, channels: channels, plane: plane, into: out)
    }
    hasTape = true
  }

  // MARK: JVP

  /// The derivative `∂F/∂H · V` at the last evaluated point.
  ///
  /// - Parameters:
  ///   - tangent: V, `C·H·W` scalars.
  ///   - output: receives `∂F/∂H · V`; may not alias `tangent`.
  /// - Complexity: as ``evaluate(state:injection:into:)``.
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func jvp(
    tangent: UnsafeBufferPointer<Scalar>, into output: UnsafeMutableBufferPointer<Scalar>
  ) {
    let n = roiCount
    precondition(hasTape, "IFRBlockWorkspace: evaluate a point before differentiating")
    precondition(tangent.count == n && output.count == n, "IFRBlockWorkspace: tangent size")
    let t = tangent.baseAddress.unsafelyUnwrapped
    let out = output.baseAddress.unsafelyUnwrapped
    Conv2D<Scalar>.forward(
      t, weight: w1, outChannels: inner, inChannels: channels, height: height, width: width,
      columns: columns, into: scratchInner)
    GroupNorm<Scalar>.jvp(
      scratchInner, normalized: xhat1, inverseDeviation: s1, scale: gamma1, channels: inner,
      groups: groups, plane: plane, into: scratchInner)
    ReLU<Scalar>.mask(scratchInner, where: hidden, count: inner * plane)
    Conv2D<Scalar>.forward(
      scratchInner, weight: w2, outChannels: channels, inChannels: inner, height: height,
      width: width, columns: columns, into: scratchA)
    GroupNorm<Scalar>.jvp(
      scratchA, normalized: xhat2, inverseDeviation: s2, scale: gamma2, channels: channels,
      groups: groups, plane: plane, into: scratchA)
    switch form {
    case .eq5:
      for i in 0..<n { out[i] = scratchA[i] + t[i] }
    case .xshort, .noResidual:
      out.update(from: scratchA, count: n)
    case .ifrCode, .mdeq:
      for i in 0..<n { scratchA[i] += t[i] }
      ReLU<Scalar>.mask(scratchA, where: preActivation, count: n)
      GroupNorm<Scalar>.jvp(
        scratchA, normalized: xhat3, inverseDeviation: s3, scale: gamma3, channels: channels,
        groups: groups, plane: plane, into: out)
    }
  }

  // MARK: VJP

  /// The cotangents `Uᵀ·∂F/∂H`, `Uᵀ·∂F/∂X` and (accumulated) `Uᵀ·∂F/∂θ` at the last
  /// evaluated point.
  ///
  /// - Parameters:
  ///   - cotangent: U, `C·H·W` scalars.
  ///   - state: receives `Uᵀ·∂F/∂H`; may not alias `cotangent`.
  ///   - injection: receives `Uᵀ·∂F/∂X` when given; may alias `state` only if not needed.
  ///   - accumulatingParameters: add the parameter cotangents to the accumulators (one
  ///     more GEMM per convolution).
  /// - Complexity: `2 · 2 · 9 · C · inner · H · W` flops, twice that with parameters.
  @inlinable
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func vjp(
    cotangent: UnsafeBufferPointer<Scalar>, state: UnsafeMutableBufferPointer<Scalar>,
    injection: UnsafeMutableBufferPointer<Scalar>? = nil, accumulatingParameters: Bool = false
  ) {
    let n = roiCount
    precondition(hasTape, "IFRBlockWorkspace: evaluate a point before differentiating")
    precondition(
      cotangent.count == n && state.count == n && (injection?.count ?? n) == n,
      "IFRBlockWorkspace: cotangent size")
    let u = cotangent.baseAddress.unsafelyUnwrapped
    let dh = state.baseAddress.unsafelyUnwrapped
    let parameters = accumulatingParameters
    // scratchB = ∂(GN2 output) and the direct path to the conv1 input.
    switch form {
    case .eq5, .xshort, .noResidual:
      scratchB.update(from: u, count: n)
    case .ifrCode, .mdeq:
      GroupNorm<Scalar>.vjp(
        u, normalized: xhat3, inverseDeviation: s3, scale: gamma3, channels: channels,
        groups: groups, plane: plane, into: scratchB,
        scaleCotangent: parameters ? dgamma3 : nil, offsetCotangent: parameters ? dbeta3 : nil)
      ReLU<Scalar>.mask(scratchB, where: preActivation, count: n)
    }
    // scratchA = ∂(GN2 input) = ∂(conv2 output) (and ∂X for mdeq).
    GroupNorm<Scalar>.vjp(
      scratchB, normalized: xhat2, inverseDeviation: s2, scale: gamma2, channels: channels,
      groups: groups, plane: plane, into: scratchA,
      scaleCotangent: parameters ? dgamma2 : nil, offsetCotangent: parameters ? dbeta2 : nil)
    // conv2.
    if parameters {
      Conv2D<Scalar>.im2col(
        hidden, channels: inner, height: height, width: width, into: columns)
      Conv2D<Scalar>.accumulateWeightCotangent(
        scratchA, columns: columns, outChannels: channels, inChannels: inner, plane: plane,
        into: dw2)
    }
    Conv2D<Scalar>.inputCotangent(
      scratchA, weight: w2, outChannels: channels, inChannels: inner, height: height,
      width: width, columns: columns, into: scratchInner)
    ReLU<Scalar>.mask(scratchInner, where: hidden, count: inner * plane)
    GroupNorm<Scalar>.vjp(
      scratchInner, normalized: xhat1, inverseDeviation: s1, scale: gamma1, channels: inner,
      groups: groups, plane: plane, into: scratchInner,
      scaleCotangent: parameters ? dgamma1 : nil, offsetCotangent: parameters ? dbeta1 : nil)
    // conv1.
    if parameters {
      Conv2D<Scalar>.im2col(
        convInput, channels: channels, height: height, width: width, into: columns)
      Conv2D<Scalar>.accumulateWeightCotangent(
        scratchInner, columns: columns, outChannels: inner, inChannels: channels, plane: plane,
        into: dw1)
    }
    Conv2D<Scalar>.inputCotangent(
      scratchInner, weight: w1, outChannels: inner, inChannels: channels, height: height,
      width: width, columns: columns, into: dh)
    // Direct paths: ∂R (or ∂H for mdeq) gets scratchB except for xshort and noResidual.
    switch form {
    case .xshort:
      if let injection {
        let dx = injection.baseAddress.unsafelyUnwrapped
        for i in 0..<n { dx[i] = dh[i] + u[i] }
      }
    case .eq5, .ifrCode:
      for i in 0..<n { dh[i] += scratchB[i] }
      if let injection {
        injection.baseAddress.unsafelyUnwrapped.update(from: dh, count: n)
      }
    case .mdeq:
      for i in 0..<n { dh[i] += scratchB[i] }
      if let injection {
        injection.baseAddress.unsafelyUnwrapped.update(from: scratchA, count: n)
      }
    case .noResidual:
      injection?.baseAddress.unsafelyUnwrapped.update(repeating: 0, count: n)
    }
  }

  // MARK: Parameter cotangents

  /// The accumulated parameter cotangents, as a block whose tensors hold them (conv kernels
  /// in the block's parametrisation: `weight`, or `weight_g` and `weight_v`).
  public func parameterGradient() -> IFRBlock<Scalar> {
    func tensor(_ pointer: UnsafeMutablePointer<Scalar>, _ shape: [Int]) -> Tensor<Scalar> {
      let scalars = Array(UnsafeBufferPointer(start: pointer, count: shape.reduce(1, *)))
      guard let result = try? Tensor(shape: shape, scalars: scalars) else {
        preconditionFailure("IFRBlockWorkspace: inconsistent parameter shape \(shape)")
      }
      return result
    }
    func norm(_ gamma: UnsafeMutablePointer<Scalar>, _ beta: UnsafeMutablePointer<Scalar>, _ c: Int)
      -> GroupNorm<Scalar>
    {
      GroupNorm(
        channels: c, groups: groups, epsilon: epsilon, scale: tensor(gamma, [c]),
        offset: tensor(beta, [c]))
    }
    return IFRBlock(
      form: form,
      conv1Weight: block.conv1Weight.pullback(tensor(dw1, [inner, channels, 3, 3])),
      conv2Weight: block.conv2Weight.pullback(tensor(dw2, [channels, inner, 3, 3])),
      gn1: norm(dgamma1, dbeta1, inner), gn2: norm(dgamma2, dbeta2, channels),
      gn3: norm(dgamma3, dbeta3, channels))
  }

  /// Sets the parameter cotangent accumulators to zero.
  public func resetParameterGradient() {
    let kernel = 9 * channels * inner
    dw1.update(repeating: 0, count: 2 * kernel + 2 * inner + 4 * channels)
  }
}
