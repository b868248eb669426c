import ArgumentParser
import DEQCore

/// A subcommand written once, generically over the scalar, and run in the precision the
/// user chose with `--precision`.
protocol PrecisionDispatchingCommand: ParsableCommand {
  var problem: ProblemOptions { get }
  func run<S: DEQScalar>(_: S.Type) throws
}

extension PrecisionDispatchingCommand {
  func run() throws {
    switch problem.precision {
    case .double: try run(Double.self)
    case .float: try run(Float.self)
    }
  }
}
