import ArgumentParser
import DEQSolvers
import Testing

@testable import DEQCommandLine

@Suite("deq: argument parsing and help")
struct ArgumentParsingTests {
  @Test("Subcommands parse real argument lists into their options")
  func parsing() throws {
    let solve = try #require(
      try DEQ.parseAsRoot([
        "solve", "--solver", "anderson", "--max-iterations", "40", "--memory", "7", "--tolerance",
        "1e-9", "--tolerance-kind", "absolute", "--spectral-every", "5", "--form", "xshort",
        "--precision", "float", "--format", "json",
      ]) as? Solve)
    #expect(solve.equilibrium.solver == .anderson)
    #expect(solve.equilibrium.maxIterations == 40)
    #expect(solve.equilibrium.memory == 7)
    #expect(solve.equilibrium.tolerance == 1e-9)
    #expect(solve.equilibrium.toleranceKind == .absolute)
    #expect(solve.spectralEvery == 5)
    #expect(solve.problem.form == .xshort)
    #expect(solve.problem.precision == .float)
    #expect(solve.output.format == .json)

    let gradient = try #require(
      try DEQ.parseAsRoot([
        "gradient", "--solver", "picard", "--max-iterations", "30", "--tolerance-kind", "mixed",
        "--backward-solver", "anderson", "--backward-iterations", "25", "--backward-tolerance",
        "1e-9", "--cotangent", "c.npy", "--output-input-grad", "dx.npy", "--output-param-grad",
        "dtheta.safetensors",
      ]) as? Gradient)
    #expect(gradient.forward.solver == .picard)
    #expect(gradient.forward.maxIterations == 30)
    #expect(gradient.forward.stopping.tolerance == .mixed(absolute: 1e-6, relative: 1e-6))
    #expect(gradient.backward.backwardSolver.algorithm == .anderson(Anderson()))
    #expect(
      gradient.backward.stopping
        == StoppingCriteria(
          tolerance: .both(absolute: 1e-9, relative: 1e-9), maxIterations: 25, stall: nil))
    #expect(gradient.cotangent == "c.npy")
    #expect(gradient.outputInputGrad == "dx.npy")
    #expect(gradient.outputParamGrad == "dtheta.safetensors")
    let defaults = try #require(try DEQ.parseAsRoot(["gradient"]) as? Gradient)
    #expect(defaults.backward.stopping == .backward)
    #expect(defaults.backward.backwardSolver.algorithm == .broyden(Broyden()))
    #expect(defaults.forward.stopping == StoppingCriteria(maxIterations: 15))

    let analyze = try #require(try DEQ.parseAsRoot(["analyze"]) as? Analyze)
    #expect(analyze.steps == 100_000)
    #expect(analyze.problem.form == .ifrCode)
    #expect(
      analyze.problem.effectiveBatch == 2 && analyze.problem.effectiveChannels == 8
        && analyze.problem.effectiveSize == 6)
    #expect(Array(analyze.spectralSteps.prefix(7)) == [0, 1, 2, 3, 4, 5, 10])
    #expect(analyze.spectralSteps.last == 100_000)
    let paper = try #require(try DEQ.parseAsRoot(["analyze", "--preset", "paper"]) as? Analyze)
    #expect(
      paper.problem.effectiveBatch == 4 && paper.problem.effectiveChannels == 256
        && paper.problem.effectiveSize == 14)
    let oneRoI = try #require(
      try DEQ.parseAsRoot(["analyze", "--preset", "paper", "--batch", "1"]) as? Analyze)
    #expect(oneRoI.problem.effectiveBatch == 1 && oneRoI.problem.effectiveChannels == 256)

    let spectrum = try #require(
      try DEQ.parseAsRoot(["spectrum", "--at", "zero", "--method", "power"]) as? Spectrum)
    #expect(spectrum.at == .zero)
    #expect(spectrum.method == .power)
  }

  @Test(
    "Bad flags and values are usage errors (exit 64)",
    arguments: [
      ["solve", "--solver", "newton"],
      ["solve", "--max-iterations", "-1"],
      ["solve", "--tolerance", "nan"],
      ["analyze", "--steps", "0"],
      ["analyze", "--form", "eq6"],
      ["analyze", "--checkpoint-every", "100"],
      ["analyze", "--checkpoint", "c.ckpt", "--checkpoint-every", "0"],
      ["analyze", "--workers", "0"],
      ["analyze", "--preset", "huge"],
      ["solve", "--no-such-flag"],
      ["solve", "--channels", "6", "--groups", "4"],
      ["spectrum", "--precision", "half"],
      ["gradient", "--backward-solver", "gmres-not-yet"],
      ["gradient", "--backward-iterations", "-1"],
      ["gradient", "--backward-tolerance", "-1e-6"],
      ["gradient", "--output-input-grad", "g", "--output-param-grad", "./g"],
      ["frobnicate"],
    ])
  func usageErrors(arguments: [String]) {
    do {
      var command = try DEQ.parseAsRoot(arguments)
      try command.validate()
      Issue.record("\(arguments) parsed without error")
    } catch {
      #expect(DEQ.exitCode(for: error).rawValue == 64, "\(arguments): \(error)")
    }
  }

  @Test("Every subcommand's help has an abstract, its options and examples")
  func help() {
    let root = DEQ.helpMessage()
    for name in ["analyze", "solve", "gradient", "spectrum", "apply", "params"] {
      #expect(root.contains(name))
    }
    #expect(root.contains("Exit codes"))
    let commands: [(ParsableCommand.Type, [String])] = [
      (Analyze.self, ["--steps", "--spectral-every", "--plot", "--weights", "--form"]),
      (
        Solve.self,
        ["--solver", "--max-iterations", "--memory", "--tolerance-kind", "--save-state"]
      ),
      (
        Gradient.self,
        [
          "--cotangent", "--output-input-grad", "--output-param-grad", "--backward-solver",
          "--backward-iterations", "--backward-tolerance", "--solver", "--tolerance-kind",
        ]
      ),
      (Spectrum.self, ["--state", "--at", "--method"]),
      (Apply.self, ["--state", "--output"]),
      (Params.self, ["--format"]),
    ]
    for (command, options) in commands {
      let help = DEQ.helpMessage(for: command)
      #expect(help.contains("Examples"), "\(command) help lacks examples")
      for option in options { #expect(help.contains(option), "\(command) help lacks \(option)") }
    }
  }

  @Test("Long traces are thinned on a log scale, keeping the head and the last step")
  func thinning() {
    let rows = TextTable.logThinnedIndices(count: 100_001, maximum: 40, head: 10)
    #expect(rows.count <= 41)
    #expect(Array(rows.prefix(10)) == Array(0..<10))
    #expect(rows.last == 100_000)
    #expect(TextTable.logThinnedIndices(count: 16) == Array(0..<16))
  }
}
