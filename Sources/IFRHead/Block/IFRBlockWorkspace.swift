// Batched evaluation of the IFR block with preallocated buffers: F(H; X), its JVP in H
// and its VJP in H, X and every parameter, for every active RoI at once.
//
// RoIs are packed channel-major, `[C][N · H · W]`, so each convolution is one GEMM (im2col)
// or 16 (Winograd) over the columns of all RoIs, and GroupNorm runs per RoI on strided
// channel rows. Evaluating F records the linearisation (the "tape": normalised values,
// inverse deviations, ReLU masks) that the JVP and VJP then reuse, as often as wanted,
// without re-running F.
//
// Goals in priority order: exact derivatives at the last evaluated point; a RoI's result
// independent of which RoIs share its batch (per-RoI normalisation, per-RoI transforms, the
// convolution algorithm chosen from one RoI's shape); no allocation per call once the
// batch capacity is reached; BLAS threads chosen per call from the GEMM size, and restored.

/// Buffers and a tape for evaluating one ``IFRBlock`` on a batch of RoIs.
///
/// ``evaluate(state:injection:)`` computes `F(H; X)` for one RoI (`[C, H, W]`) or a batch
/// (`[N, C, H, W]`) and records what the derivatives need; ``jvp(tangent:)`` and
/// ``vjp(cotangent:accumulatingParameters:)`` then differentiate at that point, as often as
/// wanted (Arnoldi's hundreds of products, an adjoint solve's VJPs), each costing about one
/// evaluation. Parameter cotangents accumulate across calls until ``parameterGradient()``
/// collects them and ``resetParameterGradient()`` clears them.
///
/// ```swift
/// let workspace = block.makeWorkspace(height: 14, width: 14, capacity: 4)
/// let f = workspace.evaluate(state: h, injection: x)     // [4, C, 14, 14]
/// let jv = workspace.jvp(tangent: v)                      // at (h, x), no re-evaluation
/// ```
///
/// The workspace copies the block's effective kernels when it is created: later changes to
/// the block do not reach it. It is a reference type with mutable buffers and is not
/// `Sendable`; give each task its own.
///
/// - Complexity: memory about `(8·C + 4·inner)·H·W` scalars per RoI of capacity, plus the
///   convolution scratch (`9 · max(C, inner) · H · W` per RoI; Winograd twice
///   `16 · max(C, inner) · ⌈H/2⌉⌈W/2⌉` more) and `2 · 16 · 9 · C · inner` for the kernels.
public final class IFRBlockWorkspace<Scalar: DEQScalar> {
  /// The block, as it was when the workspace was made.
  public let block: IFRBlock<Scalar>
  /// The RoI height.
  public let height: Int
  /// The RoI width.
  public let width: Int
  /// The convolution algorithm in use (resolved from the one asked for).
  public var convolutionAlgorithm: ConvolutionAlgorithm { conv1.algorithm }
  /// The cores each call may use (`nil`: the caller's `BLASThreads.count`); calls too
  /// small to share run on one.
  public let blasThreads: Int?

  @usableFromInline let channels: Int
  @usableFromInline let inner: Int
  @usableFromInline let groups: Int
  @usableFromInline let plane: Int
  @usableFromInline let form: IFRBlockForm
  @usableFromInline let epsilon: Scalar
  @usableFromInline let conv1: _BatchedConvolution<Scalar>
  @usableFromInline let conv2: _BatchedConvolution<Scalar>
  @usableFromInline let gamma1: _ScalarBuffer<Scalar>
  @usableFromInline let beta1: _ScalarBuffer<Scalar>
  @usableFromInline let gamma2: _ScalarBuffer<Scalar>
  @usableFromInline let beta2: _ScalarBuffer<Scalar>
  @usableFromInline let gamma3: _ScalarBuffer<Scalar>
  @usableFromInline let beta3: _ScalarBuffer<Scalar>
  /// The kernels' cotangent accumulators, made on first use (a forward-only workspace never
  /// touches their `2 · 9 · C · inner` scalars).
  @usableFromInline lazy var dw1 = _ScalarBuffer<Scalar>(count: 9 * channels * inner)
  @usableFromInline lazy var dw2 = _ScalarBuffer<Scalar>(count: 9 * channels * inner)
  @usableFromInline let dgamma1: _ScalarBuffer<Scalar>
  @usableFromInline let dbeta1: _ScalarBuffer<Scalar>
  @usableFromInline let dgamma2: _ScalarBuffer<Scalar>
  @usableFromInline let dbeta2: _ScalarBuffer<Scalar>
  @usableFromInline let dgamma3: _ScalarBuffer<Scalar>
  @usableFromInline let dbeta3: _ScalarBuffer<Scalar>
  /// The batch-sized buffers (tape, scratch, packed inputs and outputs).
  @usableFromInline var batch: _BatchBuffers<Scalar>
  /// How many RoIs the tape holds (0: nothing evaluated yet).
  @usableFromInline var recordedCount = 0
  /// The injections `batch.injection` holds, as the last list evaluation packed them
  /// (kept alive so that their storage identifies them; empty when unknown).
  @usableFromInline var packedInjections: [Tensor<Scalar>] = []
  /// The cores the current call splits its work over (set per call).
  @usableFromInline var parts = 1
  /// Two rows per part where an unrecorded evaluation writes what a tape would keep.
  @usableFromInline var discardRows = _ScalarBuffer<Scalar>(count: 0, zeroed: false)

  /// Creates the buffers for RoIs of `height × width`.
  ///
  /// - Parameters:
  ///   - block: the block (its effective kernels are copied now).
  ///   - height: the RoI height.
  ///   - width: the RoI width.
  ///   - capacity: how many RoIs to allocate for now (a larger batch grows the buffers
  ///     once).
  ///   - convolution: the convolution algorithm (default: chosen from the shape).
  ///   - blasThreads: the cores a call may use (default: the caller's
  ///     `BLASThreads.count`; calls too small to share run on one); the engine splits its
  ///     work over them with single-threaded BLAS.
  public init(
    block: IFRBlock<Scalar>, height: Int, width: Int, capacity: Int = 1,
    convolution: ConvolutionAlgorithm = .automatic, blasThreads: Int? = nil
  ) {
    precondition(height > 0 && width > 0, "IFRBlockWorkspace: empty RoI \(height)×\(width)")
    self.block = block
    self.height = height
    self.width = width
    self.blasThreads = blasThreads.map { Swift.max(1, $0) }
    let c = block.channels
    let k = block.innerChannels
    channels = c
    inner = k
    groups = block.groups
    plane = height * width
    form = block.form
    epsilon = block.epsilon
    let scratch = _ConvolutionScratch<Scalar>()
    conv1 = _BatchedConvolution(
      weight: block.conv1Weight, height: height, width: width,
      algorithm: convolution, scratch: scratch)
    conv2 = _BatchedConvolution(
      weight: block.conv2Weight, height: height, width: width,
      algorithm: convolution, scratch: scratch)
    gamma1 = _ScalarBuffer(copying: block.gn1.scale)
    beta1 = _ScalarBuffer(copying: block.gn1.offset)
    gamma2 = _ScalarBuffer(copying: block.gn2.scale)
    beta2 = _ScalarBuffer(copying: block.gn2.offset)
    gamma3 = _ScalarBuffer(copying: block.gn3.scale)
    beta3 = _ScalarBuffer(copying: block.gn3.offset)
    dgamma1 = _ScalarBuffer(count: k)
    dbeta1 = _ScalarBuffer(count: k)
    dgamma2 = _ScalarBuffer(count: c)
    dbeta2 = _ScalarBuffer(count: c)
    dgamma3 = _ScalarBuffer(count: c)
    dbeta3 = _ScalarBuffer(count: c)
    batch = _BatchBuffers(
      capacity: Swift.max(capacity, 1), channels: c, inner: k, groups: groups, plane: plane)
  }

  /// The number of scalars in one RoI, `C · H · W`.
  @inlinable public var roiCount: Int { channels * plane }

  /// The shape of one RoI, `[C, height, width]`.
  public var roiShape: [Int] { [channels, height, width] }

  /// How many RoIs the buffers hold without growing.
  public var capacity: Int { batch.capacity }

  /// Makes the buffers hold `count` RoIs (allocates only when they grow).
  @inlinable
  func reserve(_ count: Int) {
    guard count > batch.capacity else { return }
    batch = _BatchBuffers(
      capacity: count, channels: channels, inner: inner, groups: groups, plane: plane)
    recordedCount = 0
    packedInjections = []
  }

  /// Runs `body` on this call's cores: one for GEMMs too small to share (one convolution
  /// under 10 MFLOP for this batch: handing work to a second thread costs more than it
  /// saves there; the small default analysis ran 1.7× faster on one), else the workspace's
  /// own count if it has one, else the caller's `BLASThreads.count`. The engine
  /// splits its work over those cores itself and every BLAS call inside is single-threaded
  /// (the previous BLAS thread count is restored after).
  @inlinable
  func withThreads<R>(count: Int, _ body: () -> R) -> R {
    let flops = 2 * 9 * channels * inner * plane * count
    parts = flops < 10_000_000 ? 1 : (blasThreads ?? BLASThreads.count)
    return BLASThreads.withCount(1, body)
  }
}

/// The batch-sized buffers of an ``IFRBlockWorkspace``, each `[channels][capacity · plane]`
/// (channel-major) or per RoI and group.
@usableFromInline
struct _BatchBuffers<Scalar: DEQScalar> {
  @usableFromInline let capacity: Int
  // Packed inputs and outputs.
  @usableFromInline let input: _ScalarBuffer<Scalar>  // H, V or U
  @usableFromInline let injection: _ScalarBuffer<Scalar>  // X
  @usableFromInline let output: _ScalarBuffer<Scalar>  // F, JVP, ∂H
  @usableFromInline let injectionCotangent: _ScalarBuffer<Scalar>  // ∂X
  // Tape.
  @usableFromInline let convInput: _ScalarBuffer<Scalar>  // R (H for mdeq, noResidual)
  @usableFromInline let xhat1: _ScalarBuffer<Scalar>
  @usableFromInline let s1: _ScalarBuffer<Scalar>
  @usableFromInline let hidden: _ScalarBuffer<Scalar>  // ReLU(GN1(conv1(·)))
  @usableFromInline let xhat2: _ScalarBuffer<Scalar>
  @usableFromInline let s2: _ScalarBuffer<Scalar>
  @usableFromInline let preActivation: _ScalarBuffer<Scalar>  // input of the final ReLU
  @usableFromInline let xhat3: _ScalarBuffer<Scalar>
  @usableFromInline let s3: _ScalarBuffer<Scalar>
  // Scratch.
  @usableFromInline let scratchInner: _ScalarBuffer<Scalar>
  @usableFromInline let scratchA: _ScalarBuffer<Scalar>
  @usableFromInline let scratchB: _ScalarBuffer<Scalar>

  @usableFromInline
  init(capacity: Int, channels c: Int, inner k: Int, groups g: Int, plane p: Int) {
    self.capacity = capacity
    let outer = c * p * capacity
    let hiddenSize = k * p * capacity
    input = _ScalarBuffer(count: outer, zeroed: false)
    injection = _ScalarBuffer(count: outer, zeroed: false)
    output = _ScalarBuffer(count: outer, zeroed: false)
    injectionCotangent = _ScalarBuffer(count: outer, zeroed: false)
    convInput = _ScalarBuffer(count: outer, zeroed: false)
    xhat1 = _ScalarBuffer(count: hiddenSize, zeroed: false)
    s1 = _ScalarBuffer(count: g * capacity, zeroed: false)
    hidden = _ScalarBuffer(count: hiddenSize, zeroed: false)
    xhat2 = _ScalarBuffer(count: outer, zeroed: false)
    s2 = _ScalarBuffer(count: g * capacity, zeroed: false)
    preActivation = _ScalarBuffer(count: outer, zeroed: false)
    xhat3 = _ScalarBuffer(count: outer, zeroed: false)
    s3 = _ScalarBuffer(count: g * capacity, zeroed: false)
    scratchInner = _ScalarBuffer(count: hiddenSize, zeroed: false)
    scratchA = _ScalarBuffer(count: outer, zeroed: false)
    scratchB = _ScalarBuffer(count: outer, zeroed: false)
  }
}
