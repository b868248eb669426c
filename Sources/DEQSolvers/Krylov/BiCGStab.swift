// BiCGStab (van der Vorst 1992) for fixed points of affine maps f(u) = A u + b, i.e.
// (I − A) u = b, in the fixed-point driver: the second Krylov choice for adjoint solves,
// with short recurrences (no growing basis: memory 8·n whatever the iteration count) at
// the price of two products per step and a less smooth residual than GMRES.
//
// As in ``GMRES``, a product is A v = (f(x + s v) − f(x)) / s at the anchor x (the last
// point whose true residual was evaluated), one iteration is one product, and the trace
// records the recursive residual after each product (s after the first half-step, r after
// the second). The true residual f(x) − x is evaluated when the recursive one meets the
// tolerance, at the iteration cap, and after a breakdown; the recursion then restarts
// from there with a fresh shadow residual.
//
// Breakdowns: ρ = ⟨r̂, r⟩ = 0, ⟨r̂, v⟩ = 0, ⟨t, t⟩ = 0 or ω = 0. The first one restarts the
// recursion from the true residual; a second one right after a restart ends the solve as
// `.breakdown`.
// Goals in priority order: honest status (converged only on a true residual), one map
// evaluation per product, constant memory.

/// BiCGStab for the fixed point of an affine map `u ↦ A u + b`, i.e. `(I − A) u = b`.
///
/// For adjoint solves, beside ``GMRES``: `implicitGradient(…, using: BiCGStab())`. One
/// iteration is one product (two per BiCGStab step).
///
/// - Complexity: per product one map evaluation and O(n) flops; memory 10·n scalars.
public struct BiCGStab: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// Creates BiCGStab (it has no hyperparameters).
  public init() {}

  public var name: String { "bicgstab" }

  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _BiCGStabStepper(start: start, context: context)
  }
}

@usableFromInline
final class _BiCGStabStepper<V: VectorSpace>: FixedPointStepper {
  @usableFromInline enum Phase { case evaluatingIterate, firstProduct, secondProduct }

  @usableFromInline let maxIterations: Int
  @usableFromInline let tolerance: Tolerance
  @usableFromInline var phase = Phase.evaluatingIterate
  @usableFromInline var pointIsIterate = true
  @usableFromInline var mapValue: V
  @usableFromInline var iterate: V
  @usableFromInline var previousIterate: V
  @usableFromInline var probe: V
  @usableFromInline var anchorMap: V
  @usableFromInline var anchor: V
  @usableFromInline var r: V
  @usableFromInline var shadow: V
  @usableFromInline var p: V
  @usableFromInline var v: V
  @usableFromInline var s: V
  @usableFromInline var rho = 1.0
  @usableFromInline var alpha = 1.0
  @usableFromInline var omega = 1.0
  @usableFromInline var productScale = 1.0
  @usableFromInline var anchorScale = 1.0
  @usableFromInline var lastIteration = -1
  @usableFromInline var breakdownPending = false
  @usableFromInline var breakdownsSinceRestart = 0
  @usableFromInline var restarts = 0

  @inlinable
  init(start: V, context: StepperContext<V>) {
    maxIterations = context.maxIterations
    tolerance = context.tolerance
    mapValue = start.zeroed()
    iterate = start
    previousIterate = start
    probe = start
    anchor = start
    anchorMap = start.zeroed()
    r = start.zeroed()
    shadow = r
    p = r
    v = r
    s = r
  }

  @inlinable
  var pendingPoint: V { pointIsIterate ? iterate : probe }

  /// `v − A v`, with `A v` from the map value at `anchor + productScale · v`.
  @inlinable
  func product(of direction: V) -> V {
    var result = direction
    result.add(mapValue, scaledBy: V.Scalar(-1 / productScale))
    result.add(anchorMap, scaledBy: V.Scalar(1 / productScale))
    return result
  }

  /// Sets the probe `anchor + σ·direction` with `σ‖direction‖` at the anchor's scale.
  @inlinable
  func probe(along direction: V) {
    let norm = Double(direction.norm())
    productScale = norm > 0 ? anchorScale / norm : 1
    probe = anchor
    probe.add(direction, scaledBy: V.Scalar(productScale))
    pointIsIterate = false
  }

  @inlinable
  func report(residual: V) -> StepReceipt<V.Scalar> {
    let norm = Double(residual.norm())
    var f = residual
    f.add(iterate)
    let mapNorm = Double(f.norm())
    let step = iterate.subtracting(previousIterate).norm()
    if !norm.isFinite || !iterate.isFinite {
      pointIsIterate = true
      lastIteration += 1
      return .iterate(residual: .nan, mapNorm: .nan, stepNorm: step, isFinite: false)
    }
    if tolerance.isSatisfied(absoluteResidual: norm, mapNorm: mapNorm)
      || lastIteration + 1 >= maxIterations
    {
      return confirm()
    }
    lastIteration += 1
    pointIsIterate = true
    return .iterate(
      residual: V.Scalar(norm), mapNorm: V.Scalar(mapNorm), stepNorm: step, isFinite: true)
  }

  /// Has the map evaluated at the iterate, for its true residual.
  @inlinable
  func confirm() -> StepReceipt<V.Scalar> {
    phase = .evaluatingIterate
    pointIsIterate = true
    return .trial
  }

  /// The map returned NaN or infinity at a probe: end as non-finite, the last iterate pending.
  @inlinable
  func nonFiniteProduct() -> StepReceipt<V.Scalar> {
    pointIsIterate = true
    lastIteration += 1
    return .iterate(residual: .nan, mapNorm: .nan, stepNorm: 0, isFinite: false)
  }

  @inlinable
  func breakdown() -> StepReceipt<V.Scalar> {
    breakdownsSinceRestart += 1
    return confirm()
  }

  @inlinable
  func receive() -> StepReceipt<V.Scalar> {
    switch phase {
    case .evaluatingIterate:
      r = mapValue
      r.subtract(iterate)
      anchor = iterate
      anchorMap = mapValue
      let scale = Swift.max(Double(anchor.norm()), Double(anchorMap.norm()))
      anchorScale = scale > 0 && scale.isFinite ? scale : 1
      let step = iterate.subtracting(previousIterate).norm()
      previousIterate = iterate
      lastIteration += 1
      return .iterate(
        residual: r.norm(), mapNorm: mapValue.norm(), stepNorm: step, isFinite: r.isFinite)
    case .firstProduct:
      v = product(of: p)
      guard v.isFinite else { return nonFiniteProduct() }
      let denominator = Double(shadow.dot(v))
      guard denominator != 0, denominator.isFinite else { return breakdown() }
      alpha = rho / denominator
      s = r
      s.add(v, scaledBy: V.Scalar(-alpha))
      previousIterate = iterate
      iterate.add(p, scaledBy: V.Scalar(alpha))
      return report(residual: s)
    case .secondProduct:
      let t = product(of: s)
      guard t.isFinite else { return nonFiniteProduct() }
      let tt = Double(t.dot(t))
      guard tt > 0, tt.isFinite else { return breakdown() }
      omega = Double(t.dot(s)) / tt
      guard omega != 0 else { return breakdown() }
      previousIterate = iterate
      iterate.add(s, scaledBy: V.Scalar(omega))
      r = s
      r.add(t, scaledBy: V.Scalar(-omega))
      breakdownsSinceRestart = 0
      return report(residual: r)
    }
  }

  @inlinable
  func advance() -> StepAdvance {
    switch phase {
    case .evaluatingIterate:
      if breakdownsSinceRestart >= 2 { return .breakdown }
      if lastIteration > 0 { restarts += 1 }
      // A fresh recursion from the true residual.
      shadow = r
      rho = 1
      alpha = 1
      omega = 1
      p = r.zeroed()
      v = p
      return nextDirection()
    case .firstProduct:
      // The half-step's iterate was reported; now t = M s.
      phase = .secondProduct
      probe(along: s)
      return .proceed
    case .secondProduct:
      return nextDirection()
    }
  }

  /// ρ, β and the new search direction p; then M p is due.
  @inlinable
  func nextDirection() -> StepAdvance {
    let rhoNext = Double(shadow.dot(r))
    guard rhoNext != 0, rhoNext.isFinite else {
      // The shadow residual is orthogonal to r: restart from the true residual, or give up
      // if that was just done.
      if breakdownsSinceRestart >= 1 { return .breakdown }
      breakdownsSinceRestart += 1
      _ = confirm()
      return .proceed
    }
    let beta = (rhoNext / rho) * (alpha / omega)
    rho = rhoNext
    // p = r + β (p − ω v)
    p.add(v, scaledBy: V.Scalar(-omega))
    p.scale(by: V.Scalar(beta))
    p.add(r)
    phase = .firstProduct
    probe(along: p)
    return .proceed
  }
}
