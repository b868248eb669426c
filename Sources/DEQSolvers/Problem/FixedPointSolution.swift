/// The result of a fixed-point solve: the best iterate, the last one, how the solve
/// ended, its statistics and its trace.
public struct FixedPointSolution<V: VectorSpace> {
  /// The lowest-residual iterate (by absolute residual ‖f(z) − z‖); it is in the trace,
  /// at ``bestIteration``.
  public var fixedPoint: V
  /// The last accepted iterate (the solver's final state).
  public var lastIterate: V
  /// How the solve ended.
  public var status: FixedPointStatus
  /// Steps taken after the start (the last trace entry's `iteration`).
  public var iterations: Int
  /// Map evaluations, including the start's and every line-search trial.
  public var mapEvaluations: Int
  /// The iteration whose iterate is ``fixedPoint``.
  public var bestIteration: Int
  /// How many times the solver threw its history away and restarted (Anderson: a
  /// singular or non-finite least-squares system; Broyden: a zero or non-finite update
  /// denominator, or the restart memory policy).
  public var historyRestarts: Int
  /// One entry per iterate, `trace[k].iteration == k`.
  public var trace: [TraceEntry]
  /// Jacobian products the algorithm computed beyond the map evaluations (Newton–Krylov);
  /// the solve's work in map-equivalents is `mapEvaluations + jacobianProducts`.
  public var jacobianProducts: Int

  /// Creates a solution (solvers build these; public for tests and adapters).
  public init(
    fixedPoint: V, lastIterate: V, status: FixedPointStatus, iterations: Int,
    mapEvaluations: Int, bestIteration: Int, historyRestarts: Int, trace: [TraceEntry],
    jacobianProducts: Int = 0
  ) {
    self.jacobianProducts = jacobianProducts
    self.fixedPoint = fixedPoint
    self.lastIterate = lastIterate
    self.status = status
    self.iterations = iterations
    self.mapEvaluations = mapEvaluations
    self.bestIteration = bestIteration
    self.historyRestarts = historyRestarts
    self.trace = trace
  }

  /// The trace entry of ``fixedPoint``.
  @inlinable
  public var best: TraceEntry { trace[bestIteration] }

  /// `‖f(z*) − z*‖` at ``fixedPoint``.
  @inlinable
  public var absoluteResidual: Double { best.absoluteResidual }

  /// `‖f(z*) − z*‖ / (‖f(z*)‖ + 1e-9)` at ``fixedPoint``.
  @inlinable
  public var relativeResidual: Double { best.relativeResidual }

  /// The fixed point if the solve converged.
  ///
  /// - Throws: ``FixedPointError/notConverged(status:iterations:absoluteResidual:)``
  ///   for any other status.
  public func requireConverged() throws(FixedPointError) -> V {
    guard status == .converged else {
      throw .notConverged(
        status: status, iterations: iterations, absoluteResidual: absoluteResidual)
    }
    return fixedPoint
  }
}

extension FixedPointSolution: Sendable where V: Sendable {}

/// The error of ``FixedPointSolution/requireConverged()``.
public enum FixedPointError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The solve ended with a status other than ``FixedPointStatus/converged``.
  case notConverged(status: FixedPointStatus, iterations: Int, absoluteResidual: Double)

  public var description: String {
    switch self {
    case .notConverged(let status, let iterations, let residual):
      "fixed-point solve did not converge after \(iterations) iterations "
        + "(best residual \(residual)): \(status.explanation)"
    }
  }
}
