import ArgumentParser
import DEQSolvers

/// The solver named on the command line.
enum SolverOption: String, CaseIterable, ExpressibleByArgument {
  case broyden
  case anderson
  case picard
  case newtonKrylov = "newton-krylov"
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

/// The equilibrium solver and its stopping rule, shared by `solve` and `gradient` (the
/// forward pass), so that both spell and interpret the flags the same way.
struct SolverOptions: ParsableArguments {
  @Option(
    help:
      "broyden (limited-memory good Broyden), anderson, picard, or newton-krylov (GMRES on the Newton equation with exact JVPs; an iteration is one Newton step)."
  )
  var solver: SolverOption = .broyden

  @Option(help: "Iteration cap (the IFR head uses 15).")
  var maxIterations: Int = 15

  @Option(
    help:
      "History size of Broyden/Anderson, or newton-krylov's GMRES restart (default: Broyden 30, Anderson 5, newton-krylov 30)."
  )
  var memory: Int?

  @Option(help: "Broyden's history when full: cyclic (overwrite the oldest pair) or restart.")
  var memoryPolicy: MemoryPolicyOption = .restart

  @Option(help: "Convergence tolerance on the residual.")
  var tolerance: Double = 1e-6

  @Option(help: "both (absolute and relative, the safe default), absolute, relative or mixed.")
  var toleranceKind: ToleranceKindOption = .both

  func validate() throws {
    guard maxIterations >= 0 else {
      throw ValidationError("--max-iterations must be ≥ 0, got \(maxIterations)")
    }
    if let memory, memory < 1 { throw ValidationError("--memory must be ≥ 1, got \(memory)") }
    guard tolerance.isFinite, tolerance >= 0 else {
      throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
    }
  }

  /// The chosen solver, as a `Codable` ``AlgorithmKind`` (`solve` recognises the built-in
  /// ones inside it and runs them specialised).
  var algorithm: AlgorithmKind {
    switch solver {
    case .broyden:
      .broyden(Broyden(memory: memory ?? Broyden().memory, memoryPolicy: memoryPolicy.policy))
    case .anderson: .anderson(memory.map { Anderson(memory: $0) } ?? Anderson())
    case .picard: .picard(Picard())
    case .newtonKrylov: .newtonKrylov(NewtonKrylov(restart: memory ?? NewtonKrylov().restart))
    }
  }

  /// `--tolerance` as `--tolerance-kind` says, `--max-iterations`, and the default stall
  /// and divergence rules.
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
}
