// One RoI's equilibrium problem H = F(H; X) as a FixedPointProblem, with F evaluated in
// place through a workspace and the exact Jacobian–vector product ∂F/∂H · v (for
// Newton–Krylov). The JVP reuses the linearisation the workspace recorded at its last
// evaluation when that was at the same point (Newton–Krylov asks for products right after
// the map was evaluated at the accepted iterate), and evaluates F there first otherwise.

extension IFRBlock {
  /// The fixed-point problem `H = F(H; X)` of one RoI.
  ///
  /// ```swift
  /// let problem = block.fixedPointProblem(injection: x.sample(0))      // [C, H, W]
  /// let solution = solve(problem, using: NewtonKrylov(), stopping: .init(tolerance: .relative(1e-10)))
  /// ```
  ///
  /// - Parameters:
  ///   - injection: X of one RoI, `[channels, height, width]`.
  ///   - start: `H₀` (default 0).
  ///   - workspace: the buffers to evaluate in (default: a new one); the problem uses it
  ///     exclusively while a solve runs.
  /// - Returns: a problem whose map allocates nothing and whose
  ///   `FixedPointProblem.jacobianVectorProduct` is exact.
  /// - Precondition: `injection` is `[channels, h, w]` and the workspace (if given) is for
  ///   `h × w`.
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  public func fixedPointProblem(
    injection: Tensor<Scalar>, start: Tensor<Scalar>? = nil,
    workspace: IFRBlockWorkspace<Scalar>? = nil
  ) -> FixedPointProblem<Tensor<Scalar>> {
    precondition(
      injection.rank == 3 && injection.shape[0] == channels,
      "fixedPointProblem expects one RoI [\(channels), H, W], got \(injection.shape)")
    let workspace =
      workspace ?? makeWorkspace(height: injection.shape[1], width: injection.shape[2])
    precondition(workspace.roiCount == injection.count, "workspace size does not fit the RoI")
    let tape = _LinearisationPoint(like: injection)
    return FixedPointProblem(
      start: start ?? Tensor(zeros: injection.shape),
      inPlaceMap: { h, out in
        tape.evaluate(workspace, state: h, injection: injection, into: &out)
      },
      jacobianVectorProduct: { h, v in
        if !tape.holds(h) {
          var scratch = h.zeroed()
          tape.evaluate(workspace, state: h, injection: injection, into: &scratch)
        }
        var out = v.zeroed()
        workspace.jvp(tangent: v, into: &out)
        return out
      })
  }
}

/// The point at which a workspace last evaluated F (whose linearisation it holds).
final class _LinearisationPoint<Scalar: DEQScalar> {
  var point: Tensor<Scalar>
  var isValid = false

  init(like: Tensor<Scalar>) { point = like.zeroed() }

  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func evaluate(
    _ workspace: IFRBlockWorkspace<Scalar>, state: Tensor<Scalar>, injection: Tensor<Scalar>,
    into out: inout Tensor<Scalar>
  ) {
    workspace.evaluate(state: state, injection: injection, into: &out)
    point.assign(state)
    isValid = true
  }

  /// Whether the workspace's linearisation is at `state` (compared scalar by scalar).
  @_specialize(where Scalar == Double)
  @_specialize(where Scalar == Float)
  func holds(_ state: Tensor<Scalar>) -> Bool {
    guard isValid, state.shape == point.shape else { return false }
    return state.withUnsafeBufferPointer { a in
      point.withUnsafeBufferPointer { b in
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
      }
    }
  }
}
