import DEQCore

/// Inner product of two tensors of one shape.
func inner<S: DEQScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> S {
  precondition(a.shape == b.shape)
  var sum: S = 0
  for i in 0..<a.count { sum += a[flat: i] * b[flat: i] }
  return sum
}

/// Inner product of two blocks' parameters (as cotangent and tangent).
func inner<S: DEQScalar>(_ a: [S], _ b: [S]) -> S {
  precondition(a.count == b.count)
  var sum: S = 0
  for i in a.indices { sum += a[i] * b[i] }
  return sum
}

/// Central difference `(f(x + εv) − f(x − εv)) / 2ε` of a tensor-valued map.
func centralDifference<S: DEQScalar>(
  _ f: (Tensor<S>) -> Tensor<S>, at x: Tensor<S>, direction v: Tensor<S>, step: S
) -> Tensor<S> {
  let plus = f(x.adding(v, scaledBy: step))
  let minus = f(x.adding(v, scaledBy: -step))
  return plus.subtracting(minus).scaled(by: 1 / (2 * step))
}

/// Central difference of a scalar function of a vector.
func centralDifference<S: DEQScalar>(
  _ f: ([S]) -> S, at x: [S], direction v: [S], step: S
) -> S {
  let plus = f(zip(x, v).map { $0 + step * $1 })
  let minus = f(zip(x, v).map { $0 - step * $1 })
  return (plus - minus) / (2 * step)
}

/// `|a − b| / max(|a|, |b|)` (0 when both are 0).
func relativeDifference<S: DEQScalar>(_ a: S, _ b: S) -> S {
  let scale = Swift.max(Swift.abs(a), Swift.abs(b))
  return scale == 0 ? 0 : Swift.abs(a - b) / scale
}

/// A tensor of standard normal entries from a seed.
func normalTensor<S: DEQScalar>(_ shape: [Int], seed: UInt64, as type: S.Type = S.self) -> Tensor<S>
{
  var rng = SeededGenerator(seed: seed)
  return Tensor<S>(normalWithMean: 0, standardDeviation: 1, shape: shape, using: &rng)
}
