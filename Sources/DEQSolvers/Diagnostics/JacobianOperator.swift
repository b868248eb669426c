import DEQCore

/// The Jacobian `J = ∂f/∂z` of a map `f: ℝⁿ → ℝⁿ` at a point `z`, as a linear operator.
///
/// An operator is built from exact products (closures a user or an autodiff layer supplies)
/// or from finite differences of the map itself. Analyses ask it for
/// Jacobian–vector products `J·v` (JVPs) or vector–Jacobian products `uᵀ·J`, returned as the
/// vector `Jᵀ·u` (VJPs); nothing is ever assembled unless an analysis needs the dense matrix.
///
/// ```swift
/// // f(z) = tanh(W z + b), exact products at z:
/// let s = (0..<n).map { 1 - tanh(wz[$0] + b[$0]) * tanh(wz[$0] + b[$0]) }
/// let jacobian = try JacobianOperator(
///   at: z,
///   jvp: { v in hadamard(s, matvec(w, v)) },
///   vjp: { u in matvecTransposed(w, hadamard(s, u)) })
/// // or, from the map alone:
/// let approximate = try JacobianOperator.finiteDifference(of: f, at: z, scheme: .central)
/// let rho = try jacobian.spectralRadius()         // dense for small n, Arnoldi otherwise
/// ```
///
/// The closures must be pure: diagnostics may call them in any order and count on the same
/// answer for the same input. A product that returns NaN or an infinity makes the analysis
/// throw ``DiagnosticsError/nonFiniteProduct(product:)``.
///
/// The point must be a `ContiguousVectorSpace` (`[Float]`, `[Double]`, `Tensor`): the
/// analyses write basis vectors and start vectors into its buffer. A state made of several
/// arrays conforms to `FlattenableVectorSpace` instead and gets an operator over its
/// flattening from ``init(flattening:jvp:vjp:)`` or
/// ``finiteDifference(of:flattening:scheme:step:)``.
///
/// ## Why the closures are `@Sendable`
///
/// A `JacobianOperator` is `Sendable`, and so is everything that holds one: an operator may
/// be handed to another task (one operator per RoI analysed in a task group, the batch
/// operators of ``batch(at:jvp:vjp:)`` spread over cores), kept in a `Sendable` value, or
/// captured by a `@Sendable` closure, and its products may then run on several threads at
/// once. (The analyses in this module call the products one at a time, on the calling
/// thread; the requirement is for what callers and future parallel analyses may do with an
/// operator.) The stored JVP/VJP closures travel with it, so Swift 6 requires them to be
/// `@Sendable`: they may capture only `Sendable` values (`let` copies of weights, arrays,
/// tensors, `Sendable` structs), never a mutable variable or a non-`Sendable` class instance.
/// In practice: compute what the products need (activations, masks, weights) before building
/// the operator, capture those as constants, and write the products as functions of their
/// argument only. A closure that must update shared state (a product counter, a cache) keeps
/// it behind a `Mutex` from the standard library's `Synchronization` module. A local function
/// is made sendable with `@Sendable func jvp(_ v: [Double]) -> [Double] { … }`.
public struct JacobianOperator<Vector: ContiguousVectorSpace>: Sendable {
  /// The scalar type of the vectors.
  public typealias Scalar = Vector.Scalar

  /// Where the products come from.
  public enum Source: Sendable, Equatable {
    /// Closures that compute the products exactly (up to rounding).
    case exact
    /// Finite differences of the map with the given scheme and step along unit directions.
    case finiteDifference(FiniteDifferenceScheme, step: Double)
  }

  /// The point `z` at which the Jacobian is taken.
  public let point: Vector
  /// The dimension `n` of the point (and of the map's output).
  public let dimension: Int
  /// Where the products come from.
  public let source: Source

  let jvp: (@Sendable (Vector) -> Vector)?
  let vjp: (@Sendable (Vector) -> Vector)?

  /// Creates an operator from exact product closures; at least one must be given.
  ///
  /// - Parameters:
  ///   - point: the point `z` (its shape and size define the space).
  ///   - jvp: `v ↦ J·v`, the Jacobian–vector product at `z`. `@Sendable` because the operator
  ///     is `Sendable` and its products may run concurrently (see “Why the
  ///     closures are `@Sendable`” on ``JacobianOperator``): capture constants only.
  ///   - vjp: `u ↦ Jᵀ·u`, the vector–Jacobian product `uᵀ·J` at `z`, returned as a vector;
  ///     `@Sendable` for the same reason.
  /// - Throws: ``DiagnosticsError/noProducts`` when both closures are `nil`,
  ///   ``DiagnosticsError/nonFinitePoint`` for a point holding NaN or infinity.
  public init(
    at point: Vector,
    jvp: (@Sendable (Vector) -> Vector)? = nil,
    vjp: (@Sendable (Vector) -> Vector)? = nil
  ) throws(DiagnosticsError) {
    guard jvp != nil || vjp != nil else { throw .noProducts }
    guard point.isFinite else { throw .nonFinitePoint }
    self.point = point
    self.dimension = point.scalarCount
    self.source = .exact
    self.jvp = jvp
    self.vjp = vjp
  }

  init(
    point: Vector, source: Source, jvp: (@Sendable (Vector) -> Vector)?,
    vjp: (@Sendable (Vector) -> Vector)?
  ) {
    self.point = point
    self.dimension = point.scalarCount
    self.source = source
    self.jvp = jvp
    self.vjp = vjp
  }

  /// An operator whose Jacobian–vector products are finite differences of `map`.
  ///
  /// ```
  /// forward:  J·v ≈ ‖v‖ · (f(z + h·v̂) − f(z)) / h,          h = √ε · (1 + ‖z‖)
  /// central:  J·v ≈ ‖v‖ · (f(z + h·v̂) − f(z − h·v̂)) / (2h), h = ε^(1/3) · (1 + ‖z‖)
  /// ```
  /// with `v̂ = v / ‖v‖` (see ``FiniteDifferenceScheme``). Expected relative accuracy of the
  /// products: about `√ε` (forward) and `ε^(2/3)` (central), times the map's curvature.
  /// Only JVPs are available (a VJP by differences would cost `n` evaluations).
  ///
  /// - Parameters:
  ///   - map: the map `f`; it must return a vector of the point's shape. `@Sendable`
  ///     because every product calls it and products may run concurrently (see “Why the
  ///     closures are `@Sendable`” on ``JacobianOperator``).
  ///   - point: the point `z`.
  ///   - scheme: forward (one evaluation per product) or central (two).
  ///   - step: the step `h` along unit directions; `nil` chooses the formula above.
  /// - Throws: ``DiagnosticsError/nonFinitePoint``, ``DiagnosticsError/nonFiniteMapValue``
  ///   when `f(z)` is not finite (forward scheme: evaluated once, here),
  ///   ``DiagnosticsError/dimensionMismatch(expected:actual:)`` when `f(z)` has another
  ///   size, ``DiagnosticsError/invalidParameter(name:reason:)`` for a step that is not
  ///   positive and finite.
  /// - Complexity: one map evaluation here (forward scheme), then one or two per product.
  public static func finiteDifference(
    of map: @escaping @Sendable (Vector) -> Vector,
    at point: Vector,
    scheme: FiniteDifferenceScheme = .central,
    step: Scalar? = nil
  ) throws(DiagnosticsError) -> JacobianOperator {
    guard point.isFinite else { throw .nonFinitePoint }
    let h = step ?? scheme.defaultStep(pointNorm: point.norm())
    guard h > 0, h.isFinite else {
      throw .invalidParameter(name: "step", reason: "must be positive and finite, got \(h)")
    }
    let product: @Sendable (Vector) -> Vector
    switch scheme {
    case .forward:
      let base = map(point)
      guard base.scalarCount == point.scalarCount else {
        throw .dimensionMismatch(expected: point.scalarCount, actual: base.scalarCount)
      }
      guard base.isFinite else { throw .nonFiniteMapValue }
      product = { v in
        let length = v.norm()
        guard length > 0 else { return point.zeroed() }
        var result = map(point.adding(v, scaledBy: h / length))
        result.subtract(base)
        result.scale(by: length / h)
        return result
      }
    case .central:
      product = { v in
        let length = v.norm()
        guard length > 0 else { return point.zeroed() }
        var result = map(point.adding(v, scaledBy: h / length))
        result.subtract(map(point.adding(v, scaledBy: -h / length)))
        result.scale(by: length / (2 * h))
        return result
      }
    }
    return JacobianOperator(
      point: point, source: .finiteDifference(scheme, step: Double(h)), jvp: product, vjp: nil)
  }

  /// Whether ``jacobianVectorProduct(_:)`` is available.
  public var providesJacobianVectorProducts: Bool { jvp != nil }

  /// Whether ``vectorJacobianProduct(_:)`` is available.
  public var providesVectorJacobianProducts: Bool { vjp != nil }

  /// The number of map evaluations one product costs (0 for exact products).
  public var mapEvaluationsPerProduct: Int {
    switch source {
    case .exact: 0
    case .finiteDifference(let scheme, _): scheme.evaluationsPerProduct
    }
  }

  /// `J·v`.
  ///
  /// - Precondition: ``providesJacobianVectorProducts``.
  public func jacobianVectorProduct(_ v: Vector) -> Vector {
    guard let jvp else { preconditionFailure("this Jacobian operator has no JVP") }
    return jvp(v)
  }

  /// `Jᵀ·u`, the vector–Jacobian product `uᵀ·J` as a vector.
  ///
  /// - Precondition: ``providesVectorJacobianProducts``.
  public func vectorJacobianProduct(_ u: Vector) -> Vector {
    guard let vjp else { preconditionFailure("this Jacobian operator has no VJP") }
    return vjp(u)
  }

  /// A product with `J` if available, else with `Jᵀ` (both have the same spectrum and
  /// Frobenius norm), checked for size and finiteness.
  ///
  /// - Parameter count: the number of products so far, updated; it numbers errors.
  func checkedProduct(_ v: Vector, count: inout Int) throws(DiagnosticsError) -> Vector {
    count += 1
    let result: Vector
    if let jvp {
      result = jvp(v)
    } else if let vjp {
      result = vjp(v)
    } else {
      throw .noProducts
    }
    guard result.scalarCount == dimension else {
      throw .dimensionMismatch(expected: dimension, actual: result.scalarCount)
    }
    guard result.isFinite else { throw .nonFiniteProduct(product: count) }
    return result
  }

  /// Checks that the operator has a non-empty space.
  func requireNonEmpty() throws(DiagnosticsError) {
    guard dimension > 0 else { throw .emptyProblem }
  }

  /// The unit vector `e_index` in the operator's space.
  func basisVector(_ index: Int) -> Vector {
    var e = point.zeroed()
    e.withUnsafeMutableBufferPointer { $0[index] = 1 }
    return e
  }
}
