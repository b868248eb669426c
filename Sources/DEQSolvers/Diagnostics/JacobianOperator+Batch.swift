import DEQCore

extension JacobianOperator {
  /// One Jacobian operator per problem of a batch, from batched exact products.
  ///
  /// The batch holds `N` independent problems stacked along axis 0 (`points` has shape
  /// `[N, …]`), so the batched Jacobian is block diagonal and problem `i`'s block is
  /// ```
  /// Jᵢ·v = [ Jvp(embedᵢ(v)) ]ᵢ,   embedᵢ(v) = v in sample i, zeros elsewhere
  /// ```
  /// ```swift
  /// let operators = try JacobianOperator<Tensor<Double>>.batch(at: z, jvp: batchedJVP)
  /// let radii = try operators.map { try $0.spectralRadius() }
  /// ```
  ///
  /// - Parameters:
  ///   - points: the batched point, shape `[N, …]` with `N ≥ 1`.
  ///   - jvp: the batched JVP at `points` (input and output of shape `[N, …]`). `@Sendable`,
  ///     as in ``init(at:jvp:vjp:)``: the `N` operators share it and may run their products
  ///     concurrently.
  ///   - vjp: the batched VJP at `points`, `@Sendable` likewise.
  /// - Returns: `N` operators on tensors of shape `points.shape.dropFirst()`.
  /// - Throws: ``DiagnosticsError/noProducts``, ``DiagnosticsError/nonFinitePoint``,
  ///   ``DiagnosticsError/emptyProblem`` for a rank-0 or empty batch.
  /// - Complexity: each product costs one batched product.
  public static func batch<S: DEQScalar>(
    at points: Tensor<S>,
    jvp: (@Sendable (Tensor<S>) -> Tensor<S>)? = nil,
    vjp: (@Sendable (Tensor<S>) -> Tensor<S>)? = nil
  ) throws(DiagnosticsError) -> [JacobianOperator] where Vector == Tensor<S> {
    guard jvp != nil || vjp != nil else { throw .noProducts }
    guard points.rank >= 1, points.shape[0] >= 1 else { throw .emptyProblem }
    guard points.isFinite else { throw .nonFinitePoint }
    let zero = points.zeroed()
    func restricted(
      _ product: (@Sendable (Tensor<S>) -> Tensor<S>)?, to index: Int
    ) -> (@Sendable (Tensor<S>) -> Tensor<S>)? {
      guard let product else { return nil }
      return { v in
        var embedded = zero
        embedded.setSample(index, to: v)
        return product(embedded).sample(index)
      }
    }
    return (0..<points.shape[0]).map { index in
      JacobianOperator(
        point: points.sample(index), source: .exact, jvp: restricted(jvp, to: index),
        vjp: restricted(vjp, to: index))
    }
  }

  /// One finite-difference Jacobian operator per problem of a batch, from the batched map.
  ///
  /// Problem `i`'s map is `zᵢ ↦ [f(Z with sample i replaced by zᵢ)]ᵢ`; each product costs one
  /// or two batched evaluations (see ``finiteDifference(of:at:scheme:step:)``; the step is
  /// chosen from each sample's own norm).
  ///
  /// - Throws: as ``finiteDifference(of:at:scheme:step:)``, and
  ///   ``DiagnosticsError/emptyProblem`` for a rank-0 or empty batch.
  /// - Complexity: forward: one batched evaluation per operator here.
  public static func batchFiniteDifference<S: DEQScalar>(
    of map: @escaping @Sendable (Tensor<S>) -> Tensor<S>,
    at points: Tensor<S>,
    scheme: FiniteDifferenceScheme = .central
  ) throws(DiagnosticsError) -> [JacobianOperator] where Vector == Tensor<S> {
    guard points.rank >= 1, points.shape[0] >= 1 else { throw .emptyProblem }
    var operators = [JacobianOperator]()
    for index in 0..<points.shape[0] {
      let sampleMap: @Sendable (Tensor<S>) -> Tensor<S> = { z in
        var batch = points
        batch.setSample(index, to: z)
        return map(batch).sample(index)
      }
      operators.append(
        try finiteDifference(of: sampleMap, at: points.sample(index), scheme: scheme))
    }
    return operators
  }
}
