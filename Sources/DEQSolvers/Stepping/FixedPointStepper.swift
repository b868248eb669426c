// The stepping protocol: one algorithm's state machine, driven by the shared solve loop.
//
// The driver owns everything that is the same for every algorithm: evaluating the map
// (one point at a time, or a whole lockstep batch in one call), the trace, the best
// iterate, the stopping decision and its status, observers and diagnostics. A stepper owns
// only its algorithm: where to evaluate next, and what to make of the value it gets.
//
//   driver                              stepper
//   ------                              -------
//   f(pendingPoint) → mapValue
//   receive()                    →      .trial      (evaluate the new pendingPoint)
//                                       .iterate(…) (pendingPoint is the accepted iterate)
//   record, decide; if going on:
//   advance()                    →      .proceed / .breakdown / .roundingFloor
//
// Picard, Anderson and Broyden adopt this protocol (the driver dispatches them through a
// `switch`, so their solves specialise fully); Newton–Krylov, GMRES and BiCGStab are written
// against the public protocol alone, as a user's own algorithm would be.

/// One algorithm's state machine for `solve`: where the map is evaluated next and what the
/// algorithm makes of each value.
///
/// A user-defined algorithm implements a stepper and a ``FixedPointAlgorithm`` that makes
/// it; `solve`, `solve(batch:map:…)` and `implicitGradient` then give it the same statuses,
/// stopping rules, traces, best iterate, observers and diagnostics as the built-in solvers.
///
/// The protocol of one solve:
///
/// 1. The driver evaluates `f` at ``pendingPoint`` into ``mapValue`` (the first pending
///    point is the start `z₀`) and calls ``receive()``.
/// 2. ``receive()`` returns ``StepReceipt/trial`` when the point was an auxiliary one (a
///    line-search trial, a Krylov product): the driver evaluates the new ``pendingPoint``
///    and calls ``receive()`` again. It returns ``StepReceipt/iterate(residual:mapNorm:stepNorm:isFinite:)``
///    when ``pendingPoint`` is now the next accepted iterate `z_k`, with `‖f(z_k) − z_k‖`,
///    `‖f(z_k)‖` and `‖z_k − z_{k−1}‖`.
/// 3. The driver records the iterate and decides whether to stop (tolerance, cap, stall,
///    divergence, observer). If it goes on it calls ``advance()``, which sets the next
///    ``pendingPoint`` or reports that the algorithm cannot go on.
///
/// The stepper is a class: the driver keeps one per problem and mutates it in place, so a
/// solve allocates nothing per step beyond what the stepper itself does.
///
/// See the DocC article "Writing your own solver" for a complete example (Steffensen's
/// method), and ``StepperContext`` for what a stepper is told about the problem.
public protocol FixedPointStepper<Vector>: AnyObject {
  /// The iterate type.
  associatedtype Vector: VectorSpace

  /// Where the driver evaluates `f` next; right after an ``StepReceipt/iterate(residual:mapNorm:stepNorm:isFinite:)``
  /// receipt, the accepted iterate (the driver may copy it as the best iterate).
  var pendingPoint: Vector { get }

  /// The buffer the driver writes `f(pendingPoint)` into before calling ``receive()``;
  /// it has the start's shape.
  var mapValue: Vector { get set }

  /// Takes `f(pendingPoint)` from ``mapValue``.
  ///
  /// - Returns: ``StepReceipt/trial`` to have `f` evaluated at a new ``pendingPoint``, or
  ///   ``StepReceipt/iterate(residual:mapNorm:stepNorm:isFinite:)`` with the new accepted
  ///   iterate's norms.
  func receive() -> StepReceipt<Vector.Scalar>

  /// Computes the next pending point after an accepted iterate the solve goes on from.
  ///
  /// - Returns: ``StepAdvance/proceed``, or why the algorithm cannot produce a next point
  ///   (the solve then ends with ``FixedPointStatus/breakdown`` or
  ///   ``FixedPointStatus/stalled``).
  func advance() -> StepAdvance

  /// How many times the algorithm discarded its history (default 0).
  var restarts: Int { get }

  /// Jacobian products computed so far outside the driver's map evaluations, through
  /// ``StepperContext/jacobianVectorProduct`` or by extra evaluations of
  /// ``StepperContext/map`` for finite differences (default 0). A solve's work in
  /// map-equivalents is `mapEvaluations + jacobianProducts`.
  var jacobianProducts: Int { get }

  /// What the inner linear solve of the step just accepted did, for algorithms that have
  /// one (Newton–Krylov); `nil` otherwise (default).
  var innerSolve: InnerSolveRecord? { get }
}

extension FixedPointStepper {
  /// No history, so no restarts.
  public var restarts: Int { 0 }
  /// No products beyond the driver's map evaluations.
  public var jacobianProducts: Int { 0 }
  /// No inner solve.
  public var innerSolve: InnerSolveRecord? { nil }
}

/// What a stepper reports after the driver stored `f` at its pending point.
public enum StepReceipt<Scalar: DEQScalar>: Sendable, Equatable {
  /// An auxiliary point (a line-search trial, a Krylov product): evaluate the new pending
  /// point. Counts as a map evaluation, makes no trace entry.
  case trial
  /// The pending point is the next accepted iterate `z_k`, with `‖f(z_k) − z_k‖`,
  /// `‖f(z_k)‖`, `‖z_k − z_{k−1}‖` (0 at the start) and whether `f(z_k) − z_k` is finite.
  case iterate(residual: Scalar, mapNorm: Scalar, stepNorm: Scalar, isFinite: Bool)
}

/// What a stepper reports after computing its next pending point.
public enum StepAdvance: Sendable, Equatable {
  /// The next point is pending.
  case proceed
  /// No usable update even right after a reset (zero or non-finite denominator): the
  /// solve ends with ``FixedPointStatus/breakdown``.
  case breakdown
  /// The algorithm's updates are at the rounding level of the map's values: the solve
  /// ends with ``FixedPointStatus/stalled``.
  case roundingFloor
}
