import DEQCore

/// The relative error `‖a − b‖₂ / max(‖b‖₂, tiny)` of `a` against a reference `b`.
public func relativeError<S: DEQScalar>(_ a: [S], _ b: [S]) -> S {
  precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) elements")
  let denominator = Swift.max(b.norm(), S.leastNormalMagnitude)
  return a.subtracting(b).norm() / denominator
}

/// The relative error of a tensor against a reference tensor of the same shape.
public func relativeError<S: DEQScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> S {
  precondition(a.shape == b.shape, "relativeError: shapes \(a.shape) vs \(b.shape)")
  return relativeError(a.scalars, b.scalars)
}
