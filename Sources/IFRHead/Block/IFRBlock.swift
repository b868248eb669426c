// The double-residual block of the IFR head (Ma et al., "Implicit Feature Refinement for
// Instance Segmentation", ACM MM 2021, Eq. 5 and the authors' released mask head):
// F(H; X) with R = H + X and g(R) = GN2(conv2(ReLU(GN1(conv1(R))))), in one of four forms
// (see IFRBlockForm). Goals in priority order: PyTorch's semantics where the maths allows
// (1e-12 in double); exact JVP and VJP; per-RoI results independent of the batch up to
// rounding; speed (all RoIs in one set of GEMMs per evaluation, Winograd where it pays; see
// IFRBlockWorkspace and Docs/Performance.md).

/// The IFR block `F(H; X)`: two 3×3 convolutions, three GroupNorms and the double residual.
///
/// ```
/// R = H + X,   g(R) = GN2(conv2(ReLU(GN1(conv1(R)))))
/// ifrCode: F = GN3(ReLU(g(R) + R))      eq5: F = g(R) + R      xshort: F = g(R) + X
/// mdeq:    F = GN3(ReLU(GN2(conv2(ReLU(GN1(conv1(H))))) + X) + H))
/// ```
/// `conv1` maps ``channels`` to ``innerChannels``, `conv2` maps back; both have no bias and
/// are weight-normalised by default. GN1 normalises the inner width, GN2 and GN3 the
/// channels, all with ``groups`` groups. States and injections are NCHW batches of RoIs,
/// evaluated together: normalisation and the choice of convolution algorithm are per RoI,
/// but the RoIs share GEMMs, so a RoI's result in a batch equals its solo result to
/// rounding (1e-14 relative in the tests), not always bit for bit.
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let block = IFRBlock<Double>(channels: 256, using: &rng)
/// let y = block(h, injection: x)                 // [N, 256, 14, 14]
/// let (dh, dx, dθ) = block.vjp(at: h, injection: x, cotangent: y)
/// ```
public struct IFRBlock<Scalar: DEQScalar>: Sendable {
  /// The number of channels of H and X (256 in the paper).
  public let channels: Int
  /// The width between the two convolutions (256 in the paper; Table 9 varies it).
  public let innerChannels: Int
  /// The number of GroupNorm groups (4 in the released code).
  public let groups: Int
  /// The GroupNorm ε (1e-5).
  public let epsilon: Scalar
  /// Which map the block computes.
  public let form: IFRBlockForm

  /// conv1's kernel, `innerChannels × channels × 3 × 3`.
  public var conv1Weight: ConvolutionWeight<Scalar>
  /// conv2's kernel, `channels × innerChannels × 3 × 3`.
  public var conv2Weight: ConvolutionWeight<Scalar>
  /// GroupNorm after conv1 (over ``innerChannels``).
  public var gn1: GroupNorm<Scalar>
  /// GroupNorm after conv2 (over ``channels``).
  public var gn2: GroupNorm<Scalar>
  /// The final GroupNorm (over ``channels``; used by ``IFRBlockForm/ifrCode`` and
  /// ``IFRBlockForm/mdeq``, kept but unused by the other forms so that every form loads the
  /// same state_dict).
  public var gn3: GroupNorm<Scalar>

  /// Creates a block from its layers.
  ///
  /// - Precondition: the shapes fit together (`conv1Weight` is `[inner, C, 3, 3]`,
  ///   `conv2Weight` `[C, inner, 3, 3]`, GN1 over `inner`, GN2 and GN3 over `C`, one group
  ///   count and ε). Files go through ``init(stateDictionary:metadata:form:)``, which throws.
  public init(
    form: IFRBlockForm = .ifrCode, conv1Weight: ConvolutionWeight<Scalar>,
    conv2Weight: ConvolutionWeight<Scalar>, gn1: GroupNorm<Scalar>, gn2: GroupNorm<Scalar>,
    gn3: GroupNorm<Scalar>
  ) {
    let s1 = conv1Weight.shape
    let s2 = conv2Weight.shape
    precondition(s1.count == 4 && s2.count == 4, "IFRBlock: conv kernels must be rank 4")
    let channels = s1[1]
    let inner = s1[0]
    precondition(s2 == [channels, inner, 3, 3] && s1 == [inner, channels, 3, 3])
    precondition(gn1.channels == inner && gn2.channels == channels && gn3.channels == channels)
    precondition(gn1.groups == gn2.groups && gn2.groups == gn3.groups)
    precondition(gn1.epsilon == gn2.epsilon && gn2.epsilon == gn3.epsilon)
    self.channels = channels
    self.innerChannels = inner
    self.groups = gn1.groups
    self.epsilon = gn1.epsilon
    self.form = form
    self.conv1Weight = conv1Weight
    self.conv2Weight = conv2Weight
    self.gn1 = gn1
    self.gn2 = gn2
    self.gn3 = gn3
  }

  /// Creates a block initialised as PyTorch does by default: conv kernels uniform in
  /// `±1/√fanIn` (`fanIn = in · 9`), then `weight_norm` (`v = w`, `g = ‖w_o‖`) when
  /// `weightNormalization` is on; GroupNorm γ = 1, β = 0.
  ///
  /// - Parameters:
  ///   - channels: C, the channels of H and X.
  ///   - innerChannels: the width between the convolutions; `nil` means C.
  ///   - groups: GroupNorm groups (4); must divide C and the inner width.
  ///   - epsilon: GroupNorm ε (1e-5).
  ///   - form: the map (``IFRBlockForm/ifrCode``).
  ///   - weightNormalization: weight-normalise conv1 and conv2 (on, as released).
  ///   - generator: the seeded generator; conv1's kernel is drawn first, then conv2's.
  public init(
    channels: Int, innerChannels: Int? = nil, groups: Int = 4, epsilon: Scalar = 1e-5,
    form: IFRBlockForm = .ifrCode, weightNormalization: Bool = true,
    using generator: inout SeededGenerator
  ) {
    let inner = innerChannels ?? channels
    let conv1 = Conv2D<Scalar>(inChannels: channels, outChannels: inner, using: &generator)
    let conv2 = Conv2D<Scalar>(inChannels: inner, outChannels: channels, using: &generator)
    func parametrise(_ weight: Tensor<Scalar>) -> ConvolutionWeight<Scalar> {
      weightNormalization ? .normalized(WeightNorm(weight: weight)) : .plain(weight)
    }
    self.init(
      form: form, conv1Weight: parametrise(conv1.weight), conv2Weight: parametrise(conv2.weight),
      gn1: GroupNorm(channels: inner, groups: groups, epsilon: epsilon),
      gn2: GroupNorm(channels: channels, groups: groups, epsilon: epsilon),
      gn3: GroupNorm(channels: channels, groups: groups, epsilon: epsilon))
  }

  /// The same parameters computing another form.
  public func with(form: IFRBlockForm) -> IFRBlock {
    IFRBlock(
      form: form, conv1Weight: conv1Weight, conv2Weight: conv2Weight, gn1: gn1, gn2: gn2,
      gn3: gn3)
  }

  /// conv1 as a layer (with its effective kernel).
  public var conv1: Conv2D<Scalar> { Conv2D(weight: conv1Weight.effectiveWeight) }
  /// conv2 as a layer (with its effective kernel).
  public var conv2: Conv2D<Scalar> { Conv2D(weight: conv2Weight.effectiveWeight) }

  // MARK: Parameters by name

  /// Every parameter under its PyTorch state_dict name, in state_dict order
  /// (`conv1.weight` or `conv1.weight_g`, `conv1.weight_v`; `gn1.weight`, `gn1.bias`; conv2;
  /// GN2; GN3).
  public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
    var result: [(name: String, tensor: Tensor<Scalar>)] = []
    for (suffix, tensor) in conv1Weight.namedTensors { result.append(("conv1.\(suffix)", tensor)) }
    result.append(("gn1.weight", gn1.scale))
    result.append(("gn1.bias", gn1.offset))
    for (suffix, tensor) in conv2Weight.namedTensors { result.append(("conv2.\(suffix)", tensor)) }
    result.append(("gn2.weight", gn2.scale))
    result.append(("gn2.bias", gn2.offset))
    result.append(("gn3.weight", gn3.scale))
    result.append(("gn3.bias", gn3.offset))
    return result
  }

  /// The parameters as one vector under their state_dict names: read it to get
  /// ``namedParameters`` as a `NamedParameters`, set it to replace every parameter (an
  /// optimiser step: `block.parameters.add(gradient.parameters, scaledBy: -lr)`, where
  /// `gradient` is a backward pass's cotangent block).
  ///
  /// - Precondition (set): the same names and shapes as ``namedParameters``.
  public var parameters: NamedParameters<Scalar> {
    get { NamedParameters(namedParameters) }
    set {
      precondition(
        newValue.hasSameLayout(as: parameters), "IFRBlock.parameters: names or shapes differ")
      self = replacingParameters(with: newValue.scalars)
    }
  }

  /// The number of trainable scalars (GN3 included).
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.tensor.count } }

  /// All parameters concatenated in ``namedParameters`` order.
  public var parameterVector: [Scalar] { namedParameters.flatMap { $0.tensor.scalars } }

  /// A copy whose parameters are taken from `vector` (in ``namedParameters`` order).
  ///
  /// - Precondition: `vector.count == parameterCount`.
  public func replacingParameters(with vector: [Scalar]) -> IFRBlock {
    precondition(vector.count == parameterCount, "IFRBlock: \(vector.count) parameters given")
    var offset = 0
    func take(_ like: Tensor<Scalar>) -> Tensor<Scalar> {
      defer { offset += like.count }
      return Tensor(shape: like.shape) { vector[offset + $0] }
    }
    func take(_ weight: ConvolutionWeight<Scalar>) -> ConvolutionWeight<Scalar> {
      switch weight {
      case .plain(let w): return .plain(take(w))
      case .normalized(let norm):
        let g = take(norm.magnitude)
        return .normalized(WeightNorm(magnitude: g, direction: take(norm.direction)))
      }
    }
    func take(_ norm: GroupNorm<Scalar>) -> GroupNorm<Scalar> {
      let scale = take(norm.scale)
      return GroupNorm(
        channels: norm.channels, groups: norm.groups, epsilon: norm.epsilon, scale: scale,
        offset: take(norm.offset))
    }
    let c1 = take(conv1Weight)
    let n1 = take(gn1)
    let c2 = take(conv2Weight)
    let n2 = take(gn2)
    let n3 = take(gn3)
    return IFRBlock(form: form, conv1Weight: c1, conv2Weight: c2, gn1: n1, gn2: n2, gn3: n3)
  }
}
