/// One spectral-radius measurement of the map's Jacobian `∂f/∂z` at an iterate.
///
/// Produced by a ``StepDiagnostics`` closure (the diagnostics in `DEQSolvers/Diagnostics`
/// fill it) and stored in the ``TraceEntry`` of the step it was measured at.
public struct SpectralRadiusRecord: Sendable, Equatable, Hashable, Codable {
  /// The estimate of `ρ(∂f/∂z)`.
  public var value: Double
  /// How it was computed, for example `"dense-geev"`, `"power"` or `"arnoldi"`.
  public var method: String
  /// An estimate of the absolute error of ``value``, when the method provides one.
  public var errorEstimate: Double?
  /// Whether the method considers the estimate trustworthy (converged, no breakdown).
  public var isReliable: Bool

  /// Creates a record.
  public init(value: Double, method: String, errorEstimate: Double? = nil, isReliable: Bool = true)
  {
    self.value = value
    self.method = method
    self.errorEstimate = errorEstimate
    self.isReliable = isReliable
  }
}
