import ArgumentParser
import FoundationEssentials

/// The `deq` command: spectral radius and residual norms of DEQ fixed-point solves, step
/// by step, and the Section 3.5 convergence analysis of the IFR paper in one command.
public struct DEQ: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "deq",
    abstract: "Deep-equilibrium fixed points of the IFR block: solve, inspect, analyse.",
    discussion: """
      The analysis subcommands work on one IFR problem: a block F (--weights, or a seeded \
      random block) and an injection X of N RoIs (--input, or seeded random data). Each RoI \
      is an independent fixed-point problem H* = F(H*; X). `train` and `ablate` train mask \
      heads around the refinement on a seeded synthetic instance-mask task.

      Examples:
        deq analyze --plot analysis.svg
        deq solve --solver anderson --max-iterations 50 --spectral-every 5
        deq gradient --output-input-grad dx.npy --output-param-grad dtheta.safetensors
        deq spectrum --at equilibrium --method arnoldi
        deq apply --weights block.safetensors --input x.npy --state h.npy --output f.npy
        deq params --format json
        deq train --checkpoint-dir run1 --plot curves.svg
        deq ablate --table 7

      Exit codes: 0 success; 1 a solve did not converge or an analysis claim failed; \
      64 usage error; 65 unreadable or invalid input file (or checkpoint); 73 an output \
      file could not be written; 130 interrupted.
      """,
    subcommands: [
      Analyze.self, Solve.self, Gradient.self, Spectrum.self, Apply.self, Params.self, Train.self,
      Ablate.self,
    ]
  )

  public init() {}

  /// Runs the tool with `arguments` (the process's own when `nil`) and exits with its code.
  ///
  /// Errors print as one line, `deq: error: …`, on standard error; help goes to standard
  /// output with exit code 0.
  public static func runAndExit(_ arguments: [String]? = nil) -> Never {
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      exitProcess(0)
    } catch let error as CommandLineError {
      printError(error.description)
      exitProcess(error.exitCode.rawValue)
    } catch let code as ExitCode {
      exitProcess(code.rawValue)
    } catch {
      let code = exitCode(for: error)
      if code == .success { exit(withError: error) }  // help and version
      printError(message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)")
      exitProcess(code.rawValue)
    }
  }

  static func printError(_ message: String) {
    StandardStream.error.write("deq: error: \(message)\n")
  }
}
