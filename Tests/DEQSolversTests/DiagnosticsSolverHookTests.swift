import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: spectral radius recorded in solver traces")
struct DiagnosticsSolverHookTests {
  /// `f(z) = A·z + b` with `A` the 0.725 rotation-pair matrix: `∂f/∂z = A` everywhere.
  static let case_ = KnownSpectrum.rotation(order: 40)

  static func problem() -> FixedPointProblem<[Double]> {
    let a = case_
    return FixedPointProblem(start: [Double](repeating: 0, count: a.order)) { z in
      a.apply(z).adding([Double](repeating: 1, count: a.order))
    }
  }

  @Test("exact JVP operators: dense records at every 4th step match ρ(A)")
  func exactOperators() throws {
    let a = Self.case_
    let hook = StepDiagnostics<[Double]>.spectralRadius(schedule: .every(4)) { z in
      try JacobianOperator(at: z, jvp: { a.apply($0) })
    }
    let solution = solve(Self.problem(), using: Picard(), diagnostics: hook)
    let records = solution.trace.compactMap(\.spectralRadius)
    try #require(!records.isEmpty)
    for record in records {
      #expect(record.method == .dense && record.failure == nil)
      #expect(record.isReliable)
      #expect(abs(record.value - a.spectralRadius) <= 1e-10)
    }
  }

  @Test("finite differences of the map with Arnoldi, at chosen steps")
  func finiteDifferenceArnoldi() throws {
    let a = Self.case_
    let map: @Sendable ([Double]) -> [Double] = { z in
      a.apply(z).adding([Double](repeating: 1, count: a.order))
    }
    let hook = StepDiagnostics<[Double]>.spectralRadius(
      of: map, schedule: .iterations([0, 3]), method: .arnoldi(ArnoldiIteration(tolerance: 1e-8)))
    let solution = solve(Self.problem(), using: Anderson(), diagnostics: hook)
    let records = solution.trace.compactMap(\.spectralRadius)
    try #require(records.count == 2)
    for record in records {
      #expect(record.method == .arnoldi && record.failure == nil)
      #expect(record.isReliable)
      #expect(abs(record.value - a.spectralRadius) <= 1e-7)
    }
  }

  @Test("power iteration on a complex pair and a failing diagnostic are recorded as unreliable")
  func unreliableRecords() throws {
    let a = Self.case_
    let power = StepDiagnostics<[Double]>.spectralRadius(
      schedule: .iterations([1]), method: .powerIteration()
    ) { z in try JacobianOperator(at: z, jvp: { a.apply($0) }) }
    let first = solve(Self.problem(), using: Picard(), diagnostics: power)
    let record = try #require(first.trace.compactMap(\.spectralRadius).first)
    #expect(record.method == .powerIteration && !record.isReliable && record.value.isNaN)
    #expect(record.failure == nil)  // untrustworthy, not failed: the pair is a result

    let failing = StepDiagnostics<[Double]>.spectralRadius(schedule: .iterations([1])) { z in
      try JacobianOperator(at: z, jvp: { $0.map { _ in .nan } })
    }
    let second = solve(Self.problem(), using: Picard(), diagnostics: failing)
    let failed = try #require(second.trace.compactMap(\.spectralRadius).first)
    #expect(!failed.isReliable && failed.value.isNaN)
    #expect(failed.method == .dense)
    // Product 1 is the first column of the dense assembly.
    #expect(failed.failure == .nonFiniteProduct(product: 1))

    struct Unavailable: Error, CustomStringConvertible {
      var description: String { "no weights loaded" }
    }
    let throwing = StepDiagnostics<[Double]>.spectralRadius(
      schedule: .iterations([0]), method: .arnoldi()
    ) { (_: [Double]) throws -> JacobianOperator<[Double]> in throw Unavailable() }
    let third = solve(Self.problem(), using: Picard(), diagnostics: throwing)
    let unavailable = try #require(third.trace.first?.spectralRadius)
    #expect(unavailable.method == .arnoldi && !unavailable.isReliable && unavailable.value.isNaN)
    #expect(unavailable.failure == .jacobianUnavailable(reason: "no weights loaded"))
  }
}
