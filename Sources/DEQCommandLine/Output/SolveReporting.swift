import DEQCore
import DEQSolvers
import FoundationEssentials

/// Turning solver results into the report types, tables, CSV and plots.
enum SolveReporting {
  static func report<V: VectorSpace>(_ solution: FixedPointSolution<V>, index: Int) -> Reports.Solve
  {
    Reports.Solve(
      index: index, status: solution.status.rawValue, explanation: solution.status.explanation,
      converged: solution.status.isConverged, iterations: solution.iterations,
      mapEvaluations: solution.mapEvaluations, jacobianProducts: solution.jacobianProducts,
      bestIteration: solution.bestIteration,
      trace: solution.trace.map { entry in
        Reports.TraceEntry(
          iteration: entry.iteration, absoluteResidual: entry.absoluteResidual,
          relativeResidual: entry.relativeResidual, stepNorm: entry.stepNorm,
          mapEvaluations: entry.mapEvaluations, jacobianProducts: entry.jacobianProducts,
          spectralRadius: entry.spectralRadius.flatMap { $0.value.isFinite ? $0.value : nil },
          spectralRadiusReliable: entry.spectralRadius.map(\.isReliable))
      })
  }

  /// A readable table per problem: status line, then the (thinned) trace.
  static func table(_ problems: [Reports.Solve], title: String) -> String {
    var out = "\(title)\n"
    let showRho = problems.contains { $0.trace.contains { $0.spectralRadius != nil } }
    for problem in problems {
      out +=
        "\n"
        + section(problem, heading: "RoI \(problem.index)", residual: "‖F(H)−H‖", showRho: showRho)
    }
    if problems.contains(where: { $0.trace.contains { $0.spectralRadiusReliable == false } }) {
      out +=
        "\n? marks a spectral radius whose method did not converge (see the JSON for details).\n"
    }
    return out
  }

  /// One solve: `heading: status after k iterations, m map evaluations[, p Jacobian
  /// products].`, the explanation,
  /// then the (thinned) trace with `residual` as the absolute residual's column header.
  static func section(
    _ problem: Reports.Solve, heading: String, residual: String, showRho: Bool = false
  ) -> String {
    var out = "\(heading): \(problem.status) after \(problem.iterations) iterations, "
    out += "\(problem.mapEvaluations) map evaluations"
    let products = problem.jacobianProducts ?? 0
    out += products > 0 ? ", \(products) Jacobian products.\n" : ".\n"
    out += wrapped(problem.explanation, indent: "  ")
    var table = TextTable(
      headers: ["iteration", residual, "relative"] + (showRho ? ["ρ(∂F/∂H)"] : []))
    for i in TextTable.logThinnedIndices(count: problem.trace.count) {
      let entry = problem.trace[i]
      table.append(
        [
          "\(entry.iteration)", formatScientific(entry.absoluteResidual),
          formatScientific(entry.relativeResidual),
        ]
          + (showRho
            ? [formatRadius(entry.spectralRadius, reliable: entry.spectralRadiusReliable)] : []))
    }
    return out + table.render()
  }

  /// `time: set-up 0.021 s, solve 0.152 s (F 0.130 s, solver 0.022 s = 17 % of F)`.
  static func line(_ timing: Reports.SolveTiming) -> String {
    let share =
      timing.mapSeconds > 0
      ? String(cFormat: " = %.0f %% of F", 100 * timing.solverSeconds / timing.mapSeconds) : ""
    return "\ntime: set-up "
      + String(
        cFormat: "%.3f s, solve %.3f s (F %.3f s, solver %.3f s", timing.setupSeconds,
        timing.solveSeconds, timing.mapSeconds, timing.solverSeconds) + share + ")\n"
  }

  static let csvHeader =
    "problem,iteration,absoluteResidual,relativeResidual,stepNorm,mapEvaluations,spectralRadius"

  static func csv(_ problems: [Reports.Solve]) -> String {
    var out = csvHeader + "\n"
    for problem in problems {
      for entry in problem.trace {
        out +=
          [
            "\(problem.index)", "\(entry.iteration)", formatExact(entry.absoluteResidual),
            formatExact(entry.relativeResidual), formatExact(entry.stepNorm),
            entry.mapEvaluations.map(String.init) ?? "", formatExact(entry.spectralRadius),
          ].joined(separator: ",") + "\n"
      }
    }
    return out
  }

  /// Residual (log) and, when computed, spectral radius against the iteration.
  static func plot(_ problems: [Reports.Solve], title: String) -> SVGPlot {
    var panels = [
      SVGPlot.Panel(
        yLabel: "‖F(H) − H‖₂", logY: true,
        series: problems.map { p in
          SVGPlot.Series(
            name: "RoI \(p.index)",
            points: p.trace.map { (Double($0.iteration), $0.absoluteResidual) })
        }, referenceLine: nil)
    ]
    if problems.contains(where: { $0.trace.contains { $0.spectralRadius != nil } }) {
      panels.append(
        SVGPlot.Panel(
          yLabel: "spectral radius ρ(∂F/∂H)", logY: false,
          series: problems.map { p in
            SVGPlot.Series(
              name: "RoI \(p.index)",
              points: p.trace.compactMap { e in e.spectralRadius.map { (Double(e.iteration), $0) } }
            )
          }, referenceLine: 1))
    }
    return SVGPlot(title: title, xLabel: "iteration", logX: false, panels: panels)
  }
}
