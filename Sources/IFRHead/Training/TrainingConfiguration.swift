/// Everything that decides a training run of ``MaskHead`` on the `SyntheticMaskTask`: the
/// head, the data, the optimiser and schedule, the gradient policies and what is logged.
/// Two runs with equal configurations compute the same numbers (and a checkpoint resumes
/// only a run with an equal configuration).
public struct TrainingConfiguration: Sendable, Hashable, Codable {
  /// The head to train.
  public var head: MaskHeadConfiguration
  /// Optimiser steps.
  public var iterations: Int
  /// RoIs per step.
  public var batchSize: Int
  /// The seed of the task (data) and of the head's initialisation.
  public var seed: UInt64
  /// The task's feature noise (standard deviation relative to the outline's intensity).
  public var noise: Double
  /// `sgd` or `adam`.
  public var optimizer: String
  /// The base learning rate.
  public var learningRate: Double
  /// The schedule, as `LearningRateSchedule`'s text (`constant`, `cosine`, `step`,
  /// `step:600,800`).
  public var schedule: String
  /// Linear warm-up iterations (0: none).
  public var warmupIterations: Int
  /// SGD momentum.
  public var momentum: Double
  /// Weight decay (none on normalisation parameters and biases).
  public var weightDecay: Double
  /// Gradient-norm clipping threshold (`nil`: no clipping).
  public var clipNorm: Double?
  /// What to do with an adjoint solve that ended at its zero start (`ZeroGradientPolicy`
  /// text: `phantom:5,0.5`, `skip`, `zero`).
  public var zeroGradientPolicy: String
  /// IFR only: the first K steps refine by unrolling the block (pre-training), then solve.
  public var pretrainingIterations: Int
  /// IFR only: the unrolled steps during pre-training.
  public var pretrainingSteps: Int
  /// Log a record every this many steps (and at the last).
  public var logEvery: Int
  /// Measure validation IoU every this many steps (0: only at the end).
  public var validateEvery: Int
  /// Validation RoIs.
  public var validationSize: Int
  /// Measure ρ(∂F/∂H) at the equilibrium of validation RoI 0 every this many steps (0: never).
  public var spectralEvery: Int

  /// Creates a configuration; the defaults are the `deq train` defaults.
  public init(
    head: MaskHeadConfiguration = MaskHeadConfiguration(channels: 16, classes: 3),
    iterations: Int = 2000, batchSize: Int = 8, seed: UInt64 = 1, noise: Double = 0.5,
    optimizer: String = "adam", learningRate: Double = 2e-3, schedule: String = "cosine",
    warmupIterations: Int = 20, momentum: Double = 0.9, weightDecay: Double = 1e-4,
    clipNorm: Double? = 10, zeroGradientPolicy: String = "phantom:5,0.5",
    pretrainingIterations: Int = 0, pretrainingSteps: Int = 4, logEvery: Int = 20,
    validateEvery: Int = 200, validationSize: Int = 64, spectralEvery: Int = 0
  ) {
    self.head = head
    self.iterations = iterations
    self.batchSize = batchSize
    self.seed = seed
    self.noise = noise
    self.optimizer = optimizer
    self.learningRate = learningRate
    self.schedule = schedule
    self.warmupIterations = warmupIterations
    self.momentum = momentum
    self.weightDecay = weightDecay
    self.clipNorm = clipNorm
    self.zeroGradientPolicy = zeroGradientPolicy
    self.pretrainingIterations = pretrainingIterations
    self.pretrainingSteps = pretrainingSteps
    self.logEvery = logEvery
    self.validateEvery = validateEvery
    self.validationSize = validationSize
    self.spectralEvery = spectralEvery
  }

  /// Checks every field (the head's too) and parses the schedule and policy.
  ///
  /// - Throws: ``IFRHeadError/invalidConfiguration(_:)`` with a sentence naming the field.
  public func validate() throws(IFRHeadError) {
    try head.validate()
    func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(IFRHeadError) {
      if !ok { throw .invalidConfiguration(message()) }
    }
    try require(iterations >= 1, "iterations must be at least 1 (got \(iterations))")
    try require(batchSize >= 1, "the batch must hold at least one RoI (got \(batchSize))")
    try require(noise.isFinite && noise >= 0, "noise must be finite and ≥ 0 (got \(noise))")
    try require(
      ["sgd", "adam"].contains(optimizer), "optimizer must be sgd or adam (got \(optimizer))")
    try require(
      learningRate.isFinite && learningRate > 0, "learning rate must be > 0 (got \(learningRate))")
    try require(warmupIterations >= 0, "warm-up iterations must be ≥ 0")
    try require(momentum.isFinite && momentum >= 0 && momentum < 1, "momentum must be in [0, 1)")
    try require(weightDecay.isFinite && weightDecay >= 0, "weight decay must be ≥ 0")
    if let clipNorm {
      try require(clipNorm.isFinite && clipNorm > 0, "clip norm must be > 0 (got \(clipNorm))")
    }
    try require(pretrainingIterations >= 0, "pre-training iterations must be ≥ 0")
    try require(pretrainingSteps >= 1, "pre-training steps must be at least 1")
    try require(logEvery >= 1, "log-every must be at least 1")
    try require(validateEvery >= 0, "validate-every must be ≥ 0")
    try require(validationSize >= 1, "the validation set must hold at least one RoI")
    try require(spectralEvery >= 0, "spectral-every must be ≥ 0")
    do {
      _ = try learningRateSchedule()
      _ = try ZeroGradientPolicy(parsing: zeroGradientPolicy)
    } catch {
      throw .invalidConfiguration(error.description)
    }
  }

  /// The parsed schedule.
  public func learningRateSchedule() throws(TrainingError) -> LearningRateSchedule {
    try LearningRateSchedule(
      parsing: schedule, baseRate: learningRate, totalIterations: iterations,
      warmupIterations: warmupIterations)
  }
}
