// Time and Jacobian products of the spectral-radius diagnostics.
//
// Operators are synthetic and cheap so the figures measure the diagnostics, not the map:
// - dense n = 288, 1,024, 4,096: J = diag(1 − tanh²(W·z + b))·W, W a periodic 4-tap
//   stencil (exact JVP, O(n) per product); cost is n products + LAPACK geev.
// - Arnoldi n = 50,176 (256 × 14 × 14, the paper's RoI size): the same tanh-stencil
//   Jacobian, and a block operator with a known spectrum (scaled 2 × 2 rotations, moduli
//   0.9, 0.85, 0.8, over a decaying diagonal in (−0.7, 0.7)).
// - Baseline: one 1,024³ DGEMM in the same run, to read the dense figures as multiples of
//   the machine's GEMM rate (the machines are shared and noisy).
import Benchmark
import DEQCore
import DEQSolvers

/// `f(z) = tanh(W·z + b)` with `(W·z)ᵢ = 0.3·z_{i−1} + 0.4·zᵢ − 0.25·z_{i+1} + 0.2·z_{i+196}`.
struct TanhStencil: Sendable {
  let n: Int
  let bias: [Double]

  init(n: Int) {
    self.n = n
    bias = (0..<n).map { 0.5 * Double.sin(Double($0) * 0.61) }
  }

  func stencil(_ z: [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: n)
    let far = 196 % n
    for i in 0..<n {
      let previous = z[(i + n - 1) % n]
      let next = z[(i + 1) % n]
      out[i] = 0.3 * previous + 0.4 * z[i] - 0.25 * next + 0.2 * z[(i + far) % n]
    }
    return out
  }

  func jacobian() throws -> JacobianOperator<[Double]> {
    let z = (0..<n).map { 0.3 * Double.cos(Double($0) * 0.17) }
    let pre = stencil(z)
    let slopes = (0..<n).map {
      1 - Double.tanh(pre[$0] + bias[$0]) * Double.tanh(pre[$0] + bias[$0])
    }
    let map = self
    return try JacobianOperator(at: z) { v in
      let wv = map.stencil(v)
      return (0..<map.n).map { slopes[$0] * wv[$0] }
    }
  }
}

/// Three scaled 2 × 2 rotations (moduli 0.9, 0.85, 0.8) over a decaying diagonal.
func knownSpectrumOperator(n: Int) throws -> JacobianOperator<[Double]> {
  let blocks: [(Double, Double)] = [(0.9, 0.7), (0.85, 1.9), (0.8, 2.6)]
  let diagonal = (0..<n).map {
    0.7 * Double.cos(Double($0) * 0.37) * Double.exp(-Double($0) / 20_000)
  }
  return try JacobianOperator(at: [Double](repeating: 0, count: n)) { v in
    var out = [Double](repeating: 0, count: n)
    for (b, (radius, angle)) in blocks.enumerated() {
      let (c, s) = (radius * Double.cos(angle), radius * Double.sin(angle))
      out[2 * b] = c * v[2 * b] - s * v[2 * b + 1]
      out[2 * b + 1] = s * v[2 * b] + c * v[2 * b + 1]
    }
    for i in (2 * blocks.count)..<n { out[i] = diagonal[i] * v[i] }
    return out
  }
}

let products = BenchmarkMetric.custom("Jacobian products", useScalingFactor: false)
let trusted = BenchmarkMetric.custom(
  "trustworthy (1 = yes)", polarity: .prefersLarger, useScalingFactor: false)

func record(_ estimate: SpectralRadiusEstimate<Double>, _ benchmark: Benchmark) {
  benchmark.measurement(products, estimate.jacobianProducts)
  benchmark.measurement(trusted, estimate.isTrustworthy ? 1 : 0)
  blackHole(estimate.value)
}

let benchmarks: @Sendable () -> Void = {
  let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, products, trusted]

  Benchmark(
    "Baseline: DGEMM 1024³",
    configuration: .init(metrics: [.wallClock], maxDuration: .seconds(10), maxIterations: 10)
  ) { benchmark in
    let n = 1_024
    let a = [Double](repeating: 0.5, count: n * n)
    var c = [Double](repeating: 0, count: n * n)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      a.withUnsafeBufferPointer { pa in
        c.withUnsafeMutableBufferPointer { pc in
          guard let base = pa.baseAddress, let out = pc.baseAddress else { return }
          Double.blasGemm(
            transposeA: false, transposeB: false, n, n, n, 1, base, n, base, n, 0, out, n)
        }
      }
      blackHole(c[0])
    }
  }

  for n in [288, 1_024, 4_096] {
    Benchmark(
      "Dense spectral radius n=\(n)",
      configuration: .init(
        metrics: metrics, warmupIterations: n > 1_024 ? 0 : 1, maxDuration: .seconds(20),
        maxIterations: n > 1_024 ? 1 : 10)
    ) { benchmark in
      let jacobian = try TanhStencil(n: n).jacobian()
      let dense = SpectralRadiusMethod.dense(DenseSpectralAnalysis(computesConditionNumber: false))
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        record(try jacobian.spectralRadius(using: dense), benchmark)
      }
    }
  }

  Benchmark(
    "Dense spectral radius + cond(I − J) n=1024",
    configuration: .init(metrics: metrics, maxDuration: .seconds(20), maxIterations: 5)
  ) { benchmark in
    let jacobian = try TanhStencil(n: 1_024).jacobian()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      record(try jacobian.spectralRadius(using: .dense()), benchmark)
    }
  }

  Benchmark(
    "Arnoldi spectral radius n=50176 (known spectrum)",
    configuration: .init(metrics: metrics, maxDuration: .seconds(20), maxIterations: 20)
  ) { benchmark in
    let jacobian = try knownSpectrumOperator(n: 50_176)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      record(try jacobian.spectralRadius(using: .arnoldi()), benchmark)
    }
  }

  Benchmark(
    "Arnoldi spectral radius n=50176 (tanh stencil)",
    configuration: .init(metrics: metrics, maxDuration: .seconds(20), maxIterations: 20)
  ) { benchmark in
    let jacobian = try TanhStencil(n: 50_176).jacobian()
    let arnoldi = ArnoldiIteration(tolerance: 1e-6)
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      record(try jacobian.spectralRadius(using: .arnoldi(arnoldi)), benchmark)
    }
  }
}
