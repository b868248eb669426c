import DEQTraining
import Testing
import _DEQTestSupport

@Suite("Binary cross-entropy with logits")
struct BinaryCrossEntropyTests {
  static let logits: [Double] = [-3, -0.5, 0, 0.7, 2.5, 1.25]
  static let targets: [Double] = [0, 1, 0.5, 1, 0.2, 0]

  /// −[t log σ(x) + (1 − t) log(1 − σ(x))], the textbook form, fine at moderate logits.
  static func direct(_ x: Double, _ t: Double) -> Double {
    let sigmoid = 1 / (1 + Double.exp(-x))
    return -(t * Double.log(sigmoid) + (1 - t) * Double.log(1 - sigmoid))
  }

  func matchesDirect<S: DEQScalar>(_: S.Type, tolerance: S) throws {
    let x = Tensor(Self.logits.map { S($0) })
    let t = Tensor(Self.targets.map { S($0) })
    let (loss, gradient) = try binaryCrossEntropyWithLogits(logits: x, targets: t)
    let n = Double(Self.logits.count)
    let expected = zip(Self.logits, Self.targets).map(Self.direct).reduce(0, +) / n
    #expect(loss.isApproximatelyEqual(to: S(expected), relativeTolerance: tolerance))
    let expectedGradient = zip(Self.logits, Self.targets).map { x, t in
      (1 / (1 + Double.exp(-x)) - t) / n
    }
    #expect(gradient.shape == [Self.logits.count])
    let error = relativeError(gradient.scalars, expectedGradient.map { S($0) })
    #expect(error < tolerance, "\(S.self): gradient error \(error)")
  }

  // The direct form loses ~1e-16·|log σ| / ℓ at these logits: 1e-13 in Double. Float: the
  // inputs are exact in Float and the computation is in Double, so only the final
  // rounding (6e-8) remains: 1e-6.
  @Test(
    "Loss and gradient match the direct formula at moderate logits",
    arguments: ScalarKind.allCases)
  func direct(kind: ScalarKind) throws {
    switch kind {
    case .float: try matchesDirect(Float.self, tolerance: 1e-6)
    case .double: try matchesDirect(Double.self, tolerance: 1e-13)
    }
  }

  func stable<S: DEQScalar>(_: S.Type) throws {
    let x = Tensor<S>([1000, -1000, 1000, -1000])
    let t = Tensor<S>([0, 1, 1, 0])
    let (loss, gradient) = try binaryCrossEntropyWithLogits(logits: x, targets: t)
    // Wrong targets cost |x| = 1000 each, right ones 0: the mean is 500 exactly.
    #expect(loss.isFinite)
    #expect(loss == 500)
    // σ(1000) = 1 and σ(−1000) = 0 in floating point: the gradient is ±1/4 or 0 exactly.
    #expect(gradient.scalars == [0.25, -0.25, 0, 0])
  }

  @Test("Logits ±1000 give a finite loss and the exact gradient", arguments: ScalarKind.allCases)
  func extremeLogits(kind: ScalarKind) throws {
    switch kind {
    case .float: try stable(Float.self)
    case .double: try stable(Double.self)
    }
  }

  @Test("The gradient matches central finite differences (relative 1e-6, Double)")
  func finiteDifferences() throws {
    let seed = TestSeeds.standard &+ 7
    var rng = SeededGenerator(seed: seed)
    let shape = [2, 3, 4]
    let x = Tensor<Double>(shape: shape) { _ in 8 * rng.nextUniform() - 4 }
    let t = Tensor<Double>(shape: shape) { _ in rng.nextUniform() }
    let (_, gradient) = try binaryCrossEntropyWithLogits(logits: x, targets: t)
    // h = 1e-5: truncation h²·|ℓ'''|/6N ≈ 1e-12, rounding 1e-16·ℓ/h ≈ 1e-11, against
    // entries of size ~1/(4N) ≈ 1e-2.
    let h = 1e-5
    var numeric = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
      var plus = x.scalars
      var minus = x.scalars
      plus[i] += h
      minus[i] -= h
      let up = try binaryCrossEntropyWithLogits(
        logits: Tensor(shape: shape, scalars: plus), targets: t)
      let down = try binaryCrossEntropyWithLogits(
        logits: Tensor(shape: shape, scalars: minus), targets: t)
      numeric[i] = (up.loss - down.loss) / (2 * h)
    }
    let error = relativeError(gradient.scalars, numeric)
    #expect(error < 1e-6, "seed \(seed): relative error \(error)")
  }

  func error(_ logits: Tensor<Double>, _ targets: Tensor<Double>) -> TrainingError? {
    do {
      _ = try binaryCrossEntropyWithLogits(logits: logits, targets: targets)
      return nil
    } catch {
      return error
    }
  }

  @Test("Bad input is a typed error")
  func errors() {
    #expect(
      error(Tensor([1, 2]), Tensor([1, 0, 1]))
        == .shapeMismatch(what: "targets", expected: [2], actual: [3]))
    #expect(
      error(Tensor(zeros: [2, 1]), Tensor(zeros: [1, 2]))
        == .shapeMismatch(what: "targets", expected: [2, 1], actual: [1, 2]))
    #expect(error(Tensor(zeros: [0, 3]), Tensor(zeros: [0, 3])) == .emptyInput(what: "logits"))
    guard case .nonFinite = error(Tensor([1, .nan]), Tensor([1, 0])) else {
      Issue.record("NaN logit accepted")
      return
    }
    guard case .nonFinite = error(Tensor([-.infinity, 0]), Tensor([1, 0])) else {
      Issue.record("infinite logit accepted")
      return
    }
    for bad in [1.5, -0.1, .nan] {
      guard case .valueOutOfRange(let what, _, _) = error(Tensor([1, 2]), Tensor([0, bad])) else {
        Issue.record("target \(bad) accepted")
        continue
      }
      #expect(what == "target 1")
    }
  }
}
