import DEQTraining
import Testing

@Suite("Gradient clipping by global norm")
struct GradientClippingTests {
  func clipsAbove<S: DEQScalar>(_: S.Type) {
    var g: [S] = [3, 4]  // ‖g‖ = 5
    let record = clipGradientNorm(&g, maxNorm: 1)
    let scale = 1 / (5 + 1e-6)
    #expect(record.wasClipped && record.isFinite)
    #expect(record.norm.isApproximatelyEqual(to: 5, relativeTolerance: 1e-6))
    #expect(Double(record.scale).isApproximatelyEqual(to: scale, relativeTolerance: 1e-6))
    // The clipped norm is maxNorm·5/(5 + 1e-6), just below 1.
    #expect(g[0].isApproximatelyEqual(to: S(3 * scale), relativeTolerance: 4 * S.ulpOfOne))
    #expect(g[1].isApproximatelyEqual(to: S(4 * scale), relativeTolerance: 4 * S.ulpOfOne))
    #expect(g.norm() < 1)
  }

  @Test("A norm above maxNorm scales by maxNorm/(norm + 1e-6)", arguments: ScalarKind.allCases)
  func above(kind: ScalarKind) {
    switch kind {
    case .float: clipsAbove(Float.self)
    case .double: clipsAbove(Double.self)
    }
  }

  @Test("A norm at or below maxNorm leaves the gradient untouched", arguments: [5.0, 5.5, 100])
  func below(maxNorm: Double) {
    var g: [Double] = [3, 4]
    let record = clipGradientNorm(&g, maxNorm: maxNorm)
    #expect(g == [3, 4])
    #expect(record == GradientClipping(norm: 5, wasClipped: false, scale: 1, isFinite: true))
  }

  @Test("A non-finite norm is reported and the gradient left as it was")
  func nonFinite() {
    var g: [Double] = [.nan, 1]
    let record = clipGradientNorm(&g, maxNorm: 1)
    #expect(!record.isFinite && !record.wasClipped && record.scale == 1)
    #expect(record.norm.isNaN)
    #expect(g[0].isNaN && g[1] == 1)

    var h: [Float] = [.infinity, -2]
    let infinite = clipGradientNorm(&h, maxNorm: 1)
    #expect(!infinite.isFinite && !infinite.wasClipped)
    #expect(h == [.infinity, -2])
  }

  @Test("Clipping acts on every entry of named parameters at once")
  func namedParameters() {
    var g = NamedParameters<Double>([("w", Tensor([6, 0])), ("gn1.bias", Tensor([8]))])
    let record = clipGradientNorm(&g, maxNorm: 5)
    #expect(record.wasClipped && record.norm.isApproximatelyEqual(to: 10, relativeTolerance: 1e-15))
    let scale = 5 / (10 + 1e-6)
    for (x, expected) in zip(g.scalars, [6 * scale, 0, 8 * scale]) {
      #expect(
        x.isApproximatelyEqual(to: expected, absoluteTolerance: 1e-15, relativeTolerance: 1e-15))
    }
  }
}
