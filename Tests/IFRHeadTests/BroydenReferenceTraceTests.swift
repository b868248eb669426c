import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// torchdeq's 15-step Broyden traces on the reference block (`torchdeq.json`).
@Suite(
  "Broyden vs torchdeq's broyden on the reference block",
  .enabled(if: ReferenceData.isAvailable, Comment(rawValue: ReferenceData.skipMessage)))
struct BroydenReferenceTraceTests {
  static func traces(_ form: IFRBlockForm) throws -> TorchDEQTraces {
    try TorchDEQTraces.load(form: form.referenceName)
  }

  // The reference README expects ~1e-9 agreement in float64 over 15 steps (rounding
  // differences grow with the steps); the bar is 1e-8 at every entry.
  @Test(
    "per-RoI absolute and relative residual traces match torchdeq to 1e-8",
    arguments: [IFRBlockForm.ifrCode, .xshort])
  func matchesTorchdeq(_ form: IFRBlockForm) throws {
    let reference = try Self.traces(form)
    let block = try ReferenceFiles.block(form: form)
    let x = try ReferenceFiles.npy("x.npy")
    let roiShape = [1] + x.shape.dropFirst()
    for roi in 0..<x.shape[0] {
      let injection = try x.sample(roi).reshaped(to: roiShape)
      let problem = FixedPointProblem(start: Tensor<Double>(zeros: roiShape)) { h in
        block(h, injection: injection)
      }
      let solution = solve(
        problem, using: Broyden(memory: 15),
        stopping: StoppingCriteria(
          tolerance: .absolute(0), maxIterations: 15, stall: nil, divergenceFactor: nil))
      #expect(solution.trace.count == 16)
      #expect(solution.historyRestarts == 0)
      for k in 0...15 {
        let ours = solution.trace[k]
        let absolute = try #require(reference.abs_trace[roi][k])
        let relative = try #require(reference.rel_trace[roi][k])
        #expect(
          ours.absoluteResidual.isApproximatelyEqual(
            to: absolute, relativeTolerance: 1e-8),
          "\(form) RoI \(roi) step \(k): \(ours.absoluteResidual) vs \(reference.abs_trace[roi][k])"
        )
        #expect(
          ours.relativeResidual.isApproximatelyEqual(
            to: relative, relativeTolerance: 1e-8),
          "\(form) RoI \(roi) step \(k) (relative)")
      }
    }
  }

  // eq5 has no fixed point: whatever torchdeq's trace does, ours must not call it converged.
  @Test("eq5 is never reported converged")
  func eq5NotConverged() throws {
    let block = try ReferenceFiles.block(form: .eq5)
    let x = try ReferenceFiles.npy("x.npy")
    let roiShape = [1] + x.shape.dropFirst()
    for roi in 0..<x.shape[0] {
      let injection = try x.sample(roi).reshaped(to: roiShape)
      let problem = FixedPointProblem(start: Tensor<Double>(zeros: roiShape)) { h in
        block(h, injection: injection)
      }
      for algorithm in [AlgorithmKind.broyden(Broyden()), .anderson(Anderson())] {
        let solution = solve(
          problem, using: algorithm, stopping: StoppingCriteria(maxIterations: 200))
        #expect(solution.status != .converged, "RoI \(roi) \(algorithm.name): \(solution.status)")
      }
    }
  }
}
