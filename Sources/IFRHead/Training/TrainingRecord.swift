/// One logged training step: the loss, the learning rate, how every RoI's forward and
/// backward solve ended, what the zero-gradient policy did, and (when measured) the
/// validation IoU and the spectral radius at a validation RoI's equilibrium.
public struct TrainingRecord: Sendable, Hashable, Codable {
  /// The step (0-based).
  public var iteration: Int
  /// This step's batch loss.
  public var loss: Double
  /// The mean batch loss over the steps since the previous record (this one included).
  public var meanLoss: Double
  /// The learning rate this step used.
  public var learningRate: Double
  /// Per RoI: the forward solve's best absolute residual (IFR; empty otherwise).
  public var forwardResiduals: [Double]
  /// Per RoI: the forward solve's status (IFR; empty otherwise).
  public var forwardStatuses: [String]
  /// Per RoI: the adjoint solve's best absolute residual (IFR; empty otherwise).
  public var backwardResiduals: [Double]
  /// Per RoI: the adjoint solve's status (IFR; empty otherwise).
  public var backwardStatuses: [String]
  /// Per RoI: the adjoint outcome (`converged`, `improved (…)`, `zero start (…)`).
  public var adjointOutcomes: [String]
  /// RoIs of this step whose adjoint ended at its zero start.
  public var zeroGradientRoIs: Int
  /// Such RoIs since the start of the run.
  public var zeroGradientTotal: Int
  /// Whether the optimiser step was skipped (policy `skip`, or a non-finite gradient).
  public var stepSkipped: Bool
  /// The gradient's norm before clipping.
  public var gradientNorm: Double
  /// Whether the step refined by unrolling (IFR pre-training).
  public var unrolled: Bool
  /// ρ(∂F/∂H) at validation RoI 0's equilibrium, when measured at this step.
  public var spectralRadius: Double?
  /// Validation results, when measured at this step.
  public var validation: ValidationRecord?
  /// Seconds of training since the run began (across resumptions).
  public var seconds: Double
}

/// The head on the validation split.
public struct ValidationRecord: Sendable, Hashable, Codable {
  /// Mean mask IoU over the validation RoIs.
  public var meanIoU: Double
  /// The fraction of RoIs with IoU ≥ 0.5.
  public var fractionAbove50: Double
  /// The fraction of RoIs with IoU ≥ 0.75.
  public var fractionAbove75: Double
  /// The mean validation loss.
  public var loss: Double
  /// Validation RoIs.
  public var count: Int
  /// The head's trainable scalars.
  public var parameterCount: Int
}
