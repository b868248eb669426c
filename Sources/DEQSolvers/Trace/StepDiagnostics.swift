/// A per-step measurement hook: which steps to measure, and how.
///
/// The solve calls ``measure`` with the iterate `z_k` and `k` at the scheduled steps
/// (after the map has been evaluated at `z_k`, before the stopping decision), and stores
/// the returned record in that step's ``TraceEntry/spectralRadius``. The closure may
/// evaluate the map or its Jacobian as often as it needs; those evaluations are not
/// counted in ``TraceEntry/mapEvaluations`` (they are not part of the solve).
///
/// ```swift
/// let hook = StepDiagnostics<[Double]>(schedule: .every(5)) { z, k in
///   SpectralRadiusRecord(value: myEstimate(at: z), method: .custom("my-estimate"))
/// }
/// ```
public struct StepDiagnostics<V: VectorSpace> {
  /// Which iterations to measure.
  public enum Schedule: Sendable, Equatable {
    /// Iterations `0, k, 2k, …` (`k ≥ 1`).
    case every(Int)
    /// Exactly these iterations.
    case iterations(Set<Int>)

    /// Whether iteration `k` is scheduled.
    @inlinable
    public func contains(_ k: Int) -> Bool {
      switch self {
      case .every(let period): period > 0 && k % period == 0
      case .iterations(let set): set.contains(k)
      }
    }
  }

  /// Which iterations to measure.
  public var schedule: Schedule
  /// The measurement: the iterate `z_k` and `k`, to a record (or `nil` to record nothing).
  public var measure: (V, Int) -> SpectralRadiusRecord?

  /// Creates a hook.
  public init(schedule: Schedule, measure: @escaping (V, Int) -> SpectralRadiusRecord?) {
    self.schedule = schedule
    self.measure = measure
  }
}
