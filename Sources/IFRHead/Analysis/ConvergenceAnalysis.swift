// The convergence analysis of the IFR paper's Section 3.5 as a library call: unroll
// H_{i+1} = F(H_i; X) from H0 = 0 (a Picard solve with β = 1, which copies F bit for bit),
// record ‖H_{i+1} − H_i‖₂ at every step and ρ(∂F/∂H) at scheduled steps (through
// StepDiagnostics), solve the same equilibrium with Broyden (15 iterations, then tightly),
// compare, and judge the paper's three claims.
//
// Long runs (the paper's size: 4 RoIs × 256 × 14 × 14, 100,000 steps) are made practical
// by three things: F runs specialised through the Picard solve (the run is GEMM-bound);
// the spectral radius at an examined step starts Arnoldi from the previous examined step's
// Ritz vector while the iterate has moved little (ArnoldiWarmStart: tens of products
// instead of hundreds); and an atomic checkpoint lets an interrupted run continue to
// exactly the result an uninterrupted one gives. Small blocks also run their RoIs on
// parallel workers.

import DEQSolvers
import FoundationEssentials

/// The Section 3.5 analysis of an IFR block on a batch of RoIs.
///
/// ```swift
/// let analysis = ConvergenceAnalysis(
///   block: block, injection: x,                        // x: [N, C, H, W]
///   configuration: .init(steps: 2_000))
/// let result = try analysis.run()
/// print(result.verdict.holds, result.rois[0].spectral.last?.value ?? .nan)
/// ```
///
/// For each RoI, from `H0 = 0`: `steps` Picard steps (`β = 1`, an exact unrolled loop)
/// recording `‖H_i − H_{i−1}‖₂`; `ρ(∂F/∂H)` at the scheduled steps; Broyden from `H0 = 0`
/// for 15 iterations (the paper's setting) and to a tight tolerance; `‖H_B − H_unrolled‖₂`.
/// The ``AnalysisVerdict`` then says whether the differences vanish, whether ρ stays below
/// one from step 1 on, and whether the equilibria agree, with the reasons.
///
/// The result is deterministic: the same block, injection, configuration and worker count
/// give the same numbers bit for bit, whether the run was interrupted and resumed from a
/// checkpoint or not (see ``run(checkpoint:progress:shouldStop:)``).
public struct ConvergenceAnalysis<Scalar: DEQScalar>: Sendable {
  /// The block F.
  public var block: IFRBlock<Scalar>
  /// X of the RoIs, `[N, C, H, W]`.
  public var injection: Tensor<Scalar>
  /// What to compute.
  public var configuration: Configuration

  /// Creates an analysis.
  public init(block: IFRBlock<Scalar>, injection: Tensor<Scalar>, configuration: Configuration) {
    self.block = block
    self.injection = injection
    self.configuration = configuration
  }

  /// The number of RoIs `N`.
  public var roiCount: Int { injection.rank == 4 ? injection.shape[0] : 0 }

  /// The dimension `n = C·H·W` of one RoI's state.
  public var dimension: Int { roiCount > 0 ? injection.count / roiCount : 0 }

  /// The settings of an analysis.
  public struct Configuration: Sendable, Hashable {
    /// Unrolled steps (≥ 1); the paper: 100,000.
    public var steps: Int
    /// Where ρ is computed.
    public var spectralSchedule: SpectralSchedule
    /// How ρ is computed; `SpectralRadiusMethod.automatic(denseThreshold:)` takes the
    /// dense Jacobian up to n = 1,024 and ``arnoldi`` above.
    public var spectralMethod: SpectralRadiusMethod
    /// The Arnoldi settings used when the method resolves to Arnoldi.
    public var arnoldi: ArnoldiIteration
    /// Start each Arnoldi run from the previous examined step's Ritz vector when the
    /// iterate moved little since (see ``warmStartMaximumChange``); default on.
    public var warmStarts: Bool
    /// Warm-start only when `‖H_k − H_prev‖₂ ≤ warmStartMaximumChange · ‖H_k‖₂` (`H_prev`:
    /// the previous examined state); default `1e-2`. Farther apart, the run starts cold.
    public var warmStartMaximumChange: Double
    /// Recompute the last examined step's ρ from a cold start when it was warm-started,
    /// and count the warm value only if both agree within their error estimates; default on.
    public var confirmLastCold: Bool
    /// The differences vanish when the last one is at most this; default `1e-10`.
    public var vanishThreshold: Double
    /// The equilibria agree when `‖H_Broyden − H_unrolled‖₂` is below this; default
    /// `1e-8` (the paper's "e-8").
    public var agreementThreshold: Double
    /// The tolerance (absolute and relative) of the refined Broyden solve; `nil`: `1e-11`
    /// in double, `1e-5` in float (above each precision's rounding floor).
    public var refineTolerance: Double?
    /// The refined solve's iteration cap; default 300.
    public var refineMaxIterations: Int
    /// RoIs analysed at once (each on its own thread, with one BLAS thread each when more
    /// than one); `nil`: see ``ConvergenceAnalysis/workerCount``.
    public var workers: Int?

    /// Creates a configuration; every parameter has the paper's or the library's default.
    public init(
      steps: Int = 100_000, spectralSchedule: SpectralSchedule = .logSpaced,
      spectralMethod: SpectralRadiusMethod = .automatic(),
      arnoldi: ArnoldiIteration = ArnoldiIteration(), warmStarts: Bool = true,
      warmStartMaximumChange: Double = 1e-2, confirmLastCold: Bool = true,
      vanishThreshold: Double = 1e-10, agreementThreshold: Double = 1e-8,
      refineTolerance: Double? = nil, refineMaxIterations: Int = 300, workers: Int? = nil
    ) {
      self.steps = steps
      self.spectralSchedule = spectralSchedule
      self.spectralMethod = spectralMethod
      self.arnoldi = arnoldi
      self.warmStarts = warmStarts
      self.warmStartMaximumChange = warmStartMaximumChange
      self.confirmLastCold = confirmLastCold
      self.vanishThreshold = vanishThreshold
      self.agreementThreshold = agreementThreshold
      self.refineTolerance = refineTolerance
      self.refineMaxIterations = refineMaxIterations
      self.workers = workers
    }

    /// The refined solve's tolerance for this precision.
    public func refineTolerance(for _: Scalar.Type) -> Double {
      refineTolerance ?? (Scalar.self == Double.self ? 1e-11 : 1e-5)
    }

    /// The examined steps, ascending.
    public var spectralSteps: [Int] { spectralSchedule.steps(through: steps) }

    /// Checks every field.
    ///
    /// - Throws: ``ConvergenceAnalysisError/invalidConfiguration(_:)`` naming the value.
    public func validate() throws(ConvergenceAnalysisError) {
      guard steps >= 1 else { throw .invalidConfiguration("steps must be ≥ 1, got \(steps)") }
      if case .every(let k) = spectralSchedule, k < 1 {
        throw .invalidConfiguration("the spectral period must be ≥ 1, got \(k)")
      }
      for (value, name) in [
        (vanishThreshold, "vanishThreshold"), (agreementThreshold, "agreementThreshold"),
        (refineTolerance ?? 1, "refineTolerance"),
      ] where !(value.isFinite && value > 0) {
        throw .invalidConfiguration("\(name) must be a positive number, got \(value)")
      }
      guard warmStartMaximumChange >= 0, warmStartMaximumChange.isFinite else {
        throw .invalidConfiguration(
          "warmStartMaximumChange must be ≥ 0 and finite, got \(warmStartMaximumChange)")
      }
      guard refineMaxIterations >= 1 else {
        throw .invalidConfiguration("refineMaxIterations must be ≥ 1, got \(refineMaxIterations)")
      }
      if let workers, workers < 1 {
        throw .invalidConfiguration("workers must be ≥ 1, got \(workers)")
      }
      guard arnoldi.krylovDimension >= 2, arnoldi.maxProducts >= 1,
        arnoldi.tolerance > 0, arnoldi.tolerance < 1
      else {
        throw .invalidConfiguration(
          "Arnoldi needs krylovDimension ≥ 2, maxProducts ≥ 1 and a tolerance in (0, 1)")
      }
    }
  }

  /// Where ρ is computed.
  public enum SpectralSchedule: Sendable, Hashable {
    /// Steps 0–5, then 1-2-5 per decade (10, 20, 50, 100, …), and the last step.
    case logSpaced
    /// Steps 0, k, 2k, …, and steps 1 and the last.
    case every(Int)
    /// Exactly these steps (those beyond the last are ignored).
    case steps(Set<Int>)

    /// The examined steps up to `last`, ascending.
    public func steps(through last: Int) -> [Int] {
      switch self {
      case .every(let k):
        guard k >= 1 else { return [] }
        return Array(Set(Array(stride(from: 0, through: last, by: k)) + [1, last]))
          .filter { $0 <= last }.sorted()
      case .steps(let set):
        return set.filter { $0 >= 0 && $0 <= last }.sorted()
      case .logSpaced:
        var chosen = Set(0...Swift.min(5, last))
        var decade = 1
        while decade <= last {
          for m in [1, 2, 5] where m * decade <= last && m * decade > 5 {
            chosen.insert(m * decade)
          }
          decade *= 10
        }
        chosen.insert(last)
        return chosen.sorted()
      }
    }
  }

  /// The concrete spectral method for this problem's dimension: the configured one, with
  /// the automatic choice resolved to dense (n ≤ threshold) or Arnoldi with the configured
  /// ``Configuration/arnoldi`` settings.
  public var resolvedSpectralMethod: SpectralRadiusMethod {
    switch configuration.spectralMethod {
    case .automatic(let threshold):
      dimension <= threshold ? .dense(DenseSpectralAnalysis()) : .arnoldi(configuration.arnoldi)
    case let other: other
    }
  }

  /// The number of workers a run uses: ``Configuration/workers`` when set; otherwise one
  /// per RoI up to the active processors for small blocks, and one for large blocks (a
  /// convolution of at least 10 MFLOP), whose GEMMs use the BLAS threads better than
  /// parallel RoIs do (256 × 14 × 14 on 2 cores: 7.7 ms per RoI-step on one worker with
  /// two BLAS threads, 8.5 ms on two workers with one each).
  public var workerCount: Int {
    let flopsPerConvolution =
      2 * block.channels * block.innerChannels * 9
      * (injection.rank == 4 ? injection.shape[2] * injection.shape[3] : 0)
    let automatic =
      flopsPerConvolution >= 10_000_000 ? 1 : ProcessInfo.processInfo.activeProcessorCount
    return Swift.max(1, Swift.min(roiCount, configuration.workers ?? automatic))
  }

  /// Checks the problem and the configuration.
  ///
  /// - Throws: ``ConvergenceAnalysisError/invalidConfiguration(_:)`` or
  ///   ``ConvergenceAnalysisError/invalidProblem(_:)``.
  public func validate() throws(ConvergenceAnalysisError) {
    try configuration.validate()
    guard injection.rank == 4, injection.shape.allSatisfy({ $0 > 0 }) else {
      throw .invalidProblem(
        "the injection must have shape [N, C, H, W] with every size ≥ 1, got \(injection.shape)")
    }
    guard injection.shape[1] == block.channels else {
      throw .invalidProblem(
        "the injection has \(injection.shape[1]) channels but the block has \(block.channels)")
    }
    guard injection.isFinite else {
      throw .invalidProblem("the injection contains NaN or infinity")
    }
  }
}
