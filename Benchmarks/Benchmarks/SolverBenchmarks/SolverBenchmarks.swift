// Solver overhead per iteration, excluding the map, as a ratio to one evaluation of a cheap
// map of the same size; and allocations per iteration.
//
// The map is a diagonal linear contraction evaluated in place, f(z)_i = a_i z_i + b_i with
// a_i spread over [0, 0.99] (about as cheap as a map can be: 2 flops and 3 memory streams
// per element), so that no solver converges or stalls within the measured steps.
//
// For each size n:
//   "map ×21 n=…"              21 in-place map evaluations (the baseline; a solve of 20
//                               steps evaluates the map 21 times);
//   "<solver> m=… 20 steps n=…" a whole solve of exactly 20 steps with the same map.
// Overhead per iteration / one map = (T_solve − T_map×21) / 20 / (T_map×21 / 21).
// "… 5 steps" variants at n = 1000 give allocations per iteration: the malloc count of a
// 5-step and a 20-step solve differ by (allocations per iteration) × 15.

import Benchmark
import DEQSolvers

/// The diagonal contraction problem of size n.
func diagonalProblem(size n: Int) -> FixedPointProblem<[Double]> {
  let a = (0..<n).map { 0.99 * Double(($0 &* 7919) % n) / Double(n) }
  let b = (0..<n).map { Double.sin(Double($0)) }
  return FixedPointProblem(start: [Double](repeating: 0, count: n)) { z, out in
    z.withUnsafeBufferPointer { pz in
      out.withUnsafeMutableBufferPointer { po in
        for i in 0..<n { po[i] = a[i] * pz[i] + b[i] }
      }
    }
  }
}

/// Exactly `steps` steps: no tolerance, stall or divergence exit.
func exactly(_ steps: Int) -> StoppingCriteria {
  StoppingCriteria(tolerance: .absolute(0), maxIterations: steps, stall: nil, divergenceFactor: nil)
}

let benchmarks: @Sendable () -> Void = {
  let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .peakMemoryResident]
  let sizes = [1_000, 10_000, 100_000, 1_000_000]
  let steps = 20

  func configuration(_ n: Int) -> Benchmark.Configuration {
    .init(
      metrics: metrics, timeUnits: .microseconds, warmupIterations: 1,
      maxDuration: .seconds(n >= 1_000_000 ? 3 : 1), maxIterations: n >= 1_000_000 ? 5 : 200)
  }

  for n in sizes {
    Benchmark("map ×\(steps + 1) n=\(n)", configuration: configuration(n)) { benchmark in
      let problem = diagonalProblem(size: n)
      var z = problem.start
      var out = problem.start.zeroed()
      benchmark.startMeasurement()
      for _ in benchmark.scaledIterations {
        for _ in 0...steps {
          problem.evaluate(z, &out)
          swap(&z, &out)
        }
        blackHole(z)
      }
    }

    let algorithms: [(String, any FixedPointAlgorithm)] = [
      ("Picard", Picard()),
      ("Anderson m=5", Anderson(memory: 5)),
      ("Anderson m=30", Anderson(memory: 30)),
      ("Broyden m=5", Broyden(memory: 5)),
      ("Broyden m=30", Broyden(memory: 30)),
    ]
    for (name, algorithm) in algorithms {
      let counts = n == 1_000 ? [5, steps] : [steps]
      for count in counts {
        Benchmark("\(name) \(count) steps n=\(n)", configuration: configuration(n)) { benchmark in
          let problem = diagonalProblem(size: n)
          benchmark.startMeasurement()
          for _ in benchmark.scaledIterations {
            let solution = solve(problem, using: algorithm, stopping: exactly(count))
            precondition(solution.iterations == count, "\(name): \(solution.status)")
            blackHole(solution)
          }
        }
      }
    }
  }
}
