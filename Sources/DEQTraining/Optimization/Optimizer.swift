// SGD or Adam over a model's named parameters, behind one non-generic value, with their
// state saved and restored under PyTorch's optimizer state names (`momentum_buffer`,
// `exp_avg`, `exp_avg_sq`; see `torch.optim.Optimizer.state_dict`).

/// An optimiser a training loop holds without knowing which one: ``SGD`` or ``Adam`` over
/// `NamedParameters`.
///
/// ```swift
/// var optimizer = Optimizer<Float>.sgd(try SGD(decayProjection: NamedParameters.excludingNormalization))
/// optimizer.update(&parameters, along: gradient, learningRate: schedule.learningRate(at: i))
/// checkpoint += optimizer.stateTensors                // optimizer.conv1.weight_v.momentum_buffer, …
/// try resumed.restoreState(from: loaded, steps: optimizer.steps, parameters: parameters)
/// ```
///
/// ## State names
/// Each parameter entry `<name>` contributes, once the first step is taken:
/// - SGD with momentum: `optimizer.<name>.momentum_buffer` (none with momentum 0),
/// - Adam: `optimizer.<name>.exp_avg` and `optimizer.<name>.exp_avg_sq`,
///
/// each a tensor of the entry's shape. The step count is saved separately (``steps``).
public enum Optimizer<Scalar: DEQScalar>: Sendable {
  /// Stochastic gradient descent with momentum.
  case sgd(SGD<NamedParameters<Scalar>>)
  /// Adam.
  case adam(Adam<NamedParameters<Scalar>>)

  /// The prefix of every state tensor's name.
  public static var statePrefix: String { "optimizer." }

  /// `"sgd"` or `"adam"`.
  public var name: String {
    switch self {
    case .sgd: "sgd"
    case .adam: "adam"
    }
  }

  /// The number of updates taken.
  public var steps: Int {
    switch self {
    case .sgd(let optimizer): optimizer.steps
    case .adam(let optimizer): optimizer.steps
    }
  }

  /// The PyTorch names of the state tensors kept per parameter entry, in save order.
  public var stateKinds: [String] {
    switch self {
    case .sgd(let optimizer): optimizer.momentum > 0 ? ["momentum_buffer"] : []
    case .adam: ["exp_avg", "exp_avg_sq"]
    }
  }

  /// Takes one step of the wrapped optimiser.
  ///
  /// - Parameters:
  ///   - parameters: the model's parameters, updated in place.
  ///   - gradient: their gradient, with the same layout.
  ///   - learningRate: the step's learning rate.
  /// - Precondition: `gradient` has the layout of `parameters`.
  /// - Complexity: that of ``SGD/update(_:along:learningRate:)`` or
  ///   ``Adam/update(_:along:learningRate:)``; the state is not copied.
  public mutating func update(
    _ parameters: inout NamedParameters<Scalar>, along gradient: NamedParameters<Scalar>,
    learningRate: Scalar
  ) {
    precondition(
      gradient.hasSameLayout(as: parameters), "Optimizer: gradient and parameters differ in layout")
    // Each case first replaces `self` by a stateless copy, so that the bound optimiser holds
    // the only reference to its buffers and updates them in place.
    switch self {
    case .sgd(var optimizer):
      var stateless = optimizer
      stateless.resetState()
      self = .sgd(stateless)
      optimizer.update(&parameters, along: gradient, learningRate: learningRate)
      self = .sgd(optimizer)
    case .adam(var optimizer):
      var stateless = optimizer
      stateless.resetState()
      self = .adam(stateless)
      optimizer.update(&parameters, along: gradient, learningRate: learningRate)
      self = .adam(optimizer)
    }
  }

  /// The state as named tensors, `optimizer.<parameter>.<kind>` (see ``stateKinds``); empty
  /// before the first step.
  ///
  /// - Complexity: copies every state scalar (n per kind).
  public var stateTensors: [(name: String, tensor: Tensor<Scalar>)] {
    let buffers: [(kind: String, values: NamedParameters<Scalar>?)] =
      switch self {
      case .sgd(let optimizer): [("momentum_buffer", optimizer.momentumBuffer)]
      case .adam(let optimizer):
        [("exp_avg", optimizer.firstMoment), ("exp_avg_sq", optimizer.secondMoment)]
      }
    var result: [(name: String, tensor: Tensor<Scalar>)] = []
    for (kind, values) in buffers {
      guard let values else { continue }
      for entry in values.entries {
        result.append((Self.stateName(entry.name, kind), values.tensor(entry)))
      }
    }
    return result
  }

  /// Replaces the state by tensors read from a checkpoint.
  ///
  /// With `steps == 0` the state is cleared and `tensors` is not read. Otherwise every
  /// ``stateKinds`` tensor of every entry of `parameters` must be present; other names in
  /// `tensors` (the model's own weights, say) are ignored.
  ///
  /// - Parameters:
  ///   - tensors: tensors by name, as ``stateTensors`` named them.
  ///   - steps: the number of steps the state has seen (Adam's bias correction uses it).
  ///   - parameters: the parameters the state belongs to, for their names and shapes.
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for negative
  ///   `steps`, ``TrainingError/missingState(name:)`` for an absent tensor,
  ///   ``TrainingError/shapeMismatch(what:expected:actual:)`` for a tensor whose shape is
  ///   not its entry's, ``TrainingError/nonFinite(what:)`` for one holding NaN or infinity.
  ///   On error the optimiser is unchanged.
  /// - Complexity: copies every state scalar.
  public mutating func restoreState(
    from tensors: [String: Tensor<Scalar>], steps: Int, parameters: NamedParameters<Scalar>
  ) throws(TrainingError) {
    guard steps >= 0 else {
      throw .invalidHyperparameter(
        name: "optimizer steps", value: "\(steps)", expected: "a count ≥ 0")
    }
    var restored: [NamedParameters<Scalar>] = []
    if steps > 0 {
      for kind in stateKinds {
        restored.append(try Self.read(kind, from: tensors, layout: parameters))
      }
    }
    switch self {
    case .sgd(var optimizer):
      optimizer.momentumBuffer = restored.first
      optimizer.steps = steps
      self = .sgd(optimizer)
    case .adam(var optimizer):
      optimizer.firstMoment = restored.first
      optimizer.secondMoment = restored.last
      optimizer.steps = steps
      self = .adam(optimizer)
    }
  }

  private static func stateName(_ parameter: String, _ kind: String) -> String {
    statePrefix + parameter + "." + kind
  }

  /// One kind of state for every entry of `layout`, checked and laid out as `layout`.
  private static func read(
    _ kind: String, from tensors: [String: Tensor<Scalar>], layout: NamedParameters<Scalar>
  ) throws(TrainingError) -> NamedParameters<Scalar> {
    var scalars: [Scalar] = []
    scalars.reserveCapacity(layout.count)
    for entry in layout.entries {
      let name = stateName(entry.name, kind)
      guard let tensor = tensors[name] else { throw .missingState(name: name) }
      guard tensor.shape == entry.shape else {
        throw .shapeMismatch(what: name, expected: entry.shape, actual: tensor.shape)
      }
      guard tensor.isFinite else { throw .nonFinite(what: name) }
      scalars.append(contentsOf: tensor.scalars)
    }
    return NamedParameters(entries: layout.entries, scalars: scalars)
  }
}
