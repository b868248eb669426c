import DEQCore

/// How to compute a spectral radius: a fixed algorithm, or a size-based choice.
///
/// The automatic rule assembles the Jacobian densely when `n ≤ denseThreshold` and runs
/// restarted Arnoldi otherwise. The default threshold, 1,024, is where the dense method
/// stops being cheap: it costs `n` products plus about `10·n³` flops (about a second at
/// n = 1,024 on one core), while Arnoldi needs a few dozen to a few hundred products
/// whatever `n` is. Below the threshold dense is exact and its cost is dominated by the
/// products anyway; above it, Arnoldi is cheaper by orders of magnitude.
public enum SpectralRadiusMethod: Sendable, Hashable {
  /// Dense when `n ≤ denseThreshold`, otherwise ``ArnoldiIteration`` with its defaults.
  case automatic(denseThreshold: Int = SpectralRadiusMethod.defaultDenseThreshold)
  /// Always assemble the Jacobian and use LAPACK `geev`.
  case dense(DenseSpectralAnalysis = DenseSpectralAnalysis())
  /// Matrix-free power iteration (fails honestly on complex or tied dominant eigenvalues).
  case powerIteration(PowerIteration = PowerIteration())
  /// Matrix-free restarted Arnoldi.
  case arnoldi(ArnoldiIteration = ArnoldiIteration())

  /// The dimension up to which ``automatic(denseThreshold:)`` assembles the Jacobian: 1,024.
  public static let defaultDenseThreshold = 1_024

  /// The concrete method this choice resolves to for an `n`-dimensional problem.
  public func resolved(forDimension n: Int) -> SpectralRadiusMethod {
    switch self {
    case .automatic(let threshold):
      n <= threshold ? .dense(DenseSpectralAnalysis()) : .arnoldi(ArnoldiIteration())
    default:
      self
    }
  }
}

extension JacobianOperator {
  /// The spectral radius `ρ(J) = max |λᵢ(J)|` by the chosen method.
  ///
  /// ```swift
  /// let estimate = try jacobian.spectralRadius()                 // dense or Arnoldi by size
  /// let forced = try jacobian.spectralRadius(using: .arnoldi(.init(krylovDimension: 40)))
  /// if estimate.isTrustworthy, let rho = estimate.value { print(rho) }
  /// ```
  ///
  /// - Parameter method: the algorithm; by default dense for `n ≤ 1,024`, Arnoldi otherwise.
  /// - Returns: the estimate, with its method, dominant eigenvalues, error estimate, product
  ///   count and whether it can be trusted.
  /// - Throws: ``DiagnosticsError`` for an empty problem, invalid parameters, a product that
  ///   is not finite, or a LAPACK failure.
  /// - Complexity: that of the resolved method.
  public func spectralRadius(
    using method: SpectralRadiusMethod = .automatic()
  ) throws(DiagnosticsError) -> SpectralRadiusEstimate<Scalar> {
    switch method.resolved(forDimension: dimension) {
    case .dense(let analysis): try analysis.spectralRadius(of: self)
    case .powerIteration(let iteration): try iteration.spectralRadius(of: self)
    case .arnoldi(let iteration): try iteration.spectralRadius(of: self)
    case .automatic: try ArnoldiIteration().spectralRadius(of: self)
    }
  }

  /// `‖J‖_F²` by Hutchinson's estimator.
  ///
  /// - Parameter estimator: the number of probes and their seed.
  /// - Throws: as ``HutchinsonEstimator/frobeniusNormSquared(of:)``.
  /// - Complexity: one product per probe.
  public func frobeniusNormSquared(
    using estimator: HutchinsonEstimator = HutchinsonEstimator()
  ) throws(DiagnosticsError) -> FrobeniusNormEstimate<Scalar> {
    try estimator.frobeniusNormSquared(of: self)
  }
}
