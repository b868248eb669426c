import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq analyze`: the convergence analysis of the IFR paper's Section 3.5, as one command.
struct Analyze: PrecisionDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "The Section 3.5 convergence analysis: unroll, spectral radius, Broyden, verdict.",
    discussion: """
      For each RoI, from H0 = 0: unroll H_{i+1} = F(H_i; X) for --steps steps recording \
      ‖H_{i+1} − H_i‖₂ at every step; compute ρ(∂F/∂H) at log-spaced steps (or every \
      --spectral-every steps) by the exact method for small n and Arnoldi for large n; \
      solve the same equilibrium with Broyden (15 iterations as in the paper, then on to a \
      tight tolerance) and report ‖H_Broyden − H_unrolled‖₂. Ends with a verdict on each \
      claim of Section 3.5 and exits with 1 when one fails (as it must for --form eq5, \
      which has no fixed point).

      The analysis itself is the library's ConvergenceAnalysis (IFRHead); this command \
      parses, calls and formats. RoIs run on parallel workers. Arnoldi at an examined step \
      starts from the previous examined step's Ritz vector while the iterate moved by at \
      most 1 % (--cold-spectra turns that off), and the last warm value is confirmed cold. \
      With --checkpoint the progress is saved atomically every minute (or every \
      --checkpoint-every steps) and on Ctrl-C; rerunning the same command continues from \
      the file to exactly the result of an uninterrupted run. A checkpoint of another \
      problem, form, precision or configuration is refused (exit 65).

      Examples:
        deq analyze --plot analysis.svg
        deq analyze --form eq5
        deq analyze --weights block.safetensors --input x.npy --format json --output a.json
        deq analyze --preset paper --checkpoint paper.ckpt --format json --output paper.json
        deq analyze --preset paper --batch 1 --steps 2000 --spectral-every 500
      """)

  @OptionGroup(title: "Problem") var problem: ProblemOptions
  @OptionGroup(title: "Output") var output: OutputOptions

  @Option(help: "Unrolled steps.")
  var steps: Int = 100_000

  @Option(help: "Compute ρ every K steps instead of at log-spaced steps (0: log-spaced).")
  var spectralEvery: Int = 0

  @Option(
    help:
      "Spectral-radius method: auto (dense up to n = 1024, else Arnoldi), dense, arnoldi, power.")
  var spectralMethod: SpectralMethodOption = .auto

  @OptionGroup(title: "Arnoldi") var arnoldi: ArnoldiOptions

  @Option(help: "The differences vanish when the last one is at most this.")
  var vanishThreshold: Double = 1e-10

  @Option(
    help: "The equilibria agree when ‖H_Broyden − H_unrolled‖₂ is below this (the paper: e-8).")
  var agreementThreshold: Double = 1e-8

  @Option(help: "Tolerance of the refined Broyden solve (default 1e-11 in double, 1e-5 in float).")
  var refineTolerance: Double?

  @Option(
    help: ArgumentHelp("Write an SVG plot of ‖ΔH‖ and ρ against the step.", valueName: "file.svg"))
  var plot: String?

  @Option(
    help: ArgumentHelp(
      "Save progress to this file (atomically) and continue from it when it exists.",
      valueName: "file"))
  var checkpoint: String?

  @Option(help: "Write the checkpoint every K steps of each RoI (default: every minute of work).")
  var checkpointEvery: Int?

  @Option(
    help:
      "RoIs analysed in parallel (default: one per processor for small blocks, one for large ones)."
  )
  var workers: Int?

  @Flag(help: "Start every Arnoldi run from a random vector (no warm starts).")
  var coldSpectra = false

  func validate() throws {
    guard steps >= 1 else { throw ValidationError("--steps must be ≥ 1, got \(steps)") }
    if let checkpointEvery, checkpointEvery < 1 {
      throw ValidationError("--checkpoint-every must be ≥ 1, got \(checkpointEvery)")
    }
    if let workers, workers < 1 { throw ValidationError("--workers must be ≥ 1, got \(workers)") }
    if checkpointEvery != nil && checkpoint == nil {
      throw ValidationError("--checkpoint-every needs --checkpoint FILE")
    }
    guard spectralEvery >= 0 else {
      throw ValidationError("--spectral-every must be ≥ 0, got \(spectralEvery)")
    }
    for (value, flag) in [
      (vanishThreshold, "vanish-threshold"), (agreementThreshold, "agreement-threshold"),
      (refineTolerance ?? 1, "refine-tolerance"),
    ] where !(value.isFinite && value > 0) {
      throw ValidationError("--\(flag) must be a positive number, got \(value)")
    }
  }

  /// Where ρ is computed: log-spaced, or every --spectral-every steps.
  func spectralSchedule<S: DEQScalar>(_: S.Type = Double.self)
    -> ConvergenceAnalysis<S>
    .SpectralSchedule
  {
    spectralEvery > 0 ? .every(spectralEvery) : .logSpaced
  }

  /// The examined steps (0–5, 1-2-5 per decade and the last; or every --spectral-every).
  var spectralSteps: [Int] { spectralSchedule().steps(through: steps) }

  /// The analysis configuration these options ask for.
  func configuration<S: DEQScalar>(
    _ loaded: LoadedProblem<S>
  ) -> ConvergenceAnalysis<S>.Configuration {
    let iteration = ArnoldiIteration(
      krylovDimension: arnoldi.krylovDimension, maxProducts: arnoldi.maxProducts)
    let method: SpectralRadiusMethod =
      switch spectralMethod {
      case .auto: .automatic()
      case .dense: .dense()
      case .arnoldi: .arnoldi(iteration)
      case .power: .powerIteration()
      }
    return ConvergenceAnalysis<S>.Configuration(
      steps: steps, spectralSchedule: spectralSchedule(S.self),
      spectralMethod: method, arnoldi: iteration, warmStarts: !coldSpectra,
      vanishThreshold: vanishThreshold, agreementThreshold: agreementThreshold,
      refineTolerance: refineTolerance, workers: workers)
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(options: output, inputs: loaded.inputPaths)
    try emitter.checkOutputs([(plot, "--plot"), (checkpoint, "--checkpoint")])
    let analysis = ConvergenceAnalysis(
      block: loaded.block, injection: loaded.injection, configuration: configuration(loaded))
    let reporter = ProgressReporter(
      label: "analyze", total: loaded.batch * steps, quiet: output.quiet)
    let checkpointing = checkpoint.map { path in
      AnalysisCheckpointing(
        url: URL(fileURLWithPath: path),
        policy: checkpointEvery.map { .everySteps($0) } ?? .interval(.seconds(60)))
    }
    let interrupt = InterruptFlag.install()
    defer { InterruptFlag.uninstall() }
    let result: ConvergenceAnalysisResult<S>
    do {
      result = try analysis.run(
        checkpoint: checkpointing, progress: { reporter.update($0) },
        shouldStop: { interrupt.isSet })
    } catch {
      reporter.finish()
      switch error {
      case .invalidConfiguration(let reason), .invalidProblem(let reason):
        throw CommandLineError.usage(reason)
      case .unreadableCheckpoint(let path, let reason):
        throw CommandLineError.input(
          path: path, reason: "not a readable analysis checkpoint: \(reason)")
      case .checkpointMismatch(let path, let reason):
        throw CommandLineError.input(
          path: path,
          reason: "the checkpoint belongs to another analysis: \(reason); it was left unchanged")
      case .checkpointWriteFailed(let path, let reason):
        throw CommandLineError.output(path: path, reason: reason)
      case .interrupted(let written):
        throw CommandLineError.interrupted(
          written
            ? "interrupted; progress saved to \(checkpoint ?? "the checkpoint"): rerun the same command to continue"
            : "interrupted; nothing was saved (pass --checkpoint FILE to make a run resumable)")
      }
    }
    reporter.finish()
    let analyses = result.rois.map(Self.report)
    var notes: [String] = []
    for roi in result.rois {
      for sample in roi.spectral {
        if let failure = sample.failure {
          notes.append(
            "RoI \(roi.index): ρ at step \(sample.step) could not be computed: \(failure)")
        } else if !sample.isReliable {
          notes.append(
            "RoI \(roi.index): ρ at step \(sample.step) is not trustworthy: \(sample.explanation)")
        }
      }
      if let step = roi.nonFiniteStep {
        notes.append("RoI \(roi.index): the unrolled state stopped being finite at step \(step).")
      }
    }
    let verdict = result.verdict
    let document = Reports.AnalysisDocument(
      status: verdict.holds ? "claimsHold" : "claimsFail", problem: loaded.description,
      problems: analyses, verdict: verdict)
    switch output.format {
    case .json: try emitter.emit(Emitter.json(document))
    case .csv: try emitter.emit(Self.csv(analyses))
    case .table:
      try emitter.emit(
        table(
          document, dimension: loaded.dimension, precision: problem.precision.rawValue,
          notes: notes, rois: result.rois))
    }
    if let plot {
      try emitter.write(Data(Self.plot(document).render().utf8), to: plot, option: "--plot")
    }
    if !verdict.holds { throw notConvergedExitCode }
  }

  /// One RoI's result in the report schema.
  static func report<S: DEQScalar>(_ roi: RoIAnalysis<S>) -> Reports.Analysis {
    let samples = Dictionary(roi.spectral.map { ($0.step, $0) }, uniquingKeysWith: { a, _ in a })
    var trace: [Reports.UnrolledEntry] = []
    trace.reserveCapacity(roi.steps + 1)
    for step in 0...roi.steps {
      let sample = samples[step]
      trace.append(
        Reports.UnrolledEntry(
          step: step, adjacentDifference: step == 0 ? nil : roi.adjacentDifferences[step - 1],
          spectralRadius: sample?.value, spectralRadiusReliable: sample?.isReliable,
          spectralRadiusErrorEstimate: sample?.errorEstimate,
          spectralRadiusMethod: sample?.method.name,
          spectralRadiusProducts: sample?.jacobianProducts,
          spectralRadiusWarmStarted: sample.map(\.warmStarted)))
    }
    return Reports.Analysis(
      index: roi.index,
      unrolled: Reports.Unrolled(
        steps: roi.steps, finalAdjacentDifference: roi.finalAdjacentDifference, trace: trace),
      broyden: SolveReporting.report(roi.broyden, index: roi.index),
      broydenRefined: SolveReporting.report(roi.refined, index: roi.index),
      difference: roi.difference, firstStepBelowOne: roi.firstStepBelowOne,
      coldConfirmation: roi.coldConfirmation.map(Reports.SpectralCheck.init))
  }

  static let csvHeader = "problem,step,adjacentDifference,spectralRadius"

  static func csv(_ analyses: [Reports.Analysis]) -> String {
    var out = csvHeader + "\n"
    for a in analyses {
      for e in a.unrolled.trace {
        out +=
          "\(a.index),\(e.step),\(formatExact(e.adjacentDifference)),\(formatExact(e.spectralRadius))\n"
      }
    }
    return out
  }

  func table<S: DEQScalar>(
    _ document: Reports.AnalysisDocument, dimension: Int, precision: String, notes: [String],
    rois: [RoIAnalysis<S>]
  ) -> String {
    let analyses = document.problems
    let shown = Array(analyses.prefix(4))
    var out =
      "deq analyze: Section 3.5 for form \(problem.form.rawValue), \(analyses.count) RoIs, "
      + "n = \(dimension) per RoI, \(precision), \(steps) steps from H0 = 0\n\n"
    out += "Unrolled H_{i+1} = F(H_i; X): ‖ΔH‖ = ‖H_i − H_{i−1}‖₂ and ρ = ρ(∂F/∂H at H_i)"
    out += analyses.count > shown.count ? " (first 4 RoIs; all in CSV/JSON)\n" : "\n"
    var table = TextTable(
      headers: ["step"] + shown.flatMap { ["‖ΔH‖ RoI \($0.index)", "ρ RoI \($0.index)"] })
    let count = analyses.map { $0.unrolled.trace.count }.max() ?? 0
    let rows = Set(TextTable.logThinnedIndices(count: count, maximum: 36, head: 6))
      .union(spectralSteps.filter { $0 < count })
    for step in rows.sorted() {
      var cells = ["\(step)"]
      for a in shown {
        let entry = step < a.unrolled.trace.count ? a.unrolled.trace[step] : nil
        cells.append(entry?.adjacentDifference.map { formatScientific($0) } ?? "")
        cells.append(formatRadius(entry?.spectralRadius, reliable: entry?.spectralRadiusReliable))
      }
      table.append(cells)
    }
    out += table.render()
    out += "\nBroyden from H0 = 0 (paper: 15 iterations), then refined to a tight tolerance\n"
    var broyden = TextTable(
      headers: [
        "RoI", "15-step residual", "refined residual", "iterations", "status", "‖H_B − H_unrolled‖",
      ])
    for a in analyses {
      broyden.append([
        "\(a.index)",
        formatScientific(a.broyden.trace[a.broyden.bestIteration ?? 0].absoluteResidual),
        formatScientific(
          a.broydenRefined.trace[a.broydenRefined.bestIteration ?? 0].absoluteResidual),
        "\(a.broydenRefined.iterations)", a.broydenRefined.status, formatScientific(a.difference),
      ])
    }
    out += broyden.render()
    out += Self.spectralWork(rois)
    out += "\nVerdict on the claims of Section 3.5:\n"
    out += "  differences vanish:        \(document.verdict.differencesVanish ? "yes" : "NO")\n"
    out += "  spectral radius below one: \(document.verdict.spectralRadiusBelowOne ? "yes" : "NO")"
    out += document.verdict.firstStepBelowOne.map { " (every examined step from \($0) on)" } ?? ""
    out += "\n  equilibria agree:          \(document.verdict.equilibriaAgree ? "yes" : "NO")\n"
    for line in document.verdict.explanation {
      out += wrapped("- " + line, indent: "  ", continuation: "    ")
    }
    if analyses.contains(where: {
      $0.unrolled.trace.contains { $0.spectralRadiusReliable == false }
    }) {
      out +=
        "? marks a spectral radius whose method did not converge; such a value does not count.\n"
    }
    for note in notes { out += wrapped("Note: " + note, continuation: "  ") }
    return out
  }

  /// How the spectral radii were obtained: method, cold and warm runs with their mean
  /// products, and the cold confirmation of a warm last step.
  static func spectralWork<S: DEQScalar>(_ rois: [RoIAnalysis<S>]) -> String {
    guard rois.contains(where: { !$0.spectral.isEmpty }) else { return "" }
    var out = "\nSpectral radii: how each was obtained\n"
    var table = TextTable(
      headers: [
        "RoI", "method", "cold runs", "mean products", "warm runs", "mean products",
        "last step, cold",
      ])
    for roi in rois {
      let cold = roi.spectral.filter { !$0.warmStarted && $0.failure == nil }
      let warm = roi.spectral.filter { $0.warmStarted && $0.failure == nil }
      func mean(_ samples: [SpectralSample]) -> String {
        samples.isEmpty
          ? "—" : "\(samples.map(\.jacobianProducts).reduce(0, +) / samples.count)"
      }
      let methods = Set(roi.spectral.map(\.method.name)).sorted().joined(separator: ", ")
      var check = "—"
      if let confirmation = roi.coldConfirmation, let last = roi.spectral.last {
        let agrees = last.isReliable ? "agrees" : "DISAGREES"
        check =
          "\(confirmation.value.map { String(cFormat: "%.8f", $0) } ?? "none") "
          + "(\(confirmation.jacobianProducts)): \(agrees)"
      }
      table.append([
        "\(roi.index)", methods, "\(cold.count)", mean(cold), "\(warm.count)", mean(warm), check,
      ])
    }
    out += table.render()
    return out
  }

  static func plot(_ document: Reports.AnalysisDocument) -> SVGPlot {
    let differences = document.problems.map { a in
      let trace = a.unrolled.trace
      let indices = TextTable.logThinnedIndices(count: trace.count, maximum: 1_500, head: 200)
      return SVGPlot.Series(
        name: "RoI \(a.index)",
        points: indices.compactMap { i in trace[i].adjacentDifference.map { (Double(i), $0) } })
    }
    let radii = document.problems.map { a in
      SVGPlot.Series(
        name: "RoI \(a.index)",
        points: a.unrolled.trace.compactMap { e in
          e.spectralRadiusReliable == true ? e.spectralRadius.map { (Double(e.step), $0) } : nil
        })
    }
    return SVGPlot(
      title:
        "Section 3.5 analysis: form \(document.problem.form), \(document.problem.channels)×\(document.problem.height)×\(document.problem.width)",
      xLabel: "step i (log scale)", logX: true,
      panels: [
        SVGPlot.Panel(
          yLabel: "‖H_i − H_(i−1)‖₂", logY: true, series: differences, referenceLine: nil),
        SVGPlot.Panel(
          yLabel: "spectral radius ρ(∂F/∂H)", logY: false, series: radii, referenceLine: 1),
      ])
  }
}
