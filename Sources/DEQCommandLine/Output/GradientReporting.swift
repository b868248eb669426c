import DEQCore
import DEQSolvers
import FoundationEssentials
import IFRHead

/// Turning a ``Reports/GradientDocument`` into a table, CSV, and the non-convergence notice.
enum GradientReporting {
  /// The document of a forward and backward pass of ``ImplicitRefinement``.
  ///
  /// - Parameter cotangent: the `--cotangent` path, or `nil` when ∂L/∂H* was H* itself
  ///   (then `loss` is ½‖H*‖²).
  static func document<S: DEQScalar>(
    forward: ImplicitRefinement<S>.Forward, backward: ImplicitRefinement<S>.Backward,
    problem: Reports.ProblemDescription, solver: String, backwardSolver: String,
    cotangent: String?
  ) -> Reports.GradientDocument {
    let problems = forward.solutions.indices.map { roi in
      Reports.GradientProblem(
        index: roi, forward: SolveReporting.report(forward.solutions[roi], index: roi),
        backward: SolveReporting.report(backward.adjointSolutions[roi], index: roi),
        inputGradientNorm: Double(backward.injection.sample(roi).norm()))
    }
    let parameters = backward.parameters.namedParameters.map { named in
      Reports.ParameterGradient(
        name: named.name, shape: named.tensor.shape, norm: Double(named.tensor.norm()))
    }
    let hStar = forward.equilibrium
    return Reports.GradientDocument(
      status: problems.allSatisfy { $0.forward.converged && $0.backward.converged }
        ? "converged" : "notConverged",
      problem: problem, solver: solver, backwardSolver: backwardSolver,
      cotangent: cotangent ?? "H*",
      loss: cotangent == nil ? 0.5 * Double(hStar.dot(hStar)) : nil,
      inputGradientNorm: Double(backward.injection.norm()),
      parameterGradientNorm: parameters.map { $0.norm * $0.norm }.reduce(0, +).squareRoot(),
      parameterGradients: parameters, problems: problems)
  }

  /// Per RoI the forward and the backward solve (status line and thinned trace), then the
  /// gradients' norms, per RoI and per parameter tensor.
  static func table(_ document: Reports.GradientDocument, title: String) -> String {
    var out = "\(title)\n"
    for problem in document.problems {
      out +=
        "\n"
        + SolveReporting.section(
          problem.forward, heading: "RoI \(problem.index) forward", residual: "‖F(H)−H‖")
      out +=
        "\n"
        + SolveReporting.section(
          problem.backward, heading: "RoI \(problem.index) backward (adjoint)",
          residual: "‖uJ+c−u‖")
    }
    out += "\nGradients, "
    if let loss = document.loss {
      out += "cotangent H* (L = ½‖H*‖² = \(formatScientific(loss)))\n"
    } else {
      out += "cotangent \(document.cotangent)\n"
    }
    var inputs = TextTable(headers: ["RoI", "‖∂L/∂X‖"])
    for problem in document.problems {
      inputs.append(["\(problem.index)", formatScientific(problem.inputGradientNorm)])
    }
    inputs.append(["all", formatScientific(document.inputGradientNorm)])
    out += inputs.render() + "\n"
    var parameters = TextTable(headers: ["parameter", "shape", "‖∂L/∂θ‖"])
    for parameter in document.parameterGradients {
      parameters.append([
        parameter.name, parameter.shape.map(String.init).joined(separator: "×"),
        formatScientific(parameter.norm),
      ])
    }
    let count = document.parameterGradients.reduce(0) { $0 + $1.shape.reduce(1, *) }
    parameters.append(["all", "\(count)", formatScientific(document.parameterGradientNorm)])
    return out + parameters.render()
  }

  static let csvHeader =
    "problem,pass,iteration,absoluteResidual,relativeResidual,stepNorm,mapEvaluations,"
    + "jacobianProducts"

  /// Both traces of every RoI, `pass` = `forward` or `backward`.
  static func csv(_ problems: [Reports.GradientProblem]) -> String {
    var out = csvHeader + "\n"
    for problem in problems {
      for (pass, solve) in [("forward", problem.forward), ("backward", problem.backward)] {
        for entry in solve.trace {
          out +=
            [
              "\(problem.index)", pass, "\(entry.iteration)", formatExact(entry.absoluteResidual),
              formatExact(entry.relativeResidual), formatExact(entry.stepNorm),
              entry.mapEvaluations.map(String.init) ?? "",
              entry.jacobianProducts.map(String.init) ?? "",
            ].joined(separator: ",") + "\n"
        }
      }
    }
    return out
  }

  /// One line saying which solves did not converge, or `nil` when all did.
  static func nonConvergence(_ problems: [Reports.GradientProblem]) -> String? {
    let forward = problems.filter { !$0.forward.converged }.count
    let backward = problems.filter { !$0.backward.converged }.count
    guard forward + backward > 0 else { return nil }
    return "\(forward) of \(problems.count) forward and \(backward) of \(problems.count) "
      + "backward solves did not converge; the gradients, from the best iterates, were "
      + "written anyway"
  }
}
