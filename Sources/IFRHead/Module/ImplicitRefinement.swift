// The implicit feature refinement module (Ma et al. 2021, Sec. 3.4; Bai, Kolter & Koltun
// 2019 for the implicit backward pass): per RoI, solve H* = F(H*; X) from H₀ = 0 with a
// fixed-point solver (Broyden, 15 iterations, as released), and differentiate through the
// equilibrium by the implicit function theorem:
//
//   u = u · ∂F/∂H(H*) + ∂L/∂H*   (an adjoint fixed-point solve, Broyden 15 by default)
//   ∂L/∂X = u · ∂F/∂X(H*),   ∂L/∂θ = Σ_RoIs u · ∂F/∂θ(H*)
//
// or by the phantom gradient (Geng et al. 2021). Goals in priority order: each RoI solved
// as its own problem with its own status and trace; exact VJPs; one workspace reused
// across RoIs, so a solve allocates only what the solver and the map's output need.

/// How ``ImplicitRefinement`` differentiates through the equilibrium.
public enum EquilibriumGradient: Sendable {
  /// Implicit differentiation: an adjoint fixed-point solve, then one VJP.
  case implicit
  /// The k-step phantom gradient through `H_{i+1} = (1 − λ) H_i + λ F(H_i; X)` from H*.
  case phantom(steps: Int, damping: Double)
}

/// The implicit refinement module: `H* = F(H*; X)` per RoI, and gradients through it.
///
/// ```swift
/// var rng = SeededGenerator(seed: 7)
/// let module = ImplicitRefinement(block: IFRBlock<Float>(channels: 256, using: &rng))
/// let forward = module.forward(x)                         // x: [N, 256, 14, 14]
/// let refined = forward.equilibrium                       // H*, same shape
/// let grads = module.backward(forward, cotangent: dLdH)   // ∂L/∂X, ∂L/∂θ
/// ```
public struct ImplicitRefinement<Scalar: DEQScalar>: Sendable {
  /// The block F.
  public var block: IFRBlock<Scalar>
  /// The forward solver (default `Broyden()`).
  public var forwardSolver: any FixedPointAlgorithm
  /// The forward stopping rule (default `.ifr`: 15 iterations, tolerance 1e-6).
  public var forwardStopping: StoppingCriteria
  /// The backward (adjoint) solver (default `Broyden()`; `GMRES()` reaches the minimal
  /// residual for its number of VJPs, see `Docs/Solvers.md`).
  public var backwardSolver: any FixedPointAlgorithm
  /// The backward stopping rule (default `.backward`: 15 iterations).
  public var backwardStopping: StoppingCriteria
  /// The gradient method (default ``EquilibriumGradient/implicit``).
  public var gradient: EquilibriumGradient
  /// How the block's convolutions are computed (default: Winograd where it pays).
  public var convolution: ConvolutionAlgorithm

  /// Creates the module with the released settings (Broyden, 15 forward and 15 backward
  /// iterations, implicit gradients).
  public init(
    block: IFRBlock<Scalar>, convolution: ConvolutionAlgorithm = .automatic,
    forwardSolver: any FixedPointAlgorithm = Broyden(),
    forwardStopping: StoppingCriteria = .ifr,
    backwardSolver: any FixedPointAlgorithm = Broyden(),
    backwardStopping: StoppingCriteria = .backward, gradient: EquilibriumGradient = .implicit
  ) {
    self.block = block
    self.forwardSolver = forwardSolver
    self.forwardStopping = forwardStopping
    self.backwardSolver = backwardSolver
    self.backwardStopping = backwardStopping
    self.gradient = gradient
    self.convolution = convolution
  }

  /// The result of a forward pass.
  public struct Forward: Sendable {
    /// The injection X, `[N, C, H, W]`.
    public var injection: Tensor<Scalar>
    /// The equilibria H* (each RoI's best iterate), `[N, C, H, W]`.
    public var equilibrium: Tensor<Scalar>
    /// Each RoI's solution: status, statistics and trace.
    public var solutions: [FixedPointSolution<Tensor<Scalar>>]

    @usableFromInline
    init(
      injection: Tensor<Scalar>, equilibrium: Tensor<Scalar>,
      solutions: [FixedPointSolution<Tensor<Scalar>>]
    ) {
      self.injection = injection
      self.equilibrium = equilibrium
      self.solutions = solutions
    }
  }

  /// The result of a backward pass.
  public struct Backward: Sendable {
    /// `∂L/∂X`, `[N, C, H, W]`.
    public var injection: Tensor<Scalar>
    /// `∂L/∂θ`, as a block whose tensors hold the cotangents (see ``IFRBlock/namedParameters``).
    public var parameters: IFRBlock<Scalar>
    /// Each RoI's adjoint solve (empty for the phantom gradient).
    public var adjointSolutions: [FixedPointSolution<Tensor<Scalar>>]

    @usableFromInline
    init(
      injection: Tensor<Scalar>, parameters: IFRBlock<Scalar>,
      adjointSolutions: [FixedPointSolution<Tensor<Scalar>>]
    ) {
      self.injection = injection
      self.parameters = parameters
      self.adjointSolutions = adjointSolutions
    }
  }

  /// The equilibria `H*` for a batch of RoIs (see ``forward(_:)``).
  @inlinable
  public func callAsFunction(_ injection: Tensor<Scalar>) -> Tensor<Scalar> {
    forward(injection).equilibrium
  }

  /// Solves `H* = F(H*; X)` for every RoI from `H₀ = 0`, each as its own problem.
  ///
  /// The RoIs run in lockstep: each round evaluates F for every RoI still running in one
  /// workspace call (one set of GEMMs over all their columns), while each RoI keeps its own
  /// solver history, stopping decision, status and trace. A solver that asks for Jacobian
  /// products (Newton–Krylov) runs RoI by RoI instead, with the block's exact JVP.
  ///
  /// - Parameter injection: X, `[N, C, H, W]`.
  /// - Returns: the equilibria (best iterates) and every RoI's solution. A RoI that did not
  ///   converge keeps its status (`FixedPointStatus`) and its lowest-residual iterate.
  /// - Complexity: one batched F evaluation per solver round (16 for Broyden 15) plus the
  ///   solver's own `O(m · C·H·W)` per RoI and step.
  @inlinable
  public func forward(_ injection: Tensor<Scalar>) -> Forward {
    forward(injection, from: nil)
  }

  /// Solves `H* = F(H*; X)` for every RoI from a given start (a warm start), each as its
  /// own problem; `nil` starts from `H₀ = 0` (as ``forward(_:)``).
  ///
  /// A warm start (for example the equilibria of the same RoIs at the previous training
  /// iteration) changes where each solve begins, not what it solves: statuses, traces and
  /// the backward pass are as for a cold start.
  ///
  /// - Parameters:
  ///   - injection: X, `[N, C, H, W]`.
  ///   - start: `H₀`, the same shape as `injection`, or `nil`.
  /// - Returns: the equilibria (best iterates) and every RoI's solution.
  /// - Complexity: as ``forward(_:)``.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func forward(_ injection: Tensor<Scalar>, from start: Tensor<Scalar>?) -> Forward {
    let (n, _, _) = geometry(injection)
    if let start {
      precondition(
        start.shape == injection.shape,
        "ImplicitRefinement: warm start \(start.shape) differs from X \(injection.shape)")
    }
    let roiShape = Array(injection.shape.dropFirst())
    let starts = (0..<n).map { roi in start?.sample(roi) ?? Tensor<Scalar>(zeros: roiShape) }
    var equilibrium = Tensor<Scalar>(zeros: injection.shape)
    guard n > 0 else {
      return Forward(injection: injection, equilibrium: equilibrium, solutions: [])
    }
    let map = _RoIBatchMap(block: block, injection: injection, convolution: convolution)
    let solutions: [FixedPointSolution<Tensor<Scalar>>]
    if Self.needsJacobianProducts(forwardSolver) {
      solutions = map.injections.indices.map { roi in
        solve(
          block.fixedPointProblem(
            injection: map.injections[roi], start: starts[roi], workspace: map.workspace),
          using: forwardSolver, stopping: forwardStopping)
      }
    } else {
      solutions = solve(
        batch: starts, map: map.forward, using: forwardSolver,
        stopping: forwardStopping, parallelism: map.cores)
    }
    for (roi, solution) in solutions.enumerated() {
      equilibrium.setSample(roi, to: solution.fixedPoint)
    }
    return Forward(injection: injection, equilibrium: equilibrium, solutions: solutions)
  }

  /// Whether `algorithm` uses a problem's Jacobian–vector products (which the lockstep
  /// driver does not offer).
  static func needsJacobianProducts(_ algorithm: any FixedPointAlgorithm) -> Bool {
    if algorithm is NewtonKrylov { return true }
    if case .newtonKrylov = algorithm as? AlgorithmKind { return true }
    return false
  }

  /// Gradients of a loss through the equilibria, from `∂L/∂H*`.
  ///
  /// The adjoint solves run in lockstep like ``forward(_:)``: one batched VJP per round at
  /// the equilibria of the RoIs still running, then one VJP with parameters for all RoIs.
  ///
  /// - Parameters:
  ///   - forward: the forward pass (X and H*).
  ///   - cotangent: `∂L/∂H*`, `[N, C, H, W]`.
  /// - Returns: `∂L/∂X`, `∂L/∂θ` and the adjoint solutions.
  /// - Complexity: implicit: one batched F evaluation, one batched VJP (no parameters) per
  ///   backward round and one with parameters; phantom: `k` F evaluations and `2k` VJPs per
  ///   RoI.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func backward(_ forward: Forward, cotangent: Tensor<Scalar>) -> Backward {
    let (n, _, _) = geometry(forward.injection)
    precondition(cotangent.shape == forward.injection.shape, "cotangent shape mismatch")
    let map = _RoIBatchMap(block: block, injection: forward.injection, convolution: convolution)
    let workspace = map.workspace
    guard n > 0 else {
      return Backward(
        injection: Tensor(zeros: forward.injection.shape),
        parameters: workspace.parameterGradient(), adjointSolutions: [])
    }
    switch gradient {
    case .implicit:
      let equilibria = (0..<n).map { forward.equilibrium.sample($0) }
      let lossGradients = (0..<n).map { cotangent.sample($0) }
      let adjointSolutions = solve(
        batch: lossGradients.map { $0.zeroed() },
        map: map.adjoint(equilibria: equilibria, lossGradients: lossGradients),
        using: backwardSolver, stopping: backwardStopping, parallelism: map.cores)
      var adjoint = Tensor<Scalar>(zeros: forward.injection.shape)
      for (roi, solution) in adjointSolutions.enumerated() {
        adjoint.setSample(roi, to: solution.fixedPoint)
      }
      // Usually a no-op: the adjoint solves' last round was linearised at every RoI.
      map.linearise(at: equilibria, rois: Array(0..<n))
      let (_, injectionCotangent) = workspace.vjp(cotangent: adjoint, accumulatingParameters: true)
      return Backward(
        injection: injectionCotangent, parameters: workspace.parameterGradient(),
        adjointSolutions: adjointSolutions)
    case .phantom(let steps, let damping):
      let single = block.makeWorkspace(
        height: forward.injection.shape[2], width: forward.injection.shape[3],
        convolution: convolution)
      var injectionCotangent = Tensor<Scalar>(zeros: forward.injection.shape)
      var phantomParameters = [Scalar](repeating: 0, count: block.parameterCount)
      for roi in 0..<n {
        let x = map.injections[roi]
        let g = cotangent.sample(roi)
        let result = phantomGradient(
          at: forward.equilibrium.sample(roi), steps: steps, damping: damping,
          map: { h in single.evaluate(state: h, injection: x) }, lossGradient: { _ in g },
          vectorJacobianProduct: { h, w in
            _ = single.evaluate(state: h, injection: x)
            return single.vjp(cotangent: w)
          },
          parameterVJP: { h, w -> [Scalar] in
            // X and θ cotangents concatenated, so that the phantom sum scales both.
            single.resetParameterGradient()
            _ = single.evaluate(state: h, injection: x)
            let dx = single.vjp(cotangent: w, accumulatingParameters: true).injection
            return dx.scalars + single.parameterGradient().parameterVector
          })
        let total = result.parameterGradient
        injectionCotangent.setSample(roi, to: Tensor(shape: x.shape) { total[$0] })
        phantomParameters.add(Array(total[x.count...]))
      }
      return Backward(
        injection: injectionCotangent,
        parameters: block.replacingParameters(with: phantomParameters), adjointSolutions: [])
    }
  }

  @inlinable
  func geometry(_ injection: Tensor<Scalar>) -> (n: Int, height: Int, width: Int) {
    precondition(
      injection.rank == 4 && injection.shape[1] == block.channels,
      "ImplicitRefinement expects [N, \(block.channels), H, W], got \(injection.shape)")
    return (injection.shape[0], injection.shape[2], injection.shape[3])
  }
}
