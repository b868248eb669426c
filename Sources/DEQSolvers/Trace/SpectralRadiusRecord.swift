/// One spectral-radius measurement of the map's Jacobian `∂f/∂z` at an iterate.
///
/// Produced by a ``StepDiagnostics`` closure (the diagnostics in `DEQSolvers/Diagnostics`
/// fill it) and stored in the ``TraceEntry`` of the step it was measured at.
///
/// A measurement that failed is a record too: its ``value`` is NaN, ``isReliable`` is
/// `false`, ``method`` is the method that was attempted and ``failure`` says what went wrong.
///
/// Encoded (`Codable`) as `value`, `method` (its ``Method/name``: `"dense-geev"`,
/// `"arnoldi"`, `"power"` or a custom name), `errorEstimate` and `isReliable`, plus
/// `failure` when there is one.
public struct SpectralRadiusRecord: Sendable, Equatable, Hashable, Codable {
  /// The estimate of `ρ(∂f/∂z)`; NaN when the measurement failed.
  public var value: Double
  /// How it was computed (or, for a failure, how it was attempted).
  public var method: Method
  /// An estimate of the absolute error of ``value``, when the method provides one.
  public var errorEstimate: Double?
  /// Whether the method considers the estimate trustworthy (converged, no breakdown).
  public var isReliable: Bool
  /// Why the measurement produced no value, or `nil` when it did not fail. A closure that
  /// builds the Jacobian and throws another error type is recorded as
  /// ``DiagnosticsError/jacobianUnavailable(reason:)``.
  public var failure: DiagnosticsError?

  /// Creates a record.
  public init(
    value: Double, method: Method, errorEstimate: Double? = nil, isReliable: Bool = true,
    failure: DiagnosticsError? = nil
  ) {
    self.value = value
    self.method = method
    self.errorEstimate = errorEstimate
    self.isReliable = isReliable
    self.failure = failure
  }

  /// The record of a measurement by `method` that failed with `failure`: value NaN, no
  /// error estimate, not reliable.
  public init(method: Method, failure: DiagnosticsError) {
    self.init(
      value: .nan, method: method, errorEstimate: nil, isReliable: false, failure: failure)
  }
}
