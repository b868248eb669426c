import ArgumentParser
import Foundation
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

      Examples:
        deq analyze --plot analysis.svg
        deq analyze --form eq5
        deq analyze --weights block.safetensors --input x.npy --format json --output a.json
        deq analyze --channels 256 --size 14 --batch 1 --steps 2000 --spectral-every 500
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

  func validate() throws {
    guard steps >= 1 else { throw ValidationError("--steps must be ≥ 1, got \(steps)") }
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

  /// The steps at which ρ is computed: 0–5, then 1-2-5 per decade, and the last step.
  var spectralSteps: [Int] {
    if spectralEvery > 0 {
      return Array(Set(Array(stride(from: 0, through: steps, by: spectralEvery)) + [1, steps]))
        .sorted()
    }
    var chosen = Set((0...Swift.min(5, steps)))
    var decade = 1
    while decade <= steps {
      for m in [1, 2, 5] where m * decade <= steps && m * decade > 5 { chosen.insert(m * decade) }
      decade *= 10
    }
    chosen.insert(steps)
    return chosen.sorted()
  }

  /// One RoI's unrolled iteration.
  struct UnrollResult<S: DEQScalar> {
    var state: Tensor<S>
    /// `differences[i]` = ‖H_i − H_{i−1}‖ for i ≥ 1; index 0 unused.
    var differences: [Double]
    var spectral: [Int: SpectralRadiusEstimate<S>]
    var spectralFailures: [Int: String]
    /// The step after which the state stopped being finite, if it did.
    var nonFiniteStep: Int?
  }

  func unroll<S: DEQScalar>(
    _ loaded: LoadedProblem<S>, roi: Int, progress: Progress, done: Int
  ) -> UnrollResult<S> {
    let workspace = loaded.block.makeWorkspace(
      height: loaded.injection.shape[2], width: loaded.injection.shape[3])
    let x = loaded.injection(roi: roi)
    let wanted = Set(spectralSteps)
    var h = Tensor<S>(zeros: loaded.roiShape)
    var next = h
    var result = UnrollResult<S>(
      state: h, differences: [Double](repeating: .nan, count: steps + 1), spectral: [:],
      spectralFailures: [:], nonFiniteStep: nil)
    func measure(_ step: Int, at point: Tensor<S>) {
      guard wanted.contains(step) else { return }
      progress.update(done + step, doing: "RoI \(roi): ρ(∂F/∂H) at step \(step)")
      do {
        result.spectral[step] = try loaded.jacobian(roi: roi, at: point)
          .spectralRadius(using: arnoldi.method(spectralMethod, dimension: loaded.dimension))
      } catch {
        result.spectralFailures[step] = "\(error)"
      }
    }
    for step in 1...steps {
      measure(step - 1, at: h)
      h.withUnsafeBufferPointer { hs in
        x.withUnsafeBufferPointer { xs in
          next.withUnsafeMutableBufferPointer { y in
            workspace.evaluate(state: hs, injection: xs, into: y)
          }
        }
      }
      var sum = 0.0
      var scale = 0.0
      next.withUnsafeBufferPointer { a in
        h.withUnsafeBufferPointer { b in
          for i in 0..<a.count {
            let d = Swift.abs(Double(a[i] - b[i]))
            // Scaled sum of squares (LAPACK's dlassq idea): no overflow for large states.
            if d > scale {
              sum = 1 + sum * (scale / d) * (scale / d)
              scale = d
            } else if d > 0 {
              sum += (d / scale) * (d / scale)
            }
          }
        }
      }
      result.differences[step] = scale * sum.squareRoot()
      swap(&h, &next)
      if step % 1_000 == 0 { progress.update(done + step) }
      guard h.isFinite else {
        result.nonFiniteStep = step
        break
      }
    }
    if result.nonFiniteStep == nil { measure(steps, at: h) }
    result.state = h
    return result
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(options: output, inputs: loaded.inputPaths)
    try emitter.checkOutputs([(plot, "--plot")])
    let progress = Progress(label: "analyze", total: loaded.batch * steps, quiet: output.quiet)
    var analyses: [Reports.Analysis] = []
    var notes: [String] = []
    for roi in 0..<loaded.batch {
      let unrolled = unroll(loaded, roi: roi, progress: progress, done: roi * steps)
      let broyden15 = DEQSolvers.solve(
        loaded.fixedPointProblem(roi: roi), using: Broyden(), stopping: .ifr)
      let refined = loaded.solveTightly(roi: roi, tolerance: refineTolerance)
      let difference = Double(refined.fixedPoint.distance(to: unrolled.state))
      let lastStep = unrolled.nonFiniteStep ?? steps
      var trace: [Reports.UnrolledEntry] = []
      trace.reserveCapacity(lastStep + 1)
      for step in 0...lastStep {
        trace.append(
          Reports.UnrolledEntry(
            step: step, adjacentDifference: step == 0 ? nil : unrolled.differences[step],
            spectralRadius: unrolled.spectral[step].flatMap { $0.value.map(Double.init) },
            spectralRadiusReliable: unrolled.spectral[step].map(\.isTrustworthy)
              ?? (unrolled.spectralFailures[step] == nil ? nil : false),
            spectralRadiusErrorEstimate: unrolled.spectral[step]?.errorEstimate.map(Double.init)))
      }
      for (step, failure) in unrolled.spectralFailures.sorted(by: { $0.key < $1.key }) {
        notes.append("RoI \(roi): ρ at step \(step) could not be computed: \(failure)")
      }
      for (step, estimate) in unrolled.spectral.sorted(by: { $0.key < $1.key })
      where !estimate.isTrustworthy {
        notes.append("RoI \(roi): ρ at step \(step) is not trustworthy: \(estimate.explanation)")
      }
      if let step = unrolled.nonFiniteStep {
        notes.append("RoI \(roi): the unrolled state stopped being finite at step \(step).")
      }
      analyses.append(
        Reports.Analysis(
          index: roi,
          unrolled: Reports.Unrolled(
            steps: lastStep, finalAdjacentDifference: unrolled.differences[lastStep], trace: trace),
          broyden: SolveReporting.report(broyden15, index: roi),
          broydenRefined: SolveReporting.report(refined, index: roi),
          difference: difference,
          firstStepBelowOne: Self.firstStepBelowOne(
            trace, examined: spectralSteps, through: lastStep)))
    }
    progress.finish()
    let verdict = Self.verdict(
      analyses, form: problem.form, vanish: vanishThreshold, agreement: agreementThreshold,
      examinedFromOne: spectralSteps.contains { $0 >= 1 })
    let document = Reports.AnalysisDocument(
      status: verdict.holds ? "claimsHold" : "claimsFail", problem: loaded.description,
      problems: analyses, verdict: verdict.report)
    switch output.format {
    case .json: try emitter.emit(Emitter.json(document))
    case .csv: try emitter.emit(Self.csv(analyses))
    case .table:
      try emitter.emit(
        table(
          document, dimension: loaded.dimension, precision: problem.precision.rawValue, notes: notes
        ))
    }
    if let plot {
      try emitter.write(Data(Self.plot(document).render().utf8), to: plot, option: "--plot")
    }
    if !verdict.holds { throw notConvergedExitCode }
  }

  /// The first examined step from which every examined ρ is reliably below one.
  static func firstStepBelowOne(
    _ trace: [Reports.UnrolledEntry], examined: [Int], through lastStep: Int
  ) -> Int? {
    var first: Int?
    for step in examined.reversed() where step <= lastStep {
      guard let rho = trace[step].spectralRadius, rho < 1,
        trace[step].spectralRadiusReliable == true
      else { break }
      first = step
    }
    return first
  }

  struct VerdictResult {
    var report: Reports.Verdict
    var holds: Bool {
      report.differencesVanish && report.spectralRadiusBelowOne && report.equilibriaAgree
    }
  }

  static func verdict(
    _ analyses: [Reports.Analysis], form: FormOption, vanish: Double, agreement: Double,
    examinedFromOne: Bool
  ) -> VerdictResult {
    // NaN (a state that stopped being finite) counts as the worst.
    let worstDifference =
      analyses.map { $0.unrolled.finalAdjacentDifference }.map { $0.isNaN ? .infinity : $0 }.max()
      ?? .nan
    let vanishes = analyses.allSatisfy { $0.unrolled.finalAdjacentDifference <= vanish }
    let belowOne =
      examinedFromOne
      && analyses.allSatisfy { a in
        a.firstStepBelowOne.map { $0 <= 1 } ?? false
      }
    let firsts = analyses.map(\.firstStepBelowOne)
    let firstStep: Int? = firsts.contains(nil) ? nil : firsts.compactMap { $0 }.max()
    let agree = analyses.allSatisfy { $0.difference < agreement }
    var explanation: [String] = []
    explanation.append(
      vanishes
        ? "Holds: the adjacent differences vanish; the largest final ‖ΔH‖ is \(formatScientific(worstDifference)) ≤ \(formatScientific(vanish))."
        : "Fails: the adjacent differences do not vanish; the largest final ‖ΔH‖ is \(formatScientific(worstDifference)) > \(formatScientific(vanish))."
    )
    if belowOne {
      explanation.append(
        "Holds: ρ(∂F/∂H) < 1 at every examined step from step 1 on (H0 = 0 itself need not be contractive)."
      )
    } else if let firstStep {
      explanation.append(
        "Fails: ρ(∂F/∂H) ≥ 1 (or could not be trusted) at an examined step ≥ 1; every examined value is below one from step \(firstStep) on."
      )
    } else {
      explanation.append(
        "Fails: ρ(∂F/∂H) does not stay below one: the last examined step of some RoI has ρ ≥ 1 or no trustworthy value."
      )
    }
    let worstGap = analyses.map { $0.difference.isNaN ? .infinity : $0.difference }.max() ?? .nan
    explanation.append(
      agree
        ? "Holds: ‖H_Broyden − H_unrolled‖₂ ≤ \(formatScientific(worstGap)) < \(formatScientific(agreement)) for every RoI."
        : "Fails: ‖H_Broyden − H_unrolled‖₂ reaches \(formatScientific(worstGap)) ≥ \(formatScientific(agreement))."
    )
    if form == .eq5 && !(vanishes && agree) {
      explanation.append(
        "Why: eq5 (F = g(R) + R, R = H + X) has no fixed point for a generic X: a fixed point needs g(R) = −X, but g ends in GroupNorm, whose output has zero mean and fixed scale per group, so it cannot equal an arbitrary −X. The iterate drifts instead of settling."
      )
    }
    return VerdictResult(
      report: Reports.Verdict(
        differencesVanish: vanishes, spectralRadiusBelowOne: belowOne, equilibriaAgree: agree,
        firstStepBelowOne: firstStep, vanishThreshold: vanish, agreementThreshold: agreement,
        explanation: explanation))
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

  func table(
    _ document: Reports.AnalysisDocument, dimension: Int, precision: String, notes: [String]
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
