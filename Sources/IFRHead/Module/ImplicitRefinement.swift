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

  /// Creates the module with the released settings (Broyden, 15 forward and 15 backward
  /// iterations, implicit gradients).
  public init(
    block: IFRBlock<Scalar>, forwardSolver: any FixedPointAlgorithm = Broyden(),
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
  /// - Parameter injection: X, `[N, C, H, W]`.
  /// - Returns: the equilibria (best iterates) and every RoI's solution. A RoI that did not
  ///   converge keeps its status (`FixedPointStatus`) and its lowest-residual iterate.
  /// - Complexity: per RoI, one F evaluation per solver step (16 for Broyden 15) plus the
  ///   solver's own `O(m · C·H·W)` per step.
  @inlinable
  public func forward(_ injection: Tensor<Scalar>) -> Forward {
    let (n, height, width) = geometry(injection)
    let workspace = block.makeWorkspace(height: height, width: width)
    var equilibrium = Tensor<Scalar>(zeros: injection.shape)
    var solutions: [FixedPointSolution<Tensor<Scalar>>] = []
    for roi in 0..<n {
      let problem = block.fixedPointProblem(injection: injection.sample(roi), workspace: workspace)
      let solution = solve(problem, using: forwardSolver, stopping: forwardStopping)
      equilibrium.setSample(roi, to: solution.fixedPoint)
      solutions.append(solution)
    }
    return Forward(injection: injection, equilibrium: equilibrium, solutions: solutions)
  }

  /// Gradients of a loss through the equilibria, from `∂L/∂H*`.
  ///
  /// - Parameters:
  ///   - forward: the forward pass (X and H*).
  ///   - cotangent: `∂L/∂H*`, `[N, C, H, W]`.
  /// - Returns: `∂L/∂X`, `∂L/∂θ` and the adjoint solutions.
  /// - Complexity: implicit: per RoI one F evaluation, one VJP (no parameters) per backward
  ///   step and one VJP with parameters; phantom: `k` F evaluations and `2k` VJPs per RoI.
  @inlinable
  public func backward(_ forward: Forward, cotangent: Tensor<Scalar>) -> Backward {
    let (n, height, width) = geometry(forward.injection)
    precondition(cotangent.shape == forward.injection.shape, "cotangent shape mismatch")
    let workspace = block.makeWorkspace(height: height, width: width)
    var injectionCotangent = Tensor<Scalar>(zeros: forward.injection.shape)
    var adjointSolutions: [FixedPointSolution<Tensor<Scalar>>] = []
    var phantomParameters = [Scalar](repeating: 0, count: block.parameterCount)
    for roi in 0..<n {
      let x = forward.injection.sample(roi)
      let hStar = forward.equilibrium.sample(roi)
      let g = cotangent.sample(roi)
      switch gradient {
      case .implicit:
        _ = workspace.evaluate(state: hStar, injection: x)
        let result = implicitGradient(
          lossGradient: g, vectorJacobianProduct: { u in workspace.vjp(cotangent: u) },
          parameterVJP: { u in workspace.vjp(cotangent: u, accumulatingParameters: true).injection
          },
          using: backwardSolver, stopping: backwardStopping)
        injectionCotangent.setSample(roi, to: result.parameterGradient)
        adjointSolutions.append(result.backwardSolution)
      case .phantom(let steps, let damping):
        let result = phantomGradient(
          at: hStar, steps: steps, damping: damping,
          map: { h in workspace.evaluate(state: h, injection: x) }, lossGradient: { _ in g },
          vectorJacobianProduct: { h, w in
            _ = workspace.evaluate(state: h, injection: x)
            return workspace.vjp(cotangent: w)
          },
          parameterVJP: { h, w -> [Scalar] in
            // X and θ cotangents concatenated, so that the phantom sum scales both.
            workspace.resetParameterGradient()
            _ = workspace.evaluate(state: h, injection: x)
            let dx = workspace.vjp(cotangent: w, accumulatingParameters: true).injection
            return dx.scalars + workspace.parameterGradient().parameterVector
          })
        let total = result.parameterGradient
        injectionCotangent.setSample(roi, to: Tensor(shape: x.shape) { total[$0] })
        phantomParameters.add(Array(total[x.count...]))
      }
    }
    let parameters =
      switch gradient {
      case .implicit: workspace.parameterGradient()
      case .phantom: block.replacingParameters(with: phantomParameters)
      }
    return Backward(
      injection: injectionCotangent, parameters: parameters,
      adjointSolutions: adjointSolutions)
  }

  @inlinable
  func geometry(_ injection: Tensor<Scalar>) -> (n: Int, height: Int, width: Int) {
    precondition(
      injection.rank == 4 && injection.shape[1] == block.channels,
      "ImplicitRefinement expects [N, \(block.channels), H, W], got \(injection.shape)")
    return (injection.shape[0], injection.shape[2], injection.shape[3])
  }
}
