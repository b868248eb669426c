/// What an observer tells the solve after seeing a step.
public enum ObserverAction: Sendable, Equatable {
  /// Go on.
  case proceed
  /// Stop now; the solution's status is ``FixedPointStatus/stoppedByObserver``
  /// (unless the same step also converged, which takes precedence).
  case stop
}

/// A closure that sees every accepted step as it happens: its trace entry and the
/// iterate `z_k`. It runs after the step is recorded and before the stopping decision.
///
/// The iterate is lent for the call; keeping a copy is allowed (it costs an allocation
/// the next time the solver writes to its buffer).
public typealias SolverObserver<V: VectorSpace> = (TraceEntry, V) -> ObserverAction
