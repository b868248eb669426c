import DEQCore

extension JacobianOperator {
  /// An operator over the flattened `[Scalar]` of a state that is not stored contiguously,
  /// from exact products on the state itself.
  ///
  /// With `φ` the state's `flattened()` and `φ⁻¹` its
  /// `unflattened(_:)`, the operator's products are
  /// ```
  /// J_flat·v = φ(jvp(φ⁻¹(v))),     J_flatᵀ·u = φ(vjp(φ⁻¹(u)))
  /// ```
  /// so `J_flat` is the state's Jacobian written in the flattening's basis: the same
  /// eigenvalues, spectral radius and Frobenius norm. Every analysis (dense, Arnoldi, power
  /// iteration, Hutchinson, ``assembled()``) then runs on it unchanged.
  ///
  /// ```swift
  /// // A two-scale state z = (a, b), f(a, b) = (tanh(A·a + B·b), C·a), s = 1 − tanh²(A·a + B·b):
  /// let jacobian = try JacobianOperator(
  ///   flattening: z,
  ///   jvp: { v in
  ///     Pair(a: hadamard(s, matvec(A, v.a).adding(matvec(B, v.b))), b: matvec(C, v.a))
  ///   })
  /// let rho = try jacobian.spectralRadius()      // over [Double], n = a.count + b.count
  /// ```
  ///
  /// - Parameters:
  ///   - point: the state `z` at which the Jacobian is taken.
  ///   - jvp: `v ↦ J·v` on states, at `z`. `@Sendable`, as in ``init(at:jvp:vjp:)``.
  ///   - vjp: `u ↦ Jᵀ·u` on states, at `z`.
  /// - Throws: ``DiagnosticsError/noProducts`` when both closures are `nil`,
  ///   ``DiagnosticsError/nonFinitePoint`` for a state holding NaN or infinity,
  ///   ``DiagnosticsError/flatteningMismatch(scalarCount:flattened:)`` when the state's
  ///   `flattened()` does not return `scalarCount` scalars.
  /// - Complexity: one flattening here; each product adds one unflattening and one
  ///   flattening (O(n) copies) to the state's own product.
  public init<State: FlattenableVectorSpace>(
    flattening point: State,
    jvp: (@Sendable (State) -> State)? = nil,
    vjp: (@Sendable (State) -> State)? = nil
  ) throws(DiagnosticsError) where Vector == [State.Scalar] {
    guard jvp != nil || vjp != nil else { throw .noProducts }
    let flat = try Self.flatten(point)
    self.init(
      point: flat, source: .exact, jvp: Self.flattened(jvp, template: point),
      vjp: Self.flattened(vjp, template: point))
  }

  /// An operator over the flattened `[Scalar]` of a state that is not stored contiguously,
  /// with Jacobian–vector products by finite differences of `map` on states.
  ///
  /// The same as ``finiteDifference(of:at:scheme:step:)`` applied to the flat map
  /// `v ↦ φ(map(φ⁻¹(v)))` at `φ(z)` (see ``init(flattening:jvp:vjp:)`` for `φ`): the same
  /// steps, accuracy and costs, plus O(n) copies per evaluation.
  ///
  /// - Parameters:
  ///   - map: the map `f` on states; it must return a state of the point's shape.
  ///   - point: the state `z`.
  ///   - scheme: forward (one evaluation per product) or central (two).
  ///   - step: the step `h` along unit directions; `nil` chooses the scheme's formula.
  /// - Throws: as ``finiteDifference(of:at:scheme:step:)``, and
  ///   ``DiagnosticsError/flatteningMismatch(scalarCount:flattened:)``.
  /// - Complexity: one map evaluation here (forward scheme), then one or two per product.
  public static func finiteDifference<State: FlattenableVectorSpace>(
    of map: @escaping @Sendable (State) -> State,
    flattening point: State,
    scheme: FiniteDifferenceScheme = .central,
    step: Scalar? = nil
  ) throws(DiagnosticsError) -> JacobianOperator where Vector == [State.Scalar] {
    let flat = try flatten(point)
    return try finiteDifference(
      of: { v in map(point.unflattened(v)).flattened() }, at: flat, scheme: scheme, step: step)
  }

  /// `point.flattened()`, checked for finiteness and size.
  static func flatten<State: FlattenableVectorSpace>(
    _ point: State
  ) throws(DiagnosticsError) -> [State.Scalar] {
    guard point.isFinite else { throw .nonFinitePoint }
    let flat = point.flattened()
    guard flat.count == point.scalarCount else {
      throw .flatteningMismatch(scalarCount: point.scalarCount, flattened: flat.count)
    }
    return flat
  }

  /// A product on states as a product on their flattenings.
  static func flattened<State: FlattenableVectorSpace>(
    _ product: (@Sendable (State) -> State)?, template: State
  ) -> (@Sendable ([State.Scalar]) -> [State.Scalar])? {
    guard let product else { return nil }
    return { v in product(template.unflattened(v)).flattened() }
  }
}
