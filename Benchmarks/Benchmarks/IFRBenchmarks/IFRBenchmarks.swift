// The IFR block at the paper's size (N = 4 RoIs, C = 256, 14 × 14) against a plain GEMM of
// the im2col shape (256 × 2304 × 784) measured in the same run, in Float and Double.
//
// Flops of one F: 2 convolutions × 2 · C² · 9 · H · W · N (the GroupNorms, ReLUs and sums are
// not counted). Rates are reported as the custom metric "MFLOP/s"; the "% of GEMM" benchmarks
// time a GEMM and an F back to back in every iteration and report F's rate as a percentage of
// the GEMM's, which is robust to the machine's load changing between benchmarks.

import Benchmark
import DEQCore
import DEQSolvers
import IFRHead

let roiCount = 4
let channels = 256
let side = 14
let plane = side * side
let gemmM = channels
let gemmK = channels * 9
let gemmN = plane * roiCount
let flopsPerF = 2.0 * 2.0 * Double(channels * channels * 9 * plane * roiCount)
let flopsPerGEMM = 2.0 * Double(gemmM * gemmK * gemmN)

let rateMetric = BenchmarkMetric.custom(
  "MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
let ratioMetric = BenchmarkMetric.custom(
  "F rate, % of GEMM", polarity: .prefersLarger, useScalingFactor: false)

/// Preallocated operands of the im2col-shaped GEMM.
final class GEMMOperands<S: DEQScalar> {
  var a: [S]
  var b: [S]
  var c: [S]
  init() {
    var rng = SeededGenerator(seed: 1)
    a = (0..<(gemmM * gemmK)).map { _ in rng.nextUniform(S.self) - 0.5 }
    b = (0..<(gemmK * gemmN)).map { _ in rng.nextUniform(S.self) - 0.5 }
    c = [S](repeating: 0, count: gemmM * gemmN)
  }
  func run() {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          S.blasGemm(
            transposeA: false, transposeB: false, gemmM, gemmN, gemmK, 1,
            pa.baseAddress.unsafelyUnwrapped, gemmK, pb.baseAddress.unsafelyUnwrapped, gemmN, 0,
            pc.baseAddress.unsafelyUnwrapped, gemmN)
        }
      }
    }
    blackHole(c[0])
  }
}

/// One F over N RoIs through a preallocated workspace.
final class BlockOperands<S: DEQScalar> {
  let workspace: IFRBlockWorkspace<S>
  var h: [S]
  var x: [S]
  var y: [S]
  var dx: [S]
  init(form: IFRBlockForm = .ifrCode) {
    var rng = SeededGenerator(seed: 2)
    let block = IFRBlock<S>(channels: channels, form: form, using: &rng)
    workspace = block.makeWorkspace(height: side, width: side)
    let count = roiCount * channels * plane
    h = (0..<count).map { _ in rng.nextUniform(S.self) - 0.5 }
    x = (0..<count).map { _ in rng.nextUniform(S.self) - 0.5 }
    y = [S](repeating: 0, count: count)
    dx = [S](repeating: 0, count: count)
  }
  func run() {
    let size = channels * plane
    h.withUnsafeBufferPointer { ph in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          for roi in 0..<roiCount {
            let range = (roi * size)..<((roi + 1) * size)
            workspace.evaluate(
              state: UnsafeBufferPointer(rebasing: ph[range]),
              injection: UnsafeBufferPointer(rebasing: px[range]),
              into: UnsafeMutableBufferPointer(rebasing: py[range]))
          }
        }
      }
    }
    blackHole(y[0])
  }
  /// One VJP per RoI at the last evaluated point (that of the last RoI; the cost does not
  /// depend on the point), with or without the parameter cotangents.
  func runVJP(accumulatingParameters: Bool) {
    let size = channels * plane
    h.withUnsafeBufferPointer { ph in
      dx.withUnsafeMutableBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          for roi in 0..<roiCount {
            let range = (roi * size)..<((roi + 1) * size)
            workspace.vjp(
              cotangent: UnsafeBufferPointer(rebasing: ph[range]),
              state: UnsafeMutableBufferPointer(rebasing: py[range]),
              injection: UnsafeMutableBufferPointer(rebasing: px[range]),
              accumulatingParameters: accumulatingParameters)
          }
        }
      }
    }
    blackHole(y[0])
  }
}

func megaflops(_ flops: Double, _ duration: Duration) -> Int {
  let seconds =
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
  return Int(flops / seconds / 1e6)
}

func registerBenchmarks<S: DEQScalar>(_ type: S.Type) {
  let name = S.precisionName
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, rateMetric], warmupIterations: 3, maxDuration: .seconds(5),
    maxIterations: 200)
  Benchmark("GEMM 256x2304x784 (\(name))", configuration: configuration) { benchmark in
    let operands = GEMMOperands<S>()
    operands.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let elapsed = clock.measure { operands.run() }
      benchmark.measurement(rateMetric, megaflops(flopsPerGEMM, elapsed))
    }
  }
  Benchmark("IFR F N4 C256 14x14 (\(name))", configuration: configuration) { benchmark in
    let operands = BlockOperands<S>()
    operands.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let elapsed = clock.measure { operands.run() }
      benchmark.measurement(rateMetric, megaflops(flopsPerF, elapsed))
    }
  }
  Benchmark(
    "IFR F vs GEMM, same iteration (\(name))",
    configuration: .init(
      metrics: [ratioMetric], warmupIterations: 3, maxDuration: .seconds(5), maxIterations: 100)
  ) { benchmark in
    let gemm = GEMMOperands<S>()
    let block = BlockOperands<S>()
    gemm.run()
    block.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let gemmRate = Double(megaflops(flopsPerGEMM, clock.measure { gemm.run() }))
      let blockRate = Double(megaflops(flopsPerF, clock.measure { block.run() }))
      benchmark.measurement(ratioMetric, Int((100 * blockRate / gemmRate).rounded()))
    }
  }
}

let multipleMetric = BenchmarkMetric.custom(
  "time ÷ one F (×100)", polarity: .prefersSmaller, useScalingFactor: false)
/// The solve against the map work it cannot avoid, measured in the same iteration: the
/// forward makes 16 per-RoI F evaluations (Broyden 15), so its ideal is 16 F; the backward
/// makes one F (the tape at H*), 16 VJPs (adjoint Broyden 15) and one VJP with parameter
/// cotangents. 100 would mean no solver overhead at all.
let idealMetric = BenchmarkMetric.custom(
  "time ÷ its F and VJP work (×100)", polarity: .prefersSmaller, useScalingFactor: false)

func registerSolveBenchmarks<S: DEQScalar>(_ type: S.Type) {
  let name = S.precisionName
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, multipleMetric, idealMetric], warmupIterations: 1,
    maxDuration: .seconds(10),
    maxIterations: 20)
  func setUp() -> (ImplicitRefinement<S>, Tensor<S>, BlockOperands<S>) {
    var rng = SeededGenerator(seed: 3)
    let block = IFRBlock<S>(channels: channels, using: &rng)
    let x = Tensor<S>(
      uniformIn: -1...1, shape: [roiCount, channels, side, side], using: &rng)
    return (ImplicitRefinement(block: block), x, BlockOperands<S>())
  }
  Benchmark("IFR forward Broyden-15 N4 C256 14x14 (\(name))", configuration: configuration) {
    benchmark in
    let (module, x, f) = setUp()
    f.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let oneF = clock.measure { f.run() }
      let solve = clock.measure { blackHole(module.forward(x)) }
      benchmark.measurement(multipleMetric, Int((100 * (solve / oneF)).rounded()))
      benchmark.measurement(idealMetric, Int((100 * (solve / (oneF * 16))).rounded()))
    }
  }
  Benchmark("IFR backward Broyden-15 N4 C256 14x14 (\(name))", configuration: configuration) {
    benchmark in
    let (module, x, f) = setUp()
    let forward = module.forward(x)
    let cotangent = forward.equilibrium
    f.run()
    let clock = ContinuousClock()
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      let oneF = clock.measure { f.run() }
      let oneVJP = clock.measure { f.runVJP(accumulatingParameters: false) }
      let oneParameterVJP = clock.measure { f.runVJP(accumulatingParameters: true) }
      let back = clock.measure { blackHole(module.backward(forward, cotangent: cotangent)) }
      benchmark.measurement(multipleMetric, Int((100 * (back / oneF)).rounded()))
      let work = oneF + oneVJP * 16 + oneParameterVJP
      benchmark.measurement(idealMetric, Int((100 * (back / work)).rounded()))
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  registerSolveBenchmarks(Float.self)
  registerSolveBenchmarks(Double.self)
  registerBenchmarks(Float.self)
  registerBenchmarks(Double.self)
}
