// Hutchinson's stochastic trace estimator applied to JᵀJ (Hutchinson 1989; Avron & Toledo
// 2011). For Rademacher probes v (independent ±1 entries), E[vᵀ·JᵀJ·v] = tr(JᵀJ) = ‖J‖_F²,
// so ‖J·v‖² averaged over probes is an unbiased estimate of the squared Frobenius norm:
// the Jacobian regulariser of Bai, Koltun & Kolter (2021, "Stabilizing equilibrium models
// by Jacobian regularization"). Goals: an honest error bar; then one product per probe.
import DEQCore

/// An unbiased estimate of `‖J‖_F²` from Jacobian products with random ±1 probes.
///
/// ```
/// sᵢ = ‖J·vᵢ‖²,  vᵢ ∈ {−1, +1}ⁿ,  i = 1 … p
/// estimate = mean(sᵢ),  standard error = std(sᵢ) / √p   (sample std, p − 1 denominator)
/// ```
/// The variance of one sample is `2·(‖JᵀJ‖_F² − Σⱼ (JᵀJ)ⱼⱼ²)`, smaller than with Gaussian
/// probes. Uses JVPs, or VJPs when that is all the operator has (`‖Jᵀ‖_F = ‖J‖_F`).
public struct HutchinsonEstimator: Sendable, Hashable {
  /// The number of probes `p` (≥ 1); default 16.
  public var probes: Int
  /// The seed of the probes.
  public var seed: UInt64

  /// Creates the estimator.
  ///
  /// - Parameters:
  ///   - probes: `p ≥ 1` probe vectors (one product each); the standard error needs `p ≥ 2`.
  ///   - seed: the probes' seed.
  public init(probes: Int = 16, seed: UInt64 = 0x5EED) {
    self.probes = probes
    self.seed = seed
  }

  /// Estimates `‖J‖_F²`.
  ///
  /// - Throws: ``DiagnosticsError/emptyProblem``, ``DiagnosticsError/invalidParameter(name:reason:)``
  ///   for `probes < 1`, ``DiagnosticsError/nonFiniteProduct(product:)``.
  /// - Complexity: `p` products and `O(p·n)` flops; two vectors of memory.
  public func frobeniusNormSquared<Vector>(
    of jacobian: JacobianOperator<Vector>
  ) throws(DiagnosticsError) -> FrobeniusNormEstimate<Vector.Scalar> {
    typealias Scalar = Vector.Scalar
    try jacobian.requireNonEmpty()
    guard probes >= 1 else {
      throw .invalidParameter(name: "probes", reason: "must be at least 1")
    }
    var generator = SeededGenerator(seed: seed)
    var probe = jacobian.point.zeroed()
    var samples = [Double]()
    samples.reserveCapacity(probes)
    var products = 0
    for _ in 0..<probes {
      probe.withUnsafeMutableBufferPointer { buffer in
        var bits: UInt64 = 0
        for i in buffer.indices {
          if i % 64 == 0 { bits = generator.next() }
          buffer[i] = bits & 1 == 0 ? -1 : 1
          bits >>= 1
        }
      }
      let image = try jacobian.checkedProduct(probe, count: &products)
      let length = Double(image.norm())
      samples.append(length * length)
    }
    let p = Double(probes)
    let mean = samples.reduce(0, +) / p
    var standardError: Scalar? = nil
    if probes >= 2 {
      let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (p - 1)
      standardError = Scalar((variance / p).squareRoot())
    }
    return FrobeniusNormEstimate(
      value: Scalar(mean), standardError: standardError, probes: probes,
      jacobianProducts: products)
  }
}

/// A Hutchinson estimate of `‖J‖_F²`.
public struct FrobeniusNormEstimate<Scalar: DEQScalar>: Sendable {
  /// The estimate of `‖J‖_F²` (the mean of `‖J·vᵢ‖²`).
  public let value: Scalar
  /// The standard error of ``value`` (sample standard deviation over `√p`); `nil` for one
  /// probe. An interval of ±2 standard errors covers the truth about 95 % of the time
  /// for moderate `p`.
  public let standardError: Scalar?
  /// The number of probes.
  public let probes: Int
  /// The Jacobian products spent (one per probe).
  public let jacobianProducts: Int

  /// `‖J‖_F / √n`, the root-mean-square singular value (a scale-free size of `J`).
  public func rootMeanSquareSingularValue(dimension: Int) -> Scalar {
    (value / Scalar(Swift.max(dimension, 1))).squareRoot()
  }
}
