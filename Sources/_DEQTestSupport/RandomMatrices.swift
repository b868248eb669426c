import DEQCore

/// Seeds used across the test suites; a failing test prints the seed it used.
public enum TestSeeds {
  /// The default seed.
  public static let standard: UInt64 = 20_261_125
}

/// A random `n × n` matrix scaled so that its spectral norm is below `norm`
/// (entries normal, then scaled by `norm / (‖A‖_F)`, which bounds ‖A‖₂ ≤ norm).
public func randomContraction<S: DEQScalar>(
  order n: Int, norm: S, seed: UInt64, as type: S.Type = S.self
) -> Tensor<S> {
  var rng = SeededGenerator(seed: seed)
  let a = Tensor<S>(normalWithMean: 0, standardDeviation: 1, shape: [n, n], using: &rng)
  let frobenius = a.norm()
  return a.scaled(by: norm / frobenius)
}

/// A random vector of normal entries.
public func randomVector<S: DEQScalar>(count: Int, seed: UInt64, as type: S.Type = S.self) -> [S] {
  var rng = SeededGenerator(seed: seed)
  return (0..<count).map { _ in rng.nextNormal(S.self) }
}
