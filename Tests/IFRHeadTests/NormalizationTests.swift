import IFRHead
import Testing
import _DEQTestSupport

/// Group normalisation computed directly from its definition, in Double.
func directGroupNorm<S: DEQScalar>(_ x: Tensor<S>, _ layer: GroupNorm<S>) -> Tensor<S> {
  let (n, c) = (x.shape[0], x.shape[1])
  let plane = x.count / (n * c)
  let perGroup = c / layer.groups
  var y = Tensor<S>(zeros: x.shape)
  for s in 0..<n {
    for g in 0..<layer.groups {
      let start = (s * c + g * perGroup) * plane
      let values = (start..<(start + perGroup * plane)).map { Double(x[flat: $0]) }
      let mean = values.reduce(0, +) / Double(values.count)
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
      let denominator = (variance + Double(layer.epsilon)).squareRoot()
      for k in 0..<(perGroup * plane) {
        let channel = g * perGroup + k / plane
        let normalized = (values[k] - mean) / denominator
        y[flat: start + k] = S(
          Double(layer.scale[channel]) * normalized + Double(layer.offset[channel]))
      }
    }
  }
  return y
}

struct NormCase: Sendable, CustomTestStringConvertible {
  var batch: Int
  var channels: Int
  var groups: Int
  var height: Int
  var width: Int
  var testDescription: String { "N\(batch) C\(channels) G\(groups) \(height)×\(width)" }
}

let normCases: [NormCase] = [
  NormCase(batch: 2, channels: 8, groups: 4, height: 3, width: 5),
  NormCase(batch: 1, channels: 6, groups: 1, height: 4, width: 4),
  NormCase(batch: 3, channels: 4, groups: 4, height: 2, width: 3),
]

@Suite("GroupNorm")
struct GroupNormTests {
  func make(_ c: NormCase, seed: UInt64) -> (GroupNorm<Double>, Tensor<Double>) {
    var rng = SeededGenerator(seed: seed)
    let layer = GroupNorm<Double>(
      channels: c.channels, groups: c.groups, epsilon: 1e-5,
      scale: Tensor(uniformIn: 0.5...1.5, shape: [c.channels], using: &rng),
      offset: Tensor(uniformIn: -0.5...0.5, shape: [c.channels], using: &rng))
    let x = Tensor<Double>(
      uniformIn: -2...2, shape: [c.batch, c.channels, c.height, c.width], using: &rng)
    return (layer, x)
  }

  @Test("forward equals the definition (biased variance, ε inside the root)", arguments: normCases)
  func forward(_ c: NormCase) {
    let (layer, x) = make(c, seed: 21)
    #expect(relativeError(layer(x), directGroupNorm(x, layer)) < 1e-14)
    let xf = x.converted(to: Float.self)
    let lf = GroupNorm<Float>(
      channels: c.channels, groups: c.groups, epsilon: 1e-5,
      scale: layer.scale.converted(to: Float.self), offset: layer.offset.converted(to: Float.self))
    #expect(relativeError(lf(xf), directGroupNorm(xf, lf)) < 1e-5)
  }

  @Test("JVP and VJP (input) against central differences and each other", arguments: normCases)
  func inputDerivatives(_ c: NormCase) {
    let (layer, x) = make(c, seed: 22)
    let report = checkDerivatives(
      { layer($0) }, at: x, jvp: { layer.jvp(at: x, tangent: $0) },
      vjp: { layer.vjp(at: x, cotangent: $0).input }, outputShape: x.shape, seed: 23)
    #expect(report.jvpError < 1e-6)
    #expect(report.vjpError < 1e-6)
    #expect(report.adjointError < 1e-10)
  }

  @Test("VJP (γ, β) against central differences", arguments: normCases)
  func parameterDerivatives(_ c: NormCase) {
    let (layer, x) = make(c, seed: 24)
    let u: Tensor<Double> = normalTensor(x.shape, seed: 25)
    let grads = layer.vjp(at: x, cotangent: u)
    let error = parameterDerivativeError(
      loss: { p in
        var l = layer
        l.scale = Tensor(Array(p[0..<c.channels]))
        l.offset = Tensor(Array(p[c.channels...]))
        return inner(u, l(x))
      }, at: layer.scale.scalars + layer.offset.scalars,
      cotangent: grads.scale.scalars + grads.offset.scalars, seed: 26)
    #expect(error < 1e-6)
  }

  @Test("defaults: γ = 1, β = 0, ε = 1e-5, 4 groups")
  func defaults() {
    let layer = GroupNorm<Float>(channels: 8)
    #expect(layer.groups == 4 && layer.epsilon == 1e-5)
    #expect(
      layer.scale.scalars.allSatisfy { $0 == 1 } && layer.offset.scalars.allSatisfy { $0 == 0 })
    #expect(layer.parameterCount == 16)
  }
}

@Suite("ReLU")
struct ReLUTests {
  @Test("forward, JVP and VJP")
  func derivatives() {
    let x: Tensor<Double> = normalTensor([2, 3, 4, 4], seed: 31)
    let relu = ReLU<Double>()
    #expect(relu(x).scalars == x.scalars.map { max($0, 0) })
    let report = checkDerivatives(
      { relu($0) }, at: x, jvp: { relu.jvp(at: x, tangent: $0) },
      vjp: { relu.vjp(at: x, cotangent: $0) }, outputShape: x.shape, seed: 32)
    #expect(report.jvpError < 1e-6)
    #expect(report.vjpError < 1e-6)
    #expect(report.adjointError < 1e-10)
  }

  @Test("the derivative at exactly 0 is 0 (PyTorch's convention)")
  func kink() {
    let x = Tensor<Float>([0, -1, 2])
    let t = Tensor<Float>([1, 1, 1])
    #expect(ReLU<Float>().jvp(at: x, tangent: t).scalars == [0, 0, 1])
  }
}

@Suite("WeightNorm")
struct WeightNormTests {
  func make(seed: UInt64) -> WeightNorm<Double> {
    var rng = SeededGenerator(seed: seed)
    return WeightNorm(
      magnitude: Tensor(uniformIn: 0.5...2, shape: [5, 1, 1, 1], using: &rng),
      direction: Tensor(uniformIn: -1...1, shape: [5, 3, 3, 3], using: &rng))
  }

  @Test("every output channel's weight has norm g")
  func forward() {
    let norm = make(seed: 41)
    let w = norm()
    for o in 0..<5 {
      let row = w.scalars[(o * 27)..<((o + 1) * 27)]
      let length = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
      #expect(abs(length - norm.magnitude[o, 0, 0, 0]) < 1e-14)
    }
    let reparametrised = WeightNorm(weight: w)
    #expect(relativeError(reparametrised(), w) < 1e-15)
  }

  @Test("JVP and VJP against central differences and each other")
  func derivatives() {
    let norm = make(seed: 42)
    let theta = norm.magnitude.scalars + norm.direction.scalars
    func split(_ p: [Double]) -> (Tensor<Double>, Tensor<Double>) {
      (
        try! Tensor(shape: [5, 1, 1, 1], scalars: Array(p[0..<5])),
        try! Tensor(shape: [5, 3, 3, 3], scalars: Array(p[5...]))
      )
    }
    let f: (Tensor<Double>) -> Tensor<Double> = { p in
      let (g, v) = split(p.scalars)
      return WeightNorm(magnitude: g, direction: v)()
    }
    let report = checkDerivatives(
      f, at: Tensor(theta),
      jvp: { t in
        let (dg, dv) = split(t.scalars)
        return norm.jvp(magnitudeTangent: dg, directionTangent: dv)
      },
      vjp: { u in
        let (dg, dv) = norm.vjp(weightCotangent: u)
        return Tensor(dg.scalars + dv.scalars)
      }, outputShape: [5, 3, 3, 3], seed: 43)
    #expect(report.jvpError < 1e-6)
    #expect(report.vjpError < 1e-6)
    #expect(report.adjointError < 1e-10)
  }
}
