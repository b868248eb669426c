import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The batched evaluation engine: both Winograd schemes against im2col on sizes that are not
/// multiples of their 2 × 2 or 4 × 4 tiles, float accuracy, exact derivatives under Winograd, and lockstep solves
/// whose RoIs do not depend on the batch they run in.
@Suite("Batched engine: Winograd, im2col and lockstep RoIs")
struct BatchedEngineTests {
  static let sizes: [(Int, Int)] = [(5, 7), (13, 13), (14, 14), (1, 3)]

  /// A block wide enough for `.automatic` to pick Winograd (≥ 32 channels).
  static func block<S: DEQScalar>(_: S.Type, seed: UInt64, form: IFRBlockForm = .ifrCode)
    -> IFRBlock<S>
  {
    var rng = SeededGenerator(seed: seed)
    return IFRBlock<S>(channels: 32, innerChannels: 40, form: form, using: &rng)
  }

  @Test(
    "Winograd F(2×2) and F(4×4) equal im2col on F, JVP and VJP (double, 1e-13) at 5×7, 13×13, 14×14, 1×3",
    arguments: [IFRBlockForm.ifrCode, .mdeq, .xshort])
  func winogradMatchesIm2col(_ form: IFRBlockForm) {
    let block = Self.block(Double.self, seed: 91, form: form)
    for (height, width) in Self.sizes {
      let shape = [3, 32, height, width]
      let h: Tensor<Double> = normalTensor(shape, seed: 92)
      let x: Tensor<Double> = normalTensor(shape, seed: 93)
      let v: Tensor<Double> = normalTensor(shape, seed: 94)
      var results: [ConvolutionAlgorithm: [Tensor<Double>]] = [:]
      for algorithm in [ConvolutionAlgorithm.im2col, .winograd, .winograd4x4] {
        let workspace = block.makeWorkspace(
          height: height, width: width, capacity: 3, convolution: algorithm)
        #expect(workspace.convolutionAlgorithm == algorithm)
        workspace.resetParameterGradient()
        let f = workspace.evaluate(state: h, injection: x)
        let jv = workspace.jvp(tangent: v)
        let back = workspace.vjp(cotangent: v, accumulatingParameters: true)
        let theta = workspace.parameterGradient().parameterVector
        results[algorithm] = [
          f, jv, back.state, back.injection, Tensor(shape: [theta.count]) { theta[$0] },
        ]
      }
      for scheme in [ConvolutionAlgorithm.winograd, .winograd4x4] {
        for (k, name) in ["F", "JVP", "VJP H", "VJP X", "VJP θ"].enumerated() {
          let error = relativeError(results[scheme]![k], results[.im2col]![k])
          #expect(error < 1e-13, "\(form) \(scheme) \(height)×\(width) \(name): \(error)")
        }
      }
    }
  }

  /// `Fixtures/pytorch-13x13`, written by `Tools/export_winograd_fixture.py`: 2 RoIs of
  /// 32 × 13 × 13 (inner width 40), so that `.automatic` picks Winograd and the plane is not
  /// a multiple of the tile.
  static func fixture(_ name: String) throws -> URL {
    let resources = try #require(Bundle.module.resourceURL)
    return resources.appendingPathComponent("Fixtures/pytorch-13x13/\(name)")
  }

  @Test(
    "PyTorch's F at 13×13 by both Winograd schemes and im2col: 1e-12 in double, 1e-5 in float",
    arguments: [IFRBlockForm.ifrCode, .xshort, .eq5])
  func pytorch13(_ form: IFRBlockForm) throws {
    let block = try IFRBlock<Double>(contentsOf: Self.fixture("block.safetensors"), form: form)
    let x: Tensor<Double> = try NPY.read(contentsOf: Self.fixture("x.npy"))
    let h: Tensor<Double> = try NPY.read(contentsOf: Self.fixture("h_test.npy"))
    let expected: Tensor<Double> = try NPY.read(
      contentsOf: Self.fixture("f_\(form.referenceName)_h_test.npy"))
    #expect(x.shape == [2, 32, 13, 13])
    let single = try IFRBlock<Float>(
      stateDictionary: block.stateDictionary.mapValues { $0.converted(to: Float.self) },
      metadata: block.metadata, form: form)
    for algorithm in [ConvolutionAlgorithm.automatic, .im2col, .winograd, .winograd4x4] {
      let workspace = block.makeWorkspace(
        height: 13, width: 13, capacity: 2, convolution: algorithm)
      let error = relativeError(workspace.evaluate(state: h, injection: x), expected)
      #expect(error < 1e-12, "\(form) \(workspace.convolutionAlgorithm): \(error)")
      let floats = single.makeWorkspace(height: 13, width: 13, capacity: 2, convolution: algorithm)
      let f32 = floats.evaluate(
        state: h.converted(to: Float.self), injection: x.converted(to: Float.self))
      let floatError = relativeError(f32.converted(to: Double.self), expected)
      #expect(floatError < 1e-5, "\(form) \(floats.convolutionAlgorithm) float: \(floatError)")
    }
    #expect(block.makeWorkspace(height: 13, width: 13).convolutionAlgorithm == .winograd)
  }

  @Test(
    "automatic picks Winograd from 32 channels and 4 × 4 on (F(4×4) from 16 × 16), im2col below")
  func automaticChoice() {
    let wide = ConvolutionAlgorithm.automatic
    #expect(wide.resolved(inChannels: 256, outChannels: 256, height: 14, width: 14) == .winograd)
    #expect(wide.resolved(inChannels: 256, outChannels: 256, height: 4, width: 4) == .winograd)
    #expect(
      wide.resolved(inChannels: 256, outChannels: 256, height: 16, width: 16) == .winograd4x4)
    #expect(
      wide.resolved(inChannels: 256, outChannels: 256, height: 28, width: 28) == .winograd4x4)
    #expect(wide.resolved(inChannels: 256, outChannels: 256, height: 28, width: 15) == .winograd)
    #expect(wide.resolved(inChannels: 8, outChannels: 8, height: 14, width: 14) == .im2col)
    #expect(wide.resolved(inChannels: 256, outChannels: 256, height: 3, width: 14) == .im2col)
    #expect(
      ConvolutionAlgorithm.im2col.resolved(inChannels: 256, outChannels: 256, height: 14, width: 14)
        == .im2col)
  }

  @Test(
    "Float under Winograd: F to 1e-5 of double, JVP against differences, the adjoint identity",
    arguments: [ConvolutionAlgorithm.winograd, .winograd4x4])
  func floatAccuracy(_ scheme: ConvolutionAlgorithm) throws {
    let double = Self.block(Double.self, seed: 95)
    let single = try IFRBlock<Float>(
      stateDictionary: double.stateDictionary.mapValues { $0.converted(to: Float.self) },
      metadata: double.metadata)
    let shape = [2, 32, 13, 13]
    let h: Tensor<Double> = normalTensor(shape, seed: 96)
    let x: Tensor<Double> = normalTensor(shape, seed: 97)
    let wd = double.makeWorkspace(height: 13, width: 13, capacity: 2, convolution: .im2col)
    let ws = single.makeWorkspace(height: 13, width: 13, capacity: 2, convolution: scheme)
    let hf = h.converted(to: Float.self)
    let xf = x.converted(to: Float.self)
    let f64 = wd.evaluate(state: h, injection: x)
    let f32 = ws.evaluate(state: hf, injection: xf)
    #expect(relativeError(f32.converted(to: Double.self), f64) < 1e-5)
    let v: Tensor<Float> = normalTensor(shape, seed: 98)
    let u: Tensor<Float> = normalTensor(shape, seed: 99)
    let lhs = inner(u, ws.jvp(tangent: v))
    let rhs = inner(ws.vjp(cotangent: u), v)
    #expect(relativeDifference(lhs, rhs) < 1e-4)
  }

  @Test(
    "Winograd derivatives: JVP against central differences, VJP by the adjoint identity",
    arguments: [ConvolutionAlgorithm.winograd, .winograd4x4])
  func winogradDerivatives(_ scheme: ConvolutionAlgorithm) {
    let block = Self.block(Double.self, seed: 101)
    let shape = [2, 32, 5, 7]
    let h: Tensor<Double> = normalTensor(shape, seed: 102)
    let x: Tensor<Double> = normalTensor(shape, seed: 103)
    let v: Tensor<Double> = normalTensor(shape, seed: 104)
    let u: Tensor<Double> = normalTensor(shape, seed: 105)
    let workspace = block.makeWorkspace(height: 5, width: 7, capacity: 2, convolution: scheme)
    let step = 1e-6
    let plus = workspace.evaluate(state: h.adding(v, scaledBy: step), injection: x)
    let minus = workspace.evaluate(state: h.adding(v, scaledBy: -step), injection: x)
    let difference = plus.subtracting(minus).scaled(by: 1 / (2 * step))
    _ = workspace.evaluate(state: h, injection: x)
    let jv = workspace.jvp(tangent: v)
    #expect(relativeError(jv, difference) < 1e-7)
    let lhs = inner(u, jv)
    let rhs = inner(workspace.vjp(cotangent: u), v)
    #expect(relativeDifference(lhs, rhs) < 1e-12)
  }

  @Test(
    "a RoI solved alone, in a batch of 4 and of 16 has the same Broyden trace (1e-13 relative)",
    arguments: [ConvolutionAlgorithm.im2col, .winograd, .winograd4x4])
  func lockstepIndependence(_ convolution: ConvolutionAlgorithm) {
    let block = Self.block(Double.self, seed: 107)
    let all: Tensor<Double> = normalTensor([16, 32, 6, 6], seed: 108)
    func firstRoIs(_ count: Int) -> Tensor<Double> {
      var x = Tensor<Double>(zeros: [count, 32, 6, 6])
      for roi in 0..<count { x.setSample(roi, to: all.sample(roi)) }
      return x
    }
    let module = ImplicitRefinement(
      block: block, convolution: convolution, forwardStopping: .ifr)
    let alone = module.forward(firstRoIs(1)).solutions[0]
    var bitForBit = true
    for count in [4, 16] {
      let solution = module.forward(firstRoIs(count)).solutions[0]
      #expect(solution.trace.count == alone.trace.count)
      let a = alone.trace.map(\.absoluteResidual)
      let b = solution.trace.map(\.absoluteResidual)
      // The trace as a vector to 1e-13; each entry, down to residuals 1e-6 of the first,
      // to 1e-11 of itself (a last-bit difference in H weighs more on a small residual).
      #expect(relativeError(b, a) < 1e-13, "batch of \(count): \(relativeError(b, a))")
      for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-11 * x) }
      bitForBit = bitForBit && a == b
      #expect(relativeError(solution.fixedPoint, alone.fixedPoint) < 1e-13)
      bitForBit = bitForBit && solution.fixedPoint.scalars == alone.fixedPoint.scalars
    }
    // Not asserted (it depends on OpenBLAS's kernels for each column count), but recorded.
    print(
      "lockstep \(convolution): RoI 0 alone and in batches of 4 and 16 bit for bit: \(bitForBit)")
  }

  @Test("a list evaluation reuses packed injections only while they are the same tensors")
  func injectionReuse() {
    let block = Self.block(Double.self, seed: 111)
    let shape = [32, 5, 7]
    let h: [Tensor<Double>] = (0..<3).map { normalTensor(shape, seed: 112 + UInt64($0)) }
    var x: [Tensor<Double>] = (0..<3).map { normalTensor(shape, seed: 115 + UInt64($0)) }
    let solo = block.makeWorkspace(height: 5, width: 7)
    func expected(_ roi: Int, _ injection: Tensor<Double>) -> Tensor<Double> {
      solo.evaluate(state: h[roi], injection: injection)
    }
    let workspace = block.makeWorkspace(height: 5, width: 7, capacity: 3)
    func check(_ states: [Int], _ injections: [Tensor<Double>], _ label: String) {
      let values = workspace.evaluate(states: states.map { h[$0] }, injections: injections)
      for (k, roi) in states.enumerated() {
        let error = relativeError(values[k], expected(roi, injections[k]))
        #expect(error < 1e-14, "\(label), RoI \(roi): \(error)")
      }
    }
    check([0, 1, 2], x, "first")
    check([0, 1, 2], x, "same tensors again")
    check([0, 2], [x[0], x[2]], "a subset")
    // A caller's change copies the tensor first, so the workspace sees new storage.
    x[1] = x[1].scaled(by: -2)
    check([0, 1, 2], x, "X₁ changed")
    var changedInPlace = x
    changedInPlace[2].withUnsafeMutableBufferPointer { $0[0] += 1 }
    check([0, 1, 2], changedInPlace, "X₂ changed in place")
    _ = workspace.evaluate(state: h[0], injection: x[1])
    check([0, 1, 2], changedInPlace, "after a single-RoI evaluation")
  }

  @Test(
    "an unrecorded evaluation gives the recorded F bit for bit and leaves the next recording intact",
    arguments: [IFRBlockForm.ifrCode, .mdeq, .eq5], [ConvolutionAlgorithm.winograd, .im2col])
  func unrecordedEvaluation(_ form: IFRBlockForm, _ convolution: ConvolutionAlgorithm) {
    let block = Self.block(Double.self, seed: 121, form: form)
    let shape = [32, 5, 7]
    let h: [Tensor<Double>] = (0..<2).map { normalTensor(shape, seed: 122 + UInt64($0)) }
    let x: [Tensor<Double>] = (0..<2).map { normalTensor(shape, seed: 124 + UInt64($0)) }
    let v: [Tensor<Double>] = (0..<2).map { normalTensor(shape, seed: 126 + UInt64($0)) }
    let workspace = block.makeWorkspace(
      height: 5, width: 7, capacity: 2, convolution: convolution)
    let recorded = workspace.evaluate(states: h, injections: x)
    let jv = workspace.jvp(tangents: v)
    let vj = workspace.vjp(cotangents: v)
    // Unrecorded at other points (the tape buffers are left as they were), then recorded
    // again at h: the same F, and the same derivatives, bit for bit.
    let other = h.map { $0.scaled(by: -0.5) }
    let unrecorded = workspace.evaluate(states: other, injections: x, recording: false)
    let expected = workspace.evaluate(states: other, injections: x)
    for (a, b) in zip(unrecorded, expected) { #expect(a == b) }
    #expect(workspace.evaluate(states: h, injections: x, recording: false) == recorded)
    #expect(workspace.evaluate(states: h, injections: x) == recorded)
    #expect(workspace.jvp(tangents: v) == jv)
    #expect(workspace.vjp(cotangents: v) == vj)
  }
}
