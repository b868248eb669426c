// Backtracking line search on φ(s) = ‖g(z_k + s·d)‖² with the Armijo condition
// (Nocedal & Wright 2006, §3.5), as used by the DEQ Broyden solvers (adapted there from
// SciPy's `scalar_search_armijo`): a full step, then the minimiser of the quadratic
// interpolant, then cubic interpolants, each safeguarded to [0.1, 0.5] of the previous
// step. φ′(0) is taken as −φ(0), the value for an exact Newton direction.
//
// Differences from SciPy/torchdeq, on purpose: the safeguard is applied before the trial
// is evaluated (SciPy's pairs φ at the cubic step with the halved step), the quadratic
// step's Armijo test is not skipped (torchdeq's copy skips it), and a non-finite φ halves
// the step instead of feeding infinity into the interpolation.
// On failure (step below `minimumStep`) the full step is taken, as in the DEQ code.

/// The Armijo backtracking line search of ``Broyden``.
public struct ArmijoLineSearch: Sendable, Equatable, Hashable, Codable {
  /// The sufficient-decrease constant `c₁` in `φ(s) ≤ φ(0) + c₁·s·φ′(0)` (default 1e-4).
  public var sufficientDecrease: Double
  /// The smallest step tried before giving up and taking the full step (default 1e-2,
  /// torchdeq's `amin`).
  public var minimumStep: Double

  /// Creates a line search with SciPy's and torchdeq's constants.
  public init(sufficientDecrease: Double = 1e-4, minimumStep: Double = 1e-2) {
    precondition(sufficientDecrease > 0 && sufficientDecrease < 1, "c1 must be in (0, 1)")
    precondition(minimumStep > 0 && minimumStep < 1, "minimumStep must be in (0, 1)")
    self.sufficientDecrease = sufficientDecrease
    self.minimumStep = minimumStep
  }

  /// - Throws: ``ConfigurationError`` unless `0 < sufficientDecrease < 1` and
  ///   `0 < minimumStep < 1`.
  public func validate() throws(ConfigurationError) {
    guard sufficientDecrease > 0 && sufficientDecrease < 1 else {
      throw ConfigurationError(
        "Armijo sufficientDecrease must be in (0, 1), got \(sufficientDecrease)")
    }
    guard minimumStep > 0 && minimumStep < 1 else {
      throw ConfigurationError("Armijo minimumStep must be in (0, 1), got \(minimumStep)")
    }
  }
}

/// The line search as a state machine fed one φ value per map evaluation.
@usableFromInline
struct _ArmijoState {
  @usableFromInline
  enum Decision: Equatable {
    case evaluate(Double)
    case accept(Double)
  }

  @usableFromInline
  enum Stage { case idle, first, interpolating, halving, forcedFullStep }

  @usableFromInline let parameters: ArmijoLineSearch
  @usableFromInline var stage: Stage = .idle
  @usableFromInline var phi0: Double = 0
  @usableFromInline var derivative0: Double = 0
  /// The two most recent evaluated (step, φ) pairs, older first.
  @usableFromInline var alpha0: Double = 1
  @usableFromInline var phiAlpha0: Double = 0
  @usableFromInline var alpha1: Double = 0
  @usableFromInline var phiAlpha1: Double = 0
  /// The step being evaluated.
  @usableFromInline var current: Double = 1

  @inlinable
  init(parameters: ArmijoLineSearch) { self.parameters = parameters }

  /// Starts a search; the full step `s = 1` is the first trial (already pending).
  @inlinable
  mutating func begin(phi0: Double) {
    self.phi0 = phi0
    derivative0 = -phi0
    stage = .first
    current = 1
  }

  @inlinable
  func isSufficient(_ phi: Double, at step: Double) -> Bool {
    phi <= phi0 + parameters.sufficientDecrease * step * derivative0
  }

  @inlinable
  mutating func fail() -> Decision {
    if current == 1 {
      stage = .idle
      return .accept(1)
    }
    stage = .forcedFullStep
    current = 1
    return .evaluate(1)
  }

  @inlinable
  mutating func request(_ step: Double, _ next: Stage) -> Decision {
    guard step.isFinite, step >= parameters.minimumStep else { return fail() }
    stage = next
    current = step
    return .evaluate(step)
  }

  /// Feeds φ at the pending step; returns the next step to evaluate, or the accepted one.
  @inlinable
  mutating func next(phi: Double) -> Decision {
    let step = current
    switch stage {
    case .idle, .forcedFullStep:
      stage = .idle
      return .accept(step)
    case .first, .halving:
      if phi.isFinite && isSufficient(phi, at: step) {
        stage = .idle
        return .accept(step)
      }
      if !phi.isFinite || stage == .halving {
        return request(step / 2, .halving)
      }
      // Quadratic interpolant through φ(0), φ′(0), φ(step).
      alpha0 = step
      phiAlpha0 = phi
      let q = -derivative0 * step * step / 2 / (phi - phi0 - derivative0 * step)
      return request(Swift.min(Swift.max(q, 0.1 * step), 0.5 * step), .interpolating)
    case .interpolating:
      if !phi.isFinite { return request(step / 2, .halving) }
      if isSufficient(phi, at: step) {
        stage = .idle
        return .accept(step)
      }
      alpha1 = step
      phiAlpha1 = phi
      // Cubic interpolant through φ(0), φ′(0), φ(alpha0), φ(alpha1).
      let (a0, a1) = (alpha0, alpha1)
      let factor = a0 * a0 * a1 * a1 * (a1 - a0)
      let e1 = phiAlpha1 - phi0 - derivative0 * a1
      let e0 = phiAlpha0 - phi0 - derivative0 * a0
      let a = (a0 * a0 * e1 - a1 * a1 * e0) / factor
      let b = (-a0 * a0 * a0 * e1 + a1 * a1 * a1 * e0) / factor
      var cubic = (-b + (b * b - 3 * a * derivative0).magnitude.squareRoot()) / (3 * a)
      if !cubic.isFinite { cubic = 0.5 * a1 }
      alpha0 = a1
      phiAlpha0 = phi
      return request(Swift.min(Swift.max(cubic, 0.1 * a1), 0.5 * a1), .interpolating)
    }
  }
}
