/// How a convolution's kernel is parametrised: directly, or by weight normalisation
/// `w = g · v / ‖v‖` (PyTorch `weight_norm`, state_dict names `weight_g`, `weight_v`).
///
/// In a gradient (see ``IFRBlock/vjp(at:injection:cotangent:)``) the same cases hold the
/// cotangents of the same tensors.
public enum ConvolutionWeight<Scalar: DEQScalar>: Sendable {
  /// The kernel itself (state_dict name `weight`).
  case plain(Tensor<Scalar>)
  /// The kernel as `g · v / ‖v‖` (state_dict names `weight_g` and `weight_v`).
  case normalized(WeightNorm<Scalar>)

  /// The kernel the convolution applies.
  ///
  /// - Complexity: a copy of the kernel, plus `3 · count` flops when normalised.
  public var effectiveWeight: Tensor<Scalar> {
    switch self {
    case .plain(let weight): weight
    case .normalized(let norm): norm()
    }
  }

  /// The kernel's shape (`[out, in, 3, 3]`).
  public var shape: [Int] {
    switch self {
    case .plain(let weight): weight.shape
    case .normalized(let norm): norm.direction.shape
    }
  }

  /// Whether the kernel is weight-normalised.
  public var isNormalized: Bool {
    if case .normalized = self { return true }
    return false
  }

  /// The number of trainable scalars.
  public var parameterCount: Int {
    switch self {
    case .plain(let weight): weight.count
    case .normalized(let norm): norm.parameterCount
    }
  }

  /// The tensors under their state_dict suffixes (`weight`, or `weight_g` and `weight_v`).
  public var namedTensors: [(suffix: String, tensor: Tensor<Scalar>)] {
    switch self {
    case .plain(let weight): [("weight", weight)]
    case .normalized(let norm): [("weight_g", norm.magnitude), ("weight_v", norm.direction)]
    }
  }

  /// The cotangents of this parametrisation for a cotangent of the effective kernel.
  public func pullback(_ weightCotangent: Tensor<Scalar>) -> ConvolutionWeight<Scalar> {
    switch self {
    case .plain: return .plain(weightCotangent)
    case .normalized(let norm):
      let (dg, dv) = norm.vjp(weightCotangent: weightCotangent)
      return .normalized(WeightNorm(magnitude: dg, direction: dv))
    }
  }
}
