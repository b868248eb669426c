import DEQTraining
import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// A small mask head whose blocks are contractions (modest GroupNorm scales, as in
/// ImplicitRefinementTests), with non-zero biases everywhere, on 5×5 RoIs.
func smallMaskHead(
  _ kind: MaskHeadConfiguration.Refinement, doubleResidual: Bool = true, seed: UInt64,
  forward: StoppingCriteria = tightStopping, backward: StoppingCriteria = tightStopping
) -> MaskHead<Double> {
  var rng = SeededGenerator(seed: seed)
  let configuration = MaskHeadConfiguration(
    refinement: kind, channels: 8, groups: 4, classes: 3, doubleResidual: doubleResidual,
    depth: 3)
  func block() -> IFRBlock<Double> {
    var block = IFRBlock<Double>(
      channels: 8, groups: 4, form: doubleResidual ? .ifrCode : .noResidual, using: &rng)
    for (norm, range) in [
      (\IFRBlock<Double>.gn1, 0.5...1.0), (\.gn2, 0.2...0.4), (\.gn3, 0.2...0.4),
    ] {
      let count = block[keyPath: norm].channels
      block[keyPath: norm].scale = Tensor(uniformIn: range, shape: [count], using: &rng)
      block[keyPath: norm].offset = Tensor(uniformIn: -0.2...0.2, shape: [count], using: &rng)
    }
    return block
  }
  let refinement: MaskRefinement<Double> =
    switch kind {
    case .ifr:
      .implicit(
        ImplicitRefinement(block: block(), forwardStopping: forward, backwardStopping: backward))
    case .explicit: .explicit(ExplicitRefinement(independentBlocks: (0..<3).map { _ in block() }))
    case .unrolled: .explicit(ExplicitRefinement(sharedBlock: block(), steps: 3))
    }
  var upsample = TransposedConv2D<Double>(inChannels: 8, outChannels: 8, using: &rng)
  upsample.bias = Tensor(uniformIn: -0.3...0.3, shape: [8], using: &rng)
  var predictor = PointwiseConv2D<Double>(inChannels: 8, outChannels: 3, using: &rng)
  predictor.bias = Tensor(uniformIn: -0.3...0.3, shape: [3], using: &rng)
  return MaskHead(
    configuration: configuration, refinement: refinement, upsample: upsample, predictor: predictor)
}

/// Features `[2, 8, 5, 5]`, 0/1 targets `[2, 10, 10]` and classes.
func maskData(seed: UInt64) -> (Tensor<Double>, Tensor<Double>, [Int]) {
  var rng = SeededGenerator(seed: seed)
  let x = Tensor<Double>(uniformIn: -1...1, shape: [2, 8, 5, 5], using: &rng)
  let targets = Tensor<Double>(shape: [2, 10, 10]) { _ in rng.nextUniform(Double.self) < 0.4 ? 1 : 0
  }
  return (x, targets, [2, 0])
}

@Suite("MaskHead: layout, loss, gradients and the zero-gradient outcome")
struct MaskHeadTests {
  @Test(
    "the parameters are MaskHeadParameterCount's tensors, in its order",
    arguments: MaskHeadConfiguration.Refinement.allCases)
  func layout(_ kind: MaskHeadConfiguration.Refinement) throws {
    let configuration = MaskHeadConfiguration(refinement: kind, channels: 8, classes: 3)
    var rng = SeededGenerator(seed: 1)
    let head = MaskHead<Float>(configuration: configuration, using: &rng)
    let expected = configuration.parameterCount.tensors
    #expect(head.parameters.names == expected.map(\.name))
    #expect(head.parameters.entries.map(\.shape) == expected.map(\.shape))
    #expect(head.parameterCount == configuration.parameterCount.total)
    // Setting the parameters round-trips.
    var changed = head
    changed.parameters = head.parameters.scaled(by: 2)
    #expect(changed.parameters.scalars == head.parameters.scalars.map { 2 * $0 })
  }

  @Test("a head's safetensors round-trip (in either precision); bad files are typed errors")
  func stateDictionary() throws {
    let head = smallMaskHead(.explicit, seed: 61)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "mask-head-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try head.write(to: url)
    let again = try MaskHead<Double>(configuration: head.configuration, contentsOf: url)
    #expect(again.parameters.scalars == head.parameters.scalars)
    let single = try MaskHead<Float>(configuration: head.configuration, contentsOf: url)
    #expect(single.parameters.scalars == head.parameters.scalars.map { Float($0) })

    var target = head
    var tensors = head.stateDictionary
    tensors.removeValue(forKey: "deconv.bias")
    #expect(throws: IFRHeadError.missingTensor(name: "deconv.bias")) {
      try target.loadStateDictionary(tensors)
    }
    tensors = head.stateDictionary
    tensors["predictor.bias"] = Tensor(zeros: [4])
    #expect(
      throws: IFRHeadError.shapeMismatch(name: "predictor.bias", expected: [3], actual: [4])
    ) { try target.loadStateDictionary(tensors) }
    tensors = head.stateDictionary
    tensors["extra"] = Tensor(zeros: [1])
    tensors["optimizer.deconv.bias.exp_avg"] = Tensor(zeros: [8])
    #expect(
      throws: IFRHeadError.unexpectedTensors(names: ["extra", "optimizer.deconv.bias.exp_avg"])
    ) {
      try target.loadStateDictionary(tensors)
    }
    #expect(throws: IFRHeadError.unexpectedTensors(names: ["extra"])) {
      try target.loadStateDictionary(tensors, ignoringPrefix: "optimizer.")
    }
    #expect(target.parameters.scalars == head.parameters.scalars)  // unchanged by the errors
    var other = head.configuration
    other.depth = 2
    #expect(throws: IFRHeadError.self) {
      _ = try MaskHead<Double>(configuration: other, contentsOf: url)
    }
  }

  @Test("the loss is the mean BCE on each RoI's class channel; other channels get no gradient")
  func lossSelectsTheClassChannel() throws {
    let head = smallMaskHead(.explicit, seed: 3)
    let (x, targets, classes) = maskData(seed: 4)
    let forward = head.forward(x)
    let (loss, cotangent) = try head.loss(forward, targets: targets, classes: classes)
    var sum = 0.0
    for n in 0..<2 {
      for i in 0..<10 {
        for j in 0..<10 {
          let z = forward.logits[n, classes[n], i, j]
          let t = targets[n, i, j]
          let p = 1 / (1 + exp(-z))
          sum -= t * log(p) + (1 - t) * log(1 - p)
        }
      }
    }
    #expect(loss.isApproximatelyEqual(to: sum / 200, relativeTolerance: 1e-12))
    for n in 0..<2 {
      for k in 0..<3 where k != classes[n] {
        #expect((0..<10).allSatisfy { i in (0..<10).allSatisfy { cotangent[n, k, i, $0] == 0 } })
      }
    }
    #expect(throws: TrainingError.self) {
      try head.loss(forward, targets: targets, classes: [3, 0])
    }
    #expect(throws: TrainingError.self) {
      try head.loss(forward, targets: Tensor(zeros: [2, 10, 9]), classes: classes)
    }
  }

  @Test(
    "∂L/∂θ and ∂L/∂X of the whole head match central differences (IFR: tight implicit backward)",
    arguments: [
      (MaskHeadConfiguration.Refinement.ifr, true), (.explicit, true), (.unrolled, true),
      (.explicit, false),
    ])
  func headGradient(_ kind: MaskHeadConfiguration.Refinement, _ residual: Bool) throws {
    let head = smallMaskHead(kind, doubleResidual: residual, seed: 11)
    let (x, targets, classes) = maskData(seed: 12)
    let forward = head.forward(x)
    if let solutions = forward.implicit?.solutions {
      #expect(solutions.allSatisfy { $0.status == .converged })
    }
    let (_, cotangent) = try head.loss(forward, targets: targets, classes: classes)
    let gradient = head.backward(forward, logitsCotangent: cotangent)
    #expect(gradient.adjointOutcomes.allSatisfy { $0 == .converged })
    #expect(gradient.zeroGradientRoIs.isEmpty && gradient.policyApplied == nil)
    let entries = head.parameters.entries
    func loss(_ p: [Double]) -> Double {
      var h = head
      h.parameters = NamedParameters(entries: entries, scalars: p)
      return (try? h.loss(h.forward(x), targets: targets, classes: classes).loss) ?? .nan
    }
    // Along a random direction, and along random directions within each layer.
    let error = parameterDerivativeError(
      loss: loss, at: head.parameters.scalars, cotangent: gradient.parameters.scalars, seed: 13)
    #expect(error < 1e-6, "\(kind) θ: \(error)")
    for prefix in ["refine.", "deconv.", "predictor."] {
      let mask = head.parameters.mask { $0.name.hasPrefix(prefix) }.scalars
      var rng = SeededGenerator(seed: 14)
      let d = mask.map { $0 * rng.nextNormal(Double.self) }
      let fd = centralDifference(loss, at: head.parameters.scalars, direction: d, step: 1e-5)
      let analytic = inner(gradient.parameters.scalars, d)
      #expect(relativeDifference(analytic, fd) < 1e-6, "\(kind) \(prefix): \(analytic) vs \(fd)")
    }
    let v: Tensor<Double> = normalTensor(x.shape, seed: 15)
    let fdX = centralDifference(
      { p in
        let xp = Tensor<Double>(shape: x.shape) { p[$0] }
        return (try? head.loss(head.forward(xp), targets: targets, classes: classes).loss) ?? .nan
      }, at: x.scalars, direction: v.scalars, step: 1e-5)
    #expect(relativeDifference(inner(gradient.features, v), fdX) < 1e-6, "\(kind) X")
  }

  @Test(
    "adjoint identity of the whole head: forward-mode ⟨J·v, w⟩ equals reverse-mode ⟨v, Jᵀw⟩",
    arguments: [MaskHeadConfiguration.Refinement.ifr, .explicit, .unrolled])
  func headAdjointIdentity(_ kind: MaskHeadConfiguration.Refinement) throws {
    // X ↦ logits, linearised at X. For the double-residual block F depends on H + X, so
    // ∂F/∂X·v = ∂F/∂H·v. Forward mode: explicit, Ḣᵢ₊₁ = Jᵢ(Ḣᵢ + v); IFR, Ḣ = J(Ḣ + v), a
    // linear fixed point solved tightly with GMRES from the block's exact JVPs.
    let head = smallMaskHead(kind, seed: 51)
    let (x, _, _) = maskData(seed: 52)
    let v: Tensor<Double> = normalTensor(x.shape, seed: 53)
    let forward = head.forward(x)
    let w: Tensor<Double> = normalTensor(forward.logits.shape, seed: 54)
    var tangent = Tensor<Double>(zeros: x.shape)
    switch head.refinement {
    case .implicit(let module):
      let h = forward.refined
      let problem = FixedPointProblem(start: tangent) { t in
        module.block.jvp(at: h, injection: x, tangent: t.adding(v))
      }
      let solution = solve(problem, using: GMRES(), stopping: tightStopping)
      #expect(solution.status == .converged)
      tangent = solution.fixedPoint
    case .explicit(let module):
      var h = Tensor<Double>(zeros: x.shape)
      for i in 0..<module.steps {
        let block = module.blocks[module.blocks.count == 1 ? 0 : i]
        tangent = block.jvp(at: h, injection: x, tangent: tangent.adding(v))
        h = block(h, injection: x)
      }
    }
    let upsampled = head.upsample.jvp(tangent: tangent)
    let activated = ReLU<Double>().jvp(at: forward.upsampled, tangent: upsampled)
    let logitsTangent = head.predictor.jvp(tangent: activated)
    let reverse = head.backward(forward, logitsCotangent: w).features
    let error = relativeDifference(inner(logitsTangent, w), inner(v, reverse))
    #expect(error < 1e-10, "\(kind): \(error)")
  }

  @Test("a warm start at the equilibrium ends the forward solve at its start")
  func warmStart() {
    let head = smallMaskHead(.ifr, seed: 21)
    let (x, _, _) = maskData(seed: 22)
    guard case .implicit(var module) = head.refinement else { return }
    let cold = module.forward(x)  // tight
    module.forwardStopping = .ifr
    let warm = module.forward(x, from: cold.equilibrium)
    #expect(cold.solutions.allSatisfy { $0.iterations > 0 })
    #expect(warm.solutions.allSatisfy { $0.status == .converged && $0.bestIteration == 0 })
    #expect(warm.equilibrium == cold.equilibrium)
  }

  @Test("an adjoint solve with no iterations ends at its zero start: named, counted, handled")
  func forcedZeroGradient() throws {
    let noBackward = StoppingCriteria(maxIterations: 0, stall: nil)
    let head = smallMaskHead(.ifr, seed: 31, backward: noBackward)
    let (x, targets, classes) = maskData(seed: 32)
    let forward = head.forward(x)
    let (_, cotangent) = try head.loss(forward, targets: targets, classes: classes)

    let zero = head.backward(forward, logitsCotangent: cotangent, zeroGradientPolicy: .applyZero)
    #expect(zero.adjointOutcomes == [.zeroStart(.maxIterations), .zeroStart(.maxIterations)])
    #expect(zero.zeroGradientRoIs == [0, 1] && zero.policyApplied == .applyZero)
    for entry in zero.parameters.entries where entry.name.hasPrefix("refine.") {
      #expect(zero.parameters.scalars[entry.range].allSatisfy { $0 == 0 }, "\(entry.name)")
    }
    #expect(zero.parameters.norm() > 0)  // the upsampling and predictor still learn

    let skip = head.backward(forward, logitsCotangent: cotangent, zeroGradientPolicy: .skipStep)
    #expect(skip.skipsStep)

    // The phantom policy adds exactly the phantom gradient of those RoIs.
    let phantom = head.backward(
      forward, logitsCotangent: cotangent,
      zeroGradientPolicy: .phantomGradient(steps: 4, damping: 0.7))
    guard case .implicit(var module) = head.refinement, let implicit = forward.implicit else {
      Issue.record("not an IFR head")
      return
    }
    module.gradient = .phantom(steps: 4, damping: 0.7)
    let activated = ReLU<Double>()(forward.upsampled)
    let dA = head.predictor.vjp(at: activated, cotangent: cotangent).input
    let dU = ReLU<Double>().vjp(at: forward.upsampled, cotangent: dA)
    let dH = head.upsample.vjp(at: forward.refined, cotangent: dU).input
    let direct = module.backward(implicit, cotangent: dH)
    let blockEntries = phantom.parameters.entries.filter { $0.name.hasPrefix("refine.") }
    let expected = direct.parameters.parameterVector
    let got = blockEntries.flatMap { phantom.parameters.scalars[$0.range] }
    #expect(relativeError(got, expected) < 1e-12)
    #expect(relativeError(phantom.features, direct.injection) < 1e-12)
    #expect(phantom.policyApplied == .phantomGradient(steps: 4, damping: 0.7))
  }
}
