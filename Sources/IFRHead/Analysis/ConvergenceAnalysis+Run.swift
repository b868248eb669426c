// Running a ConvergenceAnalysis: restore the checkpoint, unroll the RoIs on parallel
// workers, then solve with Broyden and judge.

import DEQSolvers
import Dispatch
import FoundationEssentials
import Synchronization

extension ConvergenceAnalysis {
  /// Runs the analysis.
  ///
  /// With `checkpoint`, progress is saved to its file atomically by its policy, when
  /// `shouldStop` turns true, and when each RoI finishes; when the file exists at the start,
  /// the run continues from it. A resumed run returns exactly (bit for bit) what an
  /// uninterrupted run returns: a Picard step copies F, F is deterministic at a fixed
  /// number of BLAS threads, and the checkpoint holds each RoI's state, series, spectral
  /// samples and warm start as they were. A checkpoint written by another analysis
  /// (another block, injection, form, precision, configuration, BLAS thread count or file
  /// format) is refused and left as it is.
  ///
  /// With more than one worker, each RoI runs on its own thread with one BLAS thread (set
  /// for the run and restored after); with one worker, BLAS keeps its thread count.
  ///
  /// - Parameters:
  ///   - checkpoint: the checkpoint file and how often to write it; `nil` for none.
  ///   - progress: called (from the workers' threads, at most every 200 ms, and at every
  ///     spectral radius and checkpoint) with steps done, the rate and an ETA.
  ///   - shouldStop: polled at every step; when it returns `true` the run saves its
  ///     checkpoint and throws ``ConvergenceAnalysisError/interrupted(checkpointWritten:)``.
  /// - Returns: per RoI the series, the spectral samples and the solves; and the verdict.
  /// - Throws: ``ConvergenceAnalysisError``.
  /// - Complexity: `N · steps` evaluations of F, plus the Jacobian products of the spectral
  ///   radii, plus two Broyden solves per RoI.
  public func run(
    checkpoint: AnalysisCheckpointing? = nil,
    progress: (@Sendable (AnalysisProgress) -> Void)? = nil,
    shouldStop: @escaping @Sendable () -> Bool = { false }
  ) throws(ConvergenceAnalysisError) -> ConvergenceAnalysisResult<Scalar> {
    try validate()
    if case .everySteps(let k) = checkpoint?.policy, k < 1 {
      throw .invalidConfiguration("the checkpoint period must be ≥ 1 step, got \(k)")
    }
    let workers = workerCount
    let blasThreads = workers > 1 ? 1 : BLASThreads.count
    let header = _AnalysisCheckpointFile.header(self, blasThreads: blasThreads)
    let roiShape = Array(injection.shape.dropFirst())
    if let checkpoint {
      // A run killed while writing leaves its temporary file; this run owns the checkpoint.
      FileIO.removeAbandonedTemporaries(of: checkpoint.url)
    }
    let restored: [Int: _UnrollProgress<Scalar>]
    if let checkpoint, FileManager.default.fileExists(atPath: checkpoint.url.path) {
      restored = try _AnalysisCheckpointFile.decode(
        contentsOf: checkpoint.url, header: header, roiCount: roiCount, roiShape: roiShape)
    } else {
      restored = [:]
    }
    let resumed = !restored.isEmpty
    let control = _AnalysisRunControl<Scalar>(
      shouldStop: shouldStop, progress: progress, checkpointing: checkpoint, header: header,
      stepsTotal: roiCount * configuration.steps, restored: restored)

    let outcomes = Mutex([Int: _UnrollProgress<Scalar>]())
    let next = Atomic(0)
    let count = roiCount
    let analysis = self
    let work: @Sendable (Int) -> Void = { _ in
      while !control.wasStopped {
        let roi = next.add(1, ordering: .relaxed).oldValue
        guard roi < count else { return }
        let unroller = _RoIUnroller(
          analysis: analysis,
          progress: restored[roi] ?? _UnrollProgress(roi: roi, shape: roiShape),
          control: control)
        if unroller.run() {
          let finished = unroller.progress
          outcomes.withLock { $0[roi] = finished }
        }
      }
    }
    if workers > 1 {
      BLASThreads.withCount(1) {
        DispatchQueue.concurrentPerform(iterations: workers, execute: work)
      }
    } else {
      work(0)
    }
    if let error = control.writeError { throw error }
    let unrolled = outcomes.withLock { $0 }
    if control.wasStopped || unrolled.count < roiCount {
      throw .interrupted(checkpointWritten: checkpoint != nil && control.wroteCheckpoint)
    }

    var rois: [RoIAnalysis<Scalar>] = []
    for roi in 0..<roiCount {
      guard let p = unrolled[roi] else { throw .interrupted(checkpointWritten: false) }
      control.report(.solving(roi: roi), force: true)
      let problem = block.fixedPointProblem(injection: injection.sample(roi))
      let broyden = DEQSolvers.solve(problem, using: Broyden(), stopping: .ifr)
      let tolerance = configuration.refineTolerance(for: Scalar.self)
      let refined = DEQSolvers.solve(
        problem, using: Broyden(),
        stopping: StoppingCriteria(
          tolerance: .both(absolute: tolerance, relative: tolerance),
          maxIterations: configuration.refineMaxIterations))
      let lastStep = p.nonFiniteStep ?? p.step
      rois.append(
        RoIAnalysis(
          index: roi, steps: lastStep, adjacentDifferences: p.differences, spectral: p.samples,
          coldConfirmation: p.coldConfirmation, nonFiniteStep: p.nonFiniteStep,
          unrolledState: p.state, broyden: broyden, refined: refined,
          difference: p.nonFiniteStep == nil
            ? Double(refined.fixedPoint.distance(to: p.state)) : .nan,
          firstStepBelowOne: AnalysisVerdict.firstStepBelowOne(p.samples, through: lastStep)))
    }
    let verdict = AnalysisVerdict(
      judging: rois, form: block.form, vanish: configuration.vanishThreshold,
      agreement: configuration.agreementThreshold,
      examinedFromOne: configuration.spectralSteps.contains { $0 >= 1 })
    return ConvergenceAnalysisResult(rois: rois, verdict: verdict, resumed: resumed)
  }
}
