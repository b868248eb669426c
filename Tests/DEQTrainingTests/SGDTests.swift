import DEQTraining
import Testing
import _DEQTestSupport

@Suite("SGD")
struct SGDTests {
  // The quadratic f(p) = ½ pᵀ A p − bᵀ p with A = diag(2, 0.5), b = (1, 1): ∇f(p) = A p − b,
  // minimum A⁻¹ b = (0.5, 2). Start p₀ = (1, −2), lr = 0.1, μ = 0.9.
  static let a: [Double] = [2, 0.5]
  static let b: [Double] = [1, 1]
  static let start: [Double] = [1, -2]

  static func gradient<S: DEQScalar>(_ p: [S]) -> [S] {
    (0..<p.count).map { S(a[$0]) * p[$0] - S(b[$0]) }
  }

  /// Float iterates carry rounding of a few ulps per step; Double to 1e-14.
  static func tolerance<S: DEQScalar>(_: S.Type) -> S { S.self == Float.self ? 1e-5 : 1e-13 }

  func expectClose<S: DEQScalar>(_ p: [S], _ expected: [Double], _ label: String) {
    let reference = expected.map { S($0) }
    let error = relativeError(p, reference)
    #expect(error < Self.tolerance(S.self), "\(S.self) \(label): \(p) vs \(expected)")
  }

  func heavyBall<S: DEQScalar>(_: S.Type) throws {
    var sgd = try SGD<[S]>(momentum: 0.9, weightDecay: 0)
    var p = Self.start.map { S($0) }
    // By hand: g₀ = (1, −2), v₁ = g₀, p₁ = p₀ − 0.1 v₁;
    //          g₁ = (0.8, −1.9), v₂ = 0.9 v₁ + g₁ = (1.7, −3.7), p₂ = p₁ − 0.1 v₂;
    //          g₂ = (0.46, −1.715), v₃ = 0.9 v₂ + g₂ = (1.99, −5.045), p₃ = p₂ − 0.1 v₃.
    let iterates: [[Double]] = [[0.9, -1.8], [0.73, -1.43], [0.531, -0.9255]]
    let buffers: [[Double]] = [[1, -2], [1.7, -3.7], [1.99, -5.045]]
    for (k, (expected, buffer)) in zip(iterates, buffers).enumerated() {
      sgd.update(&p, along: Self.gradient(p), learningRate: 0.1)
      expectClose(p, expected, "p\(k + 1)")
      expectClose(try #require(sgd.momentumBuffer), buffer, "v\(k + 1)")
    }
    #expect(sgd.steps == 3)
  }

  @Test(
    "Heavy-ball iterates on a quadratic match the recurrence written out by hand",
    arguments: ScalarKind.allCases)
  func handIterates(kind: ScalarKind) throws {
    switch kind {
    case .float: try heavyBall(Float.self)
    case .double: try heavyBall(Double.self)
    }
  }

  func nesterovSteps<S: DEQScalar>(_: S.Type) throws {
    var sgd = try SGD<[S]>(momentum: 0.9, weightDecay: 0, nesterov: true)
    var p = Self.start.map { S($0) }
    // By hand: g₀ = (1, −2), v₁ = g₀, step g₀ + 0.9 v₁ = (1.9, −3.8), p₁ = (0.81, −1.62);
    //          g₁ = (0.62, −1.81), v₂ = 0.9 v₁ + g₁ = (1.52, −3.61),
    //          step g₁ + 0.9 v₂ = (1.988, −5.059), p₂ = (0.6112, −1.1141).
    sgd.update(&p, along: Self.gradient(p), learningRate: 0.1)
    expectClose(p, [0.81, -1.62], "p1")
    sgd.update(&p, along: Self.gradient(p), learningRate: 0.1)
    expectClose(p, [0.6112, -1.1141], "p2")
    expectClose(try #require(sgd.momentumBuffer), [1.52, -3.61], "v2")
  }

  @Test("Nesterov iterates match the hand computation", arguments: ScalarKind.allCases)
  func nesterov(kind: ScalarKind) throws {
    switch kind {
    case .float: try nesterovSteps(Float.self)
    case .double: try nesterovSteps(Double.self)
    }
  }

  func converges<S: DEQScalar>(_: S.Type, nesterov: Bool) throws {
    var sgd = try SGD<[S]>(momentum: 0.9, weightDecay: 0, nesterov: nesterov)
    var p = Self.start.map { S($0) }
    // Both modes contract by at most √0.9 ≈ 0.95 per step here: 1000 steps reach rounding.
    for _ in 0..<1000 { sgd.update(&p, along: Self.gradient(p), learningRate: 0.1) }
    expectClose(p, [0.5, 2], "limit A⁻¹b")
  }

  @Test("Many steps converge to the minimiser A⁻¹b", arguments: ScalarKind.allCases, [false, true])
  func limit(kind: ScalarKind, nesterov: Bool) throws {
    switch kind {
    case .float: try converges(Float.self, nesterov: nesterov)
    case .double: try converges(Double.self, nesterov: nesterov)
    }
  }

  @Test("Without momentum a step is p − lr·(g + wd·p), and no buffer is kept")
  func plainStepWithDecay() throws {
    var sgd = try SGD<[Double]>(momentum: 0, weightDecay: 0.01)
    var p: [Double] = [1, -2]
    sgd.update(&p, along: [0.5, 0.25], learningRate: 0.1)
    // (1 − 0.1·(0.5 + 0.01)), (−2 − 0.1·(0.25 − 0.02))
    expectClose(p, [0.949, -2.023], "p1")
    #expect(sgd.momentumBuffer == nil)
    #expect(sgd.steps == 1)
  }

  @Test("Weight decay with momentum enters the buffer: v₁ = g + wd·p")
  func decayInBuffer() throws {
    var sgd = try SGD<[Double]>(weightDecay: 0.01)
    var p: [Double] = [1, -2]
    sgd.update(&p, along: [0.5, 0.25], learningRate: 0.1)
    expectClose(try #require(sgd.momentumBuffer), [0.51, 0.23], "v1")
    sgd.update(&p, along: [0.5, 0.25], learningRate: 0.1)
    // p₁ = (0.949, −2.023); v₂ = 0.9·v₁ + g + 0.01·p₁ = (0.96849, 0.43677)
    expectClose(try #require(sgd.momentumBuffer), [0.96849, 0.43677], "v2")
    expectClose(p, [0.949 - 0.096849, -2.023 - 0.043677], "p2")
  }

  static let layout = NamedParameters<Double>([
    ("conv1.weight_v", Tensor([1, -2])), ("gn1.weight", Tensor([3])),
    ("conv1.bias", Tensor([4])),
  ])

  @Test(
    "A projection excluding normalisation leaves those entries undecayed",
    arguments: [false, true])
  func projectionExcludes(momentum: Bool) throws {
    var sgd = try SGD<NamedParameters<Double>>(
      momentum: momentum ? 0.9 : 0, weightDecay: 0.1,
      decayProjection: NamedParameters.excludingNormalization)
    var p = Self.layout
    sgd.update(&p, along: p.zeroed(), learningRate: 1)
    // Only conv1.weight_v decays: p ← p − 1·0.1·p; gn1.weight and conv1.bias are exact.
    #expect(p.scalars[2...] == [3, 4])
    expectClose(Array(p.scalars[..<2]), [0.9, -1.8], "decayed weight")
    // The identity projection decays every entry.
    var all = try SGD<NamedParameters<Double>>(momentum: 0, weightDecay: 0.1)
    var q = Self.layout
    all.update(&q, along: q.zeroed(), learningRate: 1)
    expectClose(q.scalars, [0.9, -1.8, 2.7, 3.6], "all decayed")
  }

  @Test("excludingNormalization's rule, name by name")
  func exclusionRule() {
    let excluded = [
      "gn1.weight", "gn1.bias", "refine.gn.weight", "norm.weight", "encoder.layernorm.weight",
      "backbone.batch_norm1.weight", "conv1.bias", "bias", "deconv.bias",
    ]
    let decayed = [
      "conv1.weight_v", "conv1.weight_g", "deconv.weight", "sign.weight", "logits.weight",
      "conv_bias_free.weight",
    ]
    for name in excluded {
      let entry = NamedParameters<Double>.Entry(name: name, shape: [1], range: 0..<1)
      #expect(NamedParameters<Double>.isNormalizationOrBias(entry), "\(name)")
    }
    for name in decayed {
      let entry = NamedParameters<Double>.Entry(name: name, shape: [1], range: 0..<1)
      #expect(!NamedParameters<Double>.isNormalizationOrBias(entry), "\(name)")
    }
  }

  @Test("decayProjection(excluding:) zeroes exactly the chosen entries")
  func customProjection() {
    let projection = NamedParameters<Double>.decayProjection { $0.shape == [1] }
    let projected = projection(Self.layout)
    #expect(projected.scalars == [1, -2, 0, 0])
    #expect(projected.hasSameLayout(as: Self.layout))
  }

  @Test("Defaults are mmdetection's Mask R-CNN recipe")
  func defaults() throws {
    let sgd = try SGD<[Double]>()
    #expect(sgd.momentum == 0.9 && sgd.weightDecay == 1e-4 && !sgd.nesterov)
    #expect(sgd.momentumBuffer == nil && sgd.steps == 0)
  }

  @Test(
    "Invalid hyperparameters throw",
    arguments: [
      (-0.1, 0.0, false, "momentum"), (0.9, -1e-4, false, "weight decay"),
      (0.0, 0.0, true, "momentum"), (Double.nan, 0.0, false, "momentum"),
      (0.9, Double.infinity, false, "weight decay"),
    ])
  func invalid(momentum: Double, weightDecay: Double, nesterov: Bool, name: String) {
    do {
      _ = try SGD<[Double]>(momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
      Issue.record("no error for momentum \(momentum), wd \(weightDecay), nesterov \(nesterov)")
    } catch {
      guard case .invalidHyperparameter(let actual, _, _) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(actual == name)
    }
  }
}
