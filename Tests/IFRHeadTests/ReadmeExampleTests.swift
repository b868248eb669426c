import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// The code samples of README.md, compiled and checked, so that the README cannot rot.
@Suite("README samples")
struct ReadmeExampleTests {
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
  }
}
