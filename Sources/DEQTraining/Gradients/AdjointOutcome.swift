// What an implicit backward pass's adjoint solve gave a training step (Bai, Kolter & Koltun
// 2019 for the adjoint; jaxopt issue 466 for the failure this names). The adjoint
// u = u·∂F/∂H(H*) + ∂L/∂H* starts from u₀ = 0 and the solver returns its lowest-residual
// iterate. When no iterate beats the start, that iterate is u₀ = 0 and the parameter
// gradient through the equilibrium is exactly zero: a step that silently does nothing.
// This file gives that case a name, so that a training loop can count it and apply a
// documented policy instead.

/// How one adjoint (backward) solve ended, as a training step sees it.
public enum AdjointOutcome: Sendable, Hashable, CustomStringConvertible {
  /// The adjoint solve met its tolerance.
  case converged
  /// It did not converge, but its best iterate improved on the zero start: the gradient is
  /// an approximation of the implicit one, with the solve's residual as its quality.
  case improved(FixedPointStatus)
  /// No iterate improved on the zero start, so the best iterate is `u = 0` and the gradient
  /// through the equilibrium is exactly zero (not because the loss is flat, but because the
  /// backward solve failed).
  case zeroStart(FixedPointStatus)

  /// Classifies a backward solve that started from zero.
  ///
  /// - Parameter solution: the adjoint solve (its start must be the zero vector, as
  ///   `implicitGradient(lossGradient:vectorJacobianProduct:parameterVJP:using:stopping:)`
  ///   and `ImplicitRefinement.backward` use).
  /// - Returns: ``converged`` when the status is `.converged` (a zero cotangent converges at
  ///   the start, and zero is then the right answer); ``zeroStart(_:)`` when the best iterate
  ///   is the start; ``improved(_:)`` otherwise.
  public init<V>(_ solution: FixedPointSolution<V>) {
    if solution.status == .converged {
      self = .converged
    } else if solution.bestIteration == 0 {
      self = .zeroStart(solution.status)
    } else {
      self = .improved(solution.status)
    }
  }

  /// Whether the gradient this solve gives is exactly zero although it should not be.
  public var isZeroGradient: Bool {
    if case .zeroStart = self { return true }
    return false
  }

  /// `converged`, `improved (maxIterations)`, `zero start (diverged)`, ….
  public var description: String {
    switch self {
    case .converged: "converged"
    case .improved(let status): "improved (\(status))"
    case .zeroStart(let status): "zero start (\(status))"
    }
  }
}

/// What a training step does with a RoI whose adjoint solve ended at its zero start
/// (``AdjointOutcome/zeroStart(_:)``). Every policy counts the RoIs it handled.
public enum ZeroGradientPolicy: Sendable, Hashable, CustomStringConvertible {
  /// Replace that RoI's gradient through the equilibrium by the k-step phantom gradient
  /// (Geng et al. 2021) at its equilibrium, damping λ. The default: `steps: 5, damping: 0.5`.
  case phantomGradient(steps: Int, damping: Double)
  /// Skip the whole optimiser step (parameters and optimiser state unchanged).
  case skipStep
  /// Apply the step as computed, with that RoI contributing nothing through the equilibrium
  /// (the head's other gradients still apply). Counted, never silent.
  case applyZero

  /// The default policy: a 5-step phantom gradient with damping 0.5.
  public static let `default` = ZeroGradientPolicy.phantomGradient(steps: 5, damping: 0.5)

  /// `phantom:5,0.5`, `skip` or `zero` (what ``init(parsing:)`` reads).
  public var description: String {
    switch self {
    case .phantomGradient(let steps, let damping): "phantom:\(steps),\(damping)"
    case .skipStep: "skip"
    case .applyZero: "zero"
    }
  }

  /// Reads `phantom`, `phantom:K`, `phantom:K,λ`, `skip` or `zero`.
  ///
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for anything
  ///   else, a step count below 1 or a damping outside `(0, 1]`.
  public init(parsing text: String) throws(TrainingError) {
    let invalid = TrainingError.invalidHyperparameter(
      name: "zero-gradient policy", value: text,
      expected: "phantom, phantom:K, phantom:K,λ (K ≥ 1, 0 < λ ≤ 1), skip or zero")
    switch text {
    case "skip": self = .skipStep
    case "zero": self = .applyZero
    case "phantom": self = .default
    default:
      guard text.hasPrefix("phantom:") else { throw invalid }
      let fields = text.dropFirst("phantom:".count).split(
        separator: ",", omittingEmptySubsequences: false)
      guard (1...2).contains(fields.count), let steps = Int(fields[0]), steps >= 1 else {
        throw invalid
      }
      var damping = 0.5
      if fields.count == 2 {
        guard let value = Double(fields[1]), value > 0, value <= 1 else { throw invalid }
        damping = value
      }
      self = .phantomGradient(steps: steps, damping: damping)
    }
  }
}
