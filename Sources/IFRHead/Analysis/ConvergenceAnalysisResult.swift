// What a ConvergenceAnalysis returns: per RoI the unrolled series, the spectral samples,
// the Broyden solves and their distance from the unrolled state; and the verdict.

import DEQSolvers

/// One examined step's spectral radius `ρ(∂F/∂H at H_k)`.
public struct SpectralSample: Sendable, Equatable, Codable {
  /// The step `k`.
  public var step: Int
  /// `ρ`, or `nil` when it could not be computed (see ``failure``).
  public var value: Double?
  /// The method that produced it.
  public var method: SpectralRadiusRecord.Method
  /// The method's error estimate (Arnoldi: the Ritz residual `‖J·x − θ·x‖`).
  public var errorEstimate: Double?
  /// Whether the method's own convergence test passed (and, for a warm-started last step,
  /// whether the cold confirmation agreed).
  public var isReliable: Bool
  /// Jacobian products spent.
  public var jacobianProducts: Int
  /// Whether Arnoldi started from the previous examined step's Ritz vector.
  public var warmStarted: Bool
  /// The method's own account of the run.
  public var explanation: String
  /// Why no value exists, when none does.
  public var failure: String?

  /// Creates a sample.
  public init(
    step: Int, value: Double?, method: SpectralRadiusRecord.Method, errorEstimate: Double?,
    isReliable: Bool, jacobianProducts: Int, warmStarted: Bool, explanation: String,
    failure: String? = nil
  ) {
    self.step = step
    self.value = value
    self.method = method
    self.errorEstimate = errorEstimate
    self.isReliable = isReliable
    self.jacobianProducts = jacobianProducts
    self.warmStarted = warmStarted
    self.explanation = explanation
    self.failure = failure
  }

  init<S: DEQScalar>(step: Int, estimate: SpectralRadiusEstimate<S>, warmStarted: Bool) {
    self.init(
      step: step, value: estimate.value.map(Double.init),
      method: SpectralRadiusRecord.Method(estimate.method),
      errorEstimate: estimate.errorEstimate.map(Double.init),
      isReliable: estimate.isTrustworthy && estimate.value != nil,
      jacobianProducts: estimate.jacobianProducts, warmStarted: warmStarted,
      explanation: estimate.explanation)
  }
}

/// One RoI's analysis.
public struct RoIAnalysis<Scalar: DEQScalar>: Sendable {
  /// The RoI's index in the batch.
  public var index: Int
  /// The last step reached: the configured steps, or the step at which the state stopped
  /// being finite.
  public var steps: Int
  /// `adjacentDifferences[i − 1] = ‖H_i − H_{i−1}‖₂` for `i = 1 … steps`.
  public var adjacentDifferences: [Double]
  /// ρ at the examined steps, ascending by step.
  public var spectral: [SpectralSample]
  /// The cold recomputation of the last examined step when that one was warm-started.
  public var coldConfirmation: SpectralSample?
  /// The step after which the state stopped being finite, if it did.
  public var nonFiniteStep: Int?
  /// `H_steps`, the unrolled state.
  public var unrolledState: Tensor<Scalar>
  /// Broyden from `H0 = 0` with the paper's setting (15 iterations).
  public var broyden: FixedPointSolution<Tensor<Scalar>>
  /// Broyden from `H0 = 0` to the refined tolerance.
  public var refined: FixedPointSolution<Tensor<Scalar>>
  /// `‖H_refined − H_unrolled‖₂`.
  public var difference: Double
  /// The first examined step from which every examined ρ is reliably below one.
  public var firstStepBelowOne: Int?

  /// `‖H_steps − H_{steps−1}‖₂` (NaN when the state stopped being finite).
  public var finalAdjacentDifference: Double { adjacentDifferences.last ?? .nan }

  /// The sample at `step`, if that step was examined.
  public func sample(atStep step: Int) -> SpectralSample? {
    spectral.first { $0.step == step }
  }
}

/// The analysis of every RoI and the verdict on the claims.
public struct ConvergenceAnalysisResult<Scalar: DEQScalar>: Sendable {
  /// Per RoI, in batch order.
  public var rois: [RoIAnalysis<Scalar>]
  /// The claims of Section 3.5, judged.
  public var verdict: AnalysisVerdict
  /// Whether this run continued from a checkpoint (the numbers do not depend on it).
  public var resumed: Bool
}

/// The claims of Section 3.5, judged on every RoI.
public struct AnalysisVerdict: Sendable, Equatable, Codable {
  /// The last `‖ΔH‖` of every RoI is at most ``vanishThreshold``.
  public var differencesVanish: Bool
  /// Every examined ρ from step 1 on is reliably below one, for every RoI.
  public var spectralRadiusBelowOne: Bool
  /// `‖H_Broyden − H_unrolled‖₂ < agreementThreshold` for every RoI.
  public var equilibriaAgree: Bool
  /// The first examined step from which ρ stays reliably below one for all RoIs.
  public var firstStepBelowOne: Int?
  /// The threshold of the first claim.
  public var vanishThreshold: Double
  /// The threshold of the third claim.
  public var agreementThreshold: Double
  /// One sentence per claim (and why, when the form explains a failure).
  public var explanation: [String]

  /// Whether all three claims hold.
  public var holds: Bool { differencesVanish && spectralRadiusBelowOne && equilibriaAgree }
}
