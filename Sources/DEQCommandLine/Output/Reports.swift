import IFRHead

/// The JSON documents `deq` writes (`--format json`), schema version 1.
///
/// Keys are camelCase; a value that was not computed is absent (never a placeholder).
/// `Docs/CLI.md` documents every field; `DEQCommandLineTests` decodes the output back
/// with these types, so the schema and the documentation cannot drift apart silently.
enum Reports {
  static let schemaVersion = 1

  /// One entry of a solve trace.
  struct TraceEntry: Codable, Equatable {
    /// 0 is the starting point H0.
    var iteration: Int
    var absoluteResidual: Double
    var relativeResidual: Double
    var stepNorm: Double?
    var mapEvaluations: Int?
    /// Jacobian products so far beyond the map evaluations (0 for Picard, Anderson, Broyden).
    var jacobianProducts: Int?
    var spectralRadius: Double?
    /// Whether `spectralRadius` converged (absent when no ρ was computed at this step).
    var spectralRadiusReliable: Bool?
  }

  /// The outcome of one problem's solve.
  struct Solve: Codable, Equatable {
    var index: Int
    var status: String
    var explanation: String
    var converged: Bool
    var iterations: Int
    var mapEvaluations: Int
    /// Jacobian products beyond the map evaluations; the work in map-equivalents is
    /// `mapEvaluations + jacobianProducts`.
    var jacobianProducts: Int?
    var bestIteration: Int?
    var trace: [TraceEntry]
  }

  /// `deq solve`.
  struct SolveDocument: Codable, Equatable {
    var schemaVersion = Reports.schemaVersion
    var command = "solve"
    /// `converged` when every problem converged, else `notConverged`.
    var status: String
    var problem: ProblemDescription
    var solver: String
    var problems: [Solve]
    /// Where the command's time went (absent in documents written before it existed).
    var timing: SolveTiming?
  }

  /// Wall-clock seconds of `deq solve`, measured inside the process: its start before
  /// `main` (loading the executable and its libraries) and writing the output are not
  /// included.
  struct SolveTiming: Codable, Equatable {
    /// Everything but the solvers' own time: reading and checking the files, building the
    /// block, its workspace and transformed kernels, collecting the equilibria.
    var setupSeconds: Double
    /// The solvers, from the driver's start (allocating their state) to the last step.
    var solveSeconds: Double
    /// Of `solveSeconds`, evaluating F (in lockstep, the batched evaluations of every round).
    var mapSeconds: Double
    /// Of `solveSeconds`, the rest: the solvers' state, steps and bookkeeping (and the
    /// spectral radii with `--spectral-every`).
    var solverSeconds: Double
  }

  /// One RoI of `deq gradient`: its equilibrium solve and its adjoint solve.
  struct GradientProblem: Codable, Equatable {
    var index: Int
    /// H* = F(H*; X), from H0 = 0.
    var forward: Solve
    /// u = u·∂F/∂H(H*) + ∂L/∂H*, from u0 = 0 (residual ‖u·∂F/∂H + ∂L/∂H* − u‖₂).
    var backward: Solve
    /// ‖∂L/∂X‖₂ of this RoI.
    var inputGradientNorm: Double
  }

  /// One parameter's gradient in `deq gradient`'s parameter file.
  struct ParameterGradient: Codable, Equatable {
    /// The PyTorch state_dict name (`conv1.weight_g`).
    var name: String
    var shape: [Int]
    /// ‖∂L/∂θ‖₂ over this tensor.
    var norm: Double
  }

  /// `deq gradient`.
  struct GradientDocument: Codable, Equatable {
    var schemaVersion = Reports.schemaVersion
    var command = "gradient"
    /// `converged` when every forward and backward solve converged, else `notConverged`.
    var status: String
    var problem: ProblemDescription
    /// The forward solver (`broyden`, …).
    var solver: String
    /// The backward (adjoint) solver.
    var backwardSolver: String
    /// Where ∂L/∂H* came from: the `--cotangent` path, or `H*` for L = ½‖H*‖².
    var cotangent: String
    /// L = ½‖H*‖² (present only without `--cotangent`).
    var loss: Double?
    /// ‖∂L/∂X‖₂ over all RoIs.
    var inputGradientNorm: Double
    /// ‖∂L/∂θ‖₂ over all parameters (summed over the RoIs).
    var parameterGradientNorm: Double
    var parameterGradients: [ParameterGradient]
    var problems: [GradientProblem]
  }

  /// What was solved: sizes, form, precision, where the weights came from.
  struct ProblemDescription: Codable, Equatable {
    var form: String
    var precision: String
    var batch: Int
    var channels: Int
    var innerChannels: Int
    var height: Int
    var width: Int
    var groups: Int
    var weights: String
    var input: String
    var seed: UInt64?
  }

  /// One eigenvalue as `[re, im]`.
  typealias Eigenvalue = [Double]

  /// A spectral-radius result for one problem.
  struct Spectrum: Codable, Equatable {
    var index: Int
    var spectralRadius: Double
    var method: String
    var dominantEigenvalues: [Eigenvalue]
    var errorEstimate: Double?
    var reliable: Bool
    var jacobianProducts: Int
    var note: String?
  }

  /// `deq spectrum`.
  struct SpectrumDocument: Codable, Equatable {
    var schemaVersion = Reports.schemaVersion
    var command = "spectrum"
    var status: String
    var problem: ProblemDescription
    var at: String
    var problems: [Spectrum]
  }

  /// One step of the unrolled iteration.
  struct UnrolledEntry: Codable, Equatable {
    var step: Int
    /// ‖H_{step} − H_{step−1}‖₂ (absent for step 0).
    var adjacentDifference: Double?
    var spectralRadius: Double?
    /// Whether `spectralRadius` converged (absent when no ρ was computed at this step).
    var spectralRadiusReliable: Bool?
    /// The method's error estimate for `spectralRadius` (the Ritz residual for Arnoldi).
    var spectralRadiusErrorEstimate: Double?
    /// Added in the library-API version: the method, its products, and whether Arnoldi
    /// started from the previous examined step's Ritz vector.
    var spectralRadiusMethod: String? = nil
    var spectralRadiusProducts: Int? = nil
    var spectralRadiusWarmStarted: Bool? = nil
  }

  /// A cold recomputation of a warm-started spectral radius.
  struct SpectralCheck: Codable, Equatable {
    var step: Int
    var spectralRadius: Double?
    var errorEstimate: Double?
    var reliable: Bool
    var jacobianProducts: Int

    init(_ sample: SpectralSample) {
      step = sample.step
      spectralRadius = sample.value
      errorEstimate = sample.errorEstimate
      reliable = sample.isReliable
      jacobianProducts = sample.jacobianProducts
    }
  }

  /// The unrolled iteration of one problem.
  struct Unrolled: Codable, Equatable {
    var steps: Int
    var finalAdjacentDifference: Double
    var trace: [UnrolledEntry]
  }

  /// `deq analyze`, per problem.
  struct Analysis: Codable, Equatable {
    var index: Int
    var unrolled: Unrolled
    var broyden: Solve
    var broydenRefined: Solve
    /// ‖H_Broyden − H_unrolled‖₂.
    var difference: Double
    var firstStepBelowOne: Int?
    var coldConfirmation: SpectralCheck? = nil
  }

  /// The verdict on the claims of the paper's Section 3.5 (the library's, encoded as is).
  typealias Verdict = AnalysisVerdict

  /// `deq analyze`.
  struct AnalysisDocument: Codable, Equatable {
    var schemaVersion = Reports.schemaVersion
    var command = "analyze"
    /// `claimsHold` or `claimsFail`.
    var status: String
    var problem: ProblemDescription
    var problems: [Analysis]
    var verdict: Verdict
  }

  /// One head of `deq params`.
  struct Head: Codable, Equatable {
    var name: String
    var innerChannels: Int
    var parameters: Int
  }

  /// `deq params`.
  struct ParamsDocument: Codable, Equatable {
    var schemaVersion = Reports.schemaVersion
    var command = "params"
    var status = "ok"
    var heads: [Head]
  }
}
