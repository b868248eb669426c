import DEQCore
import Foundation
import Testing
import _DEQTestSupport

@testable import DEQCommandLine

#if canImport(FoundationXML)
  import FoundationXML
#endif

private let reference = ReferenceData.directory.path

@Suite(
  "deq end to end on the PyTorch reference problem",
  .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)),
  .enabled(if: DEQExecutable.isAvailable, "the deq executable was not built"))
struct ReferenceEndToEndTests {
  let files = ["--weights", "\(reference)/block.safetensors", "--input", "\(reference)/x.npy"]
  var problemArguments: [String] { files + ["--quiet"] }

  @Test("solve reproduces torchdeq's Broyden traces", arguments: ["ifr_code", "xshort"])
  func solveMatchesTorchDEQ(form: String) throws {
    let cliForm = form == "ifr_code" ? "ifr-code" : form
    let result = try DEQExecutable.run(
      ["solve"] + problemArguments + [
        "--form", cliForm, "--format", "json", "--tolerance", "1e-14",
      ])
    // 15 iterations do not reach 1e-14: exit code 1, the documented "did not converge".
    #expect(result.exitCode == 1, "\(result.standardError)")
    let document = try Emitter.jsonDecoder.decode(
      Reports.SolveDocument.self, from: Data(result.standardOutput.utf8))
    #expect(document.status == "notConverged")
    // Where the time went: the solve splits into F and the solvers' own time.
    let timing = try #require(document.timing)
    #expect(timing.setupSeconds >= 0 && timing.mapSeconds > 0 && timing.solverSeconds >= 0)
    #expect(
      abs(timing.solveSeconds - timing.mapSeconds - timing.solverSeconds) <= 1e-9,
      "\(timing)")
    let expected = try TorchDEQTraces.load(form: form)
    #expect(document.problems.count == 2)
    for (roi, problem) in document.problems.enumerated() {
      #expect(problem.trace.count == 16)
      #expect(problem.status == "maxIterations")
      for (k, entry) in problem.trace.enumerated() {
        #expect(entry.iteration == k)
        #expect(
          entry.absoluteResidual.isApproximatelyEqual(
            to: try #require(expected.abs_trace[roi][k]), relativeTolerance: 1e-8),
          "RoI \(roi) step \(k): \(entry.absoluteResidual) vs \(String(describing: expected.abs_trace[roi][k]))"
        )
        #expect(
          entry.relativeResidual.isApproximatelyEqual(
            to: try #require(expected.rel_trace[roi][k]), relativeTolerance: 1e-8))
      }
    }
  }

  @Test("apply reproduces PyTorch's F", arguments: ["ifr_code", "xshort", "eq5"])
  func applyMatchesPyTorch(form: String) throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let cliForm = form == "ifr_code" ? "ifr-code" : form
    for (state, suffix) in [("\(reference)/h_test.npy", "h_test"), (nil, "zeros")] {
      let out = folder.appendingPathComponent("f_\(suffix).npy").path
      let result = try DEQExecutable.run(
        ["apply"] + files + ["--form", cliForm, "--output", out]
          + (state.map { ["--state", $0] } ?? []))
      #expect(result.exitCode == 0, "\(result.standardError)")
      let ours: Tensor<Double> = try NPY.read(contentsOf: URL(fileURLWithPath: out))
      let theirs: Tensor<Double> = try NPY.read(
        contentsOf: ReferenceData.url("f_\(form)_\(suffix).npy"))
      #expect(relativeError(ours, theirs) < 1e-12, "\(form) at \(suffix)")
    }
  }

  @Test("analyze confirms Section 3.5 for ifr-code, with spectral radii as PyTorch's")
  func analyzeIFRCode() throws {
    let result = try DEQExecutable.run(
      ["analyze"] + problemArguments + ["--steps", "2000", "--format", "json"])
    #expect(result.exitCode == 0, "\(result.standardError)")
    let document = try Emitter.jsonDecoder.decode(
      Reports.AnalysisDocument.self, from: Data(result.standardOutput.utf8))
    #expect(document.status == "claimsHold")
    #expect(document.verdict.differencesVanish)
    #expect(document.verdict.spectralRadiusBelowOne)
    #expect(document.verdict.equilibriaAgree)
    #expect(document.verdict.firstStepBelowOne == 1)
    struct Spectral: Decodable { var ifr_code: [String: [String: Double]] }
    let spectral = try JSONDecoder().decode(
      Spectral.self, from: Data(contentsOf: ReferenceData.url("spectral.json")))
    let hStar: Tensor<Double> = try NPY.read(contentsOf: ReferenceData.url("h_star_ifr_code.npy"))
    for problem in document.problems {
      #expect(problem.unrolled.trace.count == 2001)
      #expect(problem.unrolled.finalAdjacentDifference < 1e-13)
      #expect(problem.difference < 1e-8)
      let expected = try #require(spectral.ifr_code["roi\(problem.index)"])
      for step in 0...5 {
        let rho = try #require(problem.unrolled.trace[step].spectralRadius)
        #expect(rho.isApproximatelyEqual(to: expected["step\(step)"]!, relativeTolerance: 1e-9))
      }
      let last = try #require(problem.unrolled.trace.last?.spectralRadius)
      #expect(last.isApproximatelyEqual(to: expected["hstar"]!, relativeTolerance: 1e-9))
      #expect(problem.broyden.trace.count == 16)
      _ = hStar
    }
  }

  @Test("analyze reports that eq5's claims fail, and exits 1")
  func analyzeEq5() throws {
    let result = try DEQExecutable.run(
      ["analyze"] + problemArguments + ["--form", "eq5", "--steps", "500", "--format", "json"])
    #expect(result.exitCode == 1)
    let document = try Emitter.jsonDecoder.decode(
      Reports.AnalysisDocument.self, from: Data(result.standardOutput.utf8))
    #expect(document.status == "claimsFail")
    #expect(!document.verdict.differencesVanish)
    #expect(!document.verdict.equilibriaAgree)
    #expect(document.verdict.explanation.contains { $0.contains("no fixed point") })
    for problem in document.problems {
      #expect(problem.broydenRefined.converged == false)
    }
  }
}

@Suite(
  "deq output, files and exit codes",
  .enabled(if: DEQExecutable.isAvailable, "the deq executable was not built"))
struct OutputTests {
  @Test("params JSON decodes with the schema; IFR and Table 9 counts come from IFRHead")
  func params() throws {
    let result = try DEQExecutable.run(["params", "--format", "json"])
    #expect(result.exitCode == 0)
    let document = try Emitter.jsonDecoder.decode(
      Reports.ParamsDocument.self, from: Data(result.standardOutput.utf8))
    let ifr = try #require(document.heads.first { $0.name == "ifr" })
    let explicit = try #require(document.heads.first { $0.name == "explicit-4-blocks" })
    #expect((Double(ifr.parameters) / 1e6).rounded(toPlaces: 1) == 1.5)
    #expect((Double(explicit.parameters) / 1e6).rounded(toPlaces: 1) == 5.0)
    let widths = document.heads.filter { $0.name.hasPrefix("ifr-inner-") }
    #expect(widths.map(\.innerChannels) == [32, 64, 128, 256, 512])
    #expect(
      widths.map { (Double($0.parameters) / 1e6).rounded(toPlaces: 1) } == [
        0.4, 0.6, 0.9, 1.5, 2.6,
      ])
  }

  @Test("spectrum at the equilibrium agrees in float and double (each solved to its own floor)")
  func spectrumPrecisions() throws {
    var radii: [String: [Double]] = [:]
    for precision in ["double", "float"] {
      let result = try DEQExecutable.run(
        ["spectrum", "--precision", precision, "--format", "json", "--quiet"])
      #expect(result.exitCode == 0, "\(precision): \(result.standardError)")
      let document = try Emitter.jsonDecoder.decode(
        Reports.SpectrumDocument.self, from: Data(result.standardOutput.utf8))
      #expect(document.status == "ok")
      radii[precision] = document.problems.map(\.spectralRadius)
    }
    let double = try #require(radii["double"])
    let float = try #require(radii["float"])
    #expect(double.count == 2 && float.count == 2)
    for (d, f) in zip(double, float) {
      // Float's equilibrium is solved to 1e-5, and ρ is Lipschitz in H: agreement to 1e-5.
      #expect(f.isApproximatelyEqual(to: d, relativeTolerance: 1e-5))
    }
  }

  @Test("CSV outputs start with their documented headers")
  func csvHeaders() throws {
    let solve = try DEQExecutable.run(["solve", "--format", "csv", "--quiet"])
    #expect(solve.standardOutput.hasPrefix(SolveReporting.csvHeader + "\n"))
    #expect(solve.standardOutput.split(separator: "\n").count == 1 + 2 * 16)
    let analyze = try DEQExecutable.run(["analyze", "--steps", "50", "--format", "csv", "--quiet"])
    #expect(analyze.standardOutput.hasPrefix(Analyze.csvHeader + "\n"))
    #expect(analyze.standardOutput.split(separator: "\n").count == 1 + 2 * 51)
    let params = try DEQExecutable.run(["params", "--format", "csv"])
    #expect(params.standardOutput.hasPrefix("name,innerChannels,parameters\n"))
  }

  @Test("The solve table shows each RoI's status and trace, within 100 columns")
  func solveTable() throws {
    let result = try DEQExecutable.run(["solve", "--spectral-every", "5", "--quiet"])
    #expect(result.exitCode == 1)  // 15 Broyden steps do not reach 1e-6 here
    #expect(result.standardOutput.contains("RoI 0: maxIterations after 15 iterations"))
    #expect(result.standardOutput.contains("ρ(∂F/∂H)"))
    #expect(result.standardOutput.contains("\ntime: set-up "))
    #expect(result.standardOutput.split(separator: "\n").allSatisfy { $0.count <= 100 })
    #expect(result.standardError.isEmpty)
  }

  @Test("Usage errors exit 64 with one line naming the flag")
  func usageExit() throws {
    let result = try DEQExecutable.run(["solve", "--max-iterations", "-3"])
    #expect(result.exitCode == 64)
    let lines = result.standardError.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(lines.first?.contains("--max-iterations") == true)
    #expect(result.standardOutput.isEmpty)
  }

  @Test("Unreadable and invalid input files exit 65, naming the file")
  func inputErrors() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let missing = folder.appendingPathComponent("missing.npy").path
    var result = try DEQExecutable.run(["solve", "--input", missing])
    #expect(result.exitCode == 65)
    #expect(result.standardError.contains(missing))

    let corrupt = folder.appendingPathComponent("corrupt.safetensors")
    try Data([1, 2, 3, 4, 5]).write(to: corrupt)
    result = try DEQExecutable.run(["solve", "--weights", corrupt.path])
    #expect(result.exitCode == 65)
    #expect(result.standardError.contains(corrupt.path))

    let wrongRank = folder.appendingPathComponent("rank2.npy")
    try NPY.write(Tensor<Double>(zeros: [3, 4]), to: wrongRank)
    result = try DEQExecutable.run(["solve", "--input", wrongRank.path])
    #expect(result.exitCode == 65)
    #expect(result.standardError.contains("[N, C, H, W]"))

    var nan = Tensor<Double>(zeros: [1, 8, 4, 4])
    nan[0, 1, 2, 3] = .nan
    let nanFile = folder.appendingPathComponent("nan.npy")
    try NPY.write(nan, to: nanFile)
    result = try DEQExecutable.run(["solve", "--input", nanFile.path])
    #expect(result.exitCode == 65)
    #expect(result.standardError.contains("NaN"))
  }

  @Test("Outputs are written whole; inputs are never overwritten")
  func atomicWrites() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("x.npy")
    var rng = SeededGenerator(seed: 3)
    try NPY.write(
      Tensor<Double>(normalWithMean: 0, standardDeviation: 1, shape: [1, 8, 4, 4], using: &rng),
      to: input)
    let before = try Data(contentsOf: input)
    // Writing over the input is refused before any work, and the input is unchanged.
    var result = try DEQExecutable.run(["apply", "--input", input.path, "--output", input.path])
    #expect(result.exitCode == 64)
    #expect(try Data(contentsOf: input) == before)
    result = try DEQExecutable.run(
      ["solve", "--input", input.path, "--save-state", input.path, "--quiet"])
    #expect(result.exitCode == 64)
    #expect(try Data(contentsOf: input) == before)

    // A successful write replaces an existing file whole and leaves no temporary file.
    let output = folder.appendingPathComponent("trace.json")
    try Data("old".utf8).write(to: output)
    result = try DEQExecutable.run(
      ["solve", "--input", input.path, "--format", "json", "--output", output.path, "--quiet"])
    #expect(result.exitCode == 0 || result.exitCode == 1)
    #expect(result.standardOutput.isEmpty)
    let document = try Emitter.jsonDecoder.decode(
      Reports.SolveDocument.self, from: Data(contentsOf: output))
    #expect(document.problems.count == 1)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(Set(leftovers) == ["x.npy", "trace.json"])

    // An output into a folder that does not exist: exit 73, nothing else written.
    result = try DEQExecutable.run(
      ["params", "--output", folder.appendingPathComponent("no/such/dir/p.txt").path])
    #expect(result.exitCode == 73)
  }

  @Test("The SVG plot is well-formed XML with one curve per RoI and labelled axes")
  func svgPlot() throws {
    let folder = try makeTemporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let plot = folder.appendingPathComponent("a.svg")
    let result = try DEQExecutable.run([
      "analyze", "--steps", "300", "--plot", plot.path, "--quiet",
    ])
    #expect(result.exitCode == 0, "\(result.standardError)")
    let svg = try String(contentsOf: plot, encoding: .utf8)
    final class Counter: NSObject, XMLParserDelegate {
      var paths = 0
      var texts: [String] = []
      var current = ""
      func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
        qualifiedName: String?, attributes: [String: String] = [:]
      ) {
        if name == "path" { paths += 1 }
        current = ""
      }
      func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
      func parser(
        _ parser: XMLParser, didEndElement name: String, namespaceURI: String?,
        qualifiedName: String?
      ) {
        if name == "text" { texts.append(current) }
      }
    }
    let parser = XMLParser(data: Data(svg.utf8))
    let counter = Counter()
    parser.delegate = counter
    #expect(parser.parse(), "the SVG is not well-formed XML")
    #expect(counter.paths == 4)  // two RoIs × (differences, spectral radius)
    #expect(counter.texts.contains("step i (log scale)"))
    #expect(counter.texts.contains { $0.contains("spectral radius") })
    #expect(counter.texts.contains("RoI 1"))
  }
}

extension Double {
  fileprivate func rounded(toPlaces places: Int) -> Double {
    let scale = Foundation.pow(10, Double(places))
    return (self * scale).rounded() / scale
  }
}
