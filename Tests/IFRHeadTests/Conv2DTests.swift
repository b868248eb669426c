import IFRHead
import Testing
import _DEQTestSupport

/// A direct (six nested loops) cross-correlation with zero padding 1, the definition.
func directConvolution<S: DEQScalar>(_ x: Tensor<S>, _ w: Tensor<S>, _ b: Tensor<S>?) -> Tensor<S> {
  let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let co = w.shape[0]
  var y = Tensor<S>(zeros: [n, co, h, wd])
  for s in 0..<n {
    for o in 0..<co {
      for i in 0..<h {
        for j in 0..<wd {
          var sum: Double = b.map { Double($0[o]) } ?? 0
          for c in 0..<ci {
            for u in 0..<3 {
              for v in 0..<3 {
                let (si, sj) = (i + u - 1, j + v - 1)
                guard si >= 0, si < h, sj >= 0, sj < wd else { continue }
                sum += Double(w[o, c, u, v]) * Double(x[s, c, si, sj])
              }
            }
          }
          y[s, o, i, j] = S(sum)
        }
      }
    }
  }
  return y
}

struct ConvCase: Sendable, CustomTestStringConvertible {
  var batch: Int
  var inChannels: Int
  var outChannels: Int
  var height: Int
  var width: Int
  var bias: Bool
  var testDescription: String {
    "N\(batch) \(inChannels)→\(outChannels) \(height)×\(width)\(bias ? " bias" : "")"
  }
}

let convCases: [ConvCase] = [
  ConvCase(batch: 2, inChannels: 3, outChannels: 5, height: 4, width: 5, bias: true),
  ConvCase(batch: 1, inChannels: 8, outChannels: 8, height: 6, width: 6, bias: false),
  ConvCase(batch: 3, inChannels: 2, outChannels: 4, height: 1, width: 1, bias: true),
  ConvCase(batch: 1, inChannels: 4, outChannels: 2, height: 2, width: 7, bias: false),
]

@Suite("Conv2D 3×3")
struct Conv2DTests {
  func make<S: DEQScalar>(_ c: ConvCase, seed: UInt64, as: S.Type) -> (Conv2D<S>, Tensor<S>) {
    var rng = SeededGenerator(seed: seed)
    let conv = Conv2D<S>(
      inChannels: c.inChannels, outChannels: c.outChannels, bias: c.bias, using: &rng)
    let x = Tensor<S>(
      uniformIn: -1...1, shape: [c.batch, c.inChannels, c.height, c.width], using: &rng)
    return (conv, x)
  }

  @Test("forward equals the direct definition (Double)", arguments: convCases)
  func forwardDouble(_ c: ConvCase) {
    let (conv, x) = make(c, seed: TestSeeds.standard, as: Double.self)
    let error = relativeError(conv(x), directConvolution(x, conv.weight, conv.bias))
    #expect(error < 1e-14, "seed \(TestSeeds.standard)")
  }

  @Test("forward equals the direct definition (Float)", arguments: convCases)
  func forwardFloat(_ c: ConvCase) {
    let (conv, x) = make(c, seed: TestSeeds.standard, as: Float.self)
    let error = relativeError(conv(x), directConvolution(x, conv.weight, conv.bias))
    #expect(error < 1e-5, "seed \(TestSeeds.standard)")
  }

  @Test("JVP and VJP (input) against central differences and each other", arguments: convCases)
  func inputDerivatives(_ c: ConvCase) {
    let (conv, x) = make(c, seed: 11, as: Double.self)
    let report = checkDerivatives(
      { conv($0) }, at: x, jvp: { conv.jvp(tangent: $0) },
      vjp: { conv.vjp(at: x, cotangent: $0).input },
      outputShape: [c.batch, c.outChannels, c.height, c.width], seed: 12)
    #expect(report.jvpError < 1e-6)
    #expect(report.vjpError < 1e-6)
    #expect(report.adjointError < 1e-10)
  }

  @Test("VJP (weight, bias) against central differences", arguments: convCases)
  func parameterDerivatives(_ c: ConvCase) throws {
    let (conv, x) = make(c, seed: 13, as: Double.self)
    let u: Tensor<Double> = normalTensor([c.batch, c.outChannels, c.height, c.width], seed: 14)
    let grads = conv.vjp(at: x, cotangent: u)
    let theta = conv.weight.scalars + (conv.bias?.scalars ?? [])
    let cotangent = grads.weight.scalars + (grads.bias?.scalars ?? [])
    #expect((grads.bias == nil) == !c.bias)
    let error = parameterDerivativeError(
      loss: { p in
        var layer = conv
        layer.weight = try! Tensor(
          shape: conv.weight.shape, scalars: Array(p[0..<conv.weight.count]))
        if c.bias { layer.bias = Tensor(Array(p[conv.weight.count...])) }
        return inner(u, layer(x))
      }, at: theta, cotangent: cotangent, seed: 15)
    #expect(error < 1e-6)
  }

  @Test("a batch gives each sample's solo result bit for bit")
  func batchIndependence() {
    let c = ConvCase(batch: 5, inChannels: 16, outChannels: 24, height: 14, width: 14, bias: true)
    let (conv, x) = make(c, seed: 16, as: Double.self)
    let batch = conv(x)
    for s in 0..<c.batch {
      let solo = conv(try! x.sample(s).reshaped(to: [1, 16, 14, 14]))
      #expect(solo.scalars == batch.sample(s).scalars, "sample \(s)")
    }
  }

  @Test("PyTorch default initialisation bound 1/√fanIn")
  func initialisation() {
    var rng = SeededGenerator(seed: 17)
    let conv = Conv2D<Double>(inChannels: 16, outChannels: 32, bias: true, using: &rng)
    let bound = 1 / (16.0 * 9).squareRoot()
    #expect(conv.weight.shape == [32, 16, 3, 3])
    #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound })
    #expect(conv.weight.scalars.map { abs($0) }.max()! > 0.9 * bound)
    #expect(conv.bias?.scalars.allSatisfy { abs($0) <= bound } == true)
    #expect(conv.parameterCount == 32 * 16 * 9 + 32)
  }
}
