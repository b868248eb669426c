import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: Jacobian operators over the flattening of a two-part state")
struct DiagnosticsFlatteningTests {
  /// 7 fine and 4 coarse unknowns: n = 11.
  static func problem<S: DEQScalar>(_: S.Type) -> (TwoScaleMap<S>, TwoScaleState<S>) {
    let map = TwoScaleMap<S>(fine: 7, coarse: 4, seed: TestSeeds.standard)
    let a: [S] = randomVector(count: 7, seed: TestSeeds.standard &+ 1)
    let b: [S] = randomVector(count: 4, seed: TestSeeds.standard &+ 2)
    return (map, TwoScaleState(a: a, b: b))
  }

  /// The largest entrywise difference of two tensors of one shape.
  static func maxDifference<S: DEQScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> S {
    zip(x.scalars, y.scalars).reduce(S(0)) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
  }

  @Test("assembled from state JVPs or VJPs, the flat operator is the hand-built Jacobian")
  func assembledMatchesHandBuilt() throws {
    let (map, z) = Self.problem(Double.self)
    let expected = map.denseJacobian(at: z)
    let fromJVP = try JacobianOperator(flattening: z, jvp: map.jvp(at: z))
    let fromVJP = try JacobianOperator(flattening: z, vjp: map.vjp(at: z))
    #expect(fromJVP.dimension == 11 && fromJVP.point == z.flattened())
    #expect(fromJVP.source == .exact)
    // Each entry is a short sum of products of O(1) numbers: rounding only.
    #expect(Self.maxDifference(try fromJVP.assembled(), expected) <= 1e-14)
    #expect(Self.maxDifference(try fromVJP.assembled(), expected) <= 1e-14)
  }

  @Test("dense eigenvalues of the flat operator are LAPACK's eigenvalues of the hand-built J")
  func denseSpectrumMatchesLAPACK() throws {
    let (map, z) = Self.problem(Double.self)
    var expected = try LinearAlgebra.eigenvalues(of: map.denseJacobian(at: z))
    expected.sort { ($0.length, $0.imaginary) > ($1.length, $1.imaginary) }
    let jacobian = try JacobianOperator(flattening: z, jvp: map.jvp(at: z))
    let spectrum = try DenseSpectralAnalysis().spectrum(of: jacobian)
    try #require(spectrum.eigenvalues.count == expected.count)
    for (computed, exact) in zip(spectrum.eigenvalues, expected) {
      #expect(
        (computed - exact).length <= 1e-12 * Swift.max(1, exact.length), "\(computed) vs \(exact)")
    }
    let rho = try #require(try jacobian.spectralRadius().value)
    let exactRho = expected[0].length
    #expect(rho.isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-12))
  }

  @Test("Arnoldi, VJP-only and finite-difference operators over the flattening agree with LAPACK")
  func otherOperatorsAgree() throws {
    let (map, z) = Self.problem(Double.self)
    let exactRho = try LinearAlgebra.spectralRadius(of: map.denseJacobian(at: z))
    // Arnoldi with k clamped to n = 11: the Krylov space is the whole space.
    let arnoldi = try JacobianOperator(flattening: z, jvp: map.jvp(at: z))
      .spectralRadius(using: .arnoldi())
    #expect(arnoldi.isTrustworthy)
    #expect(try #require(arnoldi.value).isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-8))
    let transposed = try JacobianOperator(flattening: z, vjp: map.vjp(at: z)).spectralRadius()
    #expect(
      try #require(transposed.value).isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-12))
    // Central differences: relative accuracy ~ ε^(2/3) ≈ 3.7e-11 per product (times the map's
    // curvature); eigenvalues of an 11 × 11 matrix amplify that by their condition number.
    let differences = try JacobianOperator.finiteDifference(
      of: { map($0) }, flattening: z, scheme: .central)
    // The step is the central formula's at the flattened point: ε^(1/3)·(1 + ‖z‖).
    let step = FiniteDifferenceScheme.central.defaultStep(pointNorm: z.norm())
    #expect(differences.source == .finiteDifference(.central, step: step))
    #expect(relativeError(try differences.assembled(), map.denseJacobian(at: z)) <= 1e-8)
    let fdRho = try #require(try differences.spectralRadius().value)
    #expect(fdRho.isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-7))
  }

  @Test("Float: the flat operator's ρ matches LAPACK's on the hand-built J")
  func floatSpectrum() throws {
    let (map, z) = Self.problem(Float.self)
    let exactRho = try LinearAlgebra.spectralRadius(of: map.denseJacobian(at: z))
    let rho = try #require(
      try JacobianOperator(flattening: z, jvp: map.jvp(at: z)).spectralRadius().value)
    // Same products in the same order up to summation: a few ulps of ‖J‖ ≈ 1.
    #expect(rho.isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-5))
  }

  @Test("a solve over the two-part state records ρ at each scheduled iterate")
  func hookInSolve() throws {
    let (map, start) = Self.problem(Double.self)
    var points: [TwoScaleState<Double>] = []
    let hook = StepDiagnostics<TwoScaleState<Double>>.spectralRadius(
      schedule: .iterations([0, 2, 3])
    ) { z in
      points.append(z)
      return try JacobianOperator(flattening: z, jvp: map.jvp(at: z))
    }
    let problem = FixedPointProblem(start: start) { z in map(z) }
    let solution = solve(
      problem, using: Picard(), stopping: StoppingCriteria(maxIterations: 3), diagnostics: hook)
    let records = solution.trace.compactMap(\.spectralRadius)
    try #require(records.count == 3 && points.count == 3)
    for (record, point) in zip(records, points) {
      let exactRho = try LinearAlgebra.spectralRadius(of: map.denseJacobian(at: point))
      #expect(record.method == .dense && record.isReliable && record.failure == nil)
      #expect(record.value.isApproximatelyEqual(to: exactRho, relativeTolerance: 1e-12))
    }
    // The iterates differ, so the three measurements are of three Jacobians.
    #expect(Set(records.map(\.value)).count == 3)
  }

  /// A conformance that breaks the first law: one scalar short.
  struct ShortFlattening: VectorSpace, FlattenableVectorSpace {
    var state: TwoScaleState<Double>
    func zeroed() -> ShortFlattening { ShortFlattening(state: state.zeroed()) }
    var scalarCount: Int { state.scalarCount }
    mutating func add(_ x: ShortFlattening, scaledBy s: Double) { state.add(x.state, scaledBy: s) }
    mutating func scale(by s: Double) { state.scale(by: s) }
    func dot(_ x: ShortFlattening) -> Double { state.dot(x.state) }
    var isFinite: Bool { state.isFinite }
    func flattened() -> [Double] { Array(state.flattened().dropLast()) }
    func unflattened(_ scalars: [Double]) -> ShortFlattening {
      ShortFlattening(state: state.unflattened(scalars + [0]))
    }
  }

  @Test("bad input: a broken flattening, a non-finite state, no products")
  func badInput() throws {
    let (map, z) = Self.problem(Double.self)
    let short = ShortFlattening(state: z)
    #expect(throws: DiagnosticsError.flatteningMismatch(scalarCount: 11, flattened: 10)) {
      try JacobianOperator(flattening: short, jvp: { $0 })
    }
    #expect(throws: DiagnosticsError.flatteningMismatch(scalarCount: 11, flattened: 10)) {
      try JacobianOperator.finiteDifference(of: { $0 }, flattening: short)
    }
    var bad = z
    bad.b[2] = .nan
    #expect(throws: DiagnosticsError.nonFinitePoint) {
      try JacobianOperator(flattening: bad, jvp: map.jvp(at: z))
    }
    #expect(throws: DiagnosticsError.nonFinitePoint) {
      try JacobianOperator.finiteDifference(of: { map($0) }, flattening: bad)
    }
    #expect(throws: DiagnosticsError.noProducts) {
      try JacobianOperator<[Double]>(flattening: z)
    }
    // A state JVP that returns the wrong shape is caught at the first product.
    let wrongShape = try JacobianOperator(
      flattening: z, jvp: { v in TwoScaleState(a: v.a, b: []) })
    #expect(throws: DiagnosticsError.dimensionMismatch(expected: 11, actual: 7)) {
      try wrongShape.spectralRadius()
    }
  }
}
