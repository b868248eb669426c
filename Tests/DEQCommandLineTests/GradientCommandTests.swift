import DEQCore
import DEQSolvers
import Foundation
import IFRHead
import Testing
import _DEQTestSupport

@testable import DEQCommandLine

@Suite(
  "deq gradient: implicit gradients through the equilibria",
  .enabled(if: DEQExecutable.isAvailable, "the deq executable was not built"))
struct GradientCommandTests {
  /// Runs `deq gradient` on the fixture with `options`, and compares its files and JSON
  /// with `refinement` run in this process on the same block and X.
  func checkAgainstLibrary(
    options: [String], refinement: (IFRBlock<Double>) -> ImplicitRefinement<Double>,
    cotangentSeed: UInt64?
  ) throws {
    let fixture = try GradientFixture(batch: 2, seed: 11)
    defer { fixture.remove() }
    var cotangent: Tensor<Double>?
    var arguments =
      ["gradient"] + fixture.fileArguments + options + [
        "--format", "json", "--output-input-grad", fixture.path("dx.npy"),
        "--output-param-grad", fixture.path("dtheta.safetensors"),
      ]
    if let cotangentSeed {
      var rng = SeededGenerator(seed: cotangentSeed)
      let c = Tensor<Double>(
        normalWithMean: 0, standardDeviation: 1, shape: fixture.injection.shape, using: &rng)
      try NPY.write(c, to: URL(fileURLWithPath: fixture.path("c.npy")))
      arguments += ["--cotangent", fixture.path("c.npy")]
      cotangent = c
    }
    let result = try DEQExecutable.run(arguments)

    // The same computation in process, from the file the command read.
    let block = try IFRBlock<Double>(contentsOf: URL(fileURLWithPath: fixture.weightsPath))
    let module = refinement(block)
    let forward = module.forward(fixture.injection)
    let backward = module.backward(forward, cotangent: cotangent ?? forward.equilibrium)
    let converged =
      forward.solutions.allSatisfy(\.status.isConverged)
      && backward.adjointSolutions.allSatisfy(\.status.isConverged)
    #expect(result.exitCode == (converged ? 0 : 1), "\(result.standardError)")
    if !converged { #expect(result.standardError.contains("did not converge")) }

    let dx: Tensor<Double> = try NPY.read(contentsOf: URL(fileURLWithPath: fixture.path("dx.npy")))
    #expect(dx.shape == fixture.injection.shape)
    #expect(relativeError(dx, backward.injection) < 1e-12)
    #expect(backward.injection.norm() > 1e-3, "a vanishing ∂L/∂X would test nothing")

    let file = try SafeTensorsFile(
      contentsOf: URL(fileURLWithPath: fixture.path("dtheta.safetensors")))
    let expectedNames = backward.parameters.namedParameters.map(\.name)
    #expect(file.names == expectedNames.sorted())
    #expect(file.names == block.safeTensors.names, "the names the block was loaded with")
    #expect(file.names.contains("conv1.weight_g") && file.names.contains("conv2.weight_v"))
    for (name, expected) in backward.parameters.namedParameters {
      let written: Tensor<Double> = try file.tensor(named: name)
      #expect(written.shape == expected.shape, "\(name)")
      #expect(written.shape == block.stateDictionary[name]?.shape, "\(name)")
      #expect(relativeError(written, expected) < 1e-12, "\(name)")
    }

    let document = try Emitter.jsonDecoder.decode(
      Reports.GradientDocument.self, from: Data(result.standardOutput.utf8))
    #expect(document.command == "gradient")
    #expect(document.status == (converged ? "converged" : "notConverged"))
    #expect(document.cotangent == (cotangentSeed == nil ? "H*" : fixture.path("c.npy")))
    if cotangentSeed == nil {
      let hStar = forward.equilibrium
      let loss = try #require(document.loss)
      #expect(loss.isApproximatelyEqual(to: 0.5 * hStar.dot(hStar), relativeTolerance: 1e-12))
    } else {
      #expect(document.loss == nil)
    }
    #expect(
      document.inputGradientNorm.isApproximatelyEqual(
        to: backward.injection.norm(), relativeTolerance: 1e-12))
    let parameterNorm = backward.parameters.parameterVector.norm()
    #expect(
      document.parameterGradientNorm.isApproximatelyEqual(
        to: parameterNorm, relativeTolerance: 1e-12))
    #expect(document.parameterGradients.map(\.name) == expectedNames)
    #expect(document.problems.count == 2)
    for (roi, problem) in document.problems.enumerated() {
      #expect(problem.index == roi)
      let passes = [
        (problem.forward, forward.solutions[roi]),
        (problem.backward, backward.adjointSolutions[roi]),
      ]
      for (report, solution) in passes {
        #expect(report.status == solution.status.rawValue)
        #expect(report.iterations == solution.iterations)
        #expect(report.mapEvaluations == solution.mapEvaluations)
        #expect(report.jacobianProducts == solution.jacobianProducts)
        #expect(report.trace.count == solution.trace.count)
        for (entry, expected) in zip(report.trace, solution.trace) {
          #expect(entry.iteration == expected.iteration)
          #expect(
            entry.absoluteResidual.isApproximatelyEqual(
              to: expected.absoluteResidual, relativeTolerance: 1e-12))
          #expect(entry.jacobianProducts == expected.jacobianProducts)
        }
      }
      #expect(
        problem.inputGradientNorm.isApproximatelyEqual(
          to: backward.injection.sample(roi).norm(), relativeTolerance: 1e-12))
    }
  }

  @Test("Defaults: Broyden 15 + 15, L = ½‖H*‖²; files and JSON equal ImplicitRefinement's")
  func defaultsMatchLibrary() throws {
    try checkAgainstLibrary(
      options: [],
      refinement: { block in
        ImplicitRefinement(
          block: block, forwardSolver: Broyden(),
          forwardStopping: StoppingCriteria(maxIterations: 15),
          backwardSolver: Broyden(), backwardStopping: .backward)
      }, cotangentSeed: nil)
  }

  @Test("--cotangent and the solver options reach ImplicitRefinement")
  func optionsAndCotangentMatchLibrary() throws {
    try checkAgainstLibrary(
      options: [
        "--solver", "anderson", "--memory", "4", "--max-iterations", "40", "--tolerance", "1e-9",
        "--tolerance-kind", "absolute", "--backward-solver", "picard", "--backward-iterations",
        "30", "--backward-tolerance", "1e-7",
      ],
      refinement: { block in
        ImplicitRefinement(
          block: block, forwardSolver: Anderson(memory: 4),
          forwardStopping: StoppingCriteria(tolerance: .absolute(1e-9), maxIterations: 40),
          backwardSolver: Picard(),
          backwardStopping: StoppingCriteria(
            tolerance: .both(absolute: 1e-7, relative: 1e-7), maxIterations: 30, stall: nil))
      }, cotangentSeed: 12)
  }

  @Test(
    "Newton–Krylov forward and a GMRES or BiCGStab adjoint reach ImplicitRefinement",
    arguments: ["gmres", "bicgstab"])
  func krylovMatchesLibrary(backward: String) throws {
    try checkAgainstLibrary(
      options: [
        "--solver", "newton-krylov", "--max-iterations", "30", "--tolerance", "1e-10",
        "--backward-solver", backward, "--backward-iterations", "60", "--backward-tolerance",
        "1e-10",
      ],
      refinement: { block in
        ImplicitRefinement(
          block: block, forwardSolver: NewtonKrylov(),
          forwardStopping: StoppingCriteria(
            tolerance: .both(absolute: 1e-10, relative: 1e-10), maxIterations: 30),
          backwardSolver: backward == "gmres"
            ? AlgorithmKind.gmres(GMRES()) : .bicgstab(BiCGStab()),
          backwardStopping: StoppingCriteria(
            tolerance: .both(absolute: 1e-10, relative: 1e-10), maxIterations: 60, stall: nil))
      }, cotangentSeed: 13)
  }

  @Test("∂L/∂X of L = ½‖H*‖² agrees with central differences of solves along a random direction")
  func finiteDifferences() throws {
    let fixture = try GradientFixture(batch: 1, seed: 21)
    defer { fixture.remove() }
    let tight = ["--tolerance", "1e-12", "--max-iterations", "300"]
    let result = try DEQExecutable.run(
      ["gradient"] + fixture.fileArguments + tight + [
        "--backward-tolerance", "1e-12", "--backward-iterations", "300",
        "--output-input-grad", fixture.path("dx.npy"),
      ])
    #expect(result.exitCode == 0, "\(result.standardError)")
    let gradient: Tensor<Double> = try NPY.read(
      contentsOf: URL(fileURLWithPath: fixture.path("dx.npy")))

    var rng = SeededGenerator(seed: 22)
    let direction = Tensor<Double>(
      normalWithMean: 0, standardDeviation: 1, shape: fixture.injection.shape, using: &rng)
    /// L(X + t·d) = ½‖H*(X + t·d)‖², H* from `deq solve --save-state` to 1e-12.
    func loss(_ t: Double, _ name: String) throws -> Double {
      let x = fixture.injection.adding(direction, scaledBy: t)
      try NPY.write(x, to: URL(fileURLWithPath: fixture.path("\(name).npy")))
      let solve = try DEQExecutable.run(
        [
          "solve", "--weights", fixture.weightsPath, "--input", fixture.path("\(name).npy"),
          "--save-state", fixture.path("\(name)-h.npy"), "--quiet",
        ] + tight)
      #expect(solve.exitCode == 0, "\(solve.standardError)")
      let h: Tensor<Double> = try NPY.read(
        contentsOf: URL(fileURLWithPath: fixture.path("\(name)-h.npy")))
      return 0.5 * h.dot(h)
    }
    // Richardson's combination of central differences at h and 2h: error O(h⁴), so that
    // the solves' 1e-12 residuals, not the truncation, set the error (about 1e-9 here).
    let h = 3e-4
    let central1 = (try loss(h, "p1") - loss(-h, "m1")) / (2 * h)
    let central2 = (try loss(2 * h, "p2") - loss(-2 * h, "m2")) / (4 * h)
    let finiteDifference = (4 * central1 - central2) / 3
    let analytic = gradient.dot(direction)
    #expect(abs(analytic) > 0.1, "the directional derivative should be of order one")
    #expect(
      analytic.isApproximatelyEqual(to: finiteDifference, relativeTolerance: 1e-6),
      """
      ∂L/∂X·d = \(analytic), finite differences \(finiteDifference) (central at h: \(central1),       at 2h: \(central2); if only the 2h one is off, a ReLU kink lies inside the stencil)
      """)
  }

  @Test("Bad flags exit 64 with one line naming the flag; outputs never overwrite inputs")
  func usageErrors() throws {
    let fixture = try GradientFixture(batch: 1, seed: 31)
    defer { fixture.remove() }
    let cases: [([String], String)] = [
      (["--backward-solver", "newton"], "--backward-solver"),
      (["--backward-iterations", "-2"], "--backward-iterations"),
      (["--backward-tolerance", "nan"], "--backward-tolerance"),
      (["--max-iterations", "-1"], "--max-iterations"),
      (["--output-input-grad", fixture.inputPath], "--output-input-grad"),
      (["--output-param-grad", fixture.weightsPath], "--output-param-grad"),
      (
        ["--cotangent", fixture.path("c.npy"), "--output-input-grad", fixture.path("c.npy")],
        "--output-input-grad"
      ),
      (
        ["--output-input-grad", fixture.path("g"), "--output-param-grad", fixture.path("g")],
        "--output-param-grad"
      ),
    ]
    try NPY.write(fixture.injection, to: URL(fileURLWithPath: fixture.path("c.npy")))
    let before = try Data(contentsOf: URL(fileURLWithPath: fixture.inputPath))
    for (options, flag) in cases {
      let result = try DEQExecutable.run(["gradient"] + fixture.fileArguments + options)
      #expect(result.exitCode == 64, "\(options): \(result.standardError)")
      let lines = result.standardError.split(separator: "\n")
      #expect(lines.count == 1, "\(options): \(result.standardError)")
      #expect(lines.first?.contains(flag) == true, "\(options): \(result.standardError)")
      #expect(result.standardOutput.isEmpty)
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.inputPath)) == before)
    #expect(!FileManager.default.fileExists(atPath: fixture.path("g")))
  }

  @Test("A cotangent that is missing, corrupt, mis-shaped or NaN exits 65, naming the file")
  func cotangentErrors() throws {
    let fixture = try GradientFixture(batch: 2, seed: 41)
    defer { fixture.remove() }
    let corrupt = fixture.path("corrupt.npy")
    try Data([0x93, 0x4E, 0x55, 0x4D, 1, 2, 3]).write(to: URL(fileURLWithPath: corrupt))
    let wrongShape = fixture.path("wrong-shape.npy")
    try NPY.write(Tensor<Double>(zeros: [1, 8, 5, 5]), to: URL(fileURLWithPath: wrongShape))
    let wrongRank = fixture.path("wrong-rank.npy")
    try NPY.write(Tensor<Double>(zeros: [2, 8, 25]), to: URL(fileURLWithPath: wrongRank))
    var nan = Tensor<Double>(zeros: fixture.injection.shape)
    nan[1, 2, 3, 4] = .nan
    let nanPath = fixture.path("nan.npy")
    try NPY.write(nan, to: URL(fileURLWithPath: nanPath))
    let cases = [
      (fixture.path("missing.npy"), "No such file"), (corrupt, "corrupt.npy"),
      (wrongShape, "shape [1, 8, 5, 5]"), (wrongRank, "[N, C, H, W]"), (nanPath, "NaN"),
    ]
    for (path, message) in cases {
      let result = try DEQExecutable.run(
        ["gradient"] + fixture.fileArguments + [
          "--cotangent", path, "--output-input-grad", fixture.path("dx.npy"),
        ])
      #expect(result.exitCode == 65, "\(path): \(result.standardError)")
      #expect(result.standardError.contains(path), "\(result.standardError)")
      #expect(result.standardError.contains(message), "\(result.standardError)")
      #expect(!FileManager.default.fileExists(atPath: fixture.path("dx.npy")))
    }
  }

  @Test("An output that cannot be written exits 73, naming it")
  func unwritableOutputs() throws {
    let fixture = try GradientFixture(batch: 1, seed: 51)
    defer { fixture.remove() }
    for flag in ["--output-input-grad", "--output-param-grad", "--output"] {
      let path = fixture.path("no/such/folder/out")
      let result = try DEQExecutable.run(["gradient"] + fixture.fileArguments + [flag, path])
      #expect(result.exitCode == 73, "\(flag): \(result.standardError)")
      #expect(result.standardError.contains(path), "\(result.standardError)")
    }
  }

  @Test("CSV has both traces of every RoI; the table shows both solves within 100 columns")
  func csvAndTable() throws {
    let csv = try DEQExecutable.run(["gradient", "--format", "csv", "--quiet"])
    #expect(csv.exitCode == 1)  // 15 Broyden steps do not reach 1e-6 on the default problem
    #expect(csv.standardOutput.hasPrefix(GradientReporting.csvHeader + "\n"))
    let rows = csv.standardOutput.split(separator: "\n").dropFirst()
    #expect(rows.count == 2 * (16 + 16))
    #expect(rows.filter { $0.hasPrefix("1,backward,") }.count == 16)
    #expect(csv.standardError.contains("did not converge"))

    let table = try DEQExecutable.run(["gradient", "--quiet"])
    #expect(table.exitCode == 1)
    #expect(table.standardOutput.contains("RoI 1 backward (adjoint): "))
    #expect(table.standardOutput.contains("conv1.weight_g"))
    #expect(table.standardOutput.split(separator: "\n").allSatisfy { $0.count <= 100 })
  }
}
