import ArgumentParser
import FoundationEssentials
import IFRHead

/// `deq train`: trains a mask head on the synthetic instance-mask task.
struct Train: ScalarDispatchingCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a mask head (IFR, explicit or unrolled) on the synthetic mask task.",
    discussion: """
      Each step draws a batch of the seeded synthetic task (RoI features showing only a \
      closed outline plus noise; the target is the filled 28×28 interior), runs the head \
      (IFR: Broyden forward, implicit Broyden backward), the per-pixel binary cross-entropy \
      on each RoI's class channel, and one optimiser step. Every adjoint solve's status and \
      residual is recorded; an adjoint that ended at its zero start (a silently zero \
      gradient) is counted and handled by --zero-gradient-policy. The run ends with the \
      mean mask IoU on the validation split.

      With --checkpoint-dir the head, the optimiser state (PyTorch state_dict names) and \
      the records so far are written atomically every --checkpoint-every steps and on \
      Ctrl-C; --resume continues from there to exactly the run that was not interrupted. \
      An unreadable or mismatched checkpoint is refused (exit 65) and left as it is.

      Examples:
        deq train
        deq train --head explicit --format json --output explicit.json
        deq train --checkpoint-dir run1 --plot curves.svg
        deq train --checkpoint-dir run1 --resume
        deq train --optimizer sgd --learning-rate 0.02 --schedule step:1300,1800
      """)

  @Option(help: "The refinement: ifr, explicit (independent blocks) or unrolled (one block).")
  var head: HeadOption = .ifr

  @Flag(inversion: .prefixedNo, help: "The blocks' double residual (off: Table 8's plain blocks).")
  var doubleResidual = true

  @Option(help: "Explicit blocks or unrolled steps.")
  var depth: Int = 4

  @Option(help: "The blocks' inner width (default: the channels).")
  var innerChannels: Int?

  @Option(help: "Mask classes (shape families of the task, 1–3).")
  var classes: Int = 3

  @Option(help: "IFR forward Broyden iterations.")
  var forwardIterations: Int = 15

  @Option(help: "IFR backward (adjoint) Broyden iterations.")
  var backwardIterations: Int = 15

  @Option(help: "Noise of the task's features (relative to the outline).")
  var noise: Double = TrainingConfiguration().noise

  @Option(help: "Linear warm-up steps.")
  var warmup: Int = TrainingConfiguration().warmupIterations

  @Option(help: "SGD momentum.")
  var momentum: Double = 0.9

  @Option(help: "Weight decay (none on normalisation parameters and biases).")
  var weightDecay: Double = 1e-4

  @Option(help: "Clip the gradient norm at this value (0: no clipping).")
  var clipNorm: Double = 10

  @Option(
    help:
      "A zero-start adjoint (zero gradient): phantom[:K[,λ]] (phantom gradient for that RoI), skip (the step) or zero (apply as is)."
  )
  var zeroGradientPolicy: String = "phantom:5,0.5"

  @Option(help: "IFR pre-training: the first K steps unroll the block instead of solving.")
  var pretrainIterations: Int = 0

  @Option(help: "Unrolled steps during pre-training.")
  var pretrainSteps: Int = 4

  @Option(help: "Log a record every K steps.")
  var logEvery: Int = TrainingConfiguration().logEvery

  @Option(help: "Validation IoU every K steps (0: at the end only).")
  var validateEvery: Int = TrainingConfiguration().validateEvery

  @Option(help: "ρ(∂F/∂H) at a validation RoI's equilibrium every K steps (0: never).")
  var spectralEvery: Int = 0

  @Option(help: ArgumentHelp("Save checkpoints in this folder.", valueName: "dir"))
  var checkpointDir: String?

  @Option(help: "Write the checkpoint every K steps.")
  var checkpointEvery: Int = 50

  @Flag(help: "Continue from the checkpoint in --checkpoint-dir.")
  var resume = false

  @Option(
    help:
      "Run at most K steps in this process, save the checkpoint and stop (for schedulers with time limits; continue with --resume)."
  )
  var stopAfter: Int?

  @OptionGroup(title: "Run") var training: TrainingOptions

  @OptionGroup(title: "Output") var output: OutputOptions

  var precision: PrecisionOption { training.precision }
  var threads: Int? { training.threads }

  @Option(
    help: ArgumentHelp(
      "Write an SVG plot of loss, validation IoU, residuals and ρ against the step.",
      valueName: "file.svg"))
  var plot: String?

  enum HeadOption: String, CaseIterable, ExpressibleByArgument {
    case ifr, explicit, unrolled

    var refinement: MaskHeadConfiguration.Refinement {
      switch self {
      case .ifr: .ifr
      case .explicit: .explicit
      case .unrolled: .unrolled
      }
    }
  }

  /// The run these options describe.
  var trainingConfiguration: TrainingConfiguration {
    var configuration = training.configuration
    configuration.head = MaskHeadConfiguration(
      refinement: head.refinement, channels: training.channels, innerChannels: innerChannels,
      classes: classes, doubleResidual: doubleResidual, depth: depth,
      forwardIterations: forwardIterations, backwardIterations: backwardIterations)
    configuration.noise = noise
    configuration.warmupIterations = warmup
    configuration.momentum = momentum
    configuration.weightDecay = weightDecay
    configuration.clipNorm = clipNorm > 0 ? clipNorm : nil
    configuration.zeroGradientPolicy = zeroGradientPolicy
    configuration.pretrainingIterations = pretrainIterations
    configuration.pretrainingSteps = pretrainSteps
    configuration.logEvery = logEvery
    configuration.validateEvery = validateEvery
    configuration.spectralEvery = spectralEvery
    return configuration
  }

  func validate() throws {
    do {
      try trainingConfiguration.validate()
    } catch {
      throw ValidationError(error.description)
    }
    guard checkpointEvery >= 1 else {
      throw ValidationError("--checkpoint-every must be ≥ 1, got \(checkpointEvery)")
    }
    if resume && checkpointDir == nil { throw ValidationError("--resume needs --checkpoint-dir") }
    if let stopAfter {
      guard stopAfter >= 1 else {
        throw ValidationError("--stop-after must be ≥ 1, got \(stopAfter)")
      }
      guard checkpointDir != nil else {
        throw ValidationError("--stop-after needs --checkpoint-dir")
      }
    }
    guard clipNorm.isFinite && clipNorm >= 0 else {
      throw ValidationError("--clip-norm must be ≥ 0, got \(clipNorm)")
    }
  }

  func run<S: DEQScalar>(_: S.Type) throws {
    let configuration = trainingConfiguration
    let emitter = Emitter(options: output, inputs: [])
    let checkpointPath = checkpointDir.map {
      URL(fileURLWithPath: $0).appendingPathComponent("checkpoint.safetensors").path
    }
    try emitter.checkOutputs([(plot, "--plot"), (checkpointPath, "--checkpoint-dir")])
    var run: MaskHeadTraining<S>
    if let checkpointDir, let checkpointPath {
      try TrainingCheckpointFolder.prepare(
        checkpointDir, checkpoint: checkpointPath, resume: resume)
      // A write cut short by SIGKILL leaves its temporary file; the checkpoint is intact.
      _ = FileIO.removeAbandonedTemporaries(of: URL(fileURLWithPath: checkpointPath))
    }
    if resume, let checkpointPath {
      do {
        run = try MaskHeadTraining<S>(
          configuration: configuration, resumingFrom: URL(fileURLWithPath: checkpointPath))
      } catch {
        throw CommandLineError.input(path: checkpointPath, reason: error.description)
      }
    } else {
      run = try MaskHeadTraining<S>(configuration: configuration)
    }
    let interrupt = InterruptFlag.install()
    defer { InterruptFlag.uninstall() }
    let progress = Progress(label: "train", total: configuration.iterations, quiet: output.quiet)
    func save() throws {
      guard let checkpointPath else { return }
      let data: Data
      do {
        data = try run.checkpointData()
      } catch {
        throw CommandLineError.output(path: checkpointPath, reason: error.description)
      }
      try emitter.write(data, to: checkpointPath, option: "--checkpoint-dir")
    }
    var stepsHere = 0
    while !run.isFinished {
      if let stopAfter, stepsHere == stopAfter, let checkpointPath {
        progress.finish()
        try save()
        StandardStream.error.write(
          "deq train: stopped after \(stopAfter) steps at step \(run.iteration) of \(configuration.iterations); saved to \(checkpointPath) (continue with --resume)\n"
        )
        return
      }
      stepsHere += 1
      if interrupt.isSet {
        progress.finish()
        try save()
        throw CommandLineError.interrupted(
          checkpointPath.map {
            "interrupted at step \(run.iteration); progress saved to \($0) (continue with --resume)"
          } ?? "interrupted at step \(run.iteration); nothing saved (no --checkpoint-dir)")
      }
      let record: TrainingRecord?
      do {
        record = try run.step()
      } catch {
        throw CommandLineError.input(path: "the training data", reason: error.description)
      }
      progress.update(
        run.iteration, doing: record.map { String(cFormat: "loss %.4f", $0.meanLoss) })
      if run.iteration % checkpointEvery == 0 || run.isFinished { try save() }
    }
    progress.finish()
    let report = TrainingReport(
      configuration: configuration, precision: String(describing: S.self), records: run.records,
      validation: run.records.last?.validation ?? run.validate(),
      parameterCount: run.head.parameterCount,
      zeroGradientTotal: run.zeroGradientTotal)
    switch output.format {
    case .json: try emitter.emit(Emitter.json(report))
    case .csv: try emitter.emit(report.csv)
    case .table: try emitter.emit(report.table)
    }
    if let plot { try emitter.write(Data(report.plot.render().utf8), to: plot, option: "--plot") }
  }
}
