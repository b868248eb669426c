// Inexact Newton–Krylov for f(z) = z (Brown & Saad 1990; Eisenstat & Walker 1996; Kelley,
// "Solving Nonlinear Equations with Newton's Method", 2003, ch. 3): on the root problem
// g(z) = f(z) − z, each outer step solves the Newton equation
//
//   (I − ∂f/∂z(z_k)) d = g(z_k)         (that is, g′(z_k) d = −g(z_k))
//
// inexactly by restarted GMRES, to ‖(I − J)d − g‖ ≤ η_k ‖g‖ with the Eisenstat–Walker
// forcing term (choice 2, with Kelley's safeguards), then takes z_{k+1} = z_k + λ d with a
// backtracking line search on ‖g‖ (sufficient decrease ‖g(z + λd)‖ ≤ (1 − 10⁻⁴ λ)·R, with
// R the largest ‖g‖ of the last few iterates (non-monotone, Grippo, Lampariello & Lucidi
// 1986), λ from a safeguarded quadratic model, at most `maxBacktracks` reductions).
//
// Products J v are exact when the problem has a Jacobian–vector product
// (`FixedPointProblem.jacobianVectorProduct`), else forward differences of the map,
// (f(z + h v) − f(z)) / h with h = √ε · max(‖z‖, 1) for unit v. Either way they are counted
// in `jacobianProducts`, so a trace's work in map-equivalents is
// mapEvaluations + jacobianProducts, and each accepted step records its inner solve
// (products, restarts, η, inner residuals, backtracks) in `TraceEntry.innerSolve`.
//
// Written against the public stepping protocol only, as a user's own algorithm would be.
// Goals in priority order: correct status, exact products when available, quadratic
// convergence near the solution (η → 0), then cost.

/// Inexact Newton–Krylov: GMRES on the Newton equation with exact (or finite-difference)
/// Jacobian–vector products, Eisenstat–Walker forcing and a backtracking line search.
///
/// ```swift
/// let problem = FixedPointProblem(start: z0, map: f, jacobianVectorProduct: { z, v in jvp(z, v) })
/// let solution = solve(problem, using: NewtonKrylov(), stopping: .init(tolerance: .relative(1e-10)))
/// ```
///
/// - Complexity: per outer step one map evaluation per line-search trial, up to
///   ``maxInnerProducts`` Jacobian products (each ≈ one map evaluation) and ≈ 4–8·k·n flops
///   per product (k ≤ ``restart``); memory (restart + 8)·n scalars.
public struct NewtonKrylov: FixedPointAlgorithm, Equatable, Hashable, Codable {
  /// The inner GMRES's Krylov dimension before a restart (default 30).
  public var restart: Int
  /// The cap on Jacobian products per outer step (default 60).
  public var maxInnerProducts: Int
  /// The largest forcing term `η_max` (default 0.9); the first step uses it.
  public var maximumForcing: Double
  /// The Eisenstat–Walker `γ` (default 0.9); `η_k = γ (‖g_k‖ / ‖g_{k−1}‖)²`.
  public var forcingGamma: Double
  /// The most step-length reductions of the line search per outer step (default 10; 0 takes
  /// full Newton steps).
  public var maxBacktracks: Int
  /// The line search's reference is the largest residual of the last this many accepted
  /// iterates (a non-monotone search, Grippo, Lampariello & Lucidi 1986; default 5; 1 is
  /// the classical monotone test). Far from the solution, where `‖g‖` has local minima that
  /// are not roots, a monotone search stalls in them.
  public var lineSearchWindow: Int

  /// Creates Newton–Krylov with Kelley's defaults and a non-monotone line search.
  public init(
    restart: Int = 30, maxInnerProducts: Int = 60, maximumForcing: Double = 0.9,
    forcingGamma: Double = 0.9, maxBacktracks: Int = 10, lineSearchWindow: Int = 5
  ) {
    self.lineSearchWindow = lineSearchWindow
    self.restart = restart
    self.maxInnerProducts = maxInnerProducts
    self.maximumForcing = maximumForcing
    self.forcingGamma = forcingGamma
    self.maxBacktracks = maxBacktracks
    precondition((try? validate()) != nil, "NewtonKrylov: hyperparameter out of range")
  }

  public var name: String { "newton-krylov" }

  /// - Throws: ``ConfigurationError`` unless `restart ≥ 1`, `maxInnerProducts ≥ 1`,
  ///   `0 < maximumForcing < 1`, `0 < forcingGamma ≤ 1` and `maxBacktracks ≥ 0`.
  public func validate() throws(ConfigurationError) {
    guard restart >= 1 else {
      throw ConfigurationError("NewtonKrylov restart must be at least 1, got \(restart)")
    }
    guard maxInnerProducts >= 1 else {
      throw ConfigurationError(
        "NewtonKrylov maxInnerProducts must be at least 1, got \(maxInnerProducts)")
    }
    guard maximumForcing > 0 && maximumForcing < 1 else {
      throw ConfigurationError(
        "NewtonKrylov maximumForcing must be in (0, 1), got \(maximumForcing)")
    }
    guard forcingGamma > 0 && forcingGamma <= 1 else {
      throw ConfigurationError("NewtonKrylov forcingGamma must be in (0, 1], got \(forcingGamma)")
    }
    guard maxBacktracks >= 0 else {
      throw ConfigurationError("NewtonKrylov maxBacktracks must be ≥ 0, got \(maxBacktracks)")
    }
    guard lineSearchWindow >= 1 else {
      throw ConfigurationError(
        "NewtonKrylov lineSearchWindow must be at least 1, got \(lineSearchWindow)")
    }
  }

  public func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    _NewtonKrylovStepper(self, start: start, context: context)
  }
}

@usableFromInline
final class _NewtonKrylovStepper<V: VectorSpace>: FixedPointStepper {
  @usableFromInline let parameters: NewtonKrylov
  @usableFromInline let context: StepperContext<V>
  @usableFromInline var z: V
  @usableFromInline var fz: V
  @usableFromInline var g: V
  @usableFromInline var direction: V
  @usableFromInline var trial: V
  @usableFromInline var mapValue: V
  @usableFromInline var probe: V
  @usableFromInline let basis: _KrylovBasis<V>
  @usableFromInline var started = false
  @usableFromInline var residualNorm = 0.0
  @usableFromInline var previousResidualNorm = 0.0
  @usableFromInline var forcing = 0.0
  @usableFromInline var stepLength = 1.0
  @usableFromInline var backtracks = 0
  @usableFromInline var jacobianProducts = 0
  @usableFromInline var pendingRecord: InnerSolveRecord?
  @usableFromInline var innerSolve: InnerSolveRecord?
  @usableFromInline var restarts = 0
  /// The residual norms of the last `lineSearchWindow` accepted iterates, newest last.
  @usableFromInline var recentResiduals: [Double] = []

  @inlinable
  init(_ parameters: NewtonKrylov, start: V, context: StepperContext<V>) {
    self.parameters = parameters
    self.context = context
    z = start
    fz = start.zeroed()
    g = fz
    direction = fz
    trial = start
    mapValue = fz
    probe = fz
    basis = _KrylovBasis(capacity: parameters.restart, like: start)
  }

  @inlinable
  var pendingPoint: V { started ? trial : z }

  @inlinable
  func receive() -> StepReceipt<V.Scalar> {
    var residual = mapValue
    guard started else {
      residual.subtract(z)
      fz = mapValue
      g = residual
      residualNorm = Double(residual.norm())
      recentResiduals = [residualNorm]
      return .iterate(
        residual: V.Scalar(residualNorm), mapNorm: mapValue.norm(), stepNorm: 0,
        isFinite: residual.isFinite)
    }
    residual.subtract(trial)
    let norm = Double(residual.norm())
    let reference = recentResiduals.max() ?? residualNorm
    let decrease = (1 - 1e-4 * stepLength) * reference
    if !(norm <= decrease) && backtracks < parameters.maxBacktracks {
      // Backtrack: minimise the quadratic model of φ(λ) = ‖g(z + λd)‖² through φ(0),
      // φ′(0) = −2φ(0) (exact Newton direction) and φ(λ), within [0.1λ, 0.5λ].
      let phi0 = residualNorm * residualNorm
      let phi = norm * norm
      let lambda = stepLength
      var next = 0.5 * lambda
      if phi.isFinite {
        let curvature = phi - phi0 + 2 * phi0 * lambda
        if curvature > 0 { next = phi0 * lambda * lambda / curvature }
        next = Swift.min(Swift.max(next, 0.1 * lambda), 0.5 * lambda)
      }
      stepLength = next
      backtracks += 1
      trial = z
      trial.add(direction, scaledBy: V.Scalar(stepLength))
      return .trial
    }
    // Accept the trial (the line search succeeded or ran out of reductions).
    swap(&z, &trial)
    fz = mapValue
    g = residual
    previousResidualNorm = residualNorm
    residualNorm = norm
    recentResiduals.append(norm)
    if recentResiduals.count > parameters.lineSearchWindow { recentResiduals.removeFirst() }
    if var record = pendingRecord {
      record.backtracks = backtracks
      record.stepLength = stepLength
      innerSolve = record
    }
    let step = stepLength * Double(direction.norm())
    started = false
    return .iterate(
      residual: V.Scalar(norm), mapNorm: fz.norm(), stepNorm: V.Scalar(step),
      isFinite: residual.isFinite)
  }

  /// The residual bound the driver's tolerance asks for at the current point.
  @inlinable
  var targetResidual: Double {
    let mapNorm = Double(fz.norm())
    switch context.tolerance {
    case .absolute(let a): return a
    case .relative(let q): return q * mapNorm
    case .mixed(let a, let q): return a + q * mapNorm
    case .both(let a, let q): return Swift.min(a, q * mapNorm)
    }
  }

  /// Eisenstat–Walker choice 2 with Kelley's safeguards (nsoli).
  @inlinable
  func nextForcing() -> Double {
    let maximum = parameters.maximumForcing
    guard previousResidualNorm > 0 else { return maximum }
    let gamma = parameters.forcingGamma
    let ratio = residualNorm / previousResidualNorm
    var eta = gamma * ratio * ratio
    let previous = gamma * forcing * forcing
    if previous > 0.1 { eta = Swift.max(eta, previous) }
    eta = Swift.min(eta, maximum)
    // Do not oversolve the last step: the outer tolerance needs no more than this.
    eta = Swift.max(eta, 0.5 * targetResidual / Swift.max(residualNorm, .leastNormalMagnitude))
    return Swift.min(eta, maximum)
  }

  /// `(I − J) v` at `z`, counted as one Jacobian product.
  @inlinable
  func newtonProduct(_ v: V) -> V {
    jacobianProducts += 1
    var result = v
    if let jvp = context.jacobianVectorProduct {
      result.subtract(jvp(z, v))
    } else {
      let h = Double(V.Scalar.ulpOfOne).squareRoot() * Swift.max(Double(z.norm()), 1)
      probe = z
      probe.add(v, scaledBy: V.Scalar(h))
      var value = fz
      context.map(probe, &value)
      result.add(value, scaledBy: V.Scalar(-1 / h))
      result.add(fz, scaledBy: V.Scalar(1 / h))
    }
    return result
  }

  @inlinable
  func advance() -> StepAdvance {
    forcing = nextForcing()
    let target = forcing * residualNorm
    // GMRES on (I − J) d = g from d = 0, restarted from the recurrence's residual.
    direction = g.zeroed()
    var rhs = g
    var products = 0
    var cycles = 0
    var history: [Double] = []
    var relative = 1.0
    solving: while products < parameters.maxInnerProducts {
      guard basis.start(rhs) else { break }
      if cycles > 0 { restarts += 1 }
      cycles += 1
      var finished = false
      while !basis.isFull && products < parameters.maxInnerProducts {
        let step = basis.append(newtonProduct(basis.direction))
        products += 1
        switch step {
        case .nonFinite:
          return .breakdown
        case .singular:
          finished = true
        case .invariant(let estimate):
          relative = estimate / residualNorm
          finished = true
        case .extended(let estimate):
          relative = estimate / residualNorm
          finished = estimate <= target
        }
        history.append(relative)
        if finished { break }
      }
      if basis.count > 0 {
        let y = basis.coefficients()
        direction = basis.combine(direction, y)
        rhs = basis.residual(y)
      }
      if finished { break solving }
    }
    guard direction.isFinite, Double(direction.norm()) > 0 else { return .breakdown }
    pendingRecord = InnerSolveRecord(
      products: products, restarts: Swift.max(cycles - 1, 0), forcingTerm: forcing,
      relativeResidual: relative, residualHistory: history, backtracks: 0, stepLength: 1)
    stepLength = 1
    backtracks = 0
    trial = z
    trial.add(direction)
    started = true
    return .proceed
  }
}
