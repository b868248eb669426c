import DEQTraining
import Testing
import _DEQTestSupport

@Suite("Adam")
struct AdamTests {
  // Three steps from p₀ = (1, −1) with lr = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and the
  // gradients g₁ = (0.5, −1), g₂ = (0.2, 0.4), g₃ = (−0.1, 1), written out by hand.
  static let gradients: [[Double]] = [[0.5, -1], [0.2, 0.4], [-0.1, 1]]

  /// Step 1: m = 0.1·g₁ = (0.05, −0.1), v = 0.001·g₁² = (0.00025, 0.001),
  /// m̂ = m / 0.1 = (0.5, −1), v̂ = v / 0.001 = (0.25, 1).
  static let m1: [Double] = [0.05, -0.1]
  static let v1: [Double] = [0.00025, 0.001]
  static let p1: [Double] = [1 - 0.1 * 0.5 / (0.5 + 1e-8), -1 - 0.1 * -1 / (1 + 1e-8)]

  /// Step 2: m = 0.9·m₁ + 0.1·g₂ = (0.065, −0.05),
  /// v = 0.999·v₁ + 0.001·g₂² = (0.00028975, 0.001159),
  /// 1 − β₁² = 0.19, 1 − β₂² = 0.001999.
  static let m2: [Double] = [0.065, -0.05]
  static let v2: [Double] = [0.00028975, 0.001159]
  static let p2: [Double] = [
    p1[0] - 0.1 * (0.065 / 0.19) / ((0.00028975 / 0.001999).squareRoot() + 1e-8),
    p1[1] - 0.1 * (-0.05 / 0.19) / ((0.001159 / 0.001999).squareRoot() + 1e-8),
  ]

  /// Step 3: m = 0.9·m₂ + 0.1·g₃ = (0.0485, 0.055),
  /// v = 0.999·v₂ + 0.001·g₃² = (0.00029946025, 0.002157841),
  /// 1 − β₁³ = 0.271, 1 − β₂³ = 0.002997001.
  static let m3: [Double] = [0.0485, 0.055]
  static let v3: [Double] = [0.00029946025, 0.002157841]
  static let p3: [Double] = [
    p2[0] - 0.1 * (0.0485 / 0.271) / ((0.00029946025 / 0.002997001).squareRoot() + 1e-8),
    p2[1] - 0.1 * (0.055 / 0.271) / ((0.002157841 / 0.002997001).squareRoot() + 1e-8),
  ]

  func expectClose<S: DEQScalar>(_ x: [S], _ expected: [Double], _ tolerance: S, _ label: String) {
    let error = relativeError(x, expected.map { S($0) })
    #expect(error < tolerance, "\(S.self) \(label): \(x) vs \(expected), error \(error)")
  }

  /// Double: the hand values and the implementation differ only by rounding, ~1e-16 per
  /// operation (the bias corrections are formed in Double as in PyTorch, so 1 − β₂ᵗ loses
  /// nothing to cancellation): 1e-12. Float: β₂ = 0.999 rounds to 0.99900001, so 1 − β₂ and
  /// the second moment are off by 1.3e-5 relative from the hand values: 1e-4.
  func threeSteps<S: DEQScalar>(_: S.Type, tolerance: S) throws {
    var adam = try Adam<[S]>()
    var p: [S] = [1, -1]
    let expected = [
      (Self.m1, Self.v1, Self.p1), (Self.m2, Self.v2, Self.p2), (Self.m3, Self.v3, Self.p3),
    ]
    for (k, (g, (m, v, pk))) in zip(Self.gradients, expected).enumerated() {
      adam.update(&p, along: g.map { S($0) }, learningRate: 0.1)
      expectClose(try #require(adam.firstMoment), m, tolerance, "m\(k + 1)")
      expectClose(try #require(adam.secondMoment), v, tolerance, "v\(k + 1)")
      expectClose(p, pk, tolerance, "p\(k + 1)")
    }
    #expect(adam.steps == 3)
  }

  @Test("Three steps match the moments and iterates computed by hand")
  func handComputedDouble() throws {
    try threeSteps(Double.self, tolerance: 1e-12)
  }

  @Test("The same three steps in Float")
  func handComputedFloat() throws {
    try threeSteps(Float.self, tolerance: 1e-4)
  }

  @Test("Weight decay goes through the projection: excluded entries see only their gradient")
  func decayProjection() throws {
    // Both entries start at 1 with gradient −0.05. With wd = 0.1 the decayed entry's
    // effective gradient is −0.05 + 0.1·1 = 0.05 and it moves down by lr·0.05/(0.05 + ε);
    // gn1.weight keeps −0.05 and moves up by the same amount (first step: m̂/√v̂ = sign g).
    var adam = try Adam<NamedParameters<Double>>(
      weightDecay: 0.1, decayProjection: NamedParameters.excludingNormalization)
    var p = NamedParameters<Double>([("conv.weight", Tensor([1])), ("gn1.weight", Tensor([1]))])
    let g = NamedParameters<Double>(entries: p.entries, scalars: [-0.05, -0.05])
    adam.update(&p, along: g, learningRate: 0.01)
    let step = 0.01 * 0.05 / (0.05 + 1e-8)
    expectClose(p.scalars, [1 - step, 1 + step], 1e-14, "p1")
  }

  @Test("Weight decay without a projection decays every scalar: g + wd·p")
  func decayEverywhere() throws {
    var adam = try Adam<[Double]>(weightDecay: 0.5)
    var p: [Double] = [2, -4]
    adam.update(&p, along: [0, 1], learningRate: 0.1)
    // Effective gradients (1, −1): m₁ = (0.1, −0.1), v₁ = (0.001, 0.001).
    expectClose(try #require(adam.firstMoment), [0.1, -0.1], 1e-15, "m1")
    expectClose(try #require(adam.secondMoment), [0.001, 0.001], 1e-15, "v1")
    expectClose(p, [2 - 0.1 / (1 + 1e-8), -4 + 0.1 / (1 + 1e-8)], 1e-15, "p1")
  }

  @Test("resetState clears the moments and the step count")
  func reset() throws {
    var adam = try Adam<[Double]>()
    var p: [Double] = [1]
    adam.update(&p, along: [1], learningRate: 0.1)
    adam.resetState()
    #expect(adam.firstMoment == nil && adam.secondMoment == nil && adam.steps == 0)
  }

  @Test(
    "Invalid hyperparameters throw",
    arguments: [
      (1.0, 0.999, 1e-8, 0.0, "beta1"), (-0.1, 0.999, 1e-8, 0.0, "beta1"),
      (0.9, 1.0, 1e-8, 0.0, "beta2"), (0.9, Double.nan, 1e-8, 0.0, "beta2"),
      (0.9, 0.999, -1e-8, 0.0, "epsilon"), (0.9, 0.999, 1e-8, -0.1, "weight decay"),
    ])
  func invalid(beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, name: String) {
    do {
      _ = try Adam<[Double]>(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
      Issue.record("no error for \(name)")
    } catch {
      guard case .invalidHyperparameter(let actual, _, _) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(actual == name)
    }
  }
}
