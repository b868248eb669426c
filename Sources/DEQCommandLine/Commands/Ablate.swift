import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq ablate`: the paper's training ablations (Tables 6, 7, 8) in miniature.
struct Ablate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "The paper's training ablations (Tables 6, 7, 8) in miniature.",
    discussion: """
      Trains one mask head per row of the chosen table on the synthetic mask task, every \
      row with the same seeds and the same budget, and prints a table shaped like the \
      paper's: the row, its parameters, validation mean IoU, the fraction of RoIs with \
      IoU ≥ 0.5 and ≥ 0.75, and the training time.
        --table 6: explicit ×4 (independent blocks), unrolled ×4 (one shared block), IFR.
        --table 7: IFR with 3, 5, 10, 15 and 20 Broyden iterations (forward and backward).
        --table 8: explicit ×4 without and with the double residual.
      --shard i/n runs rows i, i+n, … only (1-based), so that a sweep can run as \
      independent processes; `deq ablate merge` joins their JSON into the table.

      Examples:
        deq ablate --table 7 --json t7.json
        deq ablate --table 6 --shard 1/2 --json t6-1.json
        deq ablate --table 6 --shard 2/2 --json t6-2.json
        deq ablate merge t6-1.json t6-2.json
      """,
    subcommands: [AblateRun.self, AblateMerge.self],
    defaultSubcommand: AblateRun.self)
}

/// The rows of an ablation table and their results.
struct AblationReport: Codable {
  struct Row: Codable, Equatable {
    var index: Int
    var label: String
    var parameters: Int
    var meanIoU: Double
    var fractionAbove50: Double
    var fractionAbove75: Double
    var finalMeanLoss: Double
    var firstMeanLoss: Double
    var zeroGradientTotal: Int
    var seconds: Double
    var configuration: TrainingConfiguration
  }

  var table: Int
  var rowCount: Int
  var precision: String
  /// `i/n`, or `merged`.
  var shard: String
  var rows: [Row]

  var text: String {
    var table = TextTable(headers: [
      "row", "P(M)", "params", "mean IoU", "IoU≥0.5", "IoU≥0.75", "loss", "zero grads", "time (s)",
    ])
    for row in rows.sorted(by: { $0.index < $1.index }) {
      table.append([
        row.label, String(cFormat: "%.4f", Double(row.parameters) / 1e6), "\(row.parameters)",
        String(cFormat: "%.4f", row.meanIoU), String(cFormat: "%.3f", row.fractionAbove50),
        String(cFormat: "%.3f", row.fractionAbove75), String(cFormat: "%.4f", row.finalMeanLoss),
        "\(row.zeroGradientTotal)", String(cFormat: "%.1f", row.seconds),
      ])
    }
    var out = "Table \(self.table) in miniature (\(precision), shard \(shard))\n"
    out += table.render()
    if let c = rows.first?.configuration {
      out += "each row: \(c.iterations) steps of \(c.batchSize) RoIs, \(c.head.channels) channels, "
      out += "\(c.optimizer) lr \(c.learningRate) \(c.schedule), seed \(c.seed), "
      out += "validation on \(c.validationSize) RoIs\n"
    }
    if rows.count < rowCount {
      let missing = Set(0..<rowCount).subtracting(rows.map(\.index)).sorted()
      out += "rows not in this report: \(missing.map { "\($0 + 1)" }.joined(separator: ", "))\n"
    }
    return out
  }

  var csv: String {
    var out =
      "table,row,label,parameters,meanIoU,fractionAbove50,fractionAbove75,finalMeanLoss,"
      + "zeroGradientTotal,seconds\n"
    for r in rows.sorted(by: { $0.index < $1.index }) {
      out += "\(table),\(r.index + 1),\"\(r.label)\",\(r.parameters),\(r.meanIoU),"
      out += "\(r.fractionAbove50),\(r.fractionAbove75),\(r.finalMeanLoss),"
      out += "\(r.zeroGradientTotal),\(r.seconds)\n"
    }
    return out
  }

  func emit(_ emitter: Emitter, format: OutputFormat) throws(CommandLineError) {
    switch format {
    case .json: try emitter.emit(Emitter.json(self))
    case .csv: try emitter.emit(csv)
    case .table: try emitter.emit(text)
    }
  }
}

/// `deq ablate [run]`: trains the rows of one table (or one shard of them).
struct AblateRun: ScalarDispatchingCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Train the rows of one ablation table (the default).")

  @Option(help: "The paper's table: 6, 7 or 8.")
  var table: Int

  @Option(help: ArgumentHelp("Run rows i, i+n, … only (1-based).", valueName: "i/n"))
  var shard: String = "1/1"

  @OptionGroup(title: "Every row") var training: TrainingOptions

  @OptionGroup(title: "Output") var output: OutputOptions

  var precision: PrecisionOption { training.precision }
  var threads: Int? { training.threads }

  @Option(
    help: ArgumentHelp(
      "Also write the JSON report here (for `deq ablate merge`), whatever --format prints.",
      valueName: "file.json"))
  var json: String?

  /// `(i, n)` from `--shard`.
  func parsedShard() throws(CommandLineError) -> (index: Int, count: Int) {
    let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1,
      (1...n).contains(i)
    else {
      throw .usage("--shard must be i/n with 1 ≤ i ≤ n, got '\(shard)'")
    }
    return (i, n)
  }

  /// Every row of the table, in order.
  func rows() throws(CommandLineError) -> [TrainingConfiguration] {
    var base = training.configuration
    base.validateEvery = 0
    func with(_ change: (inout MaskHeadConfiguration) -> Void) -> TrainingConfiguration {
      var c = base
      change(&c.head)
      return c
    }
    switch table {
    case 6:
      return [
        with { $0.refinement = .explicit }, with { $0.refinement = .unrolled },
        with { $0.refinement = .ifr },
      ]
    case 7:
      return [3, 5, 10, 15, 20].map { k in
        with {
          $0.refinement = .ifr
          $0.forwardIterations = k
          $0.backwardIterations = k
        }
      }
    case 8:
      return [false, true].map { residual in
        with {
          $0.refinement = .explicit
          $0.doubleResidual = residual
        }
      }
    default:
      throw .usage("--table must be 6, 7 or 8, got \(table)")
    }
  }

  func validate() throws {
    do {
      _ = try parsedShard()
      for row in try rows() { try row.validate() }
    } catch let error as CommandLineError {
      throw ValidationError(error.description)
    } catch {
      throw ValidationError("\(error)")
    }
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let emitter = Emitter(options: output, inputs: [])
    try emitter.checkOutputs([(json, "--json")])
    let all = try rows()
    let (shardIndex, shardCount) = try parsedShard()
    let mine = all.indices.filter { $0 % shardCount == shardIndex - 1 }
    let total = mine.count * training.iterations
    let progress = Progress(label: "ablate", total: total, quiet: output.quiet)
    let interrupt = InterruptFlag.install()
    defer { InterruptFlag.uninstall() }
    var results: [AblationReport.Row] = []
    for (done, index) in mine.enumerated() {
      var run = try MaskHeadTraining<S>(configuration: all[index])
      var first: Double?
      while !run.isFinished {
        if interrupt.isSet {
          progress.finish()
          throw CommandLineError.interrupted(
            "interrupted in row \(index + 1); rows finished: \(results.map { "\($0.index + 1)" })")
        }
        let record: TrainingRecord?
        do {
          record = try run.step()
        } catch {
          throw CommandLineError.input(path: "the training data", reason: error.description)
        }
        if first == nil, let record { first = record.meanLoss }
        progress.update(
          done * training.iterations + run.iteration,
          doing: "row \(index + 1): \(all[index].head.label)")
      }
      let validation = run.records.last?.validation ?? run.validate()
      results.append(
        AblationReport.Row(
          index: index, label: all[index].head.label, parameters: run.head.parameterCount,
          meanIoU: validation.meanIoU, fractionAbove50: validation.fractionAbove50,
          fractionAbove75: validation.fractionAbove75,
          finalMeanLoss: run.records.last?.meanLoss ?? .nan, firstMeanLoss: first ?? .nan,
          zeroGradientTotal: run.zeroGradientTotal, seconds: run.elapsed,
          configuration: all[index]))
    }
    progress.finish()
    let report = AblationReport(
      table: table, rowCount: all.count, precision: String(describing: S.self),
      shard: "\(shardIndex)/\(shardCount)", rows: results)
    if let json { try emitter.write(Data(Emitter.json(report).utf8), to: json, option: "--json") }
    try report.emit(emitter, format: output.format)
  }
}

/// `deq ablate merge`: joins the JSON of shards into one table.
struct AblateMerge: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Join the JSON reports of `deq ablate --shard` runs into one table.")

  @Argument(help: "The shards' JSON reports.")
  var reports: [String]

  @Flag(help: "Print the table even when rows are missing (they are listed).")
  var allowMissing = false

  @OptionGroup(title: "Output") var output: OutputOptions

  func validate() throws {
    guard !reports.isEmpty else { throw ValidationError("give at least one JSON report") }
  }

  func run() throws {
    var merged: AblationReport?
    for path in reports {
      let report: AblationReport
      do {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        report = try Emitter.jsonDecoder.decode(AblationReport.self, from: data)
      } catch {
        throw CommandLineError.input(path: path, reason: "not a deq ablate JSON report (\(error))")
      }
      guard var current = merged else {
        merged = report
        continue
      }
      guard report.table == current.table, report.rowCount == current.rowCount,
        report.precision == current.precision
      else {
        throw CommandLineError.input(
          path: path,
          reason:
            "it is table \(report.table) (\(report.rowCount) rows, \(report.precision)); the first report is table \(current.table) (\(current.rowCount) rows, \(current.precision))"
        )
      }
      for row in report.rows {
        if let existing = current.rows.first(where: { $0.index == row.index }) {
          guard existing.configuration == row.configuration else {
            throw CommandLineError.input(
              path: path, reason: "row \(row.index + 1) was run with another configuration")
          }
          continue
        }
        guard let first = current.rows.first,
          Self.sameBudget(first.configuration, row.configuration)
        else {
          throw CommandLineError.input(
            path: path, reason: "row \(row.index + 1) had another budget or seed than the others")
        }
        current.rows.append(row)
      }
      merged = current
    }
    guard var report = merged else { return }
    report.shard = "merged"
    report.rows.sort { $0.index < $1.index }
    let missing = Set(0..<report.rowCount).subtracting(report.rows.map(\.index)).sorted()
    if !missing.isEmpty && !allowMissing {
      throw CommandLineError.input(
        path: reports.joined(separator: ", "),
        reason:
          "rows \(missing.map { "\($0 + 1)" }.joined(separator: ", ")) of \(report.rowCount) are in no shard (--allow-missing prints the rest)"
      )
    }
    try report.emit(Emitter(options: output, inputs: reports), format: output.format)
  }

  /// Whether two rows share everything but the head (same seeds, same budget).
  static func sameBudget(_ a: TrainingConfiguration, _ b: TrainingConfiguration) -> Bool {
    guard a.head.channels == b.head.channels, a.head.classes == b.head.classes else {
      return false
    }
    var a = a
    a.head = b.head
    return a == b
  }
}
