import FoundationEssentials
import IFRHead

/// An IFR problem ready to run: the block F, the injection X of N RoIs, and a description.
///
/// Each RoI is its own fixed-point problem whose iterate is a `[C, H, W]` tensor.
struct LoadedProblem<Scalar: DEQScalar> {
  var block: IFRBlock<Scalar>
  /// X, `[N, C, H, W]`.
  var injection: Tensor<Scalar>
  var description: Reports.ProblemDescription
  /// Paths read (never overwritten by outputs).
  var inputPaths: [String]

  var batch: Int { injection.shape[0] }
  var roiShape: [Int] { Array(injection.shape.dropFirst()) }
  var dimension: Int { injection.count / Swift.max(batch, 1) }

  /// X of one RoI, `[C, H, W]`.
  func injection(roi: Int) -> Tensor<Scalar> { injection.sample(roi) }

  /// Builds the problem from the options: files when given, seeded random data otherwise.
  static func load(_ options: ProblemOptions) throws(CommandLineError) -> LoadedProblem {
    var generator = SeededGenerator(seed: options.seed)
    var inputPaths: [String] = []
    let block: IFRBlock<Scalar>
    if let path = options.weights {
      inputPaths.append(path)
      let file: SafeTensorsFile
      do {
        file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
      } catch {
        throw .input(path: path, reason: error.description)
      }
      var metadata = file.metadata
      if let groups = options.groups { metadata["groups"] = String(groups) }
      do {
        block = try IFRBlock(
          stateDictionary: file.tensors.mapValues { $0.converted(to: Scalar.self) },
          metadata: metadata, form: options.form.form)
      } catch {
        throw .input(path: path, reason: error.description)
      }
    } else {
      var channels = options.effectiveChannels
      if let path = options.input {
        // A random block sized to the input's channels.
        channels = try readInjection(path).shape[1]
      }
      let groups = options.groups ?? 4
      let inner = options.innerChannels ?? channels
      guard channels % groups == 0, inner % groups == 0 else {
        throw .usage(
          "--groups \(groups) must divide the channels \(channels) and the inner width \(inner)")
      }
      block = IFRBlock(
        channels: channels, innerChannels: inner, groups: groups, form: options.form.form,
        using: &generator)
    }

    let injection: Tensor<Scalar>
    if let path = options.input {
      inputPaths.append(path)
      injection = try readInjection(path)
      guard injection.shape[1] == block.channels else {
        throw .input(
          path: path,
          reason: "X has \(injection.shape[1]) channels but the block has \(block.channels)")
      }
    } else {
      injection = Tensor(
        normalWithMean: 0, standardDeviation: 1,
        shape: [
          options.effectiveBatch, block.channels, options.effectiveSize, options.effectiveSize,
        ], using: &generator)
    }
    let description = Reports.ProblemDescription(
      form: options.form.rawValue, precision: options.precision.rawValue,
      batch: injection.shape[0], channels: block.channels, innerChannels: block.innerChannels,
      height: injection.shape[2], width: injection.shape[3], groups: block.groups,
      weights: options.weights ?? "random", input: options.input ?? "random",
      seed: options.weights == nil || options.input == nil ? options.seed : nil)
    return LoadedProblem(
      block: block, injection: injection, description: description, inputPaths: inputPaths)
  }

  /// Reads a `[N, C, H, W]` tensor of finite values from a `.npy` file.
  static func readTensor(
    _ path: String, what: String
  ) throws(CommandLineError) -> Tensor<Scalar> {
    let tensor: Tensor<Scalar>
    do {
      tensor = try NPY.readAny(contentsOf: URL(fileURLWithPath: path)).converted(to: Scalar.self)
    } catch {
      throw .input(path: path, reason: error.description)
    }
    guard tensor.rank == 4, tensor.shape.allSatisfy({ $0 > 0 }) else {
      throw .input(
        path: path,
        reason: "\(what) must have shape [N, C, H, W] with N, C, H, W ≥ 1, got \(tensor.shape)")
    }
    guard tensor.isFinite else {
      throw .input(path: path, reason: "\(what) contains NaN or infinity")
    }
    return tensor
  }

  static func readInjection(_ path: String) throws(CommandLineError) -> Tensor<Scalar> {
    try readTensor(path, what: "the injection X")
  }

  /// Reads a state H of the injection's shape.
  func readState(_ path: String) throws(CommandLineError) -> Tensor<Scalar> {
    let state = try Self.readTensor(path, what: "the state H")
    guard state.shape == injection.shape else {
      throw .input(path: path, reason: "H has shape \(state.shape) but X has \(injection.shape)")
    }
    return state
  }

  /// Reads a cotangent ∂L/∂H* of the injection's shape.
  func readCotangent(_ path: String) throws(CommandLineError) -> Tensor<Scalar> {
    let cotangent = try Self.readTensor(path, what: "the cotangent ∂L/∂H*")
    guard cotangent.shape == injection.shape else {
      throw .input(
        path: path,
        reason: "the cotangent has shape \(cotangent.shape) but X (and H*) has \(injection.shape)")
    }
    return cotangent
  }

  /// Evaluates F(H; X) for all RoIs.
  func apply(_ state: Tensor<Scalar>) -> Tensor<Scalar> {
    block(state, injection: injection)
  }

  /// Solves every RoI's equilibrium from H0 = 0 with `algorithm`, in lockstep (one batched
  /// F per round for the RoIs still running; Newton–Krylov RoI by RoI with exact JVPs).
  func solveAll(
    using algorithm: any FixedPointAlgorithm, stopping: StoppingCriteria
  ) -> [FixedPointSolution<Tensor<Scalar>>] {
    ImplicitRefinement(block: block, forwardSolver: algorithm, forwardStopping: stopping)
      .forward(injection).solutions
  }

  /// The fixed-point problem of one RoI, from `start` (`[C, H, W]`), evaluated through
  /// its own workspace without allocating, with the exact JVP (for Newton–Krylov).
  func fixedPointProblem(roi: Int, start: Tensor<Scalar>? = nil) -> FixedPointProblem<
    Tensor<Scalar>
  > {
    block.fixedPointProblem(injection: injection(roi: roi), start: start)
  }

  /// The default tolerance of a tight equilibrium solve: 1e-11 in double, 1e-5 in float
  /// (above the rounding floor of each precision for these blocks).
  static var tightTolerance: Double { Scalar.self == Double.self ? 1e-11 : 1e-5 }

  /// Solves every RoI's equilibrium tightly with Broyden from H0 = 0, in lockstep: both the
  /// absolute and the relative residual below `tolerance` (default ``tightTolerance``).
  func solveAllTightly(
    tolerance: Double? = nil, maxIterations: Int = 300
  ) -> [FixedPointSolution<Tensor<Scalar>>] {
    let tolerance = tolerance ?? Self.tightTolerance
    return solveAll(
      using: Broyden(),
      stopping: StoppingCriteria(
        tolerance: .both(absolute: tolerance, relative: tolerance), maxIterations: maxIterations))
  }

  /// The Jacobian ∂F/∂H of one RoI at `point` (`[C, H, W]`), with exact JVPs and VJPs.
  func jacobian(
    roi: Int, at point: Tensor<Scalar>
  ) throws(DiagnosticsError) -> JacobianOperator<Tensor<Scalar>> {
    try block.stateJacobian(at: point, injection: injection(roi: roi))
  }
}
