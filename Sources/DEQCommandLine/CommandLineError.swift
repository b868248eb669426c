import ArgumentParser

/// Everything the `deq` tool can fail with, each mapped to a documented exit code.
///
/// | exit code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | a solve did not converge, or an analysis claim failed |
/// | 64 | usage error: a bad flag or value (one line naming it) |
/// | 65 | an input file is unreadable or invalid (the message names the file) |
/// | 73 | an output file could not be written |
enum CommandLineError: Error, CustomStringConvertible {
  /// A bad flag, value or combination of them.
  case usage(String)
  /// An input file that cannot be read or is not valid.
  case input(path: String, reason: String)
  /// An output file that cannot be written.
  case output(path: String, reason: String)
  /// The user interrupted a run (Ctrl-C); what was saved, if anything, is in the message.
  case interrupted(String)

  var description: String {
    switch self {
    case .usage(let message): message
    case .input(let path, let reason): "cannot use input file \(path): \(reason)"
    case .output(let path, let reason): "cannot write \(path): \(reason)"
    case .interrupted(let message): message
    }
  }

  var exitCode: ExitCode {
    switch self {
    case .usage: ExitCode(64)
    case .input: ExitCode(65)
    case .output: ExitCode(73)
    case .interrupted: ExitCode(130)
    }
  }
}

/// The exit code for a run whose solve did not converge or whose claims failed.
let notConvergedExitCode = ExitCode(1)
