import ArgumentParser
import IFRHead

/// The options `deq train` and `deq ablate` share: the budget and recipe of a run (or of
/// every row of an ablation), its seed, and its precision and threads.
struct TrainingOptions: ParsableArguments {
  enum OptimizerOption: String, CaseIterable, ExpressibleByArgument {
    case sgd, adam
  }

  @Option(help: "Optimiser steps (of every row, for ablate).")
  var iterations: Int = TrainingConfiguration().iterations

  @Option(help: "RoIs per step.")
  var batch: Int = TrainingConfiguration().batchSize

  @Option(help: "RoI feature channels (the paper: 256).")
  var channels: Int = 16

  @Option(help: "Seed of the data and of the initialisation (the same for every ablate row).")
  var seed: UInt64 = 1

  @Option(help: "sgd (momentum, weight decay) or adam.")
  var optimizer: OptimizerOption = .adam

  @Option(help: "Base learning rate (default: 2e-3 for adam, 2e-2 for sgd).")
  var learningRate: Double?

  @Option(help: "Schedule: constant, cosine, step (×0.1 at 8/12 and 11/12) or step:I,J,….")
  var schedule: String = "cosine"

  @Option(help: "Validation RoIs.")
  var validationSize: Int = TrainingConfiguration().validationSize

  @Option(help: "Floating-point precision: double or float.")
  var precision: PrecisionOption = .float

  @Option(help: "OpenBLAS threads at most (default: every core).")
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
  }

  /// A run with these settings and every other field at its default (`head.channels`
  /// included).
  var configuration: TrainingConfiguration {
    var configuration = TrainingConfiguration(
      iterations: iterations, batchSize: batch, seed: seed, optimizer: optimizer.rawValue,
      learningRate: learningRate ?? (optimizer == .adam ? 2e-3 : 2e-2), schedule: schedule,
      validationSize: validationSize)
    configuration.head.channels = channels
    return configuration
  }
}
