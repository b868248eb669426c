/// What a stepper is told about the solve it runs in.
///
/// Most algorithms need none of it beyond the start. Newton-type algorithms use the
/// Jacobian–vector product when the problem supplies one, and otherwise difference the map;
/// Krylov methods use the tolerance to confirm an estimated residual before it is reported.
public struct StepperContext<V: VectorSpace> {
  /// The iteration cap of the solve (bounds how much history can fill).
  public let maxIterations: Int
  /// The convergence test the driver applies to each reported iterate.
  public let tolerance: Tolerance
  /// Evaluates `f(z)` into a buffer. Evaluations made through it are the stepper's own
  /// (count them in ``FixedPointStepper/jacobianProducts`` when they serve a product);
  /// evaluations at ``FixedPointStepper/pendingPoint`` should go through the driver.
  public let map: (V, inout V) -> Void
  /// `(z, v) ↦ ∂f/∂z(z)·v`, when the problem has an exact one
  /// (``FixedPointProblem/jacobianVectorProduct``).
  public let jacobianVectorProduct: ((V, V) -> V)?

  /// Creates a context (the driver makes one per problem; tests may make their own).
  public init(
    maxIterations: Int, tolerance: Tolerance, map: @escaping (V, inout V) -> Void,
    jacobianVectorProduct: ((V, V) -> V)? = nil
  ) {
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.map = map
    self.jacobianVectorProduct = jacobianVectorProduct
  }
}
