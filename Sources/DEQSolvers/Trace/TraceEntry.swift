/// What a solve recorded about one iterate `z_k`.
///
/// Entry `k = 0` describes the starting point; entry `k` the `k`-th accepted iterate.
/// Line-search trial points are not entries, but they count in ``mapEvaluations``.
///
/// ```
/// absoluteResidual = ‖f(z_k) − z_k‖₂
/// relativeResidual = ‖f(z_k) − z_k‖₂ / (‖f(z_k)‖₂ + 1e-9)
/// stepNorm         = ‖z_k − z_{k−1}‖₂          (0 for k = 0)
/// ```
///
/// The `1e-9` in the relative residual is ``TraceEntry/relativeResidualEpsilon``, the
/// value the DEQ code and torchdeq use, so that traces compare directly with theirs.
/// Norms are computed in the iterate's scalar type and stored as `Double`.
public struct TraceEntry: Sendable, Equatable, Codable {
  /// The guard added to `‖f(z)‖₂` in the relative residual (torchdeq's `1e-9`).
  public static let relativeResidualEpsilon: Double = 1e-9

  /// The iteration index `k` (0 is the starting point).
  public var iteration: Int
  /// `‖f(z_k) − z_k‖₂`; NaN or infinity when the map produced a non-finite value.
  public var absoluteResidual: Double
  /// `‖f(z_k) − z_k‖₂ / (‖f(z_k)‖₂ + 1e-9)`.
  public var relativeResidual: Double
  /// `‖z_k − z_{k−1}‖₂`, the length of the step that produced `z_k` (0 at `k = 0`).
  public var stepNorm: Double
  /// Map evaluations so far, including this iterate's and every line-search trial.
  public var mapEvaluations: Int
  /// Wall-clock time from the start of the solve to the end of this step's bookkeeping.
  public var elapsed: Duration
  /// Of ``elapsed``, the wall-clock time the driver spent evaluating the map (in a batched
  /// solve, the batched evaluations this problem took part in, shared with the others);
  /// `elapsed − mapTime` is the solver's own time: its steps, norms and bookkeeping, and
  /// any diagnostics. Evaluations a stepper makes itself (Newton–Krylov's difference
  /// products) count as the solver's.
  public var mapTime: Duration
  /// The spectral radius of `∂f/∂z` at `z_k`, when a ``StepDiagnostics`` hook measured it.
  public var spectralRadius: SpectralRadiusRecord?
  /// Jacobian products so far beyond the map evaluations (Newton–Krylov's exact or
  /// finite-difference products; 0 for Picard, Anderson and Broyden). Work so far in
  /// map-equivalents is `mapEvaluations + jacobianProducts`.
  public var jacobianProducts: Int
  /// The inner linear solve of the step that produced `z_k`, for algorithms with one.
  public var innerSolve: InnerSolveRecord?

  /// Creates an entry.
  public init(
    iteration: Int, absoluteResidual: Double, relativeResidual: Double, stepNorm: Double,
    mapEvaluations: Int, elapsed: Duration, spectralRadius: SpectralRadiusRecord? = nil,
    jacobianProducts: Int = 0, innerSolve: InnerSolveRecord? = nil, mapTime: Duration = .zero
  ) {
    self.iteration = iteration
    self.absoluteResidual = absoluteResidual
    self.relativeResidual = relativeResidual
    self.stepNorm = stepNorm
    self.mapEvaluations = mapEvaluations
    self.elapsed = elapsed
    self.mapTime = mapTime
    self.spectralRadius = spectralRadius
    self.jacobianProducts = jacobianProducts
    self.innerSolve = innerSolve
  }

  enum CodingKeys: String, CodingKey {
    case iteration, absoluteResidual, relativeResidual, stepNorm, mapEvaluations, elapsed
    case mapTime, spectralRadius, jacobianProducts, innerSolve
  }

  /// Decodes an entry; `jacobianProducts` and `mapTime` may be absent (traces written before
  /// they existed: 0).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    iteration = try c.decode(Int.self, forKey: .iteration)
    absoluteResidual = try c.decode(Double.self, forKey: .absoluteResidual)
    relativeResidual = try c.decode(Double.self, forKey: .relativeResidual)
    stepNorm = try c.decode(Double.self, forKey: .stepNorm)
    mapEvaluations = try c.decode(Int.self, forKey: .mapEvaluations)
    elapsed = try c.decode(Duration.self, forKey: .elapsed)
    mapTime = try c.decodeIfPresent(Duration.self, forKey: .mapTime) ?? .zero
    spectralRadius = try c.decodeIfPresent(SpectralRadiusRecord.self, forKey: .spectralRadius)
    jacobianProducts = try c.decodeIfPresent(Int.self, forKey: .jacobianProducts) ?? 0
    innerSolve = try c.decodeIfPresent(InnerSolveRecord.self, forKey: .innerSolve)
  }
}
