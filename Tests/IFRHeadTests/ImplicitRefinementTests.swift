import IFRHead
import Testing
import _DEQTestSupport

/// A long, tight solve: the "exact" equilibrium for finite differences.
let tightStopping = StoppingCriteria(
  tolerance: .absolute(1e-12), maxIterations: 400, stall: nil, divergenceFactor: nil)

@Suite("ImplicitRefinement: forward solves and implicit gradients")
struct ImplicitRefinementTests {
  func smallProblem(form: IFRBlockForm = .ifrCode, seed: UInt64) -> (
    IFRBlock<Double>, Tensor<Double>
  ) {
    var rng = SeededGenerator(seed: seed)
    var block = IFRBlock<Double>(channels: 4, innerChannels: 4, groups: 2, form: form, using: &rng)
    // Modest GN2/GN3 scales make F a contraction (the convolutions' scale does not matter:
    // GroupNorm follows each), so that tight solves converge and the implicit function
    // theorem applies. mdeq's direct H path through GN3 needs a smaller GN3 scale.
    for (norm, range) in [
      (\IFRBlock<Double>.gn1, 0.5...1.0), (\.gn2, 0.2...0.4),
      (\.gn3, form == .mdeq ? 0.05...0.1 : 0.2...0.4),
    ] {
      let count = block[keyPath: norm].channels
      block[keyPath: norm].scale = Tensor(uniformIn: range, shape: [count], using: &rng)
      block[keyPath: norm].offset = Tensor(uniformIn: -0.2...0.2, shape: [count], using: &rng)
    }
    let x = Tensor<Double>(uniformIn: -1...1, shape: [2, 4, 4, 4], using: &rng)
    return (block, x)
  }

  @Test(
    "Broyden and Anderson reproduce h_star to 1e-10",
    .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)),
    arguments: [IFRBlockForm.ifrCode, .xshort])
  func referenceEquilibrium(_ form: IFRBlockForm) throws {
    let block = try ReferenceFiles.block(form: form)
    let x = try ReferenceFiles.npy("x.npy")
    let expected = try ReferenceFiles.npy("h_star_\(form.referenceName).npy")
    // ‖F(H) − H‖ ≤ 1e-11 with ‖H‖ ≈ 17 and a contraction rate ≈ 0.84 near H* bounds the
    // error by about 1e-11 / 0.16 / 17 ≈ 4e-12 relative: well inside 1e-10, and above the
    // rounding floor where the solvers rightly report a stall.
    let stopping = StoppingCriteria(
      tolerance: .absolute(1e-11), maxIterations: 400, stall: nil, divergenceFactor: nil)
    let solvers: [any FixedPointAlgorithm] = [Broyden(memory: 100), Anderson()]
    for solver in solvers {
      let module = ImplicitRefinement(
        block: block, forwardSolver: solver, forwardStopping: stopping)
      let result = module.forward(x)
      #expect(
        result.solutions.allSatisfy { $0.status == .converged },
        "\(solver): \(result.solutions.map { ($0.status, $0.absoluteResidual) })")
      let error = relativeError(result.equilibrium, expected)
      #expect(error < 1e-10, "\(form) \(solver): \(error)")
    }
  }

  @Test(
    "eq5 has no fixed point: Broyden reports it did not converge",
    .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
  func eq5DoesNotConverge() throws {
    let block = try ReferenceFiles.block(form: .eq5)
    let x = try ReferenceFiles.npy("x.npy")
    let module = ImplicitRefinement(
      block: block, forwardStopping: StoppingCriteria(tolerance: .absolute(1e-6), maxIterations: 60)
    )
    let result = module.forward(x)
    for solution in result.solutions {
      #expect(solution.status != .converged, "\(solution.status): \(solution.absoluteResidual)")
    }
  }

  @Test("the released defaults: Broyden, 15 forward and 15 backward iterations, H0 = 0")
  func defaults() {
    let (block, x) = smallProblem(seed: 101)
    let module = ImplicitRefinement(block: block)
    #expect(
      module.forwardStopping.maxIterations == 15 && module.backwardStopping.maxIterations == 15)
    let result = module.forward(x)
    for solution in result.solutions {
      #expect(solution.iterations <= 15)
      #expect(solution.trace.first?.absoluteResidual ?? 0 > 0)
    }
  }

  @Test("a batch's RoIs are solved independently: equal to solo solves bit for bit")
  func batchIndependence() throws {
    let (block, x) = smallProblem(seed: 102)
    let module = ImplicitRefinement(block: block)
    let batch = module.forward(x)
    for roi in 0..<2 {
      let solo = module.forward(try x.sample(roi).reshaped(to: [1, 4, 4, 4]))
      #expect(solo.equilibrium.scalars == batch.equilibrium.sample(roi).scalars)
      #expect(solo.solutions[0].iterations == batch.solutions[roi].iterations)
    }
  }

  @Test(
    "implicit gradients match finite differences through a tight forward solve",
    arguments: [IFRBlockForm.ifrCode, .xshort, .mdeq])
  func implicitGradient(_ form: IFRBlockForm) {
    let (block, x) = smallProblem(form: form, seed: 103)
    let module = ImplicitRefinement(
      block: block, forwardStopping: tightStopping, backwardStopping: tightStopping)
    let w: Tensor<Double> = normalTensor(x.shape, seed: 104)
    let forward = module.forward(x)
    #expect(forward.solutions.allSatisfy { $0.status == .converged })
    let backward = module.backward(forward, cotangent: w)
    #expect(backward.adjointSolutions.allSatisfy { $0.status == .converged })
    // ∂L/∂X along a random direction.
    let v: Tensor<Double> = normalTensor(x.shape, seed: 105)
    let fdX = centralDifference(
      { p in inner(w, module(Tensor(shape: x.shape) { p[$0] })) }, at: x.scalars,
      direction: v.scalars, step: 1e-5)
    #expect(relativeDifference(inner(backward.injection, v), fdX) < 1e-6, "\(form) X")
    // ∂L/∂θ along a random direction.
    let error = parameterDerivativeError(
      loss: { p in
        var m = module
        m.block = block.replacingParameters(with: p)
        return inner(w, m(x))
      }, at: block.parameterVector, cotangent: backward.parameters.parameterVector, seed: 106)
    #expect(error < 1e-6, "\(form) θ")
  }

  @Test("the phantom gradient tends to the implicit gradient as its steps grow")
  func phantomGradient() {
    let (block, x) = smallProblem(seed: 107)
    let w: Tensor<Double> = normalTensor(x.shape, seed: 108)
    let exact = ImplicitRefinement(
      block: block, forwardStopping: tightStopping, backwardStopping: tightStopping)
    let forward = exact.forward(x)
    let reference = exact.backward(forward, cotangent: w)
    var previous = Double.infinity
    for steps in [1, 10, 200] {
      var phantom = exact
      phantom.gradient = .phantom(steps: steps, damping: 1)
      let result = phantom.backward(forward, cotangent: w)
      let error = relativeError(result.injection, reference.injection)
      let parameterError = relativeError(
        result.parameters.parameterVector, reference.parameters.parameterVector)
      #expect(error <= previous)
      previous = error
      if steps == 200 {
        #expect(error < 1e-8 && parameterError < 1e-8, "\(error) \(parameterError)")
      }
    }
  }
}

@Suite("ExplicitRefinement: the paper's baselines")
struct ExplicitRefinementTests {
  @Test("a shared block unrolled N times equals N plain steps of F from H0 = 0")
  func unrolled() {
    var rng = SeededGenerator(seed: 111)
    let block = IFRBlock<Double>(channels: 4, innerChannels: 4, groups: 2, using: &rng)
    let x = Tensor<Double>(uniformIn: -1...1, shape: [2, 4, 3, 3], using: &rng)
    var h = Tensor<Double>(zeros: x.shape)
    for _ in 0..<4 { h = block(h, injection: x) }
    let unrolled = ExplicitRefinement(sharedBlock: block, steps: 4)
    #expect(unrolled(x).scalars == h.scalars)
    #expect(unrolled.isShared && unrolled.parameterCount == block.parameterCount)
  }

  @Test(
    "VJPs match finite differences, with and without the double residual",
    arguments: [true, false], [true, false])
  func derivatives(_ doubleResidual: Bool, _ shared: Bool) {
    var rng = SeededGenerator(seed: 112)
    let model =
      shared
      ? ExplicitRefinement(
        sharedBlock: IFRBlock<Double>(
          channels: 4, innerChannels: 4, groups: 2, form: doubleResidual ? .ifrCode : .noResidual,
          using: &rng), steps: 3)
      : ExplicitRefinement<Double>.independent(
        count: 3, channels: 4, innerChannels: 4, doubleResidual: doubleResidual, using: &rng)
    #expect(model.hasDoubleResidual == doubleResidual)
    let x = Tensor<Double>(uniformIn: -1...1, shape: [2, 4, 3, 3], using: &rng)
    let w: Tensor<Double> = normalTensor(x.shape, seed: 113)
    let back = model.vjp(at: x, cotangent: w)
    let v: Tensor<Double> = normalTensor(x.shape, seed: 114)
    let fd = centralDifference(
      { p in inner(w, model(Tensor(shape: x.shape) { p[$0] })) }, at: x.scalars,
      direction: v.scalars, step: 1e-5)
    #expect(relativeDifference(inner(back.injection, v), fd) < 1e-6)
    let theta = model.blocks.flatMap(\.parameterVector)
    let error = parameterDerivativeError(
      loss: { p in
        var m = model
        var offset = 0
        for i in m.blocks.indices {
          let count = m.blocks[i].parameterCount
          m.blocks[i] = m.blocks[i].replacingParameters(with: Array(p[offset..<(offset + count)]))
          offset += count
        }
        return inner(w, m(x))
      }, at: theta, cotangent: back.parameters.flatMap(\.parameterVector), seed: 115)
    #expect(error < 1e-6)
  }
}
