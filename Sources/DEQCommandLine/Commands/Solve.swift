import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq solve`: solve each RoI's equilibrium and report every step.
struct Solve: PrecisionDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Solve H* = F(H*; X) for each RoI and print the residuals step by step.",
    discussion: """
      Prints, per RoI and step, the absolute residual ‖F(H)−H‖₂, the relative residual \
      ‖F(H)−H‖₂/(‖F(H)‖₂+1e-9) and, with --spectral-every, the spectral radius of ∂F/∂H, \
      then the status with an explanation. Exits with 1 when any RoI did not converge.

      Examples:
        deq solve                                   # Broyden, 15 iterations, random problem
        deq solve --solver anderson --max-iterations 60 --tolerance 1e-10
        deq solve --weights block.safetensors --input x.npy --format json --output trace.json
        deq solve --spectral-every 5 --plot solve.svg
      """)

  @OptionGroup(title: "Problem") var problem: ProblemOptions
  @OptionGroup(title: "Output") var output: OutputOptions

  @OptionGroup(title: "Solver") var equilibrium: SolverOptions

  @Option(help: "Record ρ(∂F/∂H) every K iterations (0: never).")
  var spectralEvery: Int = 0

  @Option(
    help:
      "Spectral-radius method: auto (dense up to n = 1024, else Arnoldi), dense, arnoldi, power.")
  var spectralMethod: SpectralMethodOption = .auto

  @OptionGroup(title: "Arnoldi") var arnoldi: ArnoldiOptions

  @Option(help: ArgumentHelp("Save the solution H* ([N, C, H, W]) as .npy.", valueName: "file.npy"))
  var saveState: String?

  @Option(help: ArgumentHelp("Write an SVG plot of the residuals (and ρ).", valueName: "file.svg"))
  var plot: String?

  func validate() throws {
    guard spectralEvery >= 0 else {
      throw ValidationError("--spectral-every must be ≥ 0, got \(spectralEvery)")
    }
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let started = ContinuousClock.now
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(options: output, inputs: loaded.inputPaths)
    try emitter.checkOutputs([(plot, "--plot"), (saveState, "--save-state")])
    let progress = Progress(label: "solve", total: loaded.batch, quiet: output.quiet)
    var solutions: [FixedPointSolution<Tensor<S>>] = []
    if spectralEvery == 0 {
      // Every RoI in lockstep, one batched F per round.
      solutions = loaded.solveAll(using: equilibrium.algorithm, stopping: equilibrium.stopping)
      progress.update(loaded.batch)
    } else {
      // RoI by RoI: each RoI's spectral radius needs that RoI's Jacobian.
      for roi in 0..<loaded.batch {
        let diagnostics = StepDiagnostics<Tensor<S>>.spectralRadius(
          schedule: .every(spectralEvery),
          method: arnoldi.method(spectralMethod, dimension: loaded.dimension)
        ) { z in
          try loaded.jacobian(roi: roi, at: z)
        }
        solutions.append(
          DEQSolvers.solve(
            loaded.fixedPointProblem(roi: roi), using: equilibrium.algorithm,
            stopping: equilibrium.stopping, diagnostics: diagnostics))
        progress.update(roi + 1)
      }
    }
    let timing = Self.timing(
      solutions, lockstep: spectralEvery == 0, total: ContinuousClock.now - started)
    progress.finish()
    let reports = solutions.enumerated().map { SolveReporting.report($1, index: $0) }
    let converged = reports.allSatisfy(\.converged)
    let title =
      "deq solve: \(equilibrium.solver.rawValue), form \(problem.form.rawValue), \(loaded.batch) RoIs of "
      + "\(loaded.description.channels)×\(loaded.description.height)×\(loaded.description.width), "
      + "\(problem.precision.rawValue)"
    switch output.format {
    case .table:
      try emitter.emit(SolveReporting.table(reports, title: title) + SolveReporting.line(timing))
    case .csv: try emitter.emit(SolveReporting.csv(reports))
    case .json:
      try emitter.emit(
        Emitter.json(
          Reports.SolveDocument(
            status: converged ? "converged" : "notConverged", problem: loaded.description,
            solver: equilibrium.solver.rawValue, problems: reports, timing: timing)))
    }
    if let plot {
      try emitter.write(
        Data(SolveReporting.plot(reports, title: title).render().utf8), to: plot, option: "--plot")
    }
    if let saveState {
      let state: Tensor<S>
      do {
        state = try Tensor.stacking(solutions.map(\.fixedPoint))
      } catch {
        throw CommandLineError.output(path: saveState, reason: error.description)
      }
      try emitter.write(npy: state, to: saveState, option: "--save-state")
    }
    if !converged { throw notConvergedExitCode }
  }

  /// The command's time so far (`total`) split by the solvers' own clocks: in lockstep every
  /// RoI's trace runs from the driver's start and counts the batched evaluations it took
  /// part in, so the longest trace is the solve; RoI by RoI, the solves add up.
  static func timing<V: VectorSpace>(
    _ solutions: [FixedPointSolution<V>], lockstep: Bool, total: Duration
  ) -> Reports.SolveTiming {
    let last = solutions.compactMap(\.trace.last)
    func combined(_ times: [Duration]) -> Duration {
      lockstep ? times.max() ?? .zero : times.reduce(.zero, +)
    }
    let solve = combined(last.map(\.elapsed))
    let map = combined(last.map(\.mapTime))
    return Reports.SolveTiming(
      setupSeconds: Swift.max(0, (total - solve).seconds), solveSeconds: solve.seconds,
      mapSeconds: map.seconds, solverSeconds: Swift.max(0, (solve - map).seconds))
  }
}
