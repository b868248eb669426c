// Phantom gradients (Geng et al., "On Training Implicit Models", NeurIPS 2021): instead of
// the exact adjoint solve, differentiate k damped unrolled steps started at the (detached)
// fixed point:
//
//   z₀ = z*,   z_{i+1} = (1 − λ) z_i + λ f(z_i),   i = 0 … k−1,   loss at z_k.
//
// Backpropagating through the unroll gives, with w_k = ∂L/∂z_k,
//
//   dL/dθ += λ · w_{i+1} · ∂f/∂θ(z_i),   w_i = (1 − λ) w_{i+1} + λ · w_{i+1} · ∂f/∂z(z_i).
//
// As k grows the result tends to the implicit gradient (a truncated Neumann series of
// (I − ∂f/∂z)⁻¹). k = 1 is the "1-step" (Jacobian-free) gradient up to the factor λ.

/// The result of a phantom-gradient backward pass.
public struct PhantomGradient<V: VectorSpace, Gradient> {
  /// `dL/dθ` through the unrolled steps.
  public var parameterGradient: Gradient
  /// The number of unrolled steps `k`.
  public var steps: Int
  /// `z_k`, the end of the unroll (where the loss gradient was taken when it is a closure).
  public var unrolledState: V

  /// Creates a result.
  public init(parameterGradient: Gradient, steps: Int, unrolledState: V) {
    self.parameterGradient = parameterGradient
    self.steps = steps
    self.unrolledState = unrolledState
  }
}

extension PhantomGradient: Sendable where V: Sendable, Gradient: Sendable {}

/// The k-step phantom gradient through `z_{i+1} = (1 − λ) z_i + λ f(z_i)` from `z*`.
///
/// - Parameters:
///   - fixedPoint: `z*` (treated as a constant: no gradient flows into the solve).
///   - steps: `k ≥ 1`.
///   - damping: `λ` in `(0, 1]` (default 1).
///   - map: `f`.
///   - lossGradient: `∂L/∂z` at the unroll's end `z_k`.
///   - vectorJacobianProduct: `(z, w) ↦ w · ∂f/∂z(z)`.
///   - parameterVJP: `(z, w) ↦ w · ∂f/∂θ(z)`.
/// - Returns: the gradient, `k`, and `z_k`.
/// - Complexity: k map evaluations, k VJPs and k parameter VJPs; k + 1 stored iterates.
@inlinable
public func phantomGradient<V: VectorSpace, Gradient: VectorSpace>(
  at fixedPoint: V,
  steps: Int,
  damping: Double = 1,
  map: (V) -> V,
  lossGradient: (V) -> V,
  vectorJacobianProduct: (V, V) -> V,
  parameterVJP: (V, V) -> Gradient
) -> PhantomGradient<V, Gradient> {
  precondition(steps >= 1, "a phantom gradient needs at least one step")
  precondition(damping > 0 && damping <= 1, "phantom-gradient damping must be in (0, 1]")
  let lambda = V.Scalar(damping)
  var states = [fixedPoint]
  states.reserveCapacity(steps + 1)
  for _ in 0..<steps {
    let z = states[states.count - 1]
    var next = z.scaled(by: 1 - lambda)
    next.add(map(z), scaledBy: lambda)
    states.append(next)
  }
  var w = lossGradient(states[steps])
  var gradient: Gradient?
  for i in stride(from: steps - 1, through: 0, by: -1) {
    let z = states[i]
    let piece = parameterVJP(z, w).scaled(by: Gradient.Scalar(damping))
    gradient = gradient.map { $0.adding(piece) } ?? piece
    var back = w.scaled(by: 1 - lambda)
    back.add(vectorJacobianProduct(z, w), scaledBy: lambda)
    w = back
  }
  guard let gradient else { preconditionFailure("steps ≥ 1 produces a gradient") }
  return PhantomGradient(parameterGradient: gradient, steps: steps, unrolledState: states[steps])
}
