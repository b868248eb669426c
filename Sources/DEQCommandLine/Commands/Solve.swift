import ArgumentParser
import DEQCore
import DEQSolvers
import Foundation
import IFRHead

/// The solver named on the command line.
enum SolverOption: String, CaseIterable, ExpressibleByArgument {
  case broyden
  case anderson
  case picard
}

/// Broyden's memory policy, as spelled on the command line.
enum MemoryPolicyOption: String, CaseIterable, ExpressibleByArgument {
  case cyclic
  case restart

  var policy: Broyden.MemoryPolicy { self == .cyclic ? .cyclic : .restart }
}

/// How `--tolerance` is applied.
enum ToleranceKindOption: String, CaseIterable, ExpressibleByArgument {
  case both
  case absolute
  case relative
  case mixed
}

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

  @Option(help: "broyden (limited-memory good Broyden), anderson or picard.")
  var solver: SolverOption = .broyden

  @Option(help: "Iteration cap (the IFR head uses 15).")
  var maxIterations: Int = 15

  @Option(help: "History size of Broyden/Anderson (default: Broyden 30, Anderson 5).")
  var memory: Int?

  @Option(help: "Broyden's history when full: cyclic (overwrite the oldest pair) or restart.")
  var memoryPolicy: MemoryPolicyOption = .restart

  @Option(help: "Convergence tolerance on the residual.")
  var tolerance: Double = 1e-6

  @Option(help: "both (absolute and relative, the safe default), absolute, relative or mixed.")
  var toleranceKind: ToleranceKindOption = .both

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
    guard maxIterations >= 0 else {
      throw ValidationError("--max-iterations must be ≥ 0, got \(maxIterations)")
    }
    if let memory, memory < 1 { throw ValidationError("--memory must be ≥ 1, got \(memory)") }
    guard tolerance.isFinite, tolerance >= 0 else {
      throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
    }
    guard spectralEvery >= 0 else {
      throw ValidationError("--spectral-every must be ≥ 0, got \(spectralEvery)")
    }
  }

  /// The chosen solver as a concrete value: an `any FixedPointAlgorithm` passed to `solve`
  /// is opened, and the solve then runs unspecialised.
  var algorithm: AlgorithmKind {
    switch solver {
    case .broyden:
      .broyden(Broyden(memory: memory ?? Broyden().memory, memoryPolicy: memoryPolicy.policy))
    case .anderson: .anderson(memory.map { Anderson(memory: $0) } ?? Anderson())
    case .picard: .picard(Picard())
    }
  }

  var stopping: StoppingCriteria {
    let kind: Tolerance =
      switch toleranceKind {
      case .both: .both(absolute: tolerance, relative: tolerance)
      case .absolute: .absolute(tolerance)
      case .relative: .relative(tolerance)
      case .mixed: .mixed(absolute: tolerance, relative: tolerance)
      }
    return StoppingCriteria(tolerance: kind, maxIterations: maxIterations)
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(options: output, inputs: loaded.inputPaths)
    try emitter.checkOutputs([(plot, "--plot"), (saveState, "--save-state")])
    let progress = Progress(label: "solve", total: loaded.batch, quiet: output.quiet)
    var solutions: [FixedPointSolution<Tensor<S>>] = []
    for roi in 0..<loaded.batch {
      let diagnostics: StepDiagnostics<Tensor<S>>? =
        spectralEvery > 0
        ? .spectralRadius(
          schedule: .every(spectralEvery),
          method: arnoldi.method(spectralMethod, dimension: loaded.dimension)
        ) { z in
          try loaded.jacobian(roi: roi, at: z)
        } : nil
      solutions.append(
        DEQSolvers.solve(
          loaded.fixedPointProblem(roi: roi), using: algorithm, stopping: stopping,
          diagnostics: diagnostics))
      progress.update(roi + 1)
    }
    progress.finish()
    let reports = solutions.enumerated().map { SolveReporting.report($1, index: $0) }
    let converged = reports.allSatisfy(\.converged)
    let title =
      "deq solve: \(solver.rawValue), form \(problem.form.rawValue), \(loaded.batch) RoIs of "
      + "\(loaded.description.channels)×\(loaded.description.height)×\(loaded.description.width), "
      + "\(problem.precision.rawValue)"
    switch output.format {
    case .table: try emitter.emit(SolveReporting.table(reports, title: title))
    case .csv: try emitter.emit(SolveReporting.csv(reports))
    case .json:
      try emitter.emit(
        Emitter.json(
          Reports.SolveDocument(
            status: converged ? "converged" : "notConverged", problem: loaded.description,
            solver: solver.rawValue, problems: reports)))
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
}
