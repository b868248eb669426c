import DEQCore
import DEQSolvers
import Testing
import _DEQTestSupport

@Suite("Diagnostics: Jacobian operators and finite differences")
struct DiagnosticsFiniteDifferenceTests {
  /// ‖J_fd − J‖_F / ‖J‖_F for f(z) = tanh(W·z + b), n = 24, ‖W‖_F = 0.9.
  func finiteDifferenceError<S: DEQScalar>(
    _ scheme: FiniteDifferenceScheme, _: S.Type
  ) throws -> S {
    let layer = TanhLayer<S>(order: 24, norm: 0.9, seed: TestSeeds.standard)
    let z: [S] = randomVector(count: 24, seed: TestSeeds.standard &+ 7)
    let exact = try layer.jacobian(at: z).assembled()
    let approximate = try JacobianOperator.finiteDifference(
      of: { layer($0) }, at: z, scheme: scheme
    ).assembled()
    return relativeError(approximate, exact)
  }

  // Expected relative accuracy: forward ~ √ε (1.5e-8 Double, 3.5e-4 Float), central
  // ~ ε^(2/3) (3.7e-11 Double, 2.4e-5 Float). Measured here: forward 2.6·√ε (Double) and
  // 2.5·√ε (Float), central 1.2·ε^(2/3) (both). The bounds allow a factor of 10 for the
  // map's curvature and the (1 + ‖z‖) step scale (‖z‖ ≈ 5 here).
  @Test("forward differences agree with the exact Jacobian to ~√ε")
  func forwardAccuracy() throws {
    let double = try finiteDifferenceError(.forward, Double.self)
    #expect(double <= 10 * Double.ulpOfOne.squareRoot(), "Double forward error \(double)")
    let float = try finiteDifferenceError(.forward, Float.self)
    #expect(float <= 10 * Float.ulpOfOne.squareRoot(), "Float forward error \(float)")
  }

  @Test("central differences agree with the exact Jacobian to ~ε^(2/3)")
  func centralAccuracy() throws {
    let double = try finiteDifferenceError(.central, Double.self)
    #expect(double <= 10 * Double.pow(Double.ulpOfOne, 2.0 / 3), "Double central error \(double)")
    let float = try finiteDifferenceError(.central, Float.self)
    #expect(float <= 10 * Float.pow(Float.ulpOfOne, 2 / 3), "Float central error \(float)")
    #expect(double < (try finiteDifferenceError(.forward, Double.self)))
  }

  @Test("the default step follows h = c·(1 + ‖z‖)")
  func defaultStep() {
    let forward = FiniteDifferenceScheme.forward.defaultStep(pointNorm: 3.0)
    #expect(
      forward.isApproximatelyEqual(to: 4 * Double.ulpOfOne.squareRoot(), relativeTolerance: 1e-12))
    let central = FiniteDifferenceScheme.central.defaultStep(pointNorm: 0.0)
    #expect(
      central.isApproximatelyEqual(
        to: Double.pow(Double.ulpOfOne, 1.0 / 3), relativeTolerance: 1e-12))
    #expect(FiniteDifferenceScheme.central.evaluationsPerProduct == 2)
  }

  @Test("JVP-built and VJP-built dense Jacobians agree")
  func jvpAndVJPAssembliesAgree() throws {
    let layer = TanhLayer<Double>(order: 16, norm: 1.2, seed: 3)
    let z: [Double] = randomVector(count: 16, seed: 4)
    let full = try layer.jacobian(at: z)
    let fromJVP = try full.assembled()
    let s = layer.slopes(at: z)
    let vjpOnly = try JacobianOperator(
      at: z,
      vjp: { u in
        matvecTransposed(layer.weights, (0..<16).map { s[$0] * u[$0] }, 16)
      })
    let fromVJP = try vjpOnly.assembled()
    #expect(relativeError(fromVJP, fromJVP) <= 1e-14)
    // Entry (i, j) is ∂fᵢ/∂zⱼ = sᵢ·Wᵢⱼ.
    #expect(
      fromJVP[2, 5].isApproximatelyEqual(
        to: s[2] * layer.weights[2 * 16 + 5], relativeTolerance: 1e-14))
  }

  @Test("one operator per problem of a batch, exact and by differences")
  func batchOperators() throws {
    let layer = TanhLayer<Double>(order: 12, norm: 0.8, seed: 21)
    let count = 3
    let points = Tensor<Double>(shape: [count, 3, 4]) { Double.sin(Double($0)) }
    let batchedMap: @Sendable (Tensor<Double>) -> Tensor<Double> = { z in
      var out = z
      for i in 0..<count {
        out.setSample(i, to: Tensor(shape: [3, 4]) { layer(z.sample(i).scalars)[$0] })
      }
      return out
    }
    let batchedJVP: @Sendable (Tensor<Double>) -> Tensor<Double> = { v in
      var out = v
      for i in 0..<count {
        let s = layer.slopes(at: points.sample(i).scalars)
        let wv = matvec(layer.weights, v.sample(i).scalars, 12)
        out.setSample(i, to: Tensor(shape: [3, 4]) { s[$0] * wv[$0] })
      }
      return out
    }
    let exact = try JacobianOperator<Tensor<Double>>.batch(at: points, jvp: batchedJVP)
    let differences = try JacobianOperator<Tensor<Double>>.batchFiniteDifference(
      of: batchedMap, at: points)
    try #require(exact.count == count && differences.count == count)
    for i in 0..<count {
      let reference = try layer.jacobian(at: points.sample(i).scalars).assembled()
      #expect(exact[i].point.shape == [3, 4])
      #expect(relativeError(try exact[i].assembled(), reference) <= 1e-14)
      #expect(relativeError(try differences[i].assembled(), reference) <= 1e-8)
    }
  }
}
