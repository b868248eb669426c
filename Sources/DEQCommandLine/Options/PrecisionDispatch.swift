import ArgumentParser
import DEQCore

/// A subcommand written once, generically over the scalar, and run in the precision the
/// user chose with `--precision`.
protocol PrecisionDispatchingCommand: ParsableCommand {
  var problem: ProblemOptions { get }
  func run<S: DEQScalar>(_: S.Type) throws
}

extension PrecisionDispatchingCommand {
  /// Runs in the chosen precision; with `--threads`, inside a BLAS thread scope that ends
  /// with the command.
  func run() throws {
    let body = { () throws -> Void in
      switch problem.precision {
      case .double: try run(Double.self)
      case .float: try run(Float.self)
      }
    }
    if let threads = problem.threads {
      try BLASThreads.withCount(threads, body)
    } else {
      try body()
    }
  }
}
