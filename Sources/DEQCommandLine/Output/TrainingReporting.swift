import FoundationEssentials
import IFRHead

/// The checkpoint folder of `deq train`: created when missing; an existing checkpoint is
/// continued only with `--resume` and never overwritten by a fresh run.
enum TrainingCheckpointFolder {
  static func prepare(_ folder: String, checkpoint: String, resume: Bool) throws(CommandLineError) {
    let manager = FileManager.default
    var isDirectory = false
    if manager.fileExists(atPath: folder, isDirectory: &isDirectory) {
      guard isDirectory else {
        throw .usage("--checkpoint-dir \(folder) is a file, not a folder")
      }
    } else {
      do {
        try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw .output(
          path: folder, reason: "cannot create the folder: \(error)")
      }
    }
    let exists = manager.fileExists(atPath: checkpoint)
    if resume && !exists {
      throw .input(path: checkpoint, reason: "there is no checkpoint to resume")
    }
    if !resume && exists {
      throw .usage(
        "\(checkpoint) holds a run already; pass --resume to continue it, or choose another --checkpoint-dir"
      )
    }
  }
}

/// What `deq train` reports: the configuration, every logged record and the final
/// validation.
struct TrainingReport: Encodable {
  var configuration: TrainingConfiguration
  var precision: String
  var records: [TrainingRecord]
  var validation: ValidationRecord
  var parameterCount: Int
  var zeroGradientTotal: Int

  private static func number(_ value: Double?, _ format: String = "%.4g") -> String {
    guard let value else { return "" }
    return value.isFinite ? String(cFormat: format, value) : "\(value)"
  }

  private static func maximum(_ values: [Double]) -> Double? {
    values.isEmpty
      ? nil : values.reduce(-Double.infinity) { Swift.max($0, $1.isNaN ? .infinity : $1) }
  }

  /// One row per record.
  var csv: String {
    var out =
      "iteration,loss,meanLoss,learningRate,maxForwardResidual,maxBackwardResidual,"
      + "zeroGradientRoIs,stepSkipped,gradientNorm,spectralRadius,validationMeanIoU,seconds\n"
    for r in records {
      out += "\(r.iteration),\(r.loss),\(r.meanLoss),\(r.learningRate),"
      out += "\(Self.maximum(r.forwardResiduals).map { "\($0)" } ?? ""),"
      out += "\(Self.maximum(r.backwardResiduals).map { "\($0)" } ?? ""),"
      out += "\(r.zeroGradientRoIs),\(r.stepSkipped),\(r.gradientNorm),"
      out += "\(r.spectralRadius.map { "\($0)" } ?? ""),"
      out += "\(r.validation.map { "\($0.meanIoU)" } ?? ""),\(r.seconds)\n"
    }
    return out
  }

  /// A readable table and a summary.
  var table: String {
    var rows: [[String]] = []
    for r in records {
      rows.append([
        "\(r.iteration)", Self.number(r.meanLoss), Self.number(r.learningRate, "%.3g"),
        Self.number(Self.maximum(r.forwardResiduals), "%.2e"),
        Self.number(Self.maximum(r.backwardResiduals), "%.2e"),
        "\(r.zeroGradientRoIs)\(r.stepSkipped ? " skipped" : "")",
        Self.number(r.spectralRadius, "%.4f"),
        r.validation.map { String(cFormat: "%.3f", $0.meanIoU) } ?? "",
        String(cFormat: "%.1f", r.seconds),
      ])
    }
    var text = TextTable(headers: [
      "step", "loss", "lr", "max fwd res", "max bwd res", "zero grads", "ρ", "val IoU", "s",
    ])
    text.rows = rows
    var out = text.render()
    let c = configuration
    out += "\n\(c.head.label), \(c.head.channels) channels, \(parameterCount) parameters, "
    out +=
      "\(c.iterations) steps of \(c.batchSize) RoIs, \(c.optimizer) lr \(c.learningRate) \(c.schedule), \(precision)\n"
    out += String(
      cFormat:
        "validation: mean IoU %.4f, IoU ≥ 0.5: %.3f, IoU ≥ 0.75: %.3f, loss %.4f (%ld RoIs)\n",
      validation.meanIoU, validation.fractionAbove50, validation.fractionAbove75,
      validation.loss, validation.count)
    out += "zero-start adjoints (handled by \(c.zeroGradientPolicy)): \(zeroGradientTotal)\n"
    return out
  }

  /// Loss, validation IoU, the worst forward/backward residuals and ρ against the step.
  var plot: SVGPlot {
    func series(_ name: String, _ value: (TrainingRecord) -> Double?) -> SVGPlot.Series {
      SVGPlot.Series(
        name: name,
        points: records.compactMap { r in value(r).map { (Double(r.iteration), $0) } })
    }
    var panels = [
      SVGPlot.Panel(
        yLabel: "loss", logY: true,
        series: [
          series("mean loss", { $0.meanLoss }), series("validation loss", { $0.validation?.loss }),
        ],
        referenceLine: nil),
      SVGPlot.Panel(
        yLabel: "validation IoU", logY: false,
        series: [
          series("mean IoU", { $0.validation?.meanIoU }),
          series("IoU ≥ 0.5", { $0.validation?.fractionAbove50 }),
        ], referenceLine: nil),
    ]
    if records.contains(where: { !$0.forwardResiduals.isEmpty }) {
      panels.append(
        SVGPlot.Panel(
          yLabel: "max residual", logY: true,
          series: [
            series("forward", { Self.maximum($0.forwardResiduals) }),
            series("backward", { Self.maximum($0.backwardResiduals) }),
          ], referenceLine: nil))
    }
    if records.contains(where: { $0.spectralRadius != nil }) {
      panels.append(
        SVGPlot.Panel(
          yLabel: "ρ(∂F/∂H)", logY: false, series: [series("ρ", { $0.spectralRadius })],
          referenceLine: 1))
    }
    return SVGPlot(
      title: "deq train: \(configuration.head.label)", xLabel: "step", logX: false,
      panels: panels)
  }
}
