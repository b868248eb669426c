import IFRHead
import Testing
import _DEQTestSupport

struct BlockCase: Sendable, CustomTestStringConvertible {
  var form: IFRBlockForm
  var inner: Int
  var weightNormalization: Bool
  var testDescription: String {
    "\(form) inner \(inner)\(weightNormalization ? " weight-norm" : "")"
  }
}

let blockCases: [BlockCase] =
  IFRBlockForm.allCases.map { BlockCase(form: $0, inner: 8, weightNormalization: true) } + [
    BlockCase(form: .ifrCode, inner: 4, weightNormalization: false),
    BlockCase(form: .mdeq, inner: 12, weightNormalization: false),
  ]

@Suite("IFRBlock derivatives and batching")
struct IFRBlockTests {
  static let shape = [2, 8, 5, 4]

  func make(_ c: BlockCase, seed: UInt64) -> (IFRBlock<Double>, Tensor<Double>, Tensor<Double>) {
    var rng = SeededGenerator(seed: seed)
    var block = IFRBlock<Double>(
      channels: 8, innerChannels: c.inner, form: c.form,
      weightNormalization: c.weightNormalization, using: &rng)
    // Non-trivial affine parameters, so that their cotangents are tested at a generic point.
    for norm in [\IFRBlock<Double>.gn1, \.gn2, \.gn3] {
      let count = block[keyPath: norm].channels
      block[keyPath: norm].scale = Tensor(uniformIn: 0.5...1.5, shape: [count], using: &rng)
      block[keyPath: norm].offset = Tensor(uniformIn: -0.3...0.3, shape: [count], using: &rng)
    }
    let h = Tensor<Double>(uniformIn: -1...1, shape: Self.shape, using: &rng)
    let x = Tensor<Double>(uniformIn: -1...1, shape: Self.shape, using: &rng)
    return (block, h, x)
  }

  @Test("JVP and VJP in H against central differences and each other", arguments: blockCases)
  func stateDerivatives(_ c: BlockCase) {
    let (block, h, x) = make(c, seed: 51)
    let report = checkDerivatives(
      { block($0, injection: x) }, at: h, jvp: { block.jvp(at: h, injection: x, tangent: $0) },
      vjp: { block.vjp(at: h, injection: x, cotangent: $0).state }, outputShape: Self.shape,
      seed: 52)
    #expect(report.jvpError < 1e-6, "seed 51")
    #expect(report.vjpError < 1e-6, "seed 51")
    #expect(report.adjointError < 1e-10, "seed 51")
  }

  @Test("VJP in X against central differences", arguments: blockCases)
  func injectionDerivative(_ c: BlockCase) {
    let (block, h, x) = make(c, seed: 53)
    let report = checkDerivatives(
      { block(h, injection: $0) }, at: x,
      jvp: { v in
        // ∂F/∂X · v by differences is what the VJP is checked against; no X-JVP in the API.
        centralDifference({ block(h, injection: $0) }, at: x, direction: v, step: 1e-5)
      },
      vjp: { block.vjp(at: h, injection: x, cotangent: $0).injection }, outputShape: Self.shape,
      seed: 54)
    #expect(report.vjpError < 1e-6, "seed 53")
  }

  @Test("VJP in every parameter against central differences", arguments: blockCases)
  func parameterDerivatives(_ c: BlockCase) {
    let (block, h, x) = make(c, seed: 55)
    let u: Tensor<Double> = normalTensor(Self.shape, seed: 56)
    let gradient = block.vjp(at: h, injection: x, cotangent: u).parameters
    #expect(gradient.namedParameters.map(\.name) == block.namedParameters.map(\.name))
    let error = parameterDerivativeError(
      loss: { inner(u, block.replacingParameters(with: $0)(h, injection: x)) },
      at: block.parameterVector, cotangent: gradient.parameterVector, seed: 57)
    #expect(error < 1e-6, "seed 55")
    // Per-tensor check: each named cotangent alone.
    for (index, entry) in block.namedParameters.enumerated() {
      let start = block.namedParameters[..<index].reduce(0) { $0 + $1.tensor.count }
      let range = start..<(start + entry.tensor.count)
      var rng = SeededGenerator(seed: 58 + UInt64(index))
      var direction = [Double](repeating: 0, count: block.parameterCount)
      for i in range { direction[i] = rng.nextNormal(Double.self) }
      let fd = centralDifference(
        { inner(u, block.replacingParameters(with: $0)(h, injection: x)) },
        at: block.parameterVector, direction: direction, step: 1e-5)
      let analytic = inner(gradient.parameterVector, direction)
      let unused = !c.form.hasFinalNormalization && entry.name.hasPrefix("gn3")
      if unused {
        #expect(abs(analytic) == 0 && abs(fd) < 1e-9, "\(entry.name) is unused by \(c.form)")
      } else {
        #expect(relativeDifference(analytic, fd) < 1e-6, "\(entry.name)")
      }
    }
  }

  @Test(
    "a batch gives each RoI's solo F, JVP and VJP (to rounding), under every convolution",
    arguments: IFRBlockForm.allCases, [ConvolutionAlgorithm.im2col, .winograd, .winograd4x4])
  func batchIndependence(_ form: IFRBlockForm, _ convolution: ConvolutionAlgorithm) throws {
    var rng = SeededGenerator(seed: 61)
    let block = IFRBlock<Double>(channels: 16, form: form, using: &rng)
    let shape = [3, 16, 7, 7]
    let h = Tensor<Double>(uniformIn: -1...1, shape: shape, using: &rng)
    let x = Tensor<Double>(uniformIn: -1...1, shape: shape, using: &rng)
    let v = Tensor<Double>(uniformIn: -1...1, shape: shape, using: &rng)
    let batch = block.makeWorkspace(height: 7, width: 7, capacity: 3, convolution: convolution)
    let f = batch.evaluate(state: h, injection: x)
    let jv = batch.jvp(tangent: v)
    let back = batch.vjp(cotangent: v, accumulatingParameters: false)
    let solo = block.makeWorkspace(height: 7, width: 7, convolution: convolution)
    // The RoIs' columns share one GEMM (or 16), whose kernels OpenBLAS may block
    // differently for another column count: the same sums, possibly in another order.
    // Measured on AVX-512 OpenBLAS: at most a few ulps (see Docs/Performance.md).
    for roi in 0..<3 {
      #expect(
        relativeError(
          solo.evaluate(state: h.sample(roi), injection: x.sample(roi)), f.sample(roi)) < 1e-14)
      #expect(relativeError(solo.jvp(tangent: v.sample(roi)), jv.sample(roi)) < 1e-14)
      let one = solo.vjp(cotangent: v.sample(roi), accumulatingParameters: false)
      #expect(relativeError(one.state, back.state.sample(roi)) < 1e-14)
      #expect(relativeError(one.injection, back.injection.sample(roi)) < 1e-14)
    }
  }

  @Test("Float agrees with Double", arguments: IFRBlockForm.allCases)
  func floatMatchesDouble(_ form: IFRBlockForm) throws {
    var rng = SeededGenerator(seed: 71)
    let block = IFRBlock<Double>(channels: 8, form: form, using: &rng)
    let h = Tensor<Double>(uniformIn: -1...1, shape: [2, 8, 6, 6], using: &rng)
    let x = Tensor<Double>(uniformIn: -1...1, shape: [2, 8, 6, 6], using: &rng)
    let single = try IFRBlock<Float>(
      stateDictionary: block.stateDictionary.mapValues { $0.converted(to: Float.self) },
      metadata: block.metadata)
    let f32 = single(h.converted(to: Float.self), injection: x.converted(to: Float.self))
    #expect(relativeError(f32.converted(to: Double.self), block(h, injection: x)) < 1e-5)
    // The adjoint identity holds in Float to Float's precision.
    let hf = h.converted(to: Float.self)
    let xf = x.converted(to: Float.self)
    let v: Tensor<Float> = normalTensor(hf.shape, seed: 72)
    let u: Tensor<Float> = normalTensor(hf.shape, seed: 73)
    let lhs = inner(u, single.jvp(at: hf, injection: xf, tangent: v))
    let rhs = inner(single.vjp(at: hf, injection: xf, cotangent: u).state, v)
    #expect(relativeDifference(lhs, rhs) < 1e-4)
  }

  @Test("random initialisation follows PyTorch's defaults")
  func initialisation() {
    var rng = SeededGenerator(seed: 81)
    let block = IFRBlock<Double>(channels: 16, innerChannels: 8, using: &rng)
    #expect(block.form == .ifrCode && block.groups == 4 && block.epsilon == 1e-5)
    guard case .normalized(let norm) = block.conv1Weight else {
      Issue.record("conv1 should be weight-normalised by default")
      return
    }
    #expect(norm.magnitude.shape == [8, 1, 1, 1] && norm.direction.shape == [8, 16, 3, 3])
    let bound = 1 / (16.0 * 9).squareRoot()
    #expect(norm.direction.scalars.allSatisfy { abs($0) <= bound })
    #expect(relativeError(norm(), norm.direction) < 1e-15)
    #expect(block.gn1.scale.scalars.allSatisfy { $0 == 1 })
    #expect(block.gn3.offset.scalars.allSatisfy { $0 == 0 })
  }
}
