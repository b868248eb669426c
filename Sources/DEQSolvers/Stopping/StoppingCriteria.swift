/// When a fixed-point solve stops, and with which status.
///
/// At every iterate `z_k` (including the start, `k = 0`) the solve computes
/// `r = ‖f(z_k) − z_k‖₂` and `ρ = r / (‖f(z_k)‖₂ + 1e-9)` and decides, in this order:
///
/// 1. non-finite `f(z_k) − z_k` → ``FixedPointStatus/nonFinite``;
/// 2. `k ≥ 1` and either `r > divergenceFactor · r₀` or
///    `‖f(z_k)‖ > divergenceFactor · max(‖f(z₀)‖ + r₀, 1)` → ``FixedPointStatus/diverged``
///    (the second catches a state running off to where `z + f(z) − z` rounds to `z`);
/// 3. the ``tolerance`` holds → ``FixedPointStatus/converged``;
/// 4. the ``stall`` rule fires → ``FixedPointStatus/stalled``;
/// 5. an observer returned ``ObserverAction/stop`` → ``FixedPointStatus/stoppedByObserver``;
/// 6. `k == maxIterations` → ``FixedPointStatus/maxIterations``.
///
/// The defaults guard against the classic false positive, a small *relative* residual
/// while the state runs off to infinity: ``Tolerance/both(absolute:relative:)`` requires
/// the absolute residual to be small too.
public struct StoppingCriteria: Sendable, Equatable, Hashable, Codable {
  /// The convergence test.
  public var tolerance: Tolerance
  /// The iteration cap: at most this many steps after the start (`maxIterations + 1`
  /// trace entries).
  public var maxIterations: Int
  /// The stall exit, or `nil` for none.
  public var stall: StallRule?
  /// Stop as diverged when `‖f(z_k) − z_k‖ > divergenceFactor · ‖f(z₀) − z₀‖` or
  /// `‖f(z_k)‖ > divergenceFactor · max(‖f(z₀)‖ + ‖f(z₀) − z₀‖, 1)`; `nil` disables the guard.
  public var divergenceFactor: Double?

  /// Creates criteria.
  ///
  /// - Parameters:
  ///   - tolerance: default `.both(absolute: 1e-6, relative: 1e-6)`.
  ///   - maxIterations: default 50 (torchdeq's default `max_iter`).
  ///   - stall: default ``StallRule/init(window:improvementRatio:)`` (30 steps, ratio 1.3,
  ///     the DEQ code's rule).
  ///   - divergenceFactor: default `1e6` (the DEQ code's protective threshold for
  ///     absolute residuals).
  public init(
    tolerance: Tolerance = .both(absolute: 1e-6, relative: 1e-6),
    maxIterations: Int = 50,
    stall: StallRule? = StallRule(),
    divergenceFactor: Double? = 1e6
  ) {
    precondition(maxIterations >= 0, "maxIterations must be non-negative")
    self.tolerance = tolerance
    self.maxIterations = maxIterations
    self.stall = stall
    self.divergenceFactor = divergenceFactor
  }

  /// Checks every field (public properties and decoding can set them out of range).
  ///
  /// - Throws: ``ConfigurationError`` for a negative iteration cap, a negative or NaN
  ///   tolerance, a stall window below 2 or ratio not above 1, or a divergence factor that
  ///   is not above 1.
  public func validate() throws(ConfigurationError) {
    guard maxIterations >= 0 else {
      throw ConfigurationError("maxIterations must be ≥ 0, got \(maxIterations)")
    }
    let bounds: [Double] =
      switch tolerance {
      case .absolute(let a): [a]
      case .relative(let q): [q]
      case .mixed(let a, let q), .both(let a, let q): [a, q]
      }
    for bound in bounds where !(bound >= 0) {
      throw ConfigurationError("tolerances must be ≥ 0, got \(bound)")
    }
    if let stall {
      guard stall.window >= 2 else {
        throw ConfigurationError("the stall window must be at least 2, got \(stall.window)")
      }
      guard stall.improvementRatio > 1 else {
        throw ConfigurationError(
          "the stall ratio must exceed 1, got \(stall.improvementRatio)")
      }
    }
    if let factor = divergenceFactor, !(factor > 1) {
      throw ConfigurationError("divergenceFactor must exceed 1, got \(factor)")
    }
  }

  /// The IFR head's setting: exactly 15 steps unless the tolerance is met first,
  /// no stall exit (so traces have the same length as torchdeq's).
  public static let ifr = StoppingCriteria(maxIterations: 15, stall: nil)
}

/// A convergence test on `r = ‖f(z) − z‖₂` and `‖f(z)‖₂`.
public enum Tolerance: Sendable, Equatable, Hashable, Codable {
  /// `r ≤ absolute`.
  case absolute(Double)
  /// `r / (‖f(z)‖ + 1e-9) ≤ relative`. On its own this can report convergence while the
  /// state grows without bound (the residual grows slower than the state); prefer
  /// ``both(absolute:relative:)``.
  case relative(Double)
  /// `r ≤ absolute + relative · ‖f(z)‖` (SciPy's and NonlinearSolve.jl's convention).
  /// Like ``relative(_:)`` it loosens as the state grows.
  case mixed(absolute: Double, relative: Double)
  /// `r ≤ absolute` **and** `r / (‖f(z)‖ + 1e-9) ≤ relative`: the safe default.
  case both(absolute: Double, relative: Double)

  /// Whether the residuals pass the test.
  @inlinable
  public func isSatisfied(absoluteResidual r: Double, mapNorm: Double) -> Bool {
    let rel = r / (mapNorm + TraceEntry.relativeResidualEpsilon)
    switch self {
    case .absolute(let a): return r <= a
    case .relative(let q): return rel <= q
    case .mixed(let a, let q): return r <= a + q * mapNorm
    case .both(let a, let q): return r <= a && rel <= q
    }
  }
}

/// The stall exit of the original DEQ solvers: "hardly any progress in the last
/// `window` steps".
///
/// At step `k ≥ window`, over the absolute residuals of the last `window` iterates
/// `r_{k−window+1}, …, r_k`, the solve stops as stalled when
/// `max r / min r < improvementRatio`. (The DEQ code also requires the objective to be
/// below `3·tol`; here the rule stands alone so that a solve stuck far from the tolerance
/// also stops, and reports why.)
public struct StallRule: Sendable, Equatable, Hashable, Codable {
  /// The number of most recent iterates compared (≥ 2).
  public var window: Int
  /// Stall when `max / min` over the window is below this (> 1).
  public var improvementRatio: Double

  /// Creates a rule; the defaults are the DEQ code's (30 steps, ratio 1.3).
  public init(window: Int = 30, improvementRatio: Double = 1.3) {
    precondition(window >= 2, "the stall window needs at least two iterates")
    precondition(improvementRatio > 1, "the stall ratio must exceed 1")
    self.window = window
    self.improvementRatio = improvementRatio
  }
}
