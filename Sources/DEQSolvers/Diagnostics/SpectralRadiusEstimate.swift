import DEQCore

/// A spectral radius `ρ(J) = max |λᵢ(J)|` together with how it was obtained and how far
/// to trust it.
///
/// Read ``value`` only together with ``isTrustworthy``: an untrustworthy estimate carries
/// the best number the method had (or `nil` when it had none) and an ``explanation``
/// saying what went wrong and what to do.
public struct SpectralRadiusEstimate<Scalar: DEQScalar>: Sendable {
  /// The algorithm that produced an estimate.
  public enum Method: String, Sendable, Hashable, CaseIterable {
    /// Dense Jacobian and all eigenvalues from LAPACK `geev`.
    case dense
    /// Matrix-free power iteration with an eigen-residual convergence test.
    case powerIteration = "power iteration"
    /// Matrix-free restarted Arnoldi with Hessenberg eigenvalues from LAPACK `geev`.
    case arnoldi
  }

  /// The spectral radius, or `nil` when the method could not produce one.
  public var value: Scalar?
  /// The algorithm used.
  public var method: Method
  /// The eigenvalue(s) of largest modulus, complex conjugate pairs both listed (positive
  /// imaginary part first). Empty when the method has no reliable eigenvalue.
  public var dominantEigenvalues: [Complex<Scalar>]
  /// An estimate of the absolute error of ``value``: `0` for a dense solve (rounding only),
  /// the Ritz residual `|h_{k+1,k}·e_kᵀy|` for Arnoldi and the eigen-residual
  /// `‖J·v − θ·v‖` for power iteration. For a normal `J` it bounds the error (Bauer–Fike);
  /// for a strongly non-normal `J` the error can be larger.
  public var errorEstimate: Scalar?
  /// The number of Jacobian products spent.
  public var jacobianProducts: Int
  /// Whether the method's convergence test passed; `false` means do not rely on ``value``.
  public var isTrustworthy: Bool
  /// A sentence a person can act on: how the value was obtained or why it is not trustworthy.
  public var explanation: String
  /// The 2-norm condition number of `I − J` (dense method only; `nil` otherwise or when
  /// not requested). Large values mean `z = f(z)` is nearly singular at this point.
  public var conditionNumberOfIdentityMinusJacobian: Scalar?

  /// Creates an estimate; diagnostics build these, users rarely need to.
  public init(
    value: Scalar?, method: Method, dominantEigenvalues: [Complex<Scalar>],
    errorEstimate: Scalar?, jacobianProducts: Int, isTrustworthy: Bool, explanation: String,
    conditionNumberOfIdentityMinusJacobian: Scalar? = nil
  ) {
    self.value = value
    self.method = method
    self.dominantEigenvalues = dominantEigenvalues
    self.errorEstimate = errorEstimate
    self.jacobianProducts = jacobianProducts
    self.isTrustworthy = isTrustworthy
    self.explanation = explanation
    self.conditionNumberOfIdentityMinusJacobian = conditionNumberOfIdentityMinusJacobian
  }

  /// Whether the dominant eigenvalues are a complex conjugate pair.
  public var hasComplexDominantPair: Bool {
    dominantEigenvalues.contains { $0.imaginary != 0 }
  }

  /// The asymptotic rate of plain (Picard) iteration near the fixed point: the error shrinks
  /// roughly by `ρ` per step when `ρ < 1`; `nil` when ``value`` is `nil` or `ρ ≥ 1`.
  public var linearConvergenceRate: Scalar? {
    guard let value, value < 1 else { return nil }
    return value
  }
}

/// The eigenvalues within a relative `tolerance` of the largest modulus, sorted by modulus
/// (descending), then by imaginary part (descending), so a conjugate pair reads `a+bi, a−bi`.
func dominantSubset<Scalar: DEQScalar>(
  of eigenvalues: [Complex<Scalar>], relativeTolerance tolerance: Scalar
) -> (radius: Scalar, dominant: [Complex<Scalar>]) {
  let radius = eigenvalues.reduce(Scalar(0)) { Swift.max($0, $1.length) }
  let dominant = eigenvalues.filter { $0.length >= radius * (1 - tolerance) }
    .sorted { ($0.length, $0.imaginary) > ($1.length, $1.imaginary) }
  return (radius, dominant)
}
