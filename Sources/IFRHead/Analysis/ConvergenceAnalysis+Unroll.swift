// One RoI's unrolled iteration, on top of `solve(_:using: Picard())`: the trace gives
// ‖H_{k+1} − H_k‖ (Picard's residual), StepDiagnostics computes ρ at the examined steps,
// and the observer feeds progress, checkpoints and interruption.

import DEQSolvers
import FoundationEssentials
import Synchronization

/// State shared by the workers of one run: cancellation, progress, checkpoints.
final class _AnalysisRunControl<Scalar: DEQScalar>: Sendable {
  let shouldStop: @Sendable () -> Bool
  let progress: (@Sendable (AnalysisProgress) -> Void)?
  let checkpointing: AnalysisCheckpointing?
  let header: [(key: String, value: String, what: String)]
  let stepsTotal: Int
  let start = ContinuousClock.now
  let restoredSteps: Int
  private let done: Atomic<Int>
  private let stopped = Atomic<Bool>(false)
  private let store: Mutex<Store>

  struct Store: Sendable {
    var snapshots: [Int: _UnrollProgress<Scalar>]
    var lastSaved: [Int: ContinuousClock.Instant] = [:]
    var lastReport = ContinuousClock.now
    var writeError: ConvergenceAnalysisError?
    var wroteAny = false
  }

  init(
    shouldStop: @escaping @Sendable () -> Bool,
    progress: (@Sendable (AnalysisProgress) -> Void)?, checkpointing: AnalysisCheckpointing?,
    header: [(key: String, value: String, what: String)], stepsTotal: Int,
    restored: [Int: _UnrollProgress<Scalar>]
  ) {
    self.shouldStop = shouldStop
    self.progress = progress
    self.checkpointing = checkpointing
    self.header = header
    self.stepsTotal = stepsTotal
    let restoredSteps = restored.values.reduce(0) { $0 + $1.step }
    self.restoredSteps = restoredSteps
    done = Atomic(restoredSteps)
    store = Mutex(Store(snapshots: restored))
  }

  /// Whether the run was asked to stop (latched: once true, every worker stops).
  func stopRequested() -> Bool {
    if stopped.load(ordering: .relaxed) { return true }
    if shouldStop() {
      stopped.store(true, ordering: .relaxed)
      return true
    }
    return false
  }

  var wasStopped: Bool { stopped.load(ordering: .relaxed) }

  func advance(by steps: Int) { done.add(steps, ordering: .relaxed) }

  func report(_ activity: AnalysisProgress.Activity, force: Bool = false) {
    guard let progress else { return }
    let now = ContinuousClock.now
    let due = store.withLock { s in
      guard force || now - s.lastReport >= .milliseconds(200) else { return false }
      s.lastReport = now
      return true
    }
    guard due else { return }
    let stepsDone = done.load(ordering: .relaxed)
    let elapsed = now - start
    let seconds = elapsed.seconds
    let rate = seconds > 0 ? Double(stepsDone - restoredSteps) / seconds : 0
    let remaining: Duration? =
      rate > 0 ? .seconds(Double(stepsTotal - stepsDone) / rate) : nil
    progress(
      AnalysisProgress(
        stepsDone: stepsDone, stepsTotal: stepsTotal, activity: activity, elapsed: elapsed,
        stepsPerSecond: rate, estimatedRemaining: remaining))
  }

  /// Whether RoI `roi` at `step` should save now.
  func checkpointDue(roi: Int, step: Int) -> Bool {
    guard let checkpointing else { return false }
    switch checkpointing.policy {
    case .everySteps(let k): return k > 0 && step % k == 0
    case .interval(let interval):
      let now = ContinuousClock.now
      return store.withLock { s in
        let last = s.lastSaved[roi] ?? start
        return now - last >= interval
      }
    }
  }

  /// Records a RoI's progress and writes the checkpoint with every RoI's latest progress.
  func save(_ progress: _UnrollProgress<Scalar>) {
    guard let checkpointing else { return }
    let now = ContinuousClock.now
    let failed: Bool = store.withLock { s in
      s.snapshots[progress.roi] = progress
      s.lastSaved[progress.roi] = now
      let all = s.snapshots.keys.sorted().compactMap { s.snapshots[$0] }
      do {
        let data = try _AnalysisCheckpointFile.encode(header: header, progress: all)
        try FileIO.writeAtomically(data, to: checkpointing.url)
        s.wroteAny = true
        return false
      } catch {
        s.writeError = .checkpointWriteFailed(path: checkpointing.url.path, reason: "\(error)")
        return true
      }
    }
    if failed { stopped.store(true, ordering: .relaxed) }
    report(.checkpointWritten, force: true)
  }

  var writeError: ConvergenceAnalysisError? { store.withLock { $0.writeError } }
  var wroteCheckpoint: Bool { store.withLock { $0.wroteAny } }
}

/// One RoI's unrolled iteration, resumable.
final class _RoIUnroller<Scalar: DEQScalar> {
  let analysis: ConvergenceAnalysis<Scalar>
  let injection: Tensor<Scalar>
  var progress: _UnrollProgress<Scalar>
  let control: _AnalysisRunControl<Scalar>

  init(
    analysis: ConvergenceAnalysis<Scalar>, progress: _UnrollProgress<Scalar>,
    control: _AnalysisRunControl<Scalar>
  ) {
    self.analysis = analysis
    self.injection = analysis.injection.sample(progress.roi)
    self.progress = progress
    self.control = control
  }

  var configuration: ConvergenceAnalysis<Scalar>.Configuration { analysis.configuration }

  var method: SpectralRadiusMethod { analysis.resolvedSpectralMethod }

  /// Runs to the last step, or until the run is stopped. Returns whether it finished.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func run() -> Bool {
    if progress.finished { return true }
    let steps = configuration.steps
    let roi = progress.roi
    if progress.nonFiniteStep == nil && progress.step < steps {
      let startStep = progress.step
      let measured = Set(progress.samples.map(\.step))
      let examined = configuration.spectralSteps.filter {
        $0 >= startStep && !measured.contains($0)
      }
      let problem = analysis.block.fixedPointProblem(injection: injection, start: progress.state)
      let diagnostics = StepDiagnostics<Tensor<Scalar>>(
        schedule: .iterations(Set(examined.map { $0 - startStep }))
      ) { [unowned self] z, k in
        self.measure(z, step: startStep + k)
      }
      let solution = solve(
        problem, using: Picard(),
        stopping: StoppingCriteria(
          tolerance: .absolute(0), maxIterations: steps - startStep, stall: nil,
          divergenceFactor: nil),
        diagnostics: diagnostics,
        observer: { [unowned self] entry, z in
          let step = startStep + entry.iteration
          guard step < steps else { return .proceed }  // the evaluation at H_steps: ρ only
          let finite = entry.absoluteResidual.isFinite
          self.progress.differences.append(finite ? entry.absoluteResidual : .nan)
          if !finite { self.progress.nonFiniteStep = step + 1 }
          self.control.advance(by: 1)
          if step % 64 == 0 { self.control.report(.unrolling(roi: roi, step: step)) }
          let stop = self.control.stopRequested()
          if stop || (finite && self.control.checkpointDue(roi: roi, step: step)) {
            // Save H_step with the series through step (the residual just recorded is
            // recomputed on resume, from the same state).
            var snapshot = self.progress
            snapshot.step = step
            snapshot.state = z
            snapshot.differences.removeLast()
            snapshot.nonFiniteStep = nil
            self.control.save(snapshot)
            if stop { return .stop }
          }
          return .proceed
        })
      switch solution.status {
      case .stoppedByObserver:
        return false
      case .converged:
        // An exact fixed point in floating point: F(H) = H bit for bit, so every later
        // state is H and every later difference is 0; the examined steps left are measured
        // at H, as an unrolled loop would measure them.
        let state = solution.lastIterate
        let reached = startStep + solution.iterations
        let missing = Swift.max(0, steps - progress.differences.count)
        progress.differences.append(contentsOf: [Double](repeating: 0, count: missing))
        control.advance(by: missing)
        for step in examined where step > reached { _ = measure(state, step: step) }
        progress.state = state
        progress.step = steps
      case .nonFinite:
        // F(H_s) was not finite: keep H_s, the last finite state (the series holds the NaN
        // difference of step s + 1, and nonFiniteStep = s + 1).
        progress.state = solution.lastIterate
        progress.step = progress.differences.count - 1
      default:
        progress.state = solution.lastIterate
        progress.step = steps
      }
    }
    confirmLastCold()
    progress.finished = true
    control.save(progress)
    return true
  }

  /// ρ at an examined step; records the sample, updates the warm start.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func measure(_ z: Tensor<Scalar>, step: Int) -> SpectralRadiusRecord? {
    let method = self.method
    var warmStarted = false
    let sample: SpectralSample
    do {
      let jacobian = try analysis.block.stateJacobian(at: z, injection: injection)
      if case .arnoldi(let iteration) = method {
        var warm: ArnoldiWarmStart<Tensor<Scalar>>? = nil
        if configuration.warmStarts, let vector = progress.warmStart,
          let previous = progress.previousExamined
        {
          let change = Double(z.distance(to: previous))
          let scale = Double(z.norm())
          if scale > 0, change <= configuration.warmStartMaximumChange * scale {
            warm = ArnoldiWarmStart(vector: vector)
          }
        }
        warmStarted = warm != nil
        control.report(
          .spectralRadius(roi: progress.roi, step: step, warmStart: warmStarted), force: true)
        let (estimate, next) = try iteration.spectralRadius(of: jacobian, warmStart: warm)
        progress.warmStart = estimate.isTrustworthy ? next?.vector : nil
        sample = SpectralSample(step: step, estimate: estimate, warmStarted: warmStarted)
      } else {
        control.report(
          .spectralRadius(roi: progress.roi, step: step, warmStart: false), force: true)
        let estimate = try jacobian.spectralRadius(using: method)
        sample = SpectralSample(step: step, estimate: estimate, warmStarted: false)
      }
    } catch {
      progress.warmStart = nil
      sample = SpectralSample(
        step: step, value: nil, method: Self.recordMethod(method), errorEstimate: nil,
        isReliable: false, jacobianProducts: 0, warmStarted: warmStarted,
        explanation: "could not be computed", failure: "\(error)")
    }
    progress.previousExamined = z
    progress.samples.append(sample)
    return SpectralRadiusRecord(
      value: sample.value ?? .nan, method: sample.method, errorEstimate: sample.errorEstimate,
      isReliable: sample.isReliable)
  }

  /// Recomputes the last examined step cold when it was warm-started; the warm value
  /// counts only if the two agree within ten times the sum of their error estimates.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func confirmLastCold() {
    guard configuration.confirmLastCold, progress.coldConfirmation == nil,
      let last = progress.samples.last, last.warmStarted, last.step == progress.step,
      case .arnoldi(let iteration) = method
    else { return }
    control.report(.coldConfirmation(roi: progress.roi, step: last.step), force: true)
    let cold: SpectralSample
    do {
      let jacobian = try analysis.block.stateJacobian(at: progress.state, injection: injection)
      cold = SpectralSample(
        step: last.step, estimate: try iteration.spectralRadius(of: jacobian), warmStarted: false)
    } catch {
      cold = SpectralSample(
        step: last.step, value: nil, method: .arnoldi, errorEstimate: nil, isReliable: false,
        jacobianProducts: 0, warmStarted: false, explanation: "could not be computed",
        failure: "\(error)")
    }
    progress.coldConfirmation = cold
    guard last.isReliable, let warmValue = last.value else { return }
    let agrees: Bool
    if cold.isReliable, let coldValue = cold.value {
      let bar = 10 * ((last.errorEstimate ?? 0) + (cold.errorEstimate ?? 0))
      agrees = Swift.abs(warmValue - coldValue) <= bar
    } else {
      agrees = false
    }
    if !agrees {
      let index = progress.samples.count - 1
      progress.samples[index].isReliable = false
      progress.samples[index].explanation +=
        "; a cold restart at this step gave \(cold.value.map { "\($0)" } ?? "no value"), "
        + "which does not agree within ten times the error estimates, so the warm value does not count"
    }
  }

  static func recordMethod(_ method: SpectralRadiusMethod) -> SpectralRadiusRecord.Method {
    switch method {
    case .dense: .dense
    case .powerIteration: .powerIteration
    case .arnoldi, .automatic: .arnoldi
    }
  }
}
