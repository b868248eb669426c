/// A ``VectorSpace`` whose scalars can be copied out to one flat array and back.
///
/// Solvers need only ``VectorSpace``, so a state made of several arrays (a multiscale
/// feature pyramid, a pair `(a, b)`) iterates as it is. Dense and matrix-free Jacobian
/// analyses in `DEQSolvers` work on a flat `[Scalar]`: a type that conforms here gets a
/// Jacobian operator over its flattening without any hand-written reshaping (see
/// `JacobianOperator.init(flattening:jvp:vjp:)` in `DEQSolvers`).
///
/// ```swift
/// extension Pair: FlattenableVectorSpace {        // Pair from the VectorSpace example
///   func flattened() -> [Double] { a + b }
///   func unflattened(_ scalars: [Double]) -> Pair {
///     Pair(a: Array(scalars[..<a.count]), b: Array(scalars[a.count...]))
///   }
/// }
/// ```
///
/// A conformance must satisfy, for every `x` and `y` of one shape and scalar `s`:
/// ```
/// x.flattened().count == x.scalarCount
/// x.unflattened(y.flattened()) == y              (same shape: a bijection)
/// (x + s·y).flattened() == x.flattened() + s·y.flattened()   (the order is fixed)
/// x.dot(y) == x.flattened() · y.flattened()      (VectorSpace's dot is Euclidean)
/// ```
/// The order of the scalars is the type's choice. Eigenvalues and the spectral radius do not
/// depend on it (a reordering is a similarity transform); Frobenius norms do not either, given
/// the last law.
public protocol FlattenableVectorSpace: VectorSpace {
  /// The ``VectorSpace/scalarCount`` scalars of `self`, in the type's fixed order.
  ///
  /// - Complexity: O(n) time and one array of n scalars.
  func flattened() -> [Scalar]

  /// A value of the shape of `self` holding `scalars`, in the order of ``flattened()``.
  ///
  /// `self` serves only as the shape template; its scalars are not read. The library calls
  /// this only with exactly ``VectorSpace/scalarCount`` scalars.
  ///
  /// - Complexity: O(n) time and one value of n scalars.
  func unflattened(_ scalars: [Scalar]) -> Self
}
