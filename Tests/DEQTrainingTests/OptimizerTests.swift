import DEQTraining
import Testing
import _DEQTestSupport

@Suite("Optimizer (SGD or Adam over named parameters) and its checkpoint state")
struct OptimizerTests {
  static func parameters<S: DEQScalar>(_: S.Type) -> NamedParameters<S> {
    NamedParameters([
      ("conv1.weight_v", Tensor(shape: [2, 3]) { S($0) / 4 - 0.5 }),
      ("gn1.weight", Tensor([1, 1])),
      ("gn1.bias", Tensor([0, 0.25])),
    ])
  }

  /// A deterministic gradient that depends on the parameters (so steps differ).
  static func gradient<S: DEQScalar>(_ p: NamedParameters<S>, step: Int) -> NamedParameters<S> {
    let scalars = p.scalars.enumerated().map { i, x in
      x * S(0.5) + S(Double(i % 3) - 1) * S(1 + step) / 10
    }
    return NamedParameters(entries: p.entries, scalars: scalars)
  }

  static func makeSGD<S: DEQScalar>(_: S.Type) throws -> Optimizer<S> {
    .sgd(
      try SGD(
        momentum: 0.9, weightDecay: 1e-2, nesterov: true,
        decayProjection: NamedParameters.excludingNormalization))
  }

  static func makeAdam<S: DEQScalar>(_: S.Type) throws -> Optimizer<S> {
    .adam(try Adam(weightDecay: 1e-2))
  }

  /// The scalars' bit patterns (sign, exponent, significand), for bit-for-bit comparison.
  static func bits<S: DEQScalar>(_ scalars: [S]) -> [String] {
    scalars.map { "\($0.sign) \($0.exponentBitPattern) \($0.significandBitPattern)" }
  }

  /// Three steps, a checkpoint, a fresh optimiser restored from it: the fourth step of both
  /// must agree bit for bit.
  func roundTrip<S: DEQScalar>(_ make: () throws -> Optimizer<S>) throws {
    var optimizer = try make()
    var p = Self.parameters(S.self)
    for step in 0..<3 {
      optimizer.update(&p, along: Self.gradient(p, step: step), learningRate: 0.05)
    }
    let saved = Dictionary(
      uniqueKeysWithValues: optimizer.stateTensors.map { ($0.name, $0.tensor) })
    var resumed = try make()
    try resumed.restoreState(from: saved, steps: optimizer.steps, parameters: p)
    #expect(resumed.steps == 3)

    var q = p
    optimizer.update(&p, along: Self.gradient(p, step: 3), learningRate: 0.05)
    resumed.update(&q, along: Self.gradient(q, step: 3), learningRate: 0.05)
    #expect(Self.bits(p.scalars) == Self.bits(q.scalars))
    #expect(
      optimizer.stateTensors.map { Self.bits($0.tensor.scalars) }
        == resumed.stateTensors.map { Self.bits($0.tensor.scalars) })
  }

  @Test(
    "State tensors → restoreState → the next update is identical bit for bit",
    arguments: ScalarKind.allCases, ["sgd", "adam"])
  func stateRoundTrip(kind: ScalarKind, optimizer: String) throws {
    switch (kind, optimizer) {
    case (.float, "sgd"): try roundTrip { try Self.makeSGD(Float.self) }
    case (.double, "sgd"): try roundTrip { try Self.makeSGD(Double.self) }
    case (.float, _): try roundTrip { try Self.makeAdam(Float.self) }
    case (.double, _): try roundTrip { try Self.makeAdam(Double.self) }
    }
  }

  @Test("State names follow PyTorch: momentum_buffer, exp_avg, exp_avg_sq")
  func stateNames() throws {
    var sgd = try Self.makeSGD(Double.self)
    var adam = try Self.makeAdam(Double.self)
    #expect(sgd.name == "sgd" && adam.name == "adam")
    #expect(sgd.stateTensors.isEmpty && adam.stateTensors.isEmpty)
    var p = Self.parameters(Double.self)
    var q = p
    sgd.update(&p, along: Self.gradient(p, step: 0), learningRate: 0.1)
    adam.update(&q, along: Self.gradient(q, step: 0), learningRate: 0.1)
    #expect(
      sgd.stateTensors.map(\.name) == [
        "optimizer.conv1.weight_v.momentum_buffer", "optimizer.gn1.weight.momentum_buffer",
        "optimizer.gn1.bias.momentum_buffer",
      ])
    #expect(
      adam.stateTensors.map(\.name) == [
        "optimizer.conv1.weight_v.exp_avg", "optimizer.gn1.weight.exp_avg",
        "optimizer.gn1.bias.exp_avg", "optimizer.conv1.weight_v.exp_avg_sq",
        "optimizer.gn1.weight.exp_avg_sq", "optimizer.gn1.bias.exp_avg_sq",
      ])
    #expect(adam.stateTensors[0].tensor.shape == [2, 3])
    // SGD without momentum keeps no state.
    var plain = Optimizer<Double>.sgd(try SGD(momentum: 0))
    plain.update(&p, along: Self.gradient(p, step: 1), learningRate: 0.1)
    #expect(plain.stateTensors.isEmpty && plain.stateKinds.isEmpty && plain.steps == 1)
  }

  @Test("The enum's update is the wrapped optimiser's update")
  func sameAsWrapped() throws {
    let sgd = try SGD<NamedParameters<Double>>(momentum: 0.9, weightDecay: 1e-3)
    var direct = sgd
    var wrapped = Optimizer.sgd(sgd)
    var p = Self.parameters(Double.self)
    var q = p
    for step in 0..<3 {
      direct.update(&p, along: Self.gradient(p, step: step), learningRate: 0.1)
      wrapped.update(&q, along: Self.gradient(q, step: step), learningRate: 0.1)
    }
    #expect(Self.bits(p.scalars) == Self.bits(q.scalars))
  }

  /// The state of an Adam optimiser after one step, and the parameters it belongs to.
  func savedAdamState() throws -> ([String: Tensor<Double>], NamedParameters<Double>) {
    var adam = try Self.makeAdam(Double.self)
    var p = Self.parameters(Double.self)
    adam.update(&p, along: Self.gradient(p, step: 0), learningRate: 0.1)
    return (Dictionary(uniqueKeysWithValues: adam.stateTensors.map { ($0.name, $0.tensor) }), p)
  }

  func restoreError(
    _ tensors: [String: Tensor<Double>], steps: Int = 1, parameters: NamedParameters<Double>
  ) throws -> TrainingError? {
    var adam = try Self.makeAdam(Double.self)
    do {
      try adam.restoreState(from: tensors, steps: steps, parameters: parameters)
      return nil
    } catch {
      // A failed restore leaves the optimiser as it was.
      #expect(adam.steps == 0 && adam.stateTensors.isEmpty)
      return error
    }
  }

  @Test("A missing state tensor is a typed error naming it")
  func missing() throws {
    var (tensors, p) = try savedAdamState()
    tensors["optimizer.gn1.bias.exp_avg_sq"] = nil
    #expect(
      try restoreError(tensors, parameters: p)
        == .missingState(name: "optimizer.gn1.bias.exp_avg_sq"))
    // SGD state is not Adam state.
    var sgdState: [String: Tensor<Double>] = [:]
    for entry in p.entries { sgdState["optimizer.\(entry.name).momentum_buffer"] = p.tensor(entry) }
    #expect(
      try restoreError(sgdState, parameters: p)
        == .missingState(name: "optimizer.conv1.weight_v.exp_avg"))
  }

  @Test("A mis-shaped or non-finite state tensor is a typed error")
  func misShaped() throws {
    var (tensors, p) = try savedAdamState()
    tensors["optimizer.conv1.weight_v.exp_avg"] = Tensor(zeros: [3, 2])
    #expect(
      try restoreError(tensors, parameters: p)
        == .shapeMismatch(
          what: "optimizer.conv1.weight_v.exp_avg", expected: [2, 3], actual: [3, 2]))
    tensors["optimizer.conv1.weight_v.exp_avg"] = Tensor(shape: [2, 3], repeating: .nan)
    #expect(
      try restoreError(tensors, parameters: p)
        == .nonFinite(what: "optimizer.conv1.weight_v.exp_avg"))
    guard case .invalidHyperparameter = try restoreError(tensors, steps: -1, parameters: p) else {
      Issue.record("negative steps accepted")
      return
    }
  }

  @Test("Restoring zero steps clears the state and reads nothing")
  func restoreZeroSteps() throws {
    var adam = try Self.makeAdam(Double.self)
    var p = Self.parameters(Double.self)
    adam.update(&p, along: Self.gradient(p, step: 0), learningRate: 0.1)
    try adam.restoreState(from: [:], steps: 0, parameters: p)
    #expect(adam.steps == 0 && adam.stateTensors.isEmpty)
  }
}
