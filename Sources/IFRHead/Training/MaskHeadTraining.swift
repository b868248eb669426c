// A training run of the mask head on the synthetic instance-mask task: one optimiser step
// per call, each on a batch that is a pure function of (seed, step), so that a run resumed
// from a checkpoint computes what the uninterrupted run computes, bit for bit. Goals in
// priority order: gradients that can be trusted (every adjoint's outcome recorded, a
// zero-start adjoint handled by a named policy); reproducibility; then speed (the head's
// batched solves).

import FoundationEssentials

/// A training run: the head, the optimiser and everything logged so far.
///
/// ```swift
/// var run = try MaskHeadTraining<Float>(configuration: TrainingConfiguration())
/// while !run.isFinished {
///   if let record = try run.step() { print(record.iteration, record.meanLoss) }
/// }
/// print(run.validate().meanIoU)
/// ```
public struct MaskHeadTraining<Scalar: DEQScalar>: Sendable {
  /// What the run does.
  public let configuration: TrainingConfiguration
  /// The data.
  public let task: SyntheticMaskTask
  /// The head being trained.
  public var head: MaskHead<Scalar>
  /// The optimiser with its state.
  public var optimizer: Optimizer<Scalar>
  /// The next step to run (the number of steps done).
  public internal(set) var iteration: Int
  /// Every record logged so far.
  public internal(set) var records: [TrainingRecord]
  /// Seconds spent in steps, validation and spectral measurements so far.
  public internal(set) var elapsed: Double
  /// Zero-start adjoints since the run began.
  public internal(set) var zeroGradientTotal: Int
  /// The losses of the steps since the last record.
  var windowLossSum: Double
  var windowCount: Int

  let schedule: LearningRateSchedule
  let policy: ZeroGradientPolicy

  /// Starts a run: the task and head from the configuration's seed, a fresh optimiser.
  ///
  /// - Throws: ``IFRHeadError/invalidConfiguration(_:)`` for any invalid field.
  public init(configuration: TrainingConfiguration) throws(IFRHeadError) {
    try configuration.validate()
    self.configuration = configuration
    do {
      task = try SyntheticMaskTask(
        channels: configuration.head.channels, classes: configuration.head.classes,
        noise: configuration.noise, seed: configuration.seed)
      schedule = try configuration.learningRateSchedule()
      policy = try ZeroGradientPolicy(parsing: configuration.zeroGradientPolicy)
    } catch {
      throw .invalidConfiguration(error.description)
    }
    var generator = SeededGenerator(seed: configuration.seed &+ 0x9E37_79B9_7F4A_7C15)
    head = MaskHead(configuration: configuration.head, using: &generator)
    do {
      optimizer = try Self.makeOptimizer(configuration, like: head.parameters)
    } catch {
      throw .invalidConfiguration(error.description)
    }
    iteration = 0
    records = []
    elapsed = 0
    zeroGradientTotal = 0
    windowLossSum = 0
    windowCount = 0
  }

  static func makeOptimizer(
    _ configuration: TrainingConfiguration, like parameters: NamedParameters<Scalar>
  ) throws(TrainingError) -> Optimizer<Scalar> {
    let projection = NamedParameters<Scalar>.excludingNormalization
    switch configuration.optimizer {
    case "sgd":
      return .sgd(
        try SGD(
          momentum: Scalar(configuration.momentum), weightDecay: Scalar(configuration.weightDecay),
          decayProjection: projection))
    default:
      return .adam(
        try Adam(weightDecay: Scalar(configuration.weightDecay), decayProjection: projection))
    }
  }

  /// Whether every configured step has run.
  public var isFinished: Bool { iteration >= configuration.iterations }

  /// Runs the next step and returns its record when the step is a logged one (every
  /// `logEvery` steps and the last).
  ///
  /// A step: the training batch of this step, the head's forward pass (IFR: solves; during
  /// pre-training: unrolled), the loss, the backward pass with the zero-gradient policy,
  /// gradient clipping, one optimiser update at the scheduled learning rate. A non-finite
  /// loss or gradient skips the update (recorded, never applied).
  ///
  /// - Throws: `TrainingError` when the loss cannot be computed (a non-finite forward pass).
  /// - Precondition: the run is not finished.
  public mutating func step() throws(TrainingError) -> TrainingRecord? {
    precondition(!isFinished, "MaskHeadTraining: the run is finished")
    let clock = ContinuousClock()
    let started = clock.now
    let c = configuration
    let batch = task.trainingBatch(iteration: iteration, size: c.batchSize, as: Scalar.self)
    let unrolled =
      c.head.refinement == .ifr && iteration < c.pretrainingIterations ? c.pretrainingSteps : nil
    let forward = head.forward(batch.features, unrolledSteps: unrolled)
    var loss = Scalar.nan
    var skipped = false
    var gradientNorm = Double.nan
    var gradient: MaskHeadGradient<Scalar>?
    do {
      let (value, cotangent) = try head.loss(
        forward, targets: batch.targets, classes: batch.classes)
      loss = value
      let back = head.backward(forward, logitsCotangent: cotangent, zeroGradientPolicy: policy)
      gradient = back
      var g = back.parameters
      let clipping = clipGradientNorm(&g, maxNorm: Scalar(c.clipNorm ?? .infinity))
      gradientNorm = clipping.norm
      if back.skipsStep || !g.isFinite {
        skipped = true
      } else {
        var parameters = head.parameters
        optimizer.update(
          &parameters, along: g, learningRate: Scalar(schedule.learningRate(at: iteration)))
        head.parameters = parameters
      }
    } catch .nonFinite {
      skipped = true
    }
    let zeroRoIs = gradient?.zeroGradientRoIs.count ?? 0
    zeroGradientTotal += zeroRoIs
    windowLossSum += Double(loss)
    windowCount += 1
    let step = iteration
    iteration += 1
    elapsed += (clock.now - started).seconds

    let logged = iteration % c.logEvery == 0 || isFinished
    let validates = isFinished || (c.validateEvery > 0 && iteration % c.validateEvery == 0)
    let measuresSpectrum = c.spectralEvery > 0 && (iteration % c.spectralEvery == 0 || step == 0)
    guard logged || validates || measuresSpectrum else { return nil }

    var record = TrainingRecord(
      iteration: step, loss: Double(loss), meanLoss: windowLossSum / Double(windowCount),
      learningRate: schedule.learningRate(at: step),
      forwardResiduals: forward.implicit?.solutions.map(\.absoluteResidual) ?? [],
      forwardStatuses: forward.implicit?.solutions.map(\.status.rawValue) ?? [],
      backwardResiduals: gradient?.adjointSolutions.map(\.absoluteResidual) ?? [],
      backwardStatuses: gradient?.adjointSolutions.map(\.status.rawValue) ?? [],
      adjointOutcomes: gradient?.adjointOutcomes.map(\.description) ?? [],
      zeroGradientRoIs: zeroRoIs, zeroGradientTotal: zeroGradientTotal, stepSkipped: skipped,
      gradientNorm: gradientNorm, unrolled: unrolled != nil, spectralRadius: nil,
      validation: nil, seconds: 0)
    windowLossSum = 0
    windowCount = 0
    let extra = clock.now
    if measuresSpectrum { record.spectralRadius = spectralRadius() }
    if validates { record.validation = validate() }
    elapsed += (clock.now - extra).seconds
    record.seconds = elapsed
    records.append(record)
    return record
  }

  /// The head on the validation split: mean IoU, the fractions above 0.5 and 0.75, the
  /// mean loss, and the parameter count.
  ///
  /// - Complexity: a forward pass over `validationSize` RoIs, in batches of `batchSize`.
  public func validate() -> ValidationRecord {
    let c = configuration
    var summary = MaskIoUSummary()
    var lossSum = 0.0
    var start = 0
    while start < c.validationSize {
      let end = Swift.min(start + c.batchSize, c.validationSize)
      let batch = task.batch(.validation, indices: start..<end, as: Scalar.self)
      let forward = head.forward(batch.features)
      let logits = head.classLogits(forward, classes: batch.classes)
      if let ious = try? MaskIoU.perRoI(logits: logits, targets: batch.targets) {
        summary.add(contentsOf: ious)
      }
      if let (loss, _) = try? head.loss(forward, targets: batch.targets, classes: batch.classes) {
        lossSum += Double(loss) * Double(end - start)
      }
      start = end
    }
    return ValidationRecord(
      meanIoU: summary.meanIoU, fractionAbove50: summary.fractionAbove50,
      fractionAbove75: summary.fractionAbove75, loss: lossSum / Double(c.validationSize),
      count: summary.count, parameterCount: head.parameterCount)
  }

  /// ρ(∂F/∂H) at the equilibrium of validation RoI 0 under the head's (shared) block:
  /// `nil` for independent blocks (no one map has an equilibrium) or when the
  /// linearisation fails (a non-finite point).
  ///
  /// The equilibrium is the forward solve's best iterate (IFR's configured Broyden; for an
  /// unrolled head, the same solve of its shared block). ρ by restarted Arnoldi (dense
  /// below 1,024 unknowns).
  public func spectralRadius() -> Double? {
    let blocks = head.refinement.blocks
    guard blocks.count == 1, configuration.head.doubleResidual else { return nil }
    let x = task.batch(.validation, indices: 0..<1, as: Scalar.self).features
    let module: ImplicitRefinement<Scalar>
    switch head.refinement {
    case .implicit(let m): module = m
    case .explicit:
      module = ImplicitRefinement(
        block: blocks[0],
        forwardStopping: StoppingCriteria(
          maxIterations: configuration.head.forwardIterations, stall: nil))
    }
    let h = module.forward(x).equilibrium
    guard
      let estimate = try? module.block.stateJacobian(at: h.sample(0), injection: x.sample(0))
        .spectralRadius(),
      let value = estimate.value
    else { return nil }
    return Double(value)
  }
}
