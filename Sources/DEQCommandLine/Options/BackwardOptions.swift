import ArgumentParser
import DEQSolvers

/// The solver of the backward (adjoint) fixed point `u = u·∂F/∂H(H*) + ∂L/∂H*`, as spelled
/// on the command line.
///
/// To offer another solver, add a case whose raw value is its spelling and map it to its
/// ``AlgorithmKind`` in ``algorithm``; the help text and the error message for a bad value
/// list the cases by themselves.
enum BackwardSolverOption: String, CaseIterable, ExpressibleByArgument {
  case broyden
  case anderson
  case picard
  case gmres
  case bicgstab

  /// The algorithm, with its library defaults (Broyden: memory 30, restart; Anderson:
  /// memory 5), as a concrete ``AlgorithmKind`` so that the adjoint solve specialises.
  var algorithm: AlgorithmKind {
    switch self {
    case .broyden: .broyden(Broyden())
    case .anderson: .anderson(Anderson())
    case .picard: .picard(Picard())
    case .gmres: .gmres(GMRES())
    case .bicgstab: .bicgstab(BiCGStab())
    }
  }

  /// The spellings, for help texts: `broyden, anderson or picard`.
  static var spellings: String {
    let names = allCases.map(\.rawValue)
    guard let last = names.last, names.count > 1 else { return names.joined() }
    return names.dropLast().joined(separator: ", ") + " or " + last
  }
}

/// The backward (adjoint) solve of `deq gradient`: solver, iteration cap and tolerance.
struct BackwardOptions: ParsableArguments {
  @Option(help: "The adjoint solver: \(BackwardSolverOption.spellings).")
  var backwardSolver: BackwardSolverOption = .broyden

  @Option(help: "Iteration cap of the adjoint solve (the IFR head uses 15).")
  var backwardIterations: Int = StoppingCriteria.backward.maxIterations

  @Option(
    help: "Tolerance of the adjoint solve: absolute and relative residual both below it.")
  var backwardTolerance: Double = 1e-6

  func validate() throws {
    guard backwardIterations >= 0 else {
      throw ValidationError("--backward-iterations must be ≥ 0, got \(backwardIterations)")
    }
    guard backwardTolerance.isFinite, backwardTolerance >= 0 else {
      throw ValidationError(
        "--backward-tolerance must be a finite number ≥ 0, got \(backwardTolerance)")
    }
  }

  /// ``StoppingCriteria/backward`` (no stall exit, the default divergence guard) with
  /// `.both(absolute:relative:)` at `--backward-tolerance` and `--backward-iterations`.
  var stopping: StoppingCriteria {
    var stopping = StoppingCriteria.backward
    stopping.tolerance = .both(absolute: backwardTolerance, relative: backwardTolerance)
    stopping.maxIterations = backwardIterations
    return stopping
  }
}
