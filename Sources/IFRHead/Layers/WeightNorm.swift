// Weight normalisation (Salimans & Kingma 2016) as PyTorch's `weight_norm(module, dim: 0)`:
// each output channel's weight is w_o = g_o · v_o / ‖v_o‖, the norm taken over all the
// other axes. Goals: PyTorch's parametrisation and state_dict names (`weight_g`, `weight_v`),
// exact derivatives.

/// Weight normalisation per output channel, `w_o = g_o · v_o / ‖v_o‖₂` (PyTorch
/// `torch.nn.utils.weight_norm` with `dim = 0`).
///
/// ```
/// ẇ_o = (ġ_o / ‖v_o‖) v_o + (g_o / ‖v_o‖) (v̇_o − v_o (v_o · v̇_o) / ‖v_o‖²)
/// ∂g_o = (v_o · ∂w_o) / ‖v_o‖,   ∂v_o = (g_o / ‖v_o‖) (∂w_o − v_o (v_o · ∂w_o) / ‖v_o‖²)
/// ```
/// A zero direction `v_o` gives non-finite weights, as in PyTorch.
public struct WeightNorm<Scalar: DEQScalar>: Sendable {
  /// The magnitudes `g` (PyTorch `weight_g`), shape `[outChannels, 1, 1, 1]` for a conv.
  public var magnitude: Tensor<Scalar>
  /// The directions `v` (PyTorch `weight_v`), the weight's shape.
  public var direction: Tensor<Scalar>

  /// Creates the parametrisation from `g` and `v`.
  ///
  /// - Precondition: `magnitude.count == direction.shape[0]`.
  @inlinable
  public init(magnitude: Tensor<Scalar>, direction: Tensor<Scalar>) {
    precondition(
      direction.rank >= 1 && magnitude.count == direction.shape[0],
      "WeightNorm: \(magnitude.shape) magnitudes for direction \(direction.shape)")
    self.magnitude = magnitude
    self.direction = direction
  }

  /// Reparametrises an existing weight as PyTorch's `weight_norm` does on creation:
  /// `v = w`, `g_o = ‖w_o‖`, so that the weight is unchanged.
  public init(weight: Tensor<Scalar>) {
    let rows = weight.shape[0]
    let rowSize = rows == 0 ? 0 : weight.count / rows
    var shape = [Int](repeating: 1, count: weight.rank)
    shape[0] = rows
    let norms = (0..<rows).map { o in
      weight.scalars[(o * rowSize)..<((o + 1) * rowSize)].reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
    self.init(magnitude: Tensor(shape: shape) { norms[$0] }, direction: weight)
  }

  /// The number of output channels.
  @inlinable public var outChannels: Int { direction.shape[0] }

  @inlinable var rowSize: Int { outChannels == 0 ? 0 : direction.count / outChannels }

  /// The number of trainable scalars (`g` and `v`).
  public var parameterCount: Int { magnitude.count + direction.count }

  /// The norms `‖v_o‖` per output channel.
  @inlinable
  public var directionNorms: [Scalar] {
    let size = rowSize
    return direction.withUnsafeBufferPointer { v in
      (0..<outChannels).map { o in
        guard size > 0, let base = v.baseAddress else { return 0 }
        return Scalar.blasNrm2(size, base + o * size, 1)
      }
    }
  }

  /// The factors `g_o / ‖v_o‖` that scale each output channel's direction into the weight.
  @inlinable
  public var scales: [Scalar] {
    let norms = directionNorms
    return (0..<outChannels).map { o in magnitude.scalars[o] / norms[o] }
  }

  /// The weight `w = g · v / ‖v‖`.
  ///
  /// - Complexity: `3 · count` flops.
  @inlinable
  public func callAsFunction() -> Tensor<Scalar> {
    let size = rowSize
    var weight = direction
    guard size > 0 else { return weight }
    let scales = scales
    weight.withUnsafeMutableBufferPointer { w in
      for o in 0..<outChannels {
        Scalar.blasScal(size, scales[o], w.baseAddress.unsafelyUnwrapped + o * size, 1)
      }
    }
    return weight
  }

  /// The weight's derivative in the direction `(ġ, v̇)`.
  ///
  /// - Complexity: `7 · count` flops.
  @inlinable
  public func jvp(magnitudeTangent: Tensor<Scalar>, directionTangent: Tensor<Scalar>)
    -> Tensor<Scalar>
  {
    precondition(
      magnitudeTangent.shape == magnitude.shape && directionTangent.shape == direction.shape,
      "WeightNorm tangent shape mismatch")
    let norms = directionNorms
    let size = rowSize
    var output = Tensor<Scalar>(zeros: direction.shape)
    let v = direction.scalars
    let dv = directionTangent.scalars
    output.withUnsafeMutableBufferPointer { w in
      for o in 0..<outChannels {
        let range = (o * size)..<((o + 1) * size)
        var projection: Scalar = 0
        for i in range { projection += v[i] * dv[i] }
        let n = norms[o]
        let g = magnitude.scalars[o]
        let a = magnitudeTangent.scalars[o] / n
        let b = g / n
        let c = projection / (n * n)
        for i in range { w[i] = a * v[i] + b * (dv[i] - v[i] * c) }
      }
    }
    return output
  }

  /// The cotangents of `g` and `v` for a weight cotangent `∂w`.
  ///
  /// - Complexity: `6 · count` flops.
  @inlinable
  public func vjp(weightCotangent: Tensor<Scalar>) -> (
    magnitude: Tensor<Scalar>, direction: Tensor<Scalar>
  ) {
    precondition(weightCotangent.shape == direction.shape, "WeightNorm cotangent shape mismatch")
    let norms = directionNorms
    let size = rowSize
    var dg = Tensor<Scalar>(zeros: magnitude.shape)
    var dvTensor = weightCotangent
    guard size > 0 else { return (dg, dvTensor) }
    direction.withUnsafeBufferPointer { v in
      dg.withUnsafeMutableBufferPointer { dgp in
        dvTensor.withUnsafeMutableBufferPointer { dvp in
          for o in 0..<outChannels {
            let vo = v.baseAddress.unsafelyUnwrapped + o * size
            let dvo = dvp.baseAddress.unsafelyUnwrapped + o * size
            // dv_o = (g/n)·(dw_o − v_o·(v_o·dw_o)/n²), dg_o = (v_o·dw_o)/n.
            let projection = Scalar.blasDot(size, vo, 1, dvo, 1)
            let n = norms[o]
            dgp[o] = projection / n
            let b = magnitude.scalars[o] / n
            Scalar.blasScal(size, b, dvo, 1)
            Scalar.blasAxpy(size, -b * projection / (n * n), vo, 1, dvo, 1)
          }
        }
      }
    }
    return (dg, dvTensor)
  }
}
