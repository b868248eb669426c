// The IFR block at the paper's size (C = 256, 14 × 14) through the batched engine, against
// a plain GEMM of the im2col shape (256 × 2304 × 196·N) measured in the same run, in Float
// and Double.
//
// Flops are those of the direct convolution whatever the algorithm: one F is 2 convolutions
// × 2 · C² · 9 · H · W · N (GroupNorms, ReLUs and sums not counted), so a Winograd F can
// exceed the GEMM's rate. The "% of GEMM" benchmarks time a GEMM and the operation back to
// back in every iteration and report the operation's rate as a percentage of the GEMM's,
// which is robust to the machine's load changing between benchmarks. The solve benchmarks
// report time as a multiple of one batched F measured in the same iteration.

import Benchmark
import DEQCore
import DEQSolvers
import IFRHead

let channels = 256
let side = 14
let plane = side * side

func directFlops(roiCount: Int) -> Double {
  2.0 * 2.0 * Double(channels * channels * 9 * plane * roiCount)
}

let rateMetric = BenchmarkMetric.custom(
  "GFLOP/s ×10 (direct count)", polarity: .prefersLarger, useScalingFactor: false)
let ratioMetric = BenchmarkMetric.custom(
  "rate, % of the GEMM's", polarity: .prefersLarger, useScalingFactor: false)
let multipleMetric = BenchmarkMetric.custom(
  "time ÷ one F (×100)", polarity: .prefersSmaller, useScalingFactor: false)

/// Preallocated operands of the im2col-shaped GEMM for N RoIs.
final class GEMMOperands<S: DEQScalar> {
  let m = channels
  let k = channels * 9
  let n: Int
  var a: [S]
  var b: [S]
  var c: [S]
  init(roiCount: Int) {
    n = plane * roiCount
    var rng = SeededGenerator(seed: 1)
    a = (0..<(m * k)).map { _ in rng.nextUniform(S.self) - 0.5 }
    b = (0..<(k * n)).map { _ in rng.nextUniform(S.self) - 0.5 }
    c = [S](repeating: 0, count: m * n)
  }
  var flops: Double { 2.0 * Double(m * k * n) }
  func run() {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          S.blasGemm(
            transposeA: false, transposeB: false, m, n, k, 1, pa.baseAddress.unsafelyUnwrapped,
            k, pb.baseAddress.unsafelyUnwrapped, n, 0, pc.baseAddress.unsafelyUnwrapped, n)
        }
      }
    }
    blackHole(c[0])
  }
}

/// F, its JVP and its VJP over N RoIs through one preallocated workspace.
final class BlockOperands<S: DEQScalar> {
  let workspace: IFRBlockWorkspace<S>
  let h: Tensor<S>
  let x: Tensor<S>
  var y: Tensor<S>
  init(roiCount: Int, convolution: ConvolutionAlgorithm) {
    var rng = SeededGenerator(seed: 2)
    let block = IFRBlock<S>(channels: channels, using: &rng)
    workspace = block.makeWorkspace(
      height: side, width: side, capacity: roiCount, convolution: convolution)
    let shape = [roiCount, channels, side, side]
    h = Tensor(uniformIn: -1...1, shape: shape, using: &rng)
    x = Tensor(uniformIn: -1...1, shape: shape, using: &rng)
    y = Tensor(zeros: shape)
    workspace.evaluate(state: h, injection: x, into: &y)
  }
  func evaluate() {
    workspace.evaluate(state: h, injection: x, into: &y)
    blackHole(y)
  }
  func jvp() {
    workspace.jvp(tangent: h, into: &y)
    blackHole(y)
  }
  func vjp() { blackHole(workspace.vjp(cotangent: h)) }
}

func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func registerBlockBenchmarks<S: DEQScalar>(_ type: S.Type, roiCount: Int) {
  let name = "\(S.precisionName) N\(roiCount)"
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, rateMetric, ratioMetric], warmupIterations: 2,
    maxDuration: .seconds(4), maxIterations: 100)
  Benchmark("GEMM 256x2304x\(plane * roiCount) (\(S.precisionName))", configuration: configuration)
  {
    benchmark in
    let gemm = GEMMOperands<S>(roiCount: roiCount)
    gemm.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let elapsed = clock.measure { gemm.run() }
      benchmark.measurement(rateMetric, Int((gemm.flops / seconds(elapsed) / 1e8).rounded()))
    }
  }
  for convolution in [ConvolutionAlgorithm.im2col, .winograd, .winograd4x4] {
    for (operation, flopsFactor) in [("F", 1.0), ("JVP", 1.0), ("VJP", 1.0)] {
      Benchmark(
        "\(operation) \(convolution) C256 14x14 (\(name))", configuration: configuration
      ) { benchmark in
        let gemm = GEMMOperands<S>(roiCount: roiCount)
        let block = BlockOperands<S>(roiCount: roiCount, convolution: convolution)
        let run: () -> Void =
          switch operation {
          case "F": block.evaluate
          case "JVP": block.jvp
          default: block.vjp
          }
        gemm.run()
        run()
        let flops = directFlops(roiCount: roiCount) * flopsFactor
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
          let gemmTime = clock.measure { gemm.run() }
          let time = clock.measure { run() }
          benchmark.measurement(rateMetric, Int((flops / seconds(time) / 1e8).rounded()))
          let ratio = (flops / seconds(time)) / (gemm.flops / seconds(gemmTime))
          benchmark.measurement(ratioMetric, Int((100 * ratio).rounded()))
        }
      }
    }
  }
}

func registerSolveBenchmarks<S: DEQScalar>(_ type: S.Type, roiCount: Int) {
  let name = "\(S.precisionName) N\(roiCount)"
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, multipleMetric], warmupIterations: 1, maxDuration: .seconds(10),
    maxIterations: 10)
  func setUp() -> (ImplicitRefinement<S>, Tensor<S>, BlockOperands<S>) {
    var rng = SeededGenerator(seed: 2)
    let block = IFRBlock<S>(channels: channels, using: &rng)
    let x = Tensor<S>(uniformIn: -1...1, shape: [roiCount, channels, side, side], using: &rng)
    return (
      ImplicitRefinement(block: block), x,
      BlockOperands<S>(roiCount: roiCount, convolution: .automatic)
    )
  }
  // Broyden 15 makes 16 batched F evaluations: 16 is the solve with no overhead at all.
  Benchmark("forward Broyden-15 C256 14x14 (\(name))", configuration: configuration) {
    benchmark in
    let (module, x, f) = setUp()
    blackHole(module.forward(x))
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let oneF = clock.measure { f.evaluate() }
      let solve = clock.measure { blackHole(module.forward(x)) }
      benchmark.measurement(multipleMetric, Int((100 * (solve / oneF)).rounded()))
    }
  }
  // The adjoint Broyden 15: one F (the tape at H*), 16 VJPs, one F and one VJP with
  // parameter cotangents (about 19 F of work).
  Benchmark("backward Broyden-15 C256 14x14 (\(name))", configuration: configuration) {
    benchmark in
    let (module, x, f) = setUp()
    let forward = module.forward(x)
    let cotangent = forward.equilibrium
    blackHole(module.backward(forward, cotangent: cotangent))
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let oneF = clock.measure { f.evaluate() }
      let back = clock.measure { blackHole(module.backward(forward, cotangent: cotangent)) }
      benchmark.measurement(multipleMetric, Int((100 * (back / oneF)).rounded()))
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  for roiCount in [4, 16] {
    registerSolveBenchmarks(Float.self, roiCount: roiCount)
    registerSolveBenchmarks(Double.self, roiCount: roiCount)
  }
  registerBlockBenchmarks(Float.self, roiCount: 4)
  registerBlockBenchmarks(Double.self, roiCount: 4)
}
