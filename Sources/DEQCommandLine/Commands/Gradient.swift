import ArgumentParser
import DEQCore
import DEQSolvers
import FoundationEssentials
import IFRHead

/// `deq gradient`: the implicit backward pass of the IFR module, ∂L/∂X and ∂L/∂θ, with the
/// forward and adjoint solves reported step by step.
struct Gradient: PrecisionDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Implicit gradients ∂L/∂X and ∂L/∂θ through each RoI's equilibrium.",
    discussion: """
      Per RoI, solves H* = F(H*; X) from H0 = 0 (the forward options, as in deq solve), then \
      the adjoint fixed point u = u·∂F/∂H(H*) + ∂L/∂H* from u0 = 0 (the backward options), \
      and gives ∂L/∂X = u·∂F/∂X(H*) and ∂L/∂θ = Σ over RoIs of u·∂F/∂θ(H*). ∂L/∂H* is \
      --cotangent, or H* itself: the gradient of L = ½‖H*‖². Prints both solves' residuals \
      per RoI and the gradients' norms; --output-input-grad and --output-param-grad save the \
      gradients (∂L/∂θ under the PyTorch state_dict names of the block). Exits with 1 when a \
      forward or backward solve did not converge; the gradients, computed from the best \
      iterates, are still written.

      Examples:
        deq gradient --output-input-grad dx.npy --output-param-grad dtheta.safetensors
        deq gradient --weights block.safetensors --input x.npy --cotangent c.npy --format json
        deq gradient --max-iterations 100 --tolerance 1e-10 --backward-solver anderson
        deq gradient --backward-iterations 60 --backward-tolerance 1e-10 --format csv
      """)

  @OptionGroup(title: "Problem") var problem: ProblemOptions
  @OptionGroup(title: "Output") var output: OutputOptions
  @OptionGroup(title: "Forward solve") var forward: SolverOptions
  @OptionGroup(title: "Backward solve") var backward: BackwardOptions

  @Option(
    help: ArgumentHelp(
      "∂L/∂H*, [N, C, H, W] like X (default: H* itself, the gradient of L = ½‖H*‖²).",
      valueName: "c.npy"))
  var cotangent: String?

  @Option(help: ArgumentHelp("Save ∂L/∂X ([N, C, H, W]) as .npy.", valueName: "file.npy"))
  var outputInputGrad: String?

  @Option(
    help: ArgumentHelp(
      "Save ∂L/∂θ as safetensors, under the block's PyTorch state_dict names.",
      valueName: "file.safetensors"))
  var outputParamGrad: String?

  func validate() throws {
    let outputs = [
      (output.output, "--output"), (outputInputGrad, "--output-input-grad"),
      (outputParamGrad, "--output-param-grad"),
    ]
    var seen: [String: String] = [:]
    for case let (path?, flag) in outputs {
      let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
      if let other = seen[resolved] {
        throw ValidationError(
          "\(flag) \(path) names the same file as \(other); choose another path")
      }
      seen[resolved] = flag
    }
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let loaded = try LoadedProblem<S>.load(problem)
    let emitter = Emitter(
      options: output, inputs: loaded.inputPaths + [cotangent].compactMap { $0 })
    try emitter.checkOutputs([
      (outputInputGrad, "--output-input-grad"), (outputParamGrad, "--output-param-grad"),
    ])
    let given = try cotangent.map { path throws(CommandLineError) in
      try loaded.readCotangent(path)
    }

    let refinement = ImplicitRefinement(
      block: loaded.block, forwardSolver: forward.algorithm, forwardStopping: forward.stopping,
      backwardSolver: backward.backwardSolver.algorithm, backwardStopping: backward.stopping)
    let progress = Progress(label: "gradient", total: 2, quiet: output.quiet)
    let forwardPass = refinement.forward(loaded.injection)
    progress.update(1, doing: "backward")
    let backwardPass = refinement.backward(
      forwardPass, cotangent: given ?? forwardPass.equilibrium)
    progress.update(2)
    progress.finish()

    let document = GradientReporting.document(
      forward: forwardPass, backward: backwardPass, problem: loaded.description,
      solver: forward.solver.rawValue, backwardSolver: backward.backwardSolver.rawValue,
      cotangent: cotangent)

    if let path = outputInputGrad {
      try emitter.write(npy: backwardPass.injection, to: path, option: "--output-input-grad")
    }
    if let path = outputParamGrad {
      var file = backwardPass.parameters.safeTensors
      file.metadata["content"] = "gradient dL/dtheta (deq gradient)"
      let data: Data
      do {
        data = try file.encoded()
      } catch {
        throw CommandLineError.output(path: path, reason: error.description)
      }
      try emitter.write(data, to: path, option: "--output-param-grad")
    }

    let description = loaded.description
    let title =
      "deq gradient: \(forward.solver.rawValue) forward, "
      + "\(backward.backwardSolver.rawValue) backward, form \(problem.form.rawValue), "
      + "\(loaded.batch) RoIs of \(description.channels)×\(description.height)×"
      + "\(description.width), \(problem.precision.rawValue)"
    switch output.format {
    case .table: try emitter.emit(GradientReporting.table(document, title: title))
    case .csv: try emitter.emit(GradientReporting.csv(document.problems))
    case .json: try emitter.emit(Emitter.json(document))
    }
    if let warning = GradientReporting.nonConvergence(document.problems) {
      StandardStream.error.write("deq gradient: \(warning)\n")
      throw notConvergedExitCode
    }
  }
}
