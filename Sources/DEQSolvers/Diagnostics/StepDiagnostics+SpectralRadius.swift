import DEQCore

extension StepDiagnostics {
  /// A hook that records the spectral radius of `∂f/∂z` at the scheduled iterates, from
  /// Jacobian operators built at each iterate.
  ///
  /// ```swift
  /// let hook = StepDiagnostics<[Double]>.spectralRadius(schedule: .every(10)) { z in
  ///   try JacobianOperator(at: z, jvp: { v in layer.jvp(at: z, v) })
  /// }
  /// let solution = solve(problem, using: Broyden(), diagnostics: hook)
  /// ```
  /// The iterate need not be contiguous: for a `FlattenableVectorSpace` state, return
  /// `try JacobianOperator(flattening: z, jvp: …)`, an operator over `[Scalar]`.
  ///
  /// A diagnostic that throws (a ``DiagnosticsError`` such as a NaN product, or an error of
  /// `jacobian`) is recorded, not lost: the record's value is NaN, `isReliable` is `false`,
  /// its method is the one attempted and its ``SpectralRadiusRecord/failure`` is the error
  /// (``DiagnosticsError/jacobianUnavailable(reason:)`` for an error of another type).
  ///
  /// - Parameters:
  ///   - schedule: which iterations to measure.
  ///   - method: how to compute ρ; by default dense for `n ≤ 1,024`, Arnoldi above.
  ///   - jacobian: builds the Jacobian operator at an iterate.
  /// - Returns: the hook to pass to `solve(_:using:stopping:diagnostics:observer:)`.
  /// - Complexity: that of `method` at each scheduled step; not counted in the trace's map
  ///   evaluations.
  public static func spectralRadius<Operand: ContiguousVectorSpace>(
    schedule: Schedule,
    method: SpectralRadiusMethod = .automatic(),
    jacobian: @escaping (V) throws -> JacobianOperator<Operand>
  ) -> StepDiagnostics<V> {
    StepDiagnostics(schedule: schedule) { z, _ in
      do {
        let estimate = try jacobian(z).spectralRadius(using: method)
        return SpectralRadiusRecord(estimate)
      } catch {
        let attempted = method.resolved(forDimension: z.scalarCount).recordMethod
        let failure =
          (error as? DiagnosticsError) ?? .jacobianUnavailable(reason: String(describing: error))
        return SpectralRadiusRecord(method: attempted, failure: failure)
      }
    }
  }
}

extension StepDiagnostics where V: ContiguousVectorSpace {
  /// A hook that records the spectral radius of `∂f/∂z` at the scheduled iterates, with
  /// Jacobian–vector products by finite differences of `map` (the problem's map, as a
  /// `@Sendable` closure).
  ///
  /// - Parameters:
  ///   - map: the fixed-point map `f`.
  ///   - schedule: which iterations to measure.
  ///   - scheme: forward or central differences (default central; see
  ///     ``FiniteDifferenceScheme``).
  ///   - method: how to compute ρ; by default dense for `n ≤ 1,024`, Arnoldi above.
  /// - Returns: the hook to pass to `solve(_:using:stopping:diagnostics:observer:)`.
  public static func spectralRadius(
    of map: @escaping @Sendable (V) -> V,
    schedule: Schedule,
    scheme: FiniteDifferenceScheme = .central,
    method: SpectralRadiusMethod = .automatic()
  ) -> StepDiagnostics<V> {
    spectralRadius(schedule: schedule, method: method) { z in
      try JacobianOperator.finiteDifference(of: map, at: z, scheme: scheme)
    }
  }
}

extension SpectralRadiusRecord {
  /// A trace record from a spectral-radius estimate: its value (NaN when the method had
  /// none), method (``Method/dense``, ``Method/arnoldi``, ``Method/powerIteration``), error
  /// estimate and trust flag.
  public init<Scalar: DEQScalar>(_ estimate: SpectralRadiusEstimate<Scalar>) {
    self.init(
      value: estimate.value.map { Double($0) } ?? .nan,
      method: Method(estimate.method),
      errorEstimate: estimate.errorEstimate.map { Double($0) },
      isReliable: estimate.isTrustworthy && estimate.value != nil)
  }
}

extension SpectralRadiusMethod {
  /// The record method of a resolved choice (``automatic(denseThreshold:)`` resolves before
  /// it is asked; it is named by the rule it stands for).
  var recordMethod: SpectralRadiusRecord.Method {
    switch self {
    case .dense: .dense
    case .arnoldi: .arnoldi
    case .powerIteration: .powerIteration
    case .automatic: .custom("automatic")
    }
  }
}
