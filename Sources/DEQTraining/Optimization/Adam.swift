// Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", ICLR), with the
// semantics of PyTorch's `torch.optim.Adam` (amsgrad off): bias-corrected moments, ε added
// after the square root of the corrected second moment, and optional L2 weight decay added
// to the gradient (not AdamW's decoupled decay).
//
// Adam divides and takes square roots elementwise, which `VectorSpace` does not offer, so
// it works on a `ContiguousVectorSpace` and updates the scalars through buffer pointers.
//
// Goals in priority order: PyTorch's iterates (a checkpoint's moments resume exactly), no
// allocation per step beyond the first (the moments are updated in place; a weight-decay
// projection allocates its own result), speed (one fused pass over n scalars).

/// Adam with bias correction and optional L2 weight decay, as `torch.optim.Adam`.
///
/// With gradient `g`, learning rate `lr`, step count `t` (from 1), decay rates `β₁, β₂`,
/// `ε`, weight decay `wd` and the decay projection `D`; every operation on vectors is
/// elementwise:
///
/// ```
/// g  ← g + wd · D(p)
/// m  ← β₁ · m + (1 − β₁) · g            (m = 0 before the first step)
/// v  ← β₂ · v + (1 − β₂) · g²           (v = 0 before the first step)
/// m̂  = m / (1 − β₁ᵗ)
/// v̂  = v / (1 − β₂ᵗ)
/// p  ← p − lr · m̂ / (√v̂ + ε)
/// ```
///
/// As PyTorch, the bias corrections are computed in `Double` and the last line is
/// evaluated as `p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`.
///
/// Adam needs a `ContiguousVectorSpace` (elementwise square root and division are not
/// `VectorSpace` operations); `NamedParameters`, `Tensor` and `[Float]`/`[Double]`
/// conform.
///
/// ```swift
/// var adam = try Adam<NamedParameters<Float>>()
/// adam.update(&parameters, along: gradient, learningRate: 1e-3)
/// ```
public struct Adam<Parameters: ContiguousVectorSpace>: Sendable {
  /// The decay rate `β₁ ∈ [0, 1)` of the first moment (default 0.9).
  public let beta1: Parameters.Scalar
  /// The decay rate `β₂ ∈ [0, 1)` of the second moment (default 0.999).
  public let beta2: Parameters.Scalar
  /// `ε ≥ 0`, added to `√v̂` in the denominator (default 1e-8).
  public let epsilon: Parameters.Scalar
  /// The L2 weight decay `wd ≥ 0` added to the gradient (default 0, as PyTorch).
  public let weightDecay: Parameters.Scalar
  /// The projection `D` the weight decay acts through, or `nil` for the identity (decay on
  /// every scalar, the default).
  public let decayProjection: (@Sendable (Parameters) -> Parameters)?

  /// The running mean `m` of the gradients (PyTorch's `exp_avg`), `nil` before the first step.
  public var firstMoment: Parameters?
  /// The running mean `v` of the squared gradients (PyTorch's `exp_avg_sq`), `nil` before
  /// the first step.
  public var secondMoment: Parameters?
  /// The number of updates taken, `t` after the last one.
  public var steps: Int

  /// Creates the optimiser with empty state.
  ///
  /// - Parameters:
  ///   - beta1: `β₁` (default 0.9).
  ///   - beta2: `β₂` (default 0.999).
  ///   - epsilon: `ε` (default 1e-8).
  ///   - weightDecay: `wd` (default 0).
  ///   - decayProjection: `D`, the part of the parameters that takes weight decay (default
  ///     `nil`: all of it); see ``SGD/init(momentum:weightDecay:nesterov:decayProjection:)``.
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` unless
  ///   `0 ≤ β₁, β₂ < 1`, `ε ≥ 0` and `wd ≥ 0` (all finite), PyTorch's checks.
  public init(
    beta1: Parameters.Scalar = 0.9,
    beta2: Parameters.Scalar = 0.999,
    epsilon: Parameters.Scalar = 1e-8,
    weightDecay: Parameters.Scalar = 0,
    decayProjection: (@Sendable (Parameters) -> Parameters)? = nil
  ) throws(TrainingError) {
    for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
      throw .invalidHyperparameter(name: name, value: "\(beta)", expected: "a value in [0, 1)")
    }
    guard epsilon >= 0, epsilon.isFinite else {
      throw .invalidHyperparameter(
        name: "epsilon", value: "\(epsilon)", expected: "a finite value ≥ 0")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw .invalidHyperparameter(
        name: "weight decay", value: "\(weightDecay)", expected: "a finite value ≥ 0")
    }
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.decayProjection = decayProjection
    self.firstMoment = nil
    self.secondMoment = nil
    self.steps = 0
  }

  /// Takes one step: updates the moments and moves `parameters`.
  ///
  /// - Parameters:
  ///   - parameters: `p`, updated in place.
  ///   - gradient: `∂loss/∂p`, of the same size as `parameters`.
  ///   - learningRate: `lr` for this step.
  /// - Precondition: `gradient` and the moments have as many scalars as `parameters`.
  /// - Complexity: ≈ 12·n flops and n square roots in one pass; no allocation after the
  ///   first step (which allocates the two moments) except the projection's result when
  ///   ``decayProjection`` is set and `weightDecay > 0`.
  @inlinable
  public mutating func update(
    _ parameters: inout Parameters, along gradient: Parameters,
    learningRate: Parameters.Scalar
  ) {
    let count = parameters.scalarCount
    precondition(gradient.scalarCount == count, "Adam: gradient and parameters differ in size")
    // Taken out of `self` so that they are uniquely referenced and updated in place.
    var m = firstMoment.take() ?? parameters.zeroed()
    var v = secondMoment.take() ?? parameters.zeroed()
    precondition(
      m.scalarCount == count && v.scalarCount == count,
      "Adam: moments and parameters differ in size")
    steps += 1

    let t = Double(steps)
    let b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay
    let stepSize = Parameters.Scalar(Double(learningRate) / (1 - Double.pow(Double(b1), t)))
    let correction2Root = Parameters.Scalar(Double.sqrt(1 - Double.pow(Double(b2), t)))
    let decays = wd > 0
    let projected = decays ? decayProjection.map { $0(parameters) } : nil

    gradient.withUnsafeBufferPointer { g in
      m.withUnsafeMutableBufferPointer { m in
        v.withUnsafeMutableBufferPointer { v in
          parameters.withUnsafeMutableBufferPointer { p in
            func step(_ i: Int, _ decayed: Parameters.Scalar) {
              let gi = decays ? g[i] + wd * decayed : g[i]
              m[i] = b1 * m[i] + (1 - b1) * gi
              v[i] = b2 * v[i] + (1 - b2) * gi * gi
              let denominator = Parameters.Scalar.sqrt(v[i]) / correction2Root + eps
              p[i] -= stepSize * (m[i] / denominator)
            }
            if let projected {
              projected.withUnsafeBufferPointer { d in
                for i in 0..<count { step(i, d[i]) }
              }
            } else {
              for i in 0..<count { step(i, p[i]) }
            }
          }
        }
      }
    }
    firstMoment = m
    secondMoment = v
  }

  /// Clears the state (no moments, zero steps), keeping the hyperparameters.
  @inlinable
  public mutating func resetState() {
    firstMoment = nil
    secondMoment = nil
    steps = 0
  }
}
