import ArgumentParser
import FoundationEssentials
import IFRHead

/// Where `deq spectrum` evaluates the Jacobian.
enum SpectrumPoint: String, CaseIterable, ExpressibleByArgument {
  case zero
  case equilibrium
}

/// `deq spectrum`: the spectral radius and dominant eigenvalues of ∂F/∂H per RoI.
struct Spectrum: PrecisionDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Spectral radius and dominant eigenvalues of ∂F/∂H for each RoI.",
    discussion: """
      The Jacobian is taken at --state H.npy, or --at zero (H = 0) or --at equilibrium \
      (a tight Broyden solve first, to 1e-11 in double and 1e-5 in float; exit code 1 when it does not converge). Methods: dense \
      (assemble ∂F/∂H from n exact JVPs, all eigenvalues by LAPACK geev), arnoldi \
      (restarted Arnoldi with a Ritz-residual error estimate), power (refuses complex or \
      tied dominant eigenvalues instead of returning a wrong number), auto (dense up to \
      n = 1024, Arnoldi above). ρ < 1 at the equilibrium means the plain iteration converges \
      locally, linearly, at rate ρ.

      Examples:
        deq spectrum --at equilibrium
        deq spectrum --state h.npy --method arnoldi --format json
      """)

  @OptionGroup(title: "Problem") var problem: ProblemOptions
  @OptionGroup(title: "Output") var output: OutputOptions

  @Option(help: ArgumentHelp("The state H ([N, C, H, W]) to linearise at.", valueName: "h.npy"))
  var state: String?

  @Option(help: "Linearise at zero or at the equilibrium (when --state is not given).")
  var at: SpectrumPoint = .equilibrium

  @Option(help: "auto, dense, arnoldi or power.")
  var method: SpectralMethodOption = .auto

  @OptionGroup(title: "Arnoldi") var arnoldi: ArnoldiOptions

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(options: output, inputs: loaded.inputPaths + [state].compactMap { $0 })
    try emitter.checkOutputs([])
    var points: [Tensor<S>] = []
    var notes: [String?] = Array(repeating: nil, count: loaded.batch)
    var solved = true
    if let state {
      let h = try loaded.readState(state)
      points = (0..<loaded.batch).map { h.sample($0) }
    } else if at == .zero {
      points = Array(repeating: Tensor(zeros: loaded.roiShape), count: loaded.batch)
    } else {
      for (roi, solution) in loaded.solveAllTightly(maxIterations: 500).enumerated() {
        points.append(solution.fixedPoint)
        if !solution.status.isConverged {
          solved = false
          notes[roi] =
            "equilibrium solve \(solution.status.rawValue) at residual "
            + formatScientific(solution.absoluteResidual) + ": " + solution.status.explanation
        }
      }
    }
    let progress = Progress(label: "spectrum", total: loaded.batch, quiet: output.quiet)
    var results: [Reports.Spectrum] = []
    for roi in 0..<loaded.batch {
      let estimate: SpectralRadiusEstimate<S>
      do {
        estimate = try loaded.jacobian(roi: roi, at: points[roi]).spectralRadius(
          using: arnoldi.method(method, dimension: loaded.dimension))
      } catch {
        throw CommandLineError.input(
          path: state ?? "the \(at.rawValue) state", reason: "cannot linearise F there: \(error)")
      }
      results.append(
        Reports.Spectrum(
          index: roi, spectralRadius: estimate.value.map(Double.init) ?? .nan,
          method: estimate.method.rawValue,
          dominantEigenvalues: estimate.dominantEigenvalues.map {
            [Double($0.real), Double($0.imaginary)]
          },
          errorEstimate: estimate.errorEstimate.map(Double.init), reliable: estimate.isTrustworthy,
          jacobianProducts: estimate.jacobianProducts,
          note: [notes[roi], estimate.isTrustworthy ? nil : estimate.explanation]
            .compactMap { $0 }.joined(separator: "; ").nilIfEmpty))
      progress.update(roi + 1)
    }
    progress.finish()
    let location = state.map { "H from \($0)" } ?? (at == .zero ? "H = 0" : "the equilibrium")
    switch output.format {
    case .json:
      try emitter.emit(
        Emitter.json(
          Reports.SpectrumDocument(
            status: results.allSatisfy(\.reliable) && solved ? "ok" : "untrustworthy",
            problem: loaded.description, at: state ?? at.rawValue, problems: results)))
    case .csv:
      var out =
        "problem,spectralRadius,method,reliable,errorEstimate,eigenvalueReal,eigenvalueImaginary\n"
      for r in results {
        for eigenvalue in r.dominantEigenvalues.isEmpty
          ? [[Double.nan, .nan]] : r.dominantEigenvalues
        {
          out += "\(r.index),\(formatExact(r.spectralRadius)),\(r.method),\(r.reliable),"
          out +=
            "\(formatExact(r.errorEstimate)),\(formatExact(eigenvalue[0])),\(formatExact(eigenvalue[1]))\n"
        }
      }
      try emitter.emit(out)
    case .table:
      var table = TextTable(headers: [
        "RoI", "ρ(∂F/∂H)", "method", "trusted", "error est.", "dominant eigenvalues",
      ])
      for r in results {
        let eigen = r.dominantEigenvalues.prefix(2).map {
          String(cFormat: "%.6f", $0[0]) + ($0[1] < 0 ? "−" : "+")
            + String(cFormat: "%.6fi", abs($0[1]))
        }.joined(separator: ", ")
        table.append([
          "\(r.index)", String(cFormat: "%.8f", r.spectralRadius), r.method,
          r.reliable ? "yes" : "no",
          formatScientific(r.errorEstimate), eigen,
        ])
      }
      var text =
        "deq spectrum: ∂F/∂H at \(location), form \(problem.form.rawValue), n = \(loaded.dimension)\n\n"
      text += table.render()
      for r in results { if let note = r.note { text += wrapped("RoI \(r.index): \(note)") } }
      try emitter.emit(text)
    }
    if !solved { throw notConvergedExitCode }
  }
}

extension String {
  var nilIfEmpty: String? { isEmpty ? nil : self }
}
