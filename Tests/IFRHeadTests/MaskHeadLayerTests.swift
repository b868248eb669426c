import IFRHead
import Testing
import _DEQTestSupport

/// The 2×2 stride-2 transposed convolution by its definition (six nested loops, summed in
/// `Double`): `y[n, o, 2i + a, 2j + b] = b[o] + Σ_c w[c, o, a, b] · x[n, c, i, j]`.
func directTransposedConvolution<S: DEQScalar>(
  _ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>
) -> Tensor<S> {
  let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let co = w.shape[1]
  var y = Tensor<S>(zeros: [n, co, 2 * h, 2 * wd])
  for s in 0..<n {
    for o in 0..<co {
      for i in 0..<h {
        for j in 0..<wd {
          for a in 0..<2 {
            for bb in 0..<2 {
              var sum = Double(b[o])
              for c in 0..<ci { sum += Double(w[c, o, a, bb]) * Double(x[s, c, i, j]) }
              y[s, o, 2 * i + a, 2 * j + bb] = S(sum)
            }
          }
        }
      }
    }
  }
  return y
}

/// The 1×1 convolution by its definition: `y[n, o, i, j] = b[o] + Σ_c w[o, c] · x[n, c, i, j]`.
func directPointwiseConvolution<S: DEQScalar>(
  _ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>
) -> Tensor<S> {
  let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let co = w.shape[0]
  var y = Tensor<S>(zeros: [n, co, h, wd])
  for s in 0..<n {
    for o in 0..<co {
      for i in 0..<h {
        for j in 0..<wd {
          var sum = Double(b[o])
          for c in 0..<ci { sum += Double(w[o, c, 0, 0]) * Double(x[s, c, i, j]) }
          y[s, o, i, j] = S(sum)
        }
      }
    }
  }
  return y
}

struct MaskLayerCase: Sendable, CustomTestStringConvertible {
  var batch: Int
  var inChannels: Int
  var outChannels: Int
  var height: Int
  var width: Int
  var testDescription: String {
    "N\(batch) \(inChannels)→\(outChannels) \(height)×\(width)"
  }
  var inputShape: [Int] { [batch, inChannels, height, width] }
}

let maskLayerCases: [MaskLayerCase] = [
  MaskLayerCase(batch: 2, inChannels: 3, outChannels: 5, height: 4, width: 3),
  MaskLayerCase(batch: 1, inChannels: 1, outChannels: 1, height: 1, width: 1),
  MaskLayerCase(batch: 2, inChannels: 7, outChannels: 4, height: 2, width: 5),
  MaskLayerCase(batch: 3, inChannels: 8, outChannels: 3, height: 5, width: 5),
]

@Suite("MaskHeadLayer: TransposedConv2D and PointwiseConv2D")
struct MaskHeadLayerTests {
  // Layers with random weights *and* biases (the seeded initialisers give a zero bias, which
  // would hide a bias bug), plus a random input.

  func transposed<S: DEQScalar>(
    _ c: MaskLayerCase, seed: UInt64, as: S.Type
  ) -> (TransposedConv2D<S>, Tensor<S>) {
    var rng = SeededGenerator(seed: seed)
    let weight = Tensor<S>(
      uniformIn: -1...1, shape: [c.inChannels, c.outChannels, 2, 2], using: &rng)
    let bias = Tensor<S>(uniformIn: -1...1, shape: [c.outChannels], using: &rng)
    let x = Tensor<S>(uniformIn: -1...1, shape: c.inputShape, using: &rng)
    return (TransposedConv2D(weight: weight, bias: bias), x)
  }

  func pointwise<S: DEQScalar>(
    _ c: MaskLayerCase, seed: UInt64, as: S.Type
  ) -> (PointwiseConv2D<S>, Tensor<S>) {
    var rng = SeededGenerator(seed: seed)
    let weight = Tensor<S>(
      uniformIn: -1...1, shape: [c.outChannels, c.inChannels, 1, 1], using: &rng)
    let bias = Tensor<S>(uniformIn: -1...1, shape: [c.outChannels], using: &rng)
    let x = Tensor<S>(uniformIn: -1...1, shape: c.inputShape, using: &rng)
    return (PointwiseConv2D(weight: weight, bias: bias), x)
  }

  // MARK: Forward against the definition

  @Test("TransposedConv2D forward equals the definition (Double, Float)", arguments: maskLayerCases)
  func transposedForward(_ c: MaskLayerCase) {
    let seed = TestSeeds.standard
    let (layer, x) = transposed(c, seed: seed, as: Double.self)
    let y = layer(x)
    #expect(y.shape == [c.batch, c.outChannels, 2 * c.height, 2 * c.width])
    // Both sides sum the same ≤ 8 products of O(1) terms; only the order differs.
    #expect(relativeError(y, directTransposedConvolution(x, layer.weight, layer.bias)) < 1e-14)

    let (single, xs) = transposed(c, seed: seed, as: Float.self)
    // Float: a few ulps (2⁻²³ ≈ 1.2e-7) per sum against a Double-accumulated reference.
    #expect(
      relativeError(single(xs), directTransposedConvolution(xs, single.weight, single.bias)) < 1e-5)
  }

  @Test("PointwiseConv2D forward equals the definition (Double, Float)", arguments: maskLayerCases)
  func pointwiseForward(_ c: MaskLayerCase) {
    let seed = TestSeeds.standard
    let (layer, x) = pointwise(c, seed: seed, as: Double.self)
    let y = layer(x)
    #expect(y.shape == [c.batch, c.outChannels, c.height, c.width])
    #expect(relativeError(y, directPointwiseConvolution(x, layer.weight, layer.bias)) < 1e-14)

    let (single, xs) = pointwise(c, seed: seed, as: Float.self)
    #expect(
      relativeError(single(xs), directPointwiseConvolution(xs, single.weight, single.bias)) < 1e-5)
  }

  // MARK: Input derivatives and the adjoint identity

  // The layers are affine, so a central difference is exact up to rounding
  // (≈ ε / step ≈ 1e-11 relative): 1e-6 leaves a wide margin while still catching any
  // wrong index. ⟨u, J·v⟩ and ⟨Jᵀu, v⟩ are the same sum of products in two orders: 1e-12.

  @Test(
    "TransposedConv2D JVP and VJP (input) against differences and each other",
    arguments: maskLayerCases)
  func transposedInputDerivatives(_ c: MaskLayerCase) {
    let (layer, x) = transposed(c, seed: 21, as: Double.self)
    let report = checkDerivatives(
      { layer($0) }, at: x, jvp: { layer.jvp(tangent: $0) },
      vjp: { layer.vjp(at: x, cotangent: $0).input },
      outputShape: [c.batch, c.outChannels, 2 * c.height, 2 * c.width], seed: 22)
    #expect(report.jvpError < 1e-6, "seed 21")
    #expect(report.vjpError < 1e-6, "seed 21")
    #expect(report.adjointError < 1e-12, "seed 21")
  }

  @Test(
    "PointwiseConv2D JVP and VJP (input) against differences and each other",
    arguments: maskLayerCases)
  func pointwiseInputDerivatives(_ c: MaskLayerCase) {
    let (layer, x) = pointwise(c, seed: 23, as: Double.self)
    let report = checkDerivatives(
      { layer($0) }, at: x, jvp: { layer.jvp(tangent: $0) },
      vjp: { layer.vjp(at: x, cotangent: $0).input },
      outputShape: [c.batch, c.outChannels, c.height, c.width], seed: 24)
    #expect(report.jvpError < 1e-6, "seed 23")
    #expect(report.vjpError < 1e-6, "seed 23")
    #expect(report.adjointError < 1e-12, "seed 23")
  }

  // MARK: Parameter derivatives

  // L(θ) = ⟨u, y(θ)⟩ for a fixed cotangent u; ⟨∂L/∂θ, d⟩ against its central difference along
  // a random direction d, for the weight and the bias separately.

  @Test(
    "TransposedConv2D VJP (weight, bias) against central differences", arguments: maskLayerCases)
  func transposedParameterDerivatives(_ c: MaskLayerCase) {
    let (layer, x) = transposed(c, seed: 25, as: Double.self)
    let u: Tensor<Double> = normalTensor(
      [c.batch, c.outChannels, 2 * c.height, 2 * c.width], seed: 26)
    let grads = layer.vjp(at: x, cotangent: u)
    #expect(grads.weight.shape == layer.weight.shape)
    #expect(grads.bias.shape == layer.bias.shape)
    let weightError = parameterDerivativeError(
      loss: { p in
        var changed = layer
        changed.weight = Tensor(shape: layer.weight.shape) { p[$0] }
        return inner(u, changed(x))
      }, at: layer.weight.scalars, cotangent: grads.weight.scalars, seed: 27)
    let biasError = parameterDerivativeError(
      loss: { p in
        var changed = layer
        changed.bias = Tensor(p)
        return inner(u, changed(x))
      }, at: layer.bias.scalars, cotangent: grads.bias.scalars, seed: 28)
    #expect(weightError < 1e-6, "seed 25")
    #expect(biasError < 1e-6, "seed 25")
  }

  @Test("PointwiseConv2D VJP (weight, bias) against central differences", arguments: maskLayerCases)
  func pointwiseParameterDerivatives(_ c: MaskLayerCase) {
    let (layer, x) = pointwise(c, seed: 29, as: Double.self)
    let u: Tensor<Double> = normalTensor([c.batch, c.outChannels, c.height, c.width], seed: 30)
    let grads = layer.vjp(at: x, cotangent: u)
    #expect(grads.weight.shape == layer.weight.shape)
    #expect(grads.bias.shape == layer.bias.shape)
    let weightError = parameterDerivativeError(
      loss: { p in
        var changed = layer
        changed.weight = Tensor(shape: layer.weight.shape) { p[$0] }
        return inner(u, changed(x))
      }, at: layer.weight.scalars, cotangent: grads.weight.scalars, seed: 31)
    let biasError = parameterDerivativeError(
      loss: { p in
        var changed = layer
        changed.bias = Tensor(p)
        return inner(u, changed(x))
      }, at: layer.bias.scalars, cotangent: grads.bias.scalars, seed: 32)
    #expect(weightError < 1e-6, "seed 29")
    #expect(biasError < 1e-6, "seed 29")
  }

  // MARK: Batches

  @Test("a batch gives each sample's solo result bit for bit")
  func batchIndependence() throws {
    let c = MaskLayerCase(batch: 3, inChannels: 16, outChannels: 12, height: 7, width: 9)
    let (up, x) = transposed(c, seed: 33, as: Double.self)
    let (predict, _) = pointwise(c, seed: 34, as: Double.self)
    let upBatch = up(x)
    let predictBatch = predict(x)
    for s in 0..<c.batch {
      let solo = try x.sample(s).reshaped(to: [1, c.inChannels, c.height, c.width])
      // The same GEMM on the same operands: bit-for-bit equality is the contract.
      #expect(up(solo).scalars == upBatch.sample(s).scalars, "sample \(s)")
      #expect(predict(solo).scalars == predictBatch.sample(s).scalars, "sample \(s)")
    }
  }

  // MARK: Seeded initialisation

  /// The sample mean and (biased) standard deviation.
  func moments(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return (mean, variance.squareRoot())
  }

  // For n normal samples the sample standard deviation has relative standard error
  // ≈ 1/√(2n) and the mean standard error σ/√n. The bounds below are 5 standard errors
  // (a false alarm has probability < 1e-6, and the seed is fixed anyway), yet ten times
  // tighter than the gap to the fan-in formula, which a wrong fan would hit.

  @Test("TransposedConv2D init: kaiming_normal_(fan_out, relu), σ = √(2 / (in·4)), bias 0")
  func transposedInitialisation() {
    let seed: UInt64 = 35
    var rng = SeededGenerator(seed: seed)
    // in ≠ out: PyTorch's fan_out for an [in, out, 2, 2] weight is in·4 = 128 (σ = 0.125);
    // the fan_in (out·4 = 512) would give σ = 0.0625.
    let layer = TransposedConv2D<Double>(inChannels: 32, outChannels: 128, using: &rng)
    #expect(layer.weight.shape == [32, 128, 2, 2])
    let expected = (2.0 / 128).squareRoot()
    let n = Double(layer.weight.count)  // 16 384: relative standard error 0.55 %
    let (mean, std) = moments(layer.weight.scalars)
    #expect(abs(std / expected - 1) < 5 / (2 * n).squareRoot(), "seed \(seed): σ̂ = \(std)")
    #expect(abs(mean) < 5 * expected / n.squareRoot(), "seed \(seed): mean \(mean)")
    // Exact zeros by construction.
    #expect(layer.bias.shape == [128])
    #expect(layer.bias.scalars.allSatisfy { $0 == 0 })

    var again = SeededGenerator(seed: seed)
    let same = TransposedConv2D<Double>(inChannels: 32, outChannels: 128, using: &again)
    #expect(same.weight.scalars == layer.weight.scalars)  // bit-for-bit reproducible stream
    var other = SeededGenerator(seed: seed + 1)
    let different = TransposedConv2D<Double>(inChannels: 32, outChannels: 128, using: &other)
    #expect(different.weight.scalars != layer.weight.scalars)
  }

  @Test("PointwiseConv2D init: kaiming_normal_(fan_out, relu), σ = √(2 / out), bias 0")
  func pointwiseInitialisation() {
    let seed: UInt64 = 36
    var rng = SeededGenerator(seed: seed)
    // fan_out = out = 32 (σ = 0.25); the fan_in (in = 256) would give σ ≈ 0.088.
    let layer = PointwiseConv2D<Double>(inChannels: 256, outChannels: 32, using: &rng)
    #expect(layer.weight.shape == [32, 256, 1, 1])
    let expected = (2.0 / 32).squareRoot()
    let n = Double(layer.weight.count)  // 8192: relative standard error 0.78 %
    let (mean, std) = moments(layer.weight.scalars)
    #expect(abs(std / expected - 1) < 5 / (2 * n).squareRoot(), "seed \(seed): σ̂ = \(std)")
    #expect(abs(mean) < 5 * expected / n.squareRoot(), "seed \(seed): mean \(mean)")
    #expect(layer.bias.shape == [32])
    #expect(layer.bias.scalars.allSatisfy { $0 == 0 })

    var again = SeededGenerator(seed: seed)
    let same = PointwiseConv2D<Double>(inChannels: 256, outChannels: 32, using: &again)
    #expect(same.weight.scalars == layer.weight.scalars)
    var other = SeededGenerator(seed: seed + 1)
    let different = PointwiseConv2D<Double>(inChannels: 256, outChannels: 32, using: &other)
    #expect(different.weight.scalars != layer.weight.scalars)
  }

  // MARK: Parameters

  @Test("names, shapes and counts match MaskHeadParameterCount's deconv and predictor")
  func parameterShapesMatchTheCount() {
    let (channels, classes) = (24, 7)
    var rng = SeededGenerator(seed: 37)
    let deconv = TransposedConv2D<Float>(
      inChannels: channels, outChannels: channels, using: &rng)
    let predictor = PointwiseConv2D<Float>(inChannels: channels, outChannels: classes, using: &rng)
    let layers =
      deconv.namedParameters.map { ("deconv." + $0.name, $0.tensor.shape) }
      + predictor.namedParameters.map { ("predictor." + $0.name, $0.tensor.shape) }
    let count = MaskHeadParameterCount(channels: channels, classes: classes)
    let listed = count.tensors
      .filter { $0.name.hasPrefix("deconv.") || $0.name.hasPrefix("predictor.") }
      .map { ($0.name, $0.shape) }
    #expect(layers.map(\.0) == listed.map(\.0))
    #expect(layers.map(\.1) == listed.map(\.1))
    #expect(deconv.parameterCount == channels * channels * 4 + channels)
    #expect(predictor.parameterCount == classes * channels + classes)
    #expect(
      count.total - count.refinementTotal == deconv.parameterCount + predictor.parameterCount)
    // The layers' tensors drop into the library's parameter vector under these names.
    let vector = NamedParameters(
      deconv.namedParameters.map { ("deconv." + $0.name, $0.tensor) }
        + predictor.namedParameters.map { ("predictor." + $0.name, $0.tensor) })
    #expect(vector.count == deconv.parameterCount + predictor.parameterCount)
  }
}
