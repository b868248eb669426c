import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Batches of independent problems")
struct BatchTests {
  /// Four RoI-like problems of different difficulty: shared W, different inputs.
  let problems: [TanhProblem<Double>] = {
    let w = contraction(order: 24, norm: 0.9, seed: TestSeeds.standard, symmetric: true) as [Double]
    return (0..<4).map { i in
      TanhProblem(w: w, x: randomVector(count: 24, seed: 40 + UInt64(i)).scaled(by: Double(i + 1)))
    }
  }()

  /// Bitwise equality of two solutions, apart from wall-clock times.
  func expectIdentical(_ a: FixedPointSolution<[Double]>, _ b: FixedPointSolution<[Double]>) {
    // `==` on floating point is the claim here: the batch performs the solo arithmetic.
    #expect(a.fixedPoint == b.fixedPoint)
    #expect(a.lastIterate == b.lastIterate)
    #expect(a.status == b.status)
    #expect(a.iterations == b.iterations)
    #expect(a.mapEvaluations == b.mapEvaluations)
    #expect(a.historyRestarts == b.historyRestarts)
    #expect(
      a.trace.map(\.absoluteResidual.bitPattern) == b.trace.map(\.absoluteResidual.bitPattern))
    #expect(
      a.trace.map(\.relativeResidual.bitPattern) == b.trace.map(\.relativeResidual.bitPattern))
    #expect(a.trace.map(\.stepNorm.bitPattern) == b.trace.map(\.stepNorm.bitPattern))
    #expect(a.trace.map(\.mapEvaluations) == b.trace.map(\.mapEvaluations))
  }

  static let algorithms: [AlgorithmKind] =
    allAlgorithms + [
      .broyden(Broyden(memory: 3, lineSearch: ArmijoLineSearch()))
    ]

  @Test("a batched map gives each problem exactly its solo solution", arguments: algorithms)
  func batchedMapEqualsSolo(algorithm: AlgorithmKind) {
    let stopping = StoppingCriteria(tolerance: .both(absolute: 1e-11, relative: 1e-11))
    let solo = problems.map { solve($0.problem(), using: algorithm, stopping: stopping) }
    var calls = 0
    var activeCounts: [Int] = []
    let problems = self.problems
    let batch = solve(
      batch: problems.map { _ in [Double](repeating: 0, count: 24) },
      map: { points, active in
        calls += 1
        activeCounts.append(active.filter { $0 }.count)
        return points.indices.map { active[$0] ? problems[$0].map(points[$0]) : points[$0] }
      }, using: algorithm, stopping: stopping)
    for (a, b) in zip(batch, solo) { expectIdentical(a, b) }
    // One call per round: as many rounds as the slowest problem's evaluations, and
    // problems drop out as they finish (per-problem stopping).
    #expect(calls == solo.map(\.mapEvaluations).max())
    #expect(activeCounts.first == problems.count)
    #expect(Set(solo.map(\.iterations)).count > 1, "the problems should differ in difficulty")
    #expect(activeCounts.last ?? 0 < problems.count)
  }

  @Test(
    "the solvers' state and steps made on 1, 2 or 3 cores give the same solutions",
    arguments: algorithms)
  func parallelismDoesNotChangeResults(algorithm: AlgorithmKind) {
    let problems = self.problems
    func run(_ parallelism: Int) -> [FixedPointSolution<[Double]>] {
      solve(
        batch: problems.map { _ in [Double](repeating: 0, count: 24) },
        map: { points, active in
          points.indices.map { active[$0] ? problems[$0].map(points[$0]) : points[$0] }
        }, using: algorithm, stopping: exactly(20), parallelism: parallelism)
    }
    let serial = run(1)
    #expect(serial.count == problems.count)
    for parallelism in [2, 3] {
      for (a, b) in zip(run(parallelism), serial) { expectIdentical(a, b) }
    }
  }

  @Test("a batch of problems gives each its solo solution", arguments: allAlgorithms)
  func problemBatchEqualsSolo(algorithm: AlgorithmKind) {
    let solo = problems.map { solve($0.problem(), using: algorithm) }
    var seen = Set<Int>()
    let batch = solve(batch: problems.map { $0.problem() }, using: algorithm) { index, _, _ in
      seen.insert(index)
      return .proceed
    }
    for (a, b) in zip(batch, solo) { expectIdentical(a, b) }
    #expect(seen == Set(problems.indices))
  }

  @Test("an observer stops one problem of a batch only")
  func observerStopsOne() {
    let problems = self.problems
    let batch = solve(
      batch: problems.map { _ in [Double](repeating: 0, count: 24) },
      map: { points, _ in points.indices.map { problems[$0].map(points[$0]) } },
      using: Anderson()
    ) { index, entry, _ in index == 1 && entry.iteration == 2 ? .stop : .proceed }
    #expect(batch[1].status == .stoppedByObserver)
    #expect(batch[1].iterations == 2)
    for i in [0, 2, 3] { #expect(batch[i].status == .converged) }
  }
}
