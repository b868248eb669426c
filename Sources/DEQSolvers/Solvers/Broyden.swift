// Limited-memory "good" Broyden on the root problem g(z) = f(z) − z (Broyden 1965; the
// DEQ form of Bai, Kolter & Koltun 2019), matching torchdeq's `broyden_solver`
// (torchdeq/solver/broyden.py) and the DEQ repository's `broyden` (lib/solvers.py).
//
// The inverse Jacobian of g is approximated as B = −I + Σ_i u_i v_iᵀ, with B₀ = −I, so the
// first step is z₁ = z₀ + g(z₀) = f(z₀). Each step:
//
//   d        = −B g_k                       (the proposed update)
//   z_{k+1}  = z_k + s d                    (s = 1, or an Armijo line search)
//   Δz, Δg   = z_{k+1} − z_k, g_{k+1} − g_k
//   vᵀ       = Δzᵀ B                        (rmatvec, with the current history)
//   u        = (Δz − B Δg) / (vᵀ Δg)        (Sherman–Morrison)
//   B        ← B + u vᵀ
//
// The pairs (u_i, v_i) live as rows of two preallocated m × n buffers; every product with
// them is one GEMV. When the memory is full the next pair overwrites the oldest (cyclic,
// torchdeq's `LBFGS_thres`) or the history is cleared first (restart). A zero or non-finite
// denominator vᵀΔg, a Δg at the rounding level 4·ε·(‖f(z)‖ + ‖g(z)‖) of the map's values
// (its direction is noise, and the DEQ code would divide by it), or a non-finite update
// resets B to −I (counted); if that happens again on the very next step the solve stops
// with `.breakdown`.
//
// The products share work: with d_k = −B_k g_k kept from the last step and w = −B_k g_{k+1},
// B_k Δg = d_k − w, and after the update the next direction is −B_{k+1} g_{k+1} =
// w − u (vᵀ g_{k+1}), so a step costs 4 GEMVs of m × n instead of 6 (the DEQ code's count),
// and on contiguous iterates 3 passes over the history (U Δz and w = g − Uᵀ(V g) share one)
// and single passes that fuse what reads the same vectors (`_FusedPasses`). The shortcut is
// taken only while the history is unchanged since d_k and no pair is dropped (not right
// after a reset, nor when a cyclic history overwrites its oldest pair).
//
// Goals in priority order: correct status, step-for-step agreement with the DEQ Broyden,
// no allocation per iteration (contiguous iterates), speed (the history's memory traffic is
// the step's cost at large n).

/// Limited-memory Broyden ("good" inverse update, `B₀ = −I`) with optional Armijo line search.
///
/// With `memory ≥ maxIterations` and no line search this is, step for step, the Broyden
/// solver of torchdeq and of the original DEQ code.
///
/// - Complexity: per iteration one evaluation of `f` (more with line search), ≈ 8·m·n
///   flops in 4 GEMVs (3 passes over the history on contiguous iterates); memory
///   (2·min(m, maxIterations) + 7)·n scalars.
public struct Broyden: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// What happens when the history is full.
  public enum MemoryPolicy: String, Sendable, Equatable, Hashable, Codable {
    /// Overwrite the oldest pair (torchdeq's behaviour with `LBFGS_thres`).
    case cyclic
    /// Clear the whole history (counted as a restart) and start again from `B = −I`.
    case restart
  }

  /// The number of rank-one pairs kept, `m ≥ 1` (default 30: all of them within the
  /// default 50-step cap's first 30 steps, and all 15 of the IFR head's).
  public var memory: Int
  /// What happens when the history is full (default ``MemoryPolicy/restart``: on the IFR
  /// reference problem the cyclic policy diverges once it wraps, see `Docs/Solvers.md`).
  public var memoryPolicy: MemoryPolicy
  /// The Armijo line search, or `nil` for full steps (default `nil`, as the DEQ code).
  public var lineSearch: ArmijoLineSearch?

  /// Creates limited-memory Broyden.
  public init(
    memory: Int = 30, memoryPolicy: MemoryPolicy = .restart, lineSearch: ArmijoLineSearch? = nil
  ) {
    precondition(memory >= 1, "Broyden memory must be at least 1")
    self.memory = memory
    self.memoryPolicy = memoryPolicy
    self.lineSearch = lineSearch
  }

  public var name: String { "broyden" }

  /// - Throws: ``ConfigurationError`` unless `memory ≥ 1` and the line search's parameters
  ///   are in range.
  public func validate() throws(ConfigurationError) {
    guard memory >= 1 else {
      throw ConfigurationError("Broyden memory must be at least 1, got \(memory)")
    }
    try lineSearch?.validate()
  }

  /// A stepper over any `VectorSpace` (`solve` itself uses a specialised one).
  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _BroydenStepper<_GenericKernel<V>>(self, start: start, maxIterations: context.maxIterations)
  }
}

@usableFromInline
final class _BroydenStepper<K: _VectorKernel>: FixedPointStepper {
  @usableFromInline typealias V = K.Vector
  @usableFromInline typealias Scalar = K.Scalar

  /// The pending point (a trial, or the accepted iterate after `receive`).
  @usableFromInline var z: V
  @usableFromInline var mapValue: V
  /// g at `z`.
  @usableFromInline var gz: V
  /// The last accepted iterate z_k (or Δz during an update).
  @usableFromInline var x: V
  /// g(z_k) (or Δg during an update).
  @usableFromInline var gx: V
  @usableFromInline var update: V
  @usableFromInline var scratch: V
  /// `−B_k g_{k+1}` during an update (see the shortcut above).
  @usableFromInline var w: V
  /// Whether `w − u (vᵀ g_{k+1})` is the next direction (the shortcut was taken).
  @usableFromInline var directionFromUpdate = false
  @usableFromInline var us: K
  @usableFromInline var vs: K
  @usableFromInline var t: [Scalar]
  /// The second coefficient vector of a step (`V g_{k+1}` while `t` holds `U Δz`).
  @usableFromInline var t2: [Scalar]
  @usableFromInline let memory: Int
  @usableFromInline let policy: Broyden.MemoryPolicy
  @usableFromInline var search: _ArmijoState?
  @usableFromInline var count = 0
  @usableFromInline var nextSlot = 0
  @usableFromInline var restarts = 0
  @usableFromInline var consecutiveResets = 0
  @usableFromInline var started = false
  @usableFromInline var residualNorm: Scalar = 0
  /// ‖g‖ at the point `receive` last evaluated (the accepted one when `advance` runs).
  @usableFromInline var receivedResidualNorm: Scalar = 0
  @usableFromInline var updateNorm: Scalar = 0
  /// `4·ε·(‖f(z)‖ + ‖g(z)‖)` at the last evaluated point: a Δg this small is rounding noise.
  @usableFromInline var noiseLevel: Scalar = 0

  @inlinable
  var pendingPoint: V { z }

  /// A stepper at `start` for a solve of at most `maxIterations` steps. Such a solve stores
  /// at most `maxIterations − 1` pairs (one per accepted step after the first), so the
  /// history gets `min(memory, maxIterations)` rows: 15 of the default 30 for the IFR head,
  /// whose solves would otherwise allocate and zero twice the history they can use.
  @inlinable
  init(_ algorithm: Broyden, start: V, maxIterations: Int) {
    var z = start.zeroed()
    K.copy(start, into: &z)
    self.z = z
    mapValue = start.zeroed()
    gz = start.zeroed()
    x = start.zeroed()
    gx = start.zeroed()
    update = start.zeroed()
    scratch = start.zeroed()
    w = start.zeroed()
    memory = algorithm.memory
    policy = algorithm.memoryPolicy
    let rows = Swift.max(1, Swift.min(algorithm.memory, maxIterations))
    us = K(capacity: rows, like: start)
    vs = K(capacity: rows, like: start)
    t = [Scalar](repeating: 0, count: algorithm.memory)
    t2 = [Scalar](repeating: 0, count: algorithm.memory)
    search = algorithm.lineSearch.map { _ArmijoState(parameters: $0) }
  }

  @inlinable
  func receive() -> StepReceipt<Scalar> {
    let (r, mapNorm) = K.residual(of: mapValue, at: z, into: &gz)
    // A finite norm is a sum of finite squares.
    let finite = r.isFinite || gz.isFinite
    noiseLevel = 4 * Scalar.ulpOfOne * (mapNorm + r)
    receivedResidualNorm = r
    if started, search != nil {
      let phi = finite ? Double(r) * Double(r) : .infinity
      switch search?.next(phi: phi) {
      case .evaluate(let step)?:
        K.combine(x, Scalar(step), update, into: &z)
        return .trial
      case .accept(let step)?:
        return .iterate(
          residual: r, mapNorm: mapNorm, stepNorm: Scalar(Swift.abs(step)) * updateNorm,
          isFinite: finite)
      case nil:
        break
      }
    }
    let stepNorm = started ? updateNorm : 0
    return .iterate(residual: r, mapNorm: mapNorm, stepNorm: stepNorm, isFinite: finite)
  }

  /// `out ← −B·v = v − Σ u_i (v_i·v)`  (torchdeq: `-matvec(v)`).
  @inlinable
  func negativeMatvec(_ v: V, into out: inout V) {
    let c = count
    t.withUnsafeMutableBufferPointer { p in
      guard let tb = p.baseAddress else { return }
      vs.products(c, with: v, into: tb)
      K.copy(v, into: &out)
      us.accumulate(c, coefficients: tb, scale: -1, into: &out)
    }
  }

  @inlinable
  func advance() -> StepAdvance {
    if started {
      // Δz into x, Δg into gx.
      let differenceNorm = K.differences(z, into: &x, gz, into: &gx)
      switch appendPair(differenceNorm: differenceNorm) {
      case .proceed:
        consecutiveResets = 0
      case let failure:
        consecutiveResets += 1
        count = 0
        nextSlot = 0
        restarts += 1
        // Twice in a row: B = −I did not help either.
        if consecutiveResets >= 2 { return failure }
      }
    }
    started = true
    // Accept z: swap buffers so x = z_{k+1}, gx = g_{k+1}.
    swap(&x, &z)
    swap(&gx, &gz)
    residualNorm = receivedResidualNorm  // ‖g_{k+1}‖: gx is the vector `receive` measured
    // With the pair, the direction −B_{k+1} g_{k+1} = w − u (vᵀ g_{k+1}), its norm and the
    // next point z + it were made in the pass that stored u (in `w`, `updateNorm`, `z`).
    var pointMade = directionFromUpdate
    if directionFromUpdate {
      swap(&w, &update)
    } else {
      negativeMatvec(gx, into: &update)
      updateNorm = update.norm()
    }
    // A finite norm is a sum of finite squares.
    if !updateNorm.isFinite && !update.isFinite {
      count = 0
      nextSlot = 0
      restarts += 1
      K.copy(gx, into: &update)
      updateNorm = update.norm()
      pointMade = false
    }
    if !pointMade { K.combine(x, 1, update, into: &z) }
    if search != nil {
      search?.begin(phi0: Double(residualNorm) * Double(residualNorm))
    }
    return .proceed
  }

  /// Forms the new pair from Δz (in `x`) and Δg (in `gx`, of norm `differenceNorm`) and
  /// stores it. Returns `.roundingFloor` for a Δg at the rounding level of the map's values,
  /// `.breakdown` for a zero or non-finite denominator.
  ///
  /// With the shortcut (`directionFromUpdate`), it also leaves the next direction in `w`, its
  /// norm in `updateNorm` and the next pending point (the accepted `z` plus the direction) in
  /// `x`, made in the pass that stores `u`.
  @inlinable
  func appendPair(differenceNorm: Scalar) -> StepAdvance {
    directionFromUpdate = false
    var intact = true
    if count == memory && policy == .restart {
      count = 0
      nextSlot = 0
      restarts += 1
      intact = false
    }
    // Δg at the rounding level of the map's values carries no curvature information.
    if differenceNorm > 0 && differenceNorm <= noiseLevel { return .roundingFloor }
    let c = count
    // B_k g_k = −d_k (d_k in `update`) needs the history d_k was computed with; the next
    // direction from the update needs B_{k+1} = B_k + u vᵀ (no pair overwritten).
    let shortcut = intact && c > 0 && c < memory
    if shortcut { return appendPairWithDirection(count: c) }
    let ok = t.withUnsafeMutableBufferPointer { p -> Bool in
      guard let tb = p.baseAddress else { return false }
      // vᵀ = Δzᵀ B = −Δz + Σ v_i (u_i·Δz), into scratch.
      us.products(c, with: x, into: tb)
      K.negate(x, into: &scratch)
      vs.accumulate(c, coefficients: tb, scale: 1, into: &scratch)
      // u numerator Δz − BΔg = Δz + Δg − Σ u_i (v_i·Δg), into update.
      vs.products(c, with: gx, into: tb)
      K.combine(x, 1, gx, into: &update)
      us.accumulate(c, coefficients: tb, scale: -1, into: &update)
      let denominator = scratch.dot(gx)
      guard denominator != 0, denominator.isFinite else { return false }
      update.scale(by: 1 / denominator)
      return update.isFinite && scratch.isFinite
    }
    guard ok else { return .breakdown }
    let slot = nextSlot
    vs.setRow(slot, to: scratch)
    us.setRow(slot, to: update)
    nextSlot = (slot + 1) % memory
    count = Swift.min(count + 1, memory)
    return .proceed
  }

  /// The shortcut pair (history intact, `c` pairs, `0 < c < memory`, stored at row `c`) in
  /// three passes over the history and four over vectors:
  ///
  ///   t₂ = V g_{k+1};  t₁ = U Δz and w = g_{k+1} − Uᵀt₂ (one pass over U);
  ///   vᵀ = −Δz + Vᵀt₁ (into `scratch`);
  ///   row V[c] = vᵀ, numerator Δz − BΔg = (Δz − d_k) + w, vᵀΔg and vᵀg_{k+1} (one pass);
  ///   row U[c] = numerator / vᵀΔg, direction w − u (vᵀg_{k+1}), its norm, and the accepted
  ///   z plus the direction (one pass).
  @inlinable
  func appendPairWithDirection(count c: Int) -> StepAdvance {
    let slot = nextSlot
    t.withUnsafeMutableBufferPointer { p1 in
      t2.withUnsafeMutableBufferPointer { p2 in
        guard let t1 = p1.baseAddress, let t2 = p2.baseAddress else { return }
        vs.products(c, with: gz, into: t2)
        us.products(
          c, with: x, into: t1, combining: UnsafePointer(t2), scale: -1, base: gz, into: &w)
        K.negate(x, into: &scratch)
        vs.accumulate(c, coefficients: UnsafePointer(t1), scale: 1, into: &scratch)
      }
    }
    let (denominator, vg) = vs.setRow(
      slot, to: scratch, subtractingFrom: x, thenAdding: w, into: &update, dotting: gx, gz)
    // A non-finite vᵀ makes vᵀΔg non-finite.
    guard denominator != 0, denominator.isFinite else { return .breakdown }
    let (norm, finite) = us.setRow(
      slot, to: update, scaledBy: 1 / denominator, adding: -vg, into: &w, base: z, point: &x)
    guard finite else { return .breakdown }
    updateNorm = norm
    directionFromUpdate = true
    nextSlot = (slot + 1) % memory
    count = Swift.min(count + 1, memory)
    return .proceed
  }
}
