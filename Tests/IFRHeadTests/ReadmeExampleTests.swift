import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The code samples of README.md, compiled and checked, so that the README cannot rot.
///
/// The two samples are run below as copies (with the reference export's paths for the IFR
/// one); the first two tests read README.md itself, so that the copies cannot drift from it
/// and a sample cannot use a module it does not import.
@Suite("README samples")
struct ReadmeExampleTests {
  /// The bodies of the README's ```` ```swift ```` blocks, in order.
  static func readmeSamples() throws -> [String] {
    let url = ReferenceData.packageRoot.appendingPathComponent("README.md")
    let text = try String(contentsOf: url, encoding: .utf8)
    var samples: [String] = []
    var current: [Substring]? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if current == nil, line.hasPrefix("```swift") {
        current = []
      } else if let lines = current, line.hasPrefix("```") {
        samples.append(lines.joined(separator: "\n"))
        current = nil
      } else {
        current?.append(line)
      }
    }
    return samples
  }

  /// The modules a sample imports (`import X`, trailing comments ignored).
  static func imports(of sample: String) -> Set<String> {
    Set(
      sample.split(separator: "\n").compactMap { line -> String? in
        let words = line.split(separator: " ")
        return words.count >= 2 && words[0] == "import" ? String(words[1]) : nil
      })
  }

  @Test("each README sample imports the modules of the names it uses")
  func samplesImportWhatTheyUse() throws {
    let samples = try Self.readmeSamples()
    try #require(
      samples.count == 3, "README.md should hold the solver, the IFR and the training sample")
    // Which import makes a name visible; IFRHead re-exports DEQSolvers, which re-exports
    // DEQCore, so a later module in a list also provides the earlier ones' names.
    let providers: [(names: [String], modules: Set<String>)] = [
      (["URL(", "Data(", "FileManager", "ProcessInfo"], ["Foundation"]),
      (
        [
          "IFRBlock", "ImplicitRefinement", "ExplicitRefinement", "ConvergenceAnalysis",
          "MaskHeadTraining", "TrainingConfiguration",
        ],
        ["IFRHead"]
      ),
      (["Adam<", "NamedParameters<"], ["DEQTraining", "IFRHead"]),
      (
        ["FixedPointProblem", "solve(", "Broyden(", "Anderson(", "JacobianOperator"],
        ["DEQSolvers", "IFRHead"]
      ),
      (["Tensor<", "NPY.", "SeededGenerator"], ["DEQCore", "DEQSolvers", "IFRHead"]),
    ]
    for (index, sample) in samples.enumerated() {
      let imported = Self.imports(of: sample)
      for (names, modules) in providers {
        for name in names where sample.contains(name) {
          #expect(
            !imported.isDisjoint(with: modules),
            "README sample \(index + 1) uses \(name) but imports only \(imported.sorted())")
        }
      }
    }
  }

  @Test("the statements run below are the README's, character for character")
  func samplesMatchReadme() throws {
    let samples = try Self.readmeSamples()
    try #require(samples.count == 3)
    let solver = [
      "let problem = FixedPointProblem(start: [Double](repeating: 0, count: n)) { z in f(z) }",
      "let solution = solve(problem, using: Broyden(), stopping: StoppingCriteria(maxIterations: 50))",
      "let anderson = solve(problem, using: Anderson(memory: 5), stopping: .init(maxIterations: 50))",
      "let rho = try jacobian.spectralRadius()",
    ]
    let ifr = [
      "import Foundation", "import IFRHead",
      "let refinement = ImplicitRefinement(block: block)",
      "let forward = refinement.forward(x)",
      "let x: Tensor<Double> = try NPY.read(contentsOf: URL(fileURLWithPath: \"x.npy\"))",
      "let block = try IFRBlock<Double>(contentsOf: URL(fileURLWithPath: \"block.safetensors\"))",
      "let analysis = ConvergenceAnalysis(block: block, injection: x, configuration: .init(steps: 2_000))",
      "print(result.verdict.holds, result.verdict.explanation)",
    ]
    for statement in solver {
      #expect(samples[0].contains(statement), "README's solver sample lacks: \(statement)")
    }
    for statement in ifr {
      #expect(samples[1].contains(statement), "README's IFR sample lacks: \(statement)")
    }
    let training = [
      "import IFRHead",
      "var run = try MaskHeadTraining<Float>(configuration: TrainingConfiguration())",
      "while !run.isFinished {", "if let record = try run.step() {",
      "print(record.iteration, record.meanLoss, record.adjointOutcomes, record.zeroGradientTotal)",
      "print(run.validate().meanIoU)",
      "let forward = head.forward(features)",
      "let (loss, dLogits) = try head.loss(forward, targets: masks, classes: labels)",
      "let gradient = head.backward(forward, logitsCotangent: dLogits)",
      "var adam = try Adam<NamedParameters<Float>>()", "var parameters = head.parameters",
      "adam.update(&parameters, along: gradient.parameters, learningRate: 2e-3)",
      "head.parameters = parameters",
    ]
    for statement in training {
      #expect(samples[2].contains(statement), "README's training sample lacks: \(statement)")
    }
  }

  @Test("The training sample: a run's records, then one Adam step by hand lowers the loss")
  func trainingSample() throws {
    // As in README.md, with a run small enough for a test instead of the defaults.
    var configuration = TrainingConfiguration(
      head: MaskHeadConfiguration(channels: 8, classes: 3, forwardIterations: 5),
      iterations: 3, batchSize: 2, validationSize: 2)
    configuration.logEvery = 1
    var run = try MaskHeadTraining<Float>(configuration: configuration)
    var records: [TrainingRecord] = []
    while !run.isFinished {
      if let record = try run.step() { records.append(record) }
    }
    #expect(records.map(\.iteration) == [0, 1, 2])
    #expect(records.allSatisfy { $0.adjointOutcomes.count == 2 })
    #expect((0...1).contains(run.validate().meanIoU))

    var head = run.head
    let batch = run.task.trainingBatch(iteration: 0, size: 4, as: Float.self)
    let (features, masks, labels) = (batch.features, batch.targets, batch.classes)
    let forward = head.forward(features)
    let (loss, dLogits) = try head.loss(forward, targets: masks, classes: labels)
    let gradient = head.backward(forward, logitsCotangent: dLogits)
    var adam = try Adam<NamedParameters<Float>>()
    var parameters = head.parameters
    adam.update(&parameters, along: gradient.parameters, learningRate: 2e-3)
    head.parameters = parameters
    let after = try head.loss(head.forward(features), targets: masks, classes: labels).loss
    #expect(after < loss, "one small Adam step along the gradient lowers the batch loss")
  }

  @Test("The solver sample: Broyden and Anderson agree, ρ(∂f/∂z) matches LAPACK's")
  func solverSample() throws {
    let n = 20
    let w: Tensor<Double> = randomContraction(order: n, norm: 0.8, seed: TestSeeds.standard)
    let x: [Double] = randomVector(count: n, seed: 5)
    @Sendable func f(_ z: [Double]) -> [Double] {
      // f(z) = tanh(W z + x), written out so that the sample needs no helper.
      let wz = (try? BLAS.matvec(w, z)) ?? z
      return zip(wz, x).map { Double.tanh($0 + $1) }
    }
    @Sendable func jvp(_ z: [Double], _ v: [Double]) -> [Double] {
      let wz = (try? BLAS.matvec(w, z)) ?? z
      let wv = (try? BLAS.matvec(w, v)) ?? v
      return (0..<n).map { i in (1 - Double.tanh(wz[i] + x[i]) * Double.tanh(wz[i] + x[i])) * wv[i]
      }
    }

    // As in README.md:
    let problem = FixedPointProblem(start: [Double](repeating: 0, count: n)) { z in f(z) }
    let solution = solve(problem, using: Broyden(), stopping: StoppingCriteria(maxIterations: 50))
    #expect(solution.status == .converged, "\(solution.status.explanation)")
    let anderson = solve(problem, using: Anderson(memory: 5), stopping: .init(maxIterations: 50))
    #expect(relativeError(anderson.fixedPoint, solution.fixedPoint) < 1e-5)
    let z = solution.fixedPoint
    let jacobian = try JacobianOperator(at: z, jvp: { v in jvp(z, v) })
    let rho = try jacobian.spectralRadius()
    #expect(rho.isTrustworthy)

    // The same spectral radius from the explicit Jacobian diag(1 − tanh²)·W and LAPACK.
    let wz = try BLAS.matvec(w, z)
    let explicit = Tensor<Double>(shape: [n, n]) { index in
      let (i, j) = (index / n, index % n)
      return (1 - Double.tanh(wz[i] + x[i]) * Double.tanh(wz[i] + x[i])) * w[i, j]
    }
    let exact = try LinearAlgebra.spectralRadius(of: explicit)
    #expect(try #require(rho.value).isApproximatelyEqual(to: exact, relativeTolerance: 1e-10))
  }

  @Test(
    "The IFR sample: a forward pass from PyTorch weights",
    .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
  func ifrSample() throws {
    // As in README.md, with the reference export's paths:
    let block = try IFRBlock<Double>(contentsOf: ReferenceData.url("block.safetensors"))
    let x: Tensor<Double> = try NPY.read(contentsOf: ReferenceData.url("x.npy"))  // [N, C, H, W]
    let refinement = ImplicitRefinement(block: block)  // Broyden, 15 + 15 iterations
    let forward = refinement.forward(x)  // H* per RoI, with traces
    #expect(forward.solutions.count == 2)
    #expect(forward.solutions.allSatisfy { $0.trace.count == 16 })
    // 15 Broyden steps land within the residual torchdeq reports after 15 steps.
    let expected = try TorchDEQTraces.load(form: "ifr_code")
    for (roi, solution) in forward.solutions.enumerated() {
      let last = try #require(expected.abs_trace[roi][15])
      #expect(
        solution.trace[15].absoluteResidual.isApproximatelyEqual(to: last, relativeTolerance: 1e-8))
    }
    // The analysis lines, with the checkpoint in a temporary folder.
    let checkpointURL = FileManager.default.temporaryDirectory.appendingPathComponent(
      "readme-\(UUID().uuidString).ckpt")
    defer { try? FileManager.default.removeItem(at: checkpointURL) }
    let analysis = ConvergenceAnalysis(
      block: block, injection: x, configuration: .init(steps: 2_000))
    let result = try analysis.run(checkpoint: AnalysisCheckpointing(url: checkpointURL))
    #expect(result.verdict.holds, "\(result.verdict.explanation)")
    #expect(result.verdict.explanation.count == 3)
    #expect(FileManager.default.fileExists(atPath: checkpointURL.path))
  }
}
