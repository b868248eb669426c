// Batches of independent fixed-point problems (one per RoI in the IFR head).
//
// Each problem keeps its own history, stopping decision, status and trace; nothing is
// coupled (torchdeq stops a whole batch on the batch's worst residual and shares one
// line-search step; we do neither). The lockstep driver advances every active problem by
// one map evaluation per round, so a batched map can evaluate all active problems in one
// call, and each problem performs exactly the arithmetic of its solo solve; without
// observers or diagnostics the problems' steps of a round run in parallel.

/// Solves independent problems, each exactly as `solve(_:using:stopping:diagnostics:observer:)`
/// would alone.
///
/// - Parameters:
///   - problems: the problems; each has its own map and start.
///   - algorithm: the algorithm for every problem.
///   - stopping: the criteria, applied to each problem separately.
///   - diagnostics: an optional per-step measurement, applied to each problem.
///   - observer: sees `(problem index, entry, iterate)`; `.stop` stops that problem only.
/// - Returns: one solution per problem, in order.
@inlinable
public func solve<V: ContiguousVectorSpace>(
  batch problems: [FixedPointProblem<V>],
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: ((Int, TraceEntry, V) -> ObserverAction)? = nil
) -> [FixedPointSolution<V>] {
  problems.indices.map { i in
    let local: SolverObserver<V>? = observer.map { o in { entry, z in o(i, entry, z) } }
    return solve(
      problems[i], using: algorithm, stopping: stopping, diagnostics: diagnostics,
      observer: local)
  }
}

/// Solves independent problems whose map is evaluated for all active problems at once.
///
/// Every round, `map(points, active)` receives the pending point of every problem and a
/// mask of those still running, and returns `f` of each point at least where `active` is
/// true (entries for inactive problems are ignored). Each problem's result equals, bit for
/// bit, its solo solve with the map `z ↦ map([z], [true])[0]`, provided the batched map
/// computes each problem's value independently of the others and BLAS rounds alike (the
/// steps of a round run with single-threaded BLAS when they run in parallel, and OpenBLAS
/// may split a long dot product across threads otherwise).
///
/// - Parameters:
///   - starts: the starting points.
///   - map: the batched map.
///   - algorithm: the algorithm for every problem.
///   - stopping: the criteria, applied to each problem separately.
///   - diagnostics: an optional per-step measurement, applied to each problem.
///   - observer: sees `(problem index, entry, iterate)`; `.stop` stops that problem only.
///   - parallelism: how many cores the problems' steps of a round, and the making of
///     their solvers' state, may share when there is no observer and no diagnostics
///     (default: `BLASThreads.count`); each step then runs with single-threaded BLAS.
/// - Returns: one solution per start, in order.
/// - Complexity: at most `max(mapEvaluations)` calls of `map`.
@inlinable
public func solve<V: ContiguousVectorSpace>(
  batch starts: [V],
  map: ([V], _ active: [Bool]) -> [V],
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: ((Int, TraceEntry, V) -> ObserverAction)? = nil,
  parallelism: Int? = nil
) -> [FixedPointSolution<V>] {
  _solveLockstep(
    starts, map: map, kernel: _ContiguousKernel<V>.self, algorithm, stopping,
    diagnostics, observer, parallelism ?? BLASThreads.count)
}

/// The batched-map solve for iterates of any `VectorSpace`.
@inlinable
@_disfavoredOverload
public func solve<V: VectorSpace>(
  batch starts: [V],
  map: ([V], _ active: [Bool]) -> [V],
  using algorithm: any FixedPointAlgorithm,
  stopping: StoppingCriteria = StoppingCriteria(),
  diagnostics: StepDiagnostics<V>? = nil,
  observer: ((Int, TraceEntry, V) -> ObserverAction)? = nil,
  parallelism: Int? = nil
) -> [FixedPointSolution<V>] {
  _solveLockstep(
    starts, map: map, kernel: _GenericKernel<V>.self, algorithm, stopping,
    diagnostics, observer, parallelism ?? BLASThreads.count)
}

@inlinable
func _solveLockstep<K: _VectorKernel>(
  _ starts: [K.Vector], map: ([K.Vector], [Bool]) -> [K.Vector], kernel: K.Type,
  _ algorithm: any FixedPointAlgorithm, _ stopping: StoppingCriteria,
  _ diagnostics: StepDiagnostics<K.Vector>?,
  _ observer: ((Int, TraceEntry, K.Vector) -> ObserverAction)?, _ parallelism: Int
) -> [FixedPointSolution<K.Vector>] {
  // The runs (and the solo maps their steppers hold) end with this call.
  withoutActuallyEscaping(map) { map in
    let startTime = ContinuousClock.now
    let count = starts.count
    func makeRun(_ i: Int) -> _SolveRun<K> {
      let local: SolverObserver<K.Vector>? = observer.map { o in { entry, z in o(i, entry, z) } }
      // A stepper's own evaluations (Newton–Krylov's difference products) go through the
      // batched map with only this problem active.
      let solo: (K.Vector, inout K.Vector) -> Void = { z, out in
        var active = [Bool](repeating: false, count: count)
        active[i] = true
        out = map([K.Vector](repeating: z, count: count), active)[i]
      }
      return _SolveRun<K>(
        algorithm: algorithm, start: starts[i], criteria: stopping, map: solo,
        jacobianVectorProduct: nil, diagnostics: diagnostics, observer: local,
        startTime: startTime)
    }
    // Without user closures the runs' state (a Broyden-15 run at the IFR head's paper size
    // allocates and zeroes 1.8 MB of vectors) is made on every core the steps will use.
    let parallel = observer == nil && diagnostics == nil
    let parts = parallel ? Swift.min(parallelism, count) : 1
    let runs: [_SolveRun<K>]
    if parts > 1 {
      runs = [_SolveRun<K>](unsafeUninitializedCapacity: count) { buffer, initialized in
        let base = buffer.baseAddress.unsafelyUnwrapped
        BLASThreads.withCount(1) {
          _ParallelRanges.forEach(count, parts: parts) { _, range in
            for i in range { (base + i).initialize(to: makeRun(i)) }
          }
        }
        initialized = count
      }
    } else {
      runs = starts.indices.map(makeRun)
    }
    var active = runs.map { $0.status == nil }
    while active.contains(true) {
      var values: [K.Vector]
      do {
        // The points array is released before the steppers write to their buffers.
        let points = runs.map { $0.stepper.point }
        let start = ContinuousClock.now
        values = map(points, active)
        let spent = ContinuousClock.now - start
        for i in runs.indices where active[i] { runs[i].mapTime += spent }
      }
      precondition(
        values.count == runs.count, "the batched map must return one value per problem")
      for i in runs.indices where active[i] {
        runs[i].stepper.setMapValue(values[i])
      }
      values.removeAll()
      // Each problem's step touches only its own run: with no observer or diagnostics
      // (user closures, which may not be thread-safe) they run on `parallelism` cores, each
      // with single-threaded BLAS.
      let stepping = runs.indices.filter { active[$0] }
      let parts = parallel ? Swift.min(parallelism, stepping.count) : 1
      if parts > 1 {
        BLASThreads.withCount(1) {
          _ParallelRanges.forEach(stepping.count, parts: parts) { _, range in
            for j in range { runs[stepping[j]].deliver() }
          }
        }
      } else {
        for i in stepping { runs[i].deliver() }
      }
      for i in stepping { active[i] = runs[i].status == nil }
    }
    return runs.map { $0.solution() }
  }
}
