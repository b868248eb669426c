import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq apply`: one evaluation of F, saved for cross-checking against PyTorch.
struct Apply: PrecisionDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate F(H; X) once and save it as .npy.",
    discussion: """
      Compare the file with what PyTorch computes for the same weights, input and state \
      (numpy.load, then numpy.testing.assert_allclose).

      Examples:
        deq apply --weights block.safetensors --input x.npy --state h.npy --output f.npy
        deq apply --form xshort --output f0.npy        # random problem, H = 0
      """)

  @OptionGroup(title: "Problem") var problem: ProblemOptions

  @Option(help: ArgumentHelp("The state H ([N, C, H, W], default zeros).", valueName: "h.npy"))
  var state: String?

  @Option(help: ArgumentHelp("Where to write F(H; X).", valueName: "f.npy"))
  var output: String

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    var files = AtomicFile()
    for path in loaded.inputPaths + [state].compactMap({ $0 }) { files.protect(path) }
    let h =
      try state.map { path throws(CommandLineError) in try loaded.readState(path) }
      ?? Tensor(zeros: loaded.injection.shape)
    try files.write(npy: loaded.apply(h), to: output, option: "--output")
  }
}
