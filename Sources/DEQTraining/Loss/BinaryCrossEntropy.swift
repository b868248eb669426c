// Binary cross-entropy on logits, mean reduction, as PyTorch's
// `torch.nn.functional.binary_cross_entropy_with_logits` (the Mask R-CNN mask loss, He,
// Gkioxari, Dollár & Girshick 2017), in its numerically stable form.
//
// Goals in priority order: finite, correct values for any finite logit (no log(0), no
// overflow of exp), a Double sum whatever the scalar, one pass.

/// The mean binary cross-entropy between logits and targets, and its gradient.
///
/// With `σ(x) = 1 / (1 + e^{−x})` and `N` elements:
///
/// ```
/// ℓ(x, t) = −[t log σ(x) + (1 − t) log(1 − σ(x))]
///         = max(x, 0) − x·t + log1p(e^{−|x|})        (the form evaluated)
/// loss    = (1/N) Σᵢ ℓ(xᵢ, tᵢ)
/// ∂loss/∂xᵢ = (σ(xᵢ) − tᵢ) / N
/// ```
///
/// `σ` is evaluated as `1 / (1 + e^{−x})` for `x ≥ 0` and `e^{x} / (1 + e^{x})` for
/// `x < 0`, so neither exponential overflows: at `x = ±1000` the loss is finite (`1000` for
/// a wrong target) and the gradient has the exact sign. Each term and the sum are computed
/// in `Double`; the results are rounded to `S` at the end.
///
/// - Parameters:
///   - logits: `x`, any shape, finite.
///   - targets: `t`, the shape of `logits`, each in [0, 1] (soft targets allowed).
/// - Returns: the mean loss and its gradient with respect to `logits` (the shape of
///   `logits`).
/// - Throws: ``TrainingError/shapeMismatch(what:expected:actual:)`` when the shapes differ,
///   ``TrainingError/emptyInput(what:)`` for no elements, ``TrainingError/nonFinite(what:)``
///   for a NaN or infinite logit, ``TrainingError/valueOutOfRange(what:value:expected:)``
///   for a target outside [0, 1] (or NaN).
/// - Complexity: O(N) with one exponential and one `log1p` per element; allocates the
///   gradient.
public func binaryCrossEntropyWithLogits<S: DEQScalar>(
  logits: Tensor<S>, targets: Tensor<S>
) throws(TrainingError) -> (loss: S, gradient: Tensor<S>) {
  guard logits.shape == targets.shape else {
    throw .shapeMismatch(what: "targets", expected: logits.shape, actual: targets.shape)
  }
  let count = logits.count
  guard count > 0 else { throw .emptyInput(what: "logits") }
  let xs = logits.scalars
  let ts = targets.scalars
  for (index, x) in xs.enumerated() where !x.isFinite {
    throw .nonFinite(what: "logit \(index) (\(x))")
  }
  for (index, t) in ts.enumerated() where !(t >= 0 && t <= 1) {
    throw .valueOutOfRange(what: "target \(index)", value: "\(t)", expected: "a value in [0, 1]")
  }

  let inverseCount = 1 / Double(count)
  var sum: Double = 0
  var gradient = Tensor<S>(zeros: logits.shape)
  gradient.withUnsafeMutableBufferPointer { gradient in
    for i in 0..<count {
      let x = Double(xs[i])
      let t = Double(ts[i])
      let e = Double.exp(-Swift.abs(x))  // in (0, 1]: no overflow
      sum += Swift.max(x, 0) - x * t + Double.log(onePlus: e)
      let sigmoid = x >= 0 ? 1 / (1 + e) : e / (1 + e)
      gradient[i] = S((sigmoid - t) * inverseCount)
    }
  }
  return (S(sum * inverseCount), gradient)
}
