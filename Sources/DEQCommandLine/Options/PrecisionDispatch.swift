import ArgumentParser
import DEQCore

/// A subcommand written once, generically over the scalar, and run in the precision the
/// user chose with `--precision`, inside a `--threads` scope.
protocol ScalarDispatchingCommand: ParsableCommand {
  /// `--precision`.
  var precision: PrecisionOption { get }
  /// `--threads`: the cores the command may use (`nil`: every core).
  var threads: Int? { get }
  func run<S: DEQScalar>(_: S.Type) throws
}

extension ScalarDispatchingCommand {
  /// Runs in the chosen precision; with `--threads`, inside a BLAS thread scope that ends
  /// with the command.
  func run() throws {
    let body = { () throws -> Void in
      switch precision {
      case .double: try run(Double.self)
      case .float: try run(Float.self)
      }
    }
    if let threads {
      try BLASThreads.withCount(threads, body)
    } else {
      try body()
    }
  }
}

/// A subcommand on one IFR problem, whose precision and threads are problem options.
protocol PrecisionDispatchingCommand: ScalarDispatchingCommand {
  var problem: ProblemOptions { get }
}

extension PrecisionDispatchingCommand {
  var precision: PrecisionOption { problem.precision }
  var threads: Int? { problem.threads }
}
