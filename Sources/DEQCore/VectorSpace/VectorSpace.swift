/// A value a fixed-point solver can iterate on: a vector in a real inner-product space.
///
/// Solvers in `DEQSolvers` are generic over `VectorSpace`: they need a zero of the same
/// shape, in-place linear combinations, an inner product, a norm and a finiteness check.
/// Conformances ship for `[Float]`, `[Double]` and ``Tensor``.
///
/// ## Making your own type conform
/// A type that stores its scalars contiguously should conform to
/// ``ContiguousVectorSpace`` instead: it then only has to provide
/// ``ContiguousVectorSpace/withUnsafeBufferPointer(_:)``,
/// ``ContiguousVectorSpace/withUnsafeMutableBufferPointer(_:)`` and ``zeroed()``, and gets
/// every other requirement (BLAS-backed) for free, plus the solvers' BLAS fast paths.
///
/// Any other type implements the mutating requirements below; the non-mutating
/// counterparts (`adding(_:)`, `scaled(by:)`, …) come from an extension.
///
/// ```swift
/// struct Pair: VectorSpace {
///   var a: [Double], b: [Double]
///   func zeroed() -> Pair { Pair(a: a.zeroed(), b: b.zeroed()) }
///   var scalarCount: Int { a.count + b.count }
///   mutating func add(_ x: Pair, scaledBy s: Double) {
///     a.add(x.a, scaledBy: s); b.add(x.b, scaledBy: s)
///   }
///   mutating func scale(by s: Double) { a.scale(by: s); b.scale(by: s) }
///   func dot(_ x: Pair) -> Double { a.dot(x.a) + b.dot(x.b) }
///   var isFinite: Bool { a.isFinite && b.isFinite }
/// }
/// ```
///
/// Operands of the binary operations must have the same shape; combining values of
/// different shapes is a programmer error and traps.
///
/// `+` and `-` operators are deliberately not requirements: on `Array`, `+` already
/// means concatenation. ``Tensor`` provides the arithmetic operators itself.
public protocol VectorSpace: Sendable {
  /// The scalar field.
  associatedtype Scalar: DEQScalar

  /// A zero vector with the same shape as `self`.
  func zeroed() -> Self

  /// The number of scalars (the dimension of the space `self` lives in).
  var scalarCount: Int { get }

  /// `self ← self + scale · other`, the BLAS `axpy`.
  ///
  /// - Complexity: O(n) flops, no allocation.
  mutating func add(_ other: Self, scaledBy scale: Scalar)

  /// `self ← scale · self`.
  ///
  /// - Complexity: O(n) flops, no allocation.
  mutating func scale(by scale: Scalar)

  /// The Euclidean inner product `⟨self, other⟩`.
  ///
  /// - Complexity: O(n) flops.
  func dot(_ other: Self) -> Scalar

  /// The Euclidean norm `‖self‖₂`. The default is `sqrt(dot(self))`; conformances
  /// should override it with an overflow-safe computation where they can.
  ///
  /// - Complexity: O(n) flops.
  func norm() -> Scalar

  /// Whether every scalar is finite (no NaN, no infinity).
  var isFinite: Bool { get }

  /// `self ← self + other`.
  mutating func add(_ other: Self)

  /// `self ← self − other`.
  mutating func subtract(_ other: Self)
}

extension VectorSpace {
  @inlinable
  public func norm() -> Scalar { Scalar.sqrt(dot(self)) }

  @inlinable
  public mutating func add(_ other: Self) { add(other, scaledBy: 1) }

  @inlinable
  public mutating func subtract(_ other: Self) { add(other, scaledBy: -1) }

  /// Returns `self + other`.
  @inlinable
  public func adding(_ other: Self) -> Self {
    var result = self
    result.add(other)
    return result
  }

  /// Returns `self + scale · other`.
  @inlinable
  public func adding(_ other: Self, scaledBy scale: Scalar) -> Self {
    var result = self
    result.add(other, scaledBy: scale)
    return result
  }

  /// Returns `self − other`.
  @inlinable
  public func subtracting(_ other: Self) -> Self {
    var result = self
    result.subtract(other)
    return result
  }

  /// Returns `scale · self`.
  @inlinable
  public func scaled(by scale: Scalar) -> Self {
    var result = self
    result.scale(by: scale)
    return result
  }

  /// The Euclidean distance `‖self − other‖₂`.
  @inlinable
  public func distance(to other: Self) -> Scalar { subtracting(other).norm() }
}
