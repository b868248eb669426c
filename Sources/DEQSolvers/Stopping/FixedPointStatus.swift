/// How a fixed-point solve ended.
///
/// Not converging is a status, not an error: the solution still holds the best iterate
/// and the whole trace. Use ``FixedPointSolution/requireConverged()`` to turn anything
/// but ``converged`` into a thrown ``FixedPointError``.
public enum FixedPointStatus: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
  /// The tolerance of the ``StoppingCriteria`` was met.
  case converged
  /// The iteration cap was reached first.
  case maxIterations
  /// The residual improved by less than the stall ratio over the stall window, or
  /// (Broyden) the residual differences fell to the rounding level of the map's values
  /// on two consecutive steps.
  case stalled
  /// The residual (or the state) grew beyond the divergence factor times its starting value.
  case diverged
  /// The map returned NaN or infinity (or the iterate became non-finite).
  case nonFinite
  /// The algorithm could not produce a new iterate (Broyden: the update's denominator
  /// was zero or non-finite again right after a reset; Anderson: LAPACK refused its
  /// least-squares workspace; GMRES, BiCGStab: a breakdown of the Krylov recurrence).
  case breakdown
  /// An observer asked the solve to stop.
  case stoppedByObserver
  /// The algorithm's hyperparameters or the stopping criteria were out of range (set
  /// through a public property or decoded); only the start was evaluated. Their
  /// `validate()` says which value.
  case invalidConfiguration

  /// Whether the status is ``converged``.
  @inlinable
  public var isConverged: Bool { self == .converged }

  /// One sentence saying what happened and what to try.
  public var explanation: String {
    switch self {
    case .converged:
      "Converged: the residual met the tolerance; the fixed point is the lowest-residual iterate."
    case .maxIterations:
      "Hit the iteration cap before the tolerance: raise maxIterations, loosen the tolerance, "
        + "or use a faster solver (Anderson or Broyden instead of Picard)."
    case .stalled:
      "Stalled: the residual barely improved over the stall window, usually at the rounding "
        + "floor of the scalar type or a non-contractive map; loosen the tolerance, use Double, "
        + "or check the map's spectral radius."
    case .diverged:
      "Diverged: the residual or the state grew far above its starting value; the map is "
        + "probably not contractive here (or has no fixed point), so add damping, a line search, "
        + "or a better starting point."
    case .nonFinite:
      "The map returned NaN or infinity at an iterate; check the map for overflow or invalid "
        + "inputs, or add damping so the iterates stay in its domain."
    case .breakdown:
      "Breakdown: the algorithm's update was undefined even right after a reset (a zero or "
        + "non-finite denominator; for GMRES a singular system on its Krylov space), so the map "
        + "is likely flat, singular or at rounding level; try Anderson or Picard, or check the map."
    case .stoppedByObserver:
      "Stopped by the observer before the tolerance was met; the best iterate so far is returned."
    case .invalidConfiguration:
      "Not solved: a hyperparameter of the algorithm or the stopping criteria is out of range "
        + "(set through a property or decoded); call validate() on both to see which, and fix it."
    }
  }
}
