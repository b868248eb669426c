/// What the inner linear solve of one outer step did (Newton–Krylov's GMRES on
/// `(I − ∂f/∂z) d = f(z) − z`), stored in that step's ``TraceEntry/innerSolve``.
public struct InnerSolveRecord: Sendable, Equatable, Hashable, Codable {
  /// Jacobian products the inner solve used.
  public var products: Int
  /// GMRES restarts within the step.
  public var restarts: Int
  /// The forcing term `η_k`: the inner solve stopped once `‖(I − J) d − g‖ ≤ η_k ‖g‖`.
  public var forcingTerm: Double
  /// `‖(I − J) d − g‖ / ‖g‖` reached (the GMRES least-squares estimate).
  public var relativeResidual: Double
  /// The relative inner residual after each product, in order.
  public var residualHistory: [Double]
  /// Backtracking steps of the line search before the step was accepted (0: full step).
  public var backtracks: Int
  /// The step length `λ` accepted (1: full Newton step).
  public var stepLength: Double

  /// Creates a record.
  public init(
    products: Int, restarts: Int, forcingTerm: Double, relativeResidual: Double,
    residualHistory: [Double], backtracks: Int, stepLength: Double
  ) {
    self.products = products
    self.restarts = restarts
    self.forcingTerm = forcingTerm
    self.relativeResidual = relativeResidual
    self.residualHistory = residualHistory
    self.backtracks = backtracks
    self.stepLength = stepLength
  }
}
