/// The bookkeeping of one solve: trace, best iterate, statistics and the stopping decision.
/// Shared by the solo and the batched drivers so that both make exactly the same decisions.
@usableFromInline
final class _SolveRun<K: _VectorKernel> {
  @usableFromInline typealias V = K.Vector

  @usableFromInline let stepper: _Stepper<K>
  @usableFromInline let criteria: StoppingCriteria
  @usableFromInline let diagnostics: StepDiagnostics<V>?
  @usableFromInline let observer: SolverObserver<V>?
  @usableFromInline let clock = ContinuousClock()
  @usableFromInline let startTime: ContinuousClock.Instant
  @usableFromInline var best: V
  @usableFromInline var bestResidual: Double = .infinity
  @usableFromInline var bestIteration = 0
  @usableFromInline var trace: [TraceEntry] = []
  @usableFromInline var iteration = 0
  @usableFromInline var mapEvaluations = 0
  /// Time in the driver's map evaluations so far (``TraceEntry/mapTime``).
  @usableFromInline var mapTime: Duration = .zero
  @usableFromInline var status: FixedPointStatus?
  /// `max(‖f(z₀)‖ + ‖f(z₀) − z₀‖, 1)`, the scale the divergence guard compares states with.
  @usableFromInline var initialScale: Double = 1

  /// Set when the algorithm or the criteria failed `validate()`: the start is evaluated
  /// (so the solution has its one trace entry) and the solve ends as invalid.
  @usableFromInline var configurationError: ConfigurationError?

  @inlinable
  init(
    algorithm: any FixedPointAlgorithm, start: V, criteria: StoppingCriteria,
    map: @escaping (V, inout V) -> Void, jacobianVectorProduct: ((V, V) -> V)?,
    diagnostics: StepDiagnostics<V>?, observer: SolverObserver<V>?,
    startTime: ContinuousClock.Instant
  ) {
    do throws(ConfigurationError) {
      try criteria.validate()
      try algorithm.validate()
      let context = StepperContext(
        maxIterations: criteria.maxIterations, tolerance: criteria.tolerance, map: map,
        jacobianVectorProduct: jacobianVectorProduct)
      stepper = _Stepper(algorithm, start: start, context: context)
    } catch {
      configurationError = error
      stepper = .picard(_PicardStepper(Picard(), start: start))
    }
    self.criteria = criteria
    self.diagnostics = diagnostics
    self.observer = observer
    self.startTime = startTime
    var best = start.zeroed()
    K.copy(start, into: &best)
    self.best = best
    trace.reserveCapacity(Swift.min(Swift.max(criteria.maxIterations, 0), 1 << 20) + 1)
  }

  /// Evaluates the map at the pending point (solo driver).
  @inlinable
  func evaluate(_ map: (V, inout V) -> Void) {
    let start = clock.now
    stepper.evaluate(map)
    mapTime += clock.now - start
  }

  /// Processes the map value just stored in the stepper. Sets ``status`` when the solve ends.
  @inlinable
  func deliver() {
    mapEvaluations += 1
    guard case .iterate(let r, let fNorm, let step, let finite) = stepper.receive() else { return }
    let k = iteration
    let absolute = Double(r)
    let mapNorm = Double(fNorm)
    var entry = TraceEntry(
      iteration: k, absoluteResidual: finite ? absolute : .nan,
      relativeResidual: finite ? absolute / (mapNorm + TraceEntry.relativeResidualEpsilon) : .nan,
      stepNorm: Double(step), mapEvaluations: mapEvaluations,
      elapsed: clock.now - startTime, jacobianProducts: stepper.jacobianProducts,
      innerSolve: stepper.innerSolve, mapTime: mapTime)
    if finite && absolute < bestResidual {
      bestResidual = absolute
      bestIteration = k
      K.copy(stepper.point, into: &best)
    }
    if let diagnostics, diagnostics.schedule.contains(k) {
      entry.spectralRadius = diagnostics.measure(stepper.point, k)
    }
    trace.append(entry)
    let action = observer?(entry, stepper.point) ?? .proceed
    status = decide(entry: entry, mapNorm: mapNorm, finite: finite, action: action)
    if status == nil {
      switch stepper.advance() {
      case .proceed: iteration += 1
      case .breakdown: status = .breakdown
      case .roundingFloor: status = .stalled
      }
    }
  }

  @inlinable
  func decide(
    entry: TraceEntry, mapNorm: Double, finite: Bool, action: ObserverAction
  ) -> FixedPointStatus? {
    let k = entry.iteration
    let r = entry.absoluteResidual
    if configurationError != nil { return .invalidConfiguration }
    if !finite { return .nonFinite }
    if k == 0 { initialScale = Swift.max(mapNorm + r, 1) }
    if let factor = criteria.divergenceFactor, k >= 1 {
      // The residual far above its start, or the state run off (where f(z) = z can hold
      // in floating point by absorption, so it must be caught before the tolerance).
      if r > factor * trace[0].absoluteResidual || mapNorm > factor * initialScale {
        return .diverged
      }
    }
    if criteria.tolerance.isSatisfied(absoluteResidual: r, mapNorm: mapNorm) { return .converged }
    if let stall = criteria.stall, k >= stall.window {
      var low = Double.infinity
      var high = -Double.infinity
      for entry in trace[(trace.count - stall.window)...] {
        low = Swift.min(low, entry.absoluteResidual)
        high = Swift.max(high, entry.absoluteResidual)
      }
      if high < stall.improvementRatio * low { return .stalled }
    }
    if action == .stop { return .stoppedByObserver }
    if k >= criteria.maxIterations { return .maxIterations }
    return nil
  }

  /// The solution value (call once `status` is set).
  @inlinable
  func solution() -> FixedPointSolution<V> {
    FixedPointSolution(
      fixedPoint: best, lastIterate: stepper.point, status: status ?? .maxIterations,
      iterations: iteration, mapEvaluations: mapEvaluations, bestIteration: bestIteration,
      historyRestarts: stepper.restarts, trace: trace,
      jacobianProducts: stepper.jacobianProducts)
  }
}
