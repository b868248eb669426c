import DEQSolvers
import Testing
import _DEQTestSupport

/// A nonlinear diagonal map f(z)ᵢ = aᵢ tanh(zᵢ) + bᵢ (aᵢ in [0, 0.9]): cheap at any size, and
/// curved enough that Broyden's pairs differ from step to step.
func tanhProblem<S: DEQScalar>(_: S.Type, size n: Int) -> FixedPointProblem<[S]> {
  let a = (0..<n).map { S(0.9 * Double(($0 &* 7919) % n) / Double(n)) }
  let b = (0..<n).map { S(Double.sin(Double($0))) }
  return FixedPointProblem(start: [S](repeating: 0, count: n)) { z, out in
    for i in 0..<n { out[i] = a[i] * S.tanh(z[i]) + b[i] }
  }
}

@Suite("Fused vector passes of the contiguous path against the generic composition")
struct FusedPassesTests {
  // Sizes: a tail of every length below eight lanes, one 4,096-column block of the history
  // product and a partial one, and a size below one block.
  @Test(
    "Broyden on contiguous vectors follows the generic path step for step",
    arguments: [37, 4096 + 1003],
    [
      Broyden(memory: 30), Broyden(memory: 4, memoryPolicy: .restart),
      Broyden(memory: 3, memoryPolicy: .cyclic),
    ])
  func broydenMatchesGeneric(size: Int, algorithm: Broyden) {
    func check<S: DEQScalar>(_: S.Type, tolerance: Double) {
      let problem = tanhProblem(S.self, size: size)
      let fast = solve(problem, using: algorithm, stopping: exactly(12))
      let generic = solveGeneric(problem, using: algorithm, stopping: exactly(12))
      #expect(fast.trace.count == 13 && generic.trace.count == 13)
      #expect(fast.historyRestarts == generic.historyRestarts)
      // Only the summation order of norms, dot products and the history's products differ:
      // agreement to `tolerance`, down to the rounding floor of the map's values (ε·‖f‖).
      let floor = 64 * Double(S.ulpOfOne) * fast.trace[0].absoluteResidual
      func close(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= tolerance * abs(y) + floor }
      for (a, b) in zip(fast.trace, generic.trace) {
        #expect(
          close(a.absoluteResidual, b.absoluteResidual),
          "\(S.self) n = \(size) step \(a.iteration): \(a.absoluteResidual) vs \(b.absoluteResidual)"
        )
        #expect(close(a.stepNorm, b.stepNorm), "\(S.self) n = \(size) step \(a.iteration)")
      }
      let difference = zip(fast.lastIterate, generic.lastIterate).map { Double($0 - $1) }
      let scale = fast.lastIterate.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
      #expect(
        difference.map { $0 * $0 }.reduce(0, +).squareRoot() <= tolerance * scale + floor)
    }
    check(Double.self, tolerance: 1e-11)
    check(Float.self, tolerance: 1e-4)
  }

  @Test("A non-finite map value still ends the solve as non-finite")
  func nonFiniteMapValue() {
    let n = 1001
    var calls = 0
    let problem = FixedPointProblem<[Double]>(start: [Double](repeating: 0, count: n)) { z, out in
      calls += 1
      for i in 0..<n { out[i] = 0.5 * Double.tanh(z[i]) + 1 }
      if calls == 4 { out[n - 1] = .infinity }
    }
    let solution = solve(problem, using: Broyden(), stopping: exactly(10))
    #expect(solution.status == .nonFinite)
    #expect(solution.trace.last?.absoluteResidual.isNaN == true)
    #expect(solution.iterations == 3)
  }
}
