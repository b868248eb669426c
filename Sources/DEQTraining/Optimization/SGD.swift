// Stochastic gradient descent with heavy-ball or Nesterov momentum and L2 weight decay, with
// the semantics of PyTorch's `torch.optim.SGD` (dampening 0): Polyak 1964 (momentum),
// Sutskever, Martens, Dahl & Hinton 2013 (the Nesterov form PyTorch uses).
//
// The weight decay goes through a projection D, so that chosen tensors (normalisation
// parameters, biases) take none: see `NamedParameters.decayProjection(excluding:)`.
//
// Goals in priority order: PyTorch's iterates (a checkpoint's momentum buffer resumes
// exactly), no allocation per step beyond the first (the buffer is updated in place; a
// projection allocates its own result), speed (three or four BLAS axpy/scal per step).

/// Stochastic gradient descent with momentum and weight decay, as `torch.optim.SGD`.
///
/// With gradient `g`, learning rate `lr`, momentum `μ`, weight decay `wd` and the decay
/// projection `D`:
///
/// ```
/// g ← g + wd · D(p)
/// v ← g                 (first step: PyTorch's buf = clone(g))
/// v ← μ · v + g         (later steps)
/// g ← g + μ · v         (nesterov)   or   g ← v   (otherwise)
/// p ← p − lr · g
/// ```
///
/// With `μ = 0` there is no buffer and the step is plain `p ← p − lr · (g + wd · D(p))`.
/// The defaults are Mask R-CNN's recipe in mmdetection (`lr 0.02, momentum 0.9,
/// weight_decay 1e-4`); the learning rate is not stored but passed to each
/// ``update(_:along:learningRate:)``, so a ``LearningRateSchedule`` drives it.
///
/// ```swift
/// var sgd = try SGD<NamedParameters<Float>>(
///   decayProjection: NamedParameters.excludingNormalization)
/// sgd.update(&parameters, along: gradient, learningRate: 0.02)
/// ```
public struct SGD<Parameters: VectorSpace>: Sendable {
  /// The momentum `μ ≥ 0` (default 0.9; 0 turns momentum off).
  public let momentum: Parameters.Scalar
  /// The L2 weight decay `wd ≥ 0` (default 1e-4).
  public let weightDecay: Parameters.Scalar
  /// Whether to take the Nesterov step `g + μ v` rather than `v` (default `false`).
  public let nesterov: Bool
  /// The projection `D` the weight decay acts through, or `nil` for the identity (decay on
  /// every scalar, the default).
  public let decayProjection: (@Sendable (Parameters) -> Parameters)?

  /// The velocity `v` (PyTorch's `momentum_buffer`), `nil` before the first step and
  /// whenever `momentum` is 0. Public so that checkpoints can save and restore it.
  public var momentumBuffer: Parameters?
  /// The number of updates taken.
  public var steps: Int

  /// Creates the optimiser with empty state.
  ///
  /// - Parameters:
  ///   - momentum: `μ` (default 0.9).
  ///   - weightDecay: `wd` (default 1e-4).
  ///   - nesterov: whether to use Nesterov momentum (default `false`).
  ///   - decayProjection: `D`, the part of the parameters that takes weight decay (default
  ///     `nil`: all of it). It must be linear and idempotent (a projection); for
  ///     `NamedParameters` use `NamedParameters/decayProjection(excluding:)` or
  ///     `NamedParameters/excludingNormalization`.
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for a
  ///   negative or non-finite momentum or weight decay, and for Nesterov momentum with
  ///   `μ = 0` (PyTorch refuses it too: the step would silently be plain SGD).
  public init(
    momentum: Parameters.Scalar = 0.9,
    weightDecay: Parameters.Scalar = 1e-4,
    nesterov: Bool = false,
    decayProjection: (@Sendable (Parameters) -> Parameters)? = nil
  ) throws(TrainingError) {
    guard momentum >= 0, momentum.isFinite else {
      throw .invalidHyperparameter(
        name: "momentum", value: "\(momentum)", expected: "a finite value ≥ 0")
    }
    guard weightDecay >= 0, weightDecay.isFinite else {
      throw .invalidHyperparameter(
        name: "weight decay", value: "\(weightDecay)", expected: "a finite value ≥ 0")
    }
    guard !nesterov || momentum > 0 else {
      throw .invalidHyperparameter(
        name: "momentum", value: "\(momentum)", expected: "a value > 0 with Nesterov momentum")
    }
    self.momentum = momentum
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    self.decayProjection = decayProjection
    self.momentumBuffer = nil
    self.steps = 0
  }

  /// Takes one step: moves `parameters` against `gradient` and advances the momentum.
  ///
  /// - Parameters:
  ///   - parameters: `p`, updated in place.
  ///   - gradient: `∂loss/∂p`, of the same shape as `parameters`.
  ///   - learningRate: `lr` for this step.
  /// - Precondition: `gradient` (and the momentum buffer) have the shape of `parameters`.
  /// - Complexity: O(n) flops in at most four BLAS level-1 calls; no allocation after the
  ///   first step except the projection's result when ``decayProjection`` is set and
  ///   `weightDecay > 0`.
  @inlinable
  public mutating func update(
    _ parameters: inout Parameters, along gradient: Parameters,
    learningRate: Parameters.Scalar
  ) {
    precondition(
      gradient.scalarCount == parameters.scalarCount, "SGD: gradient and parameters differ in size")
    let decays = weightDecay > 0
    // D(p) when a projection is set; with the identity, `parameters` itself is read.
    let projected = decays ? decayProjection.map { $0(parameters) } : nil
    steps += 1

    guard momentum > 0 else {
      // p ← p − lr·g − lr·wd·D(p)
      if decays {
        if let projected {
          parameters.add(projected, scaledBy: -learningRate * weightDecay)
        } else {
          parameters.scale(by: 1 - learningRate * weightDecay)
        }
      }
      parameters.add(gradient, scaledBy: -learningRate)
      return
    }

    // v ← μ·v + g + wd·D(p), or v ← g + wd·D(p) on the first step.
    var buffer: Parameters
    if var previous = momentumBuffer.take() {
      precondition(
        previous.scalarCount == parameters.scalarCount,
        "SGD: momentum buffer and parameters differ in size")
      previous.scale(by: momentum)
      previous.add(gradient)
      buffer = previous
    } else {
      // A copy of its own (× 1 is exact), so later steps update it in place.
      buffer = gradient.scaled(by: 1)
    }
    if decays {
      buffer.add(projected ?? parameters, scaledBy: weightDecay)
    }

    if nesterov {
      // p ← p − lr·(g + wd·D(p) + μ·v)
      if decays {
        if let projected {
          parameters.add(projected, scaledBy: -learningRate * weightDecay)
        } else {
          parameters.scale(by: 1 - learningRate * weightDecay)
        }
      }
      parameters.add(gradient, scaledBy: -learningRate)
      parameters.add(buffer, scaledBy: -learningRate * momentum)
    } else {
      parameters.add(buffer, scaledBy: -learningRate)
    }
    momentumBuffer = buffer
  }

  /// Clears the state (no momentum buffer, zero steps), keeping the hyperparameters.
  @inlinable
  public mutating func resetState() {
    momentumBuffer = nil
    steps = 0
  }
}
