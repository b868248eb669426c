// Restarted GMRES (Saad & Schultz 1986) for fixed points of affine maps f(u) = A u + b,
// that is the linear system (I − A) u = b: the adjoint equation u = u·J + ∂L/∂z* of
// implicit differentiation is one. It runs in the fixed-point driver, so it gets the same
// statuses, traces, batches and observers as Broyden, and passes to `implicitGradient` and
// `ImplicitRefinement` as their backward solver.
//
// The map is the only access to A: a product is A v = (f(x + s v) − f(x)) / s at the
// cycle's start x (exact for an affine map, up to rounding; s = max(‖x‖, ‖f(x)‖) keeps the
// difference well scaled). One iteration is one product. After each product the iterate
// x_k = x + V y_k and its residual V(βe₁ − H̄y_k) are formed, so the trace records
// ‖(I − A)x_k − b‖ per product; the true residual f(x_k) − x_k is evaluated (one more map
// evaluation) at the end of every cycle, when the recurrence's residual meets the tolerance,
// at the iteration cap, and after a breakdown, so convergence is only ever declared on it.
//
// Statuses: a cycle that reduces the true residual by less than 0.1 % ends the solve as
// `.stalled` (stagnation); a singular Hessenberg factor (I − A singular on the Krylov
// space) as `.breakdown`; an invariant Krylov space with a solution is a "happy" breakdown
// and simply converges.
// Goals in priority order: honest status (converged only on a true residual), one map
// evaluation per product, then cost (MGS with reorthogonalisation, ≈ 4–8·k·n per product).

/// Restarted GMRES for the fixed point of an affine map `u ↦ A u + b`, i.e. `(I − A) u = b`.
///
/// For adjoint solves: `implicitGradient(…, using: GMRES())` or
/// `ImplicitRefinement(block:, backwardSolver: GMRES())`. One iteration is one Jacobian
/// product (one evaluation of the map); ``StoppingCriteria/maxIterations`` caps the products.
///
/// On a map that is not affine the products are finite differences with a large step, and
/// the method is not a sensible solver; use ``NewtonKrylov`` there.
///
/// - Complexity: per product one map evaluation and ≈ 4·k·n flops (8·k·n with
///   reorthogonalisation), k ≤ ``restart``; one more evaluation per cycle; memory
///   (restart + 6)·n scalars.
public struct GMRES: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// The Krylov dimension before a restart, `≥ 1` (default 30).
  public var restart: Int
  /// A cycle must reduce the true residual below this fraction of its start, or the solve
  /// ends as stalled (default 0.999).
  public var stagnationRatio: Double

  /// Creates restarted GMRES.
  public init(restart: Int = 30, stagnationRatio: Double = 0.999) {
    precondition(restart >= 1, "GMRES restart must be at least 1")
    precondition(stagnationRatio > 0 && stagnationRatio <= 1, "stagnationRatio in (0, 1]")
    self.restart = restart
    self.stagnationRatio = stagnationRatio
  }

  public var name: String { "gmres" }

  /// - Throws: ``ConfigurationError`` unless `restart ≥ 1` and `0 < stagnationRatio ≤ 1`.
  public func validate() throws(ConfigurationError) {
    guard restart >= 1 else {
      throw ConfigurationError("GMRES restart must be at least 1, got \(restart)")
    }
    guard stagnationRatio > 0 && stagnationRatio <= 1 else {
      throw ConfigurationError("GMRES stagnationRatio must be in (0, 1], got \(stagnationRatio)")
    }
  }

  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _GMRESStepper(self, start: start, context: context)
  }
}

@usableFromInline
final class _GMRESStepper<V: VectorSpace>: FixedPointStepper {
  @usableFromInline enum Phase { case evaluatingIterate, product }

  @usableFromInline let parameters: GMRES
  @usableFromInline let maxIterations: Int
  @usableFromInline let tolerance: Tolerance
  @usableFromInline var phase = Phase.evaluatingIterate
  @usableFromInline var pointIsIterate = true
  @usableFromInline var iterate: V
  @usableFromInline var probe: V
  @usableFromInline var cycleStart: V
  @usableFromInline var mapAtCycleStart: V
  @usableFromInline var residualAtCycleStart: V
  @usableFromInline var mapValue: V
  @usableFromInline let basis: _KrylovBasis<V>
  @usableFromInline var scale: Double = 1
  @usableFromInline var coefficients: [Double] = []
  @usableFromInline var lastIteration = -1
  @usableFromInline var stepNorm: Double = 0
  @usableFromInline var breakdownPending = false
  @usableFromInline var previousCycleResidual = Double.infinity
  @usableFromInline var currentCycleResidual = Double.infinity
  @usableFromInline var restarts = 0

  @inlinable
  init(_ parameters: GMRES, start: V, context: StepperContext<V>) {
    self.parameters = parameters
    maxIterations = context.maxIterations
    tolerance = context.tolerance
    iterate = start
    probe = start
    cycleStart = start
    mapAtCycleStart = start.zeroed()
    residualAtCycleStart = start.zeroed()
    mapValue = start.zeroed()
    basis = _KrylovBasis(
      capacity: Swift.max(1, Swift.min(parameters.restart, context.maxIterations)), like: start)
  }

  @inlinable
  var pendingPoint: V { pointIsIterate ? iterate : probe }

  @inlinable
  func receive() -> StepReceipt<V.Scalar> {
    switch phase {
    case .evaluatingIterate:
      // The true residual at the iterate; the next cycle starts here.
      var r = mapValue
      r.subtract(iterate)
      residualAtCycleStart = r
      mapAtCycleStart = mapValue
      cycleStart = iterate
      lastIteration += 1
      let norm = r.norm()
      previousCycleResidual = currentCycleResidual
      currentCycleResidual = Double(norm)
      return .iterate(
        residual: norm, mapNorm: mapValue.norm(), stepNorm: V.Scalar(stepNorm),
        isFinite: r.isFinite)
    case .product:
      // A v = (f(x + s v) − f(x)) / s, and M v = v − A v.
      var product = basis.direction
      product.add(mapValue, scaledBy: V.Scalar(-1 / scale))
      product.add(mapAtCycleStart, scaledBy: V.Scalar(1 / scale))
      let step = basis.append(product)
      switch step {
      case .nonFinite:
        // The map returned NaN or infinity at the probe: end as non-finite, keeping the
        // last iterate as the pending point.
        pointIsIterate = true
        lastIteration += 1
        return .iterate(residual: .nan, mapNorm: .nan, stepNorm: 0, isFinite: false)
      case .singular:
        breakdownPending = true
        return confirmIterate()
      case .invariant, .extended:
        let y = basis.coefficients()
        var squared = 0.0
        for i in y.indices {
          let d = y[i] - (i < coefficients.count ? coefficients[i] : 0)
          squared += d * d
        }
        stepNorm = squared.squareRoot()
        coefficients = y
        iterate = basis.combine(cycleStart, y)
        var r = basis.residual(y)
        let residual = Double(r.norm())
        r.add(iterate)
        let mapNorm = Double(r.norm())
        let invariant = if case .invariant = step { true } else { false }
        let meetsTolerance = tolerance.isSatisfied(absoluteResidual: residual, mapNorm: mapNorm)
        if invariant || basis.isFull || meetsTolerance || lastIteration + 1 >= maxIterations {
          return confirmIterate()
        }
        lastIteration += 1
        pointIsIterate = true
        return .iterate(
          residual: V.Scalar(residual), mapNorm: V.Scalar(mapNorm), stepNorm: V.Scalar(stepNorm),
          isFinite: iterate.isFinite)
      }
    }
  }

  /// Has the map evaluated at the current iterate (its true residual is what gets reported).
  @inlinable
  func confirmIterate() -> StepReceipt<V.Scalar> {
    if basis.count > 0 && coefficients.count != basis.count {
      coefficients = basis.coefficients()
      iterate = basis.combine(cycleStart, coefficients)
    }
    phase = .evaluatingIterate
    pointIsIterate = true
    return .trial
  }

  @inlinable
  func advance() -> StepAdvance {
    if breakdownPending { return .breakdown }
    if phase == .evaluatingIterate {
      // A full cycle that barely reduced the true residual: stagnation.
      if lastIteration > 0
        && currentCycleResidual > parameters.stagnationRatio * previousCycleResidual
      {
        return .roundingFloor
      }
      if lastIteration > 0 { restarts += 1 }
      guard basis.start(residualAtCycleStart) else { return .roundingFloor }
      coefficients = []
      let s = Swift.max(Double(cycleStart.norm()), Double(mapAtCycleStart.norm()))
      scale = s > 0 && s.isFinite ? s : 1
      phase = .product
    }
    probe = cycleStart
    probe.add(basis.direction, scaledBy: V.Scalar(scale))
    pointIsIterate = false
    return .proceed
  }
}
