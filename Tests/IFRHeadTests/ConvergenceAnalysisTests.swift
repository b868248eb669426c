import Foundation
import IFRHead
import Synchronization
import Testing
import _DEQTestSupport

/// The Section 3.5 analysis as a library call: verdicts, the unrolled series against a
/// hand-written loop, warm-started spectra against LAPACK, and checkpoint/resume.
@Suite("ConvergenceAnalysis")
struct ConvergenceAnalysisTests {
  /// The `deq analyze` default: 2 RoIs of 8 × 6 × 6, seed 7.
  func smallProblem<S: DEQScalar>(
    form: IFRBlockForm = .ifrCode, seed: UInt64 = 7, as: S.Type = S.self
  )
    -> (IFRBlock<S>, Tensor<S>)
  {
    var generator = SeededGenerator(seed: seed)
    let block = IFRBlock<S>(channels: 8, groups: 4, form: form, using: &generator)
    let x = Tensor<S>(
      normalWithMean: 0, standardDeviation: 1, shape: [2, 8, 6, 6], using: &generator)
    return (block, x)
  }

  func temporaryURL(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "deq-analysis-\(UUID().uuidString)-\(name)")
  }

  @Test("the seeded default: ifr-code's claims hold, eq5's fail with the reason")
  func verdictsOnSeededProblem() throws {
    for form in [IFRBlockForm.ifrCode, .eq5] {
      let (block, x) = smallProblem(form: form, as: Double.self)
      let result = try ConvergenceAnalysis(
        block: block, injection: x, configuration: .init(steps: 600)
      ).run()
      #expect(result.rois.count == 2)
      if form == .ifrCode {
        #expect(result.verdict.holds, "\(result.verdict.explanation)")
        for roi in result.rois {
          #expect(roi.finalAdjacentDifference < 1e-13)
          #expect(roi.difference < 1e-8)
          #expect(roi.firstStepBelowOne == 1)
          // Dense (n = 288): the last sample against LAPACK on the assembled Jacobian.
          let last = try #require(roi.spectral.last)
          #expect(last.method == .dense && last.step == 600)
          let jacobian = try block.stateJacobian(
            at: roi.unrolledState, injection: x.sample(roi.index))
          let dense = try DenseSpectralAnalysis().spectralRadius(of: jacobian)
          #expect(abs(try #require(last.value) - Double(try #require(dense.value))) < 1e-12)
        }
      } else {
        #expect(!result.verdict.holds)
        #expect(!result.verdict.differencesVanish && !result.verdict.equilibriaAgree)
        #expect(result.verdict.explanation.contains { $0.hasPrefix("Why: eq5") })
      }
    }
  }

  @Test(
    "the PyTorch reference: ifr-code holds with spectral.json's radii, eq5 fails",
    .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
  func verdictsOnReference() throws {
    let x: Tensor<Double> = try NPY.read(contentsOf: ReferenceData.url("x.npy"))
    struct Spectral: Decodable { var ifr_code: [String: [String: Double]] }
    let spectral = try JSONDecoder().decode(
      Spectral.self, from: Data(contentsOf: ReferenceData.url("spectral.json")))
    for form in [IFRBlockForm.ifrCode, .eq5] {
      let block = try ReferenceFiles.block(form: form)
      let result = try ConvergenceAnalysis(
        block: block, injection: x,
        configuration: .init(steps: 600, spectralSchedule: .steps([0, 1, 2, 3, 4, 5, 600]))
      ).run()
      #expect(result.verdict.holds == (form == .ifrCode), "\(result.verdict.explanation)")
      guard form == .ifrCode else { continue }
      for roi in result.rois {
        let expected = try #require(spectral.ifr_code["roi\(roi.index)"])
        for step in 0...5 {
          let rho = try #require(roi.sample(atStep: step)?.value)
          #expect(rho.isApproximatelyEqual(to: expected["step\(step)"]!, relativeTolerance: 1e-9))
        }
        let last = try #require(roi.spectral.last?.value)
        #expect(last.isApproximatelyEqual(to: expected["hstar"]!, relativeTolerance: 1e-9))
      }
    }
  }

  @Test("the DocC article's example runs and prints what it says")
  func articleExample() throws {
    let article = try String(
      contentsOf: ReferenceData.packageRoot.appendingPathComponent(
        "Sources/IFRHead/IFRHead.docc/RunningTheAnalysis.md"), encoding: .utf8)
    // The copy below is the article's first sample; these lines keep the two in step.
    for line in [
      "let block = IFRBlock<Double>(channels: 8, groups: 4, using: &generator)",
      "block: block, injection: x, configuration: .init(steps: 2_000))",
      "let result = try analysis.run()",
      "// ρ at step 2,000: 0.8476, 0.7751",
    ] {
      #expect(article.contains(line), "\(line)")
    }
    var generator = SeededGenerator(seed: 7)
    let block = IFRBlock<Double>(channels: 8, groups: 4, using: &generator)
    let x = Tensor<Double>(
      normalWithMean: 0, standardDeviation: 1, shape: [2, 8, 6, 6], using: &generator)
    let analysis = ConvergenceAnalysis(
      block: block, injection: x, configuration: .init(steps: 2_000))
    let result = try analysis.run()
    #expect(result.verdict.holds)
    let radii = result.rois.map { $0.spectral.last?.value ?? .nan }
    #expect(abs(radii[0] - 0.8476) < 5e-5 && abs(radii[1] - 0.7751) < 5e-5, "\(radii)")
  }

  @Test("the series is the hand-written unrolled loop, bit for bit", arguments: [false, true])
  func seriesMatchesLoop(float: Bool) throws {
    if float { try check(Float.self) } else { try check(Double.self) }
    func check<S: DEQScalar>(_: S.Type) throws {
      let (block, x) = smallProblem(as: S.self)
      let steps = 400
      let result = try ConvergenceAnalysis(
        block: block, injection: x, configuration: .init(steps: steps, spectralSchedule: .steps([]))
      ).run()
      for roi in 0..<2 {
        let workspace = block.makeWorkspace(height: 6, width: 6)
        let xs = x.sample(roi)
        var h = Tensor<S>(zeros: [8, 6, 6])
        var expected: [Double] = []
        for _ in 0..<steps {
          let next = workspace.evaluate(state: h, injection: xs)
          expected.append(Double(next.distance(to: h)))
          h = next
        }
        let analysed = result.rois[roi]
        #expect(analysed.unrolledState == h)
        #expect(analysed.adjacentDifferences.count == steps)
        // The norms are computed by different code (BLAS nrm2 and Tensor.distance): equal
        // to rounding, and exactly zero at the same steps (a Float iteration that reaches
        // an exact fixed point stops early and fills in zeros).
        for (a, b) in zip(analysed.adjacentDifferences, expected) {
          #expect((a == 0) == (b == 0))
          #expect(abs(a - b) <= 1e-5 * Swift.max(b, 1e-30))
        }
      }
    }
  }

  @Test("warm-started Arnoldi agrees with LAPACK and costs fewer products near the equilibrium")
  func warmStartedArnoldi() throws {
    let (block, x) = smallProblem(as: Double.self)
    var configuration = ConvergenceAnalysis<Double>.Configuration(
      steps: 2_000, spectralMethod: .arnoldi(ArnoldiIteration()))
    configuration.workers = 1
    let warm = try ConvergenceAnalysis(block: block, injection: x, configuration: configuration)
      .run()
    configuration.warmStarts = false
    let cold = try ConvergenceAnalysis(block: block, injection: x, configuration: configuration)
      .run()
    #expect(warm.verdict.holds && cold.verdict.holds)
    for roi in 0..<2 {
      let samples = warm.rois[roi].spectral
      #expect(samples.map(\.step) == [0, 1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000])
      // Near the equilibrium the iterate hardly moves: every step from 100 on is warm.
      for sample in samples where sample.step >= 100 { #expect(sample.warmStarted) }
      #expect(samples.first?.warmStarted == false)
      for (w, c) in zip(samples, cold.rois[roi].spectral) {
        #expect(w.isReliable && c.isReliable)
        #expect(!c.warmStarted)
        // Both are Arnoldi values passing the same 1e-8 residual test; the dense value is
        // LAPACK on the assembled Jacobian at the same state.
        #expect(abs(try #require(w.value) - (try #require(c.value))) < 1e-7)
      }
      let warmProducts = samples.filter { $0.step >= 200 }.map(\.jacobianProducts)
      let coldProducts = cold.rois[roi].spectral.filter { $0.step >= 200 }.map(\.jacobianProducts)
      #expect(warmProducts.reduce(0, +) * 3 <= coldProducts.reduce(0, +))
      let confirmation = try #require(warm.rois[roi].coldConfirmation)
      #expect(confirmation.step == 2_000 && !confirmation.warmStarted && confirmation.isReliable)
      let dense = try DenseSpectralAnalysis().spectralRadius(
        of: try block.stateJacobian(at: warm.rois[roi].unrolledState, injection: x.sample(roi)))
      #expect(abs(try #require(samples.last?.value) - Double(try #require(dense.value))) < 1e-7)
    }
  }

  @Test("an interrupted run resumes from its checkpoint to exactly the uninterrupted result")
  func resumeIsExact() throws {
    let (block, x) = smallProblem(as: Double.self)
    let configuration = ConvergenceAnalysis<Double>.Configuration(
      steps: 3_000, spectralMethod: .arnoldi(ArnoldiIteration()), workers: 2)
    let analysis = ConvergenceAnalysis(block: block, injection: x, configuration: configuration)
    let whole = try analysis.run()

    let url = temporaryURL("resume.ckpt")
    defer { try? FileManager.default.removeItem(at: url) }
    let checkpoint = AnalysisCheckpointing(url: url, policy: .everySteps(250))
    // Stop after 1,700 polls (steps over both RoIs), then again after 1,700 more.
    for _ in 0..<2 {
      let polls = PollCounter()
      #expect(throws: ConvergenceAnalysisError.interrupted(checkpointWritten: true)) {
        try analysis.run(checkpoint: checkpoint, shouldStop: { polls.next() > 1_700 })
      }
    }
    let resumed = try analysis.run(checkpoint: checkpoint)
    #expect(resumed.resumed && !whole.resumed)
    #expect(resumed.verdict == whole.verdict)
    for (a, b) in zip(resumed.rois, whole.rois) {
      #expect(a.adjacentDifferences == b.adjacentDifferences)
      #expect(a.spectral == b.spectral)
      #expect(a.coldConfirmation == b.coldConfirmation)
      #expect(a.unrolledState == b.unrolledState)
      #expect(a.difference == b.difference)
    }
  }

  @Test("a checkpoint of another analysis is refused and left unchanged; a corrupt one is an error")
  func mismatchedCheckpoint() throws {
    let (block, x) = smallProblem(as: Double.self)
    let url = temporaryURL("mismatch.ckpt")
    defer { try? FileManager.default.removeItem(at: url) }
    let checkpoint = AnalysisCheckpointing(url: url, policy: .everySteps(100))
    _ = try ConvergenceAnalysis(block: block, injection: x, configuration: .init(steps: 300))
      .run(checkpoint: checkpoint)
    let written = try Data(contentsOf: url)

    let (_, otherX) = smallProblem(seed: 8, as: Double.self)
    let eq5 = block.with(form: .eq5)
    let cases: [(IFRBlock<Double>, Tensor<Double>, Int, String)] = [
      (block, otherX, 300, "injection X"), (eq5, x, 300, "block form"),
      (block, x, 301, "number of steps"),
    ]
    for (b, input, steps, what) in cases {
      do {
        _ = try ConvergenceAnalysis(block: b, injection: input, configuration: .init(steps: steps))
          .run(checkpoint: checkpoint)
        Issue.record("a mismatched checkpoint (\(what)) was accepted")
      } catch {
        guard case .checkpointMismatch(_, let reason) = error else {
          Issue.record("expected a mismatch, got \(error)")
          continue
        }
        #expect(reason.contains(what), "\(reason)")
      }
      #expect(try Data(contentsOf: url) == written)
    }
    let (floatBlock, floatX) = smallProblem(as: Float.self)
    #expect(throws: ConvergenceAnalysisError.self) {
      try ConvergenceAnalysis(
        block: floatBlock, injection: floatX, configuration: .init(steps: 300)
      )
      .run(checkpoint: checkpoint)
    }

    try written.prefix(written.count / 2).write(to: url)
    do {
      _ = try ConvergenceAnalysis(block: block, injection: x, configuration: .init(steps: 300))
        .run(checkpoint: checkpoint)
      Issue.record("a truncated checkpoint was accepted")
    } catch {
      guard case .unreadableCheckpoint = error else {
        Issue.record("expected unreadable, got \(error)")
        return
      }
    }
  }

  @Test("a state that overflows: the step is named, the claims fail, the checkpoint resumes")
  func overflow() throws {
    // eq5 has no fixed point and H grows by about X per step: with X near Float's range
    // the state overflows within a few steps.
    let (block, x) = smallProblem(form: .eq5, as: Float.self)
    let huge = x.scaled(by: 1e37)
    let url = temporaryURL("overflow.ckpt")
    defer { try? FileManager.default.removeItem(at: url) }
    let analysis = ConvergenceAnalysis(
      block: block, injection: huge, configuration: .init(steps: 50))
    let first = try analysis.run(
      checkpoint: AnalysisCheckpointing(url: url, policy: .everySteps(1)))
    #expect(!first.verdict.holds && !first.verdict.differencesVanish)
    for roi in first.rois {
      let step = try #require(roi.nonFiniteStep)
      #expect(step >= 1 && step < 50 && roi.steps == step)
      #expect(roi.adjacentDifferences.count == step && roi.finalAdjacentDifference.isNaN)
      #expect(roi.unrolledState.isFinite && roi.difference.isNaN)
      #expect(roi.spectral.allSatisfy { $0.step < step })
    }
    let again = try analysis.run(checkpoint: AnalysisCheckpointing(url: url))
    #expect(again.resumed && again.verdict == first.verdict)
    for (a, b) in zip(again.rois, first.rois) {
      #expect(a.nonFiniteStep == b.nonFiniteStep && a.spectral == b.spectral)
      #expect(a.adjacentDifferences.count == b.adjacentDifferences.count)
    }
  }

  @Test("bad configurations and problems are typed errors")
  func validation() throws {
    let (block, x) = smallProblem(as: Double.self)
    for configuration in [
      ConvergenceAnalysis<Double>.Configuration(steps: 0),
      .init(spectralSchedule: .every(0)), .init(vanishThreshold: .nan),
      .init(refineTolerance: -1), .init(workers: 0),
    ] {
      #expect(throws: ConvergenceAnalysisError.self) {
        try ConvergenceAnalysis(block: block, injection: x, configuration: configuration).run()
      }
    }
    let wrongChannels = Tensor<Double>(zeros: [1, 4, 6, 6])
    #expect(throws: ConvergenceAnalysisError.self) {
      try ConvergenceAnalysis(
        block: block, injection: wrongChannels, configuration: .init(steps: 5)
      )
      .run()
    }
    var nan = x
    nan.withUnsafeMutableBufferPointer { $0[3] = .nan }
    #expect(throws: ConvergenceAnalysisError.self) {
      try ConvergenceAnalysis(block: block, injection: nan, configuration: .init(steps: 5)).run()
    }
  }
}

/// Counts `shouldStop` polls.
final class PollCounter: Sendable {
  private let count = Atomic(0)
  func next() -> Int { count.add(1, ordering: .relaxed).newValue }
}
