import DEQCore

/// A convergence diagnostic that could not produce a number it can stand behind.
///
/// Diagnostics never trap on bad input and never return a silently wrong number: they
/// either throw one of these errors or return a result whose `isTrustworthy` flag is
/// `false` together with a sentence saying why.
public enum DiagnosticsError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
  /// The problem has no unknowns (`n = 0`); it has no Jacobian to analyse.
  case emptyProblem
  /// The operator was given neither a Jacobian–vector nor a vector–Jacobian product.
  case noProducts
  /// The analysis needs Jacobian–vector products, and the operator only has vector–Jacobian
  /// products (or the reverse).
  case unsupportedProduct(String)
  /// The point at which the Jacobian is taken holds NaN or an infinity.
  case nonFinitePoint
  /// The map returned NaN or an infinity at the point itself (finite differences need `f(z)`).
  case nonFiniteMapValue
  /// A Jacobian product returned NaN or an infinity; `product` is its 1-based number.
  case nonFiniteProduct(product: Int)
  /// A product returned a vector with a different number of scalars than the point.
  case dimensionMismatch(expected: Int, actual: Int)
  /// A parameter is outside its documented range.
  case invalidParameter(name: String, reason: String)
  /// A LAPACK routine failed on the assembled Jacobian or the Hessenberg matrix.
  case linearAlgebra(LinearAlgebraError)
  /// A `FlattenableVectorSpace` state's `flattened()` returned `flattened` scalars where its
  /// `scalarCount` is `scalarCount` (a bug in the conformance).
  case flatteningMismatch(scalarCount: Int, flattened: Int)
  /// The closure that builds the Jacobian operator for a diagnostics hook threw an error of
  /// another type; `reason` is its description (the error itself is not kept, so that
  /// trace records stay `Codable` and `Sendable`).
  case jacobianUnavailable(reason: String)

  public var description: String {
    switch self {
    case .emptyProblem:
      "the problem has no unknowns (n = 0), so its Jacobian has no spectrum"
    case .noProducts:
      "a Jacobian operator needs a Jacobian–vector product, a vector–Jacobian product, or both"
    case .unsupportedProduct(let what):
      "this analysis needs \(what), which the operator does not provide"
    case .nonFinitePoint:
      "the point holds NaN or infinity; the Jacobian there is meaningless"
    case .nonFiniteMapValue:
      "the map returned NaN or infinity at the point; finite differences need a finite f(z)"
    case .nonFiniteProduct(let product):
      "Jacobian product \(product) returned NaN or infinity; the map is not finite near the point"
    case .dimensionMismatch(let expected, let actual):
      "a product returned \(actual) scalars, expected \(expected) (the map must be square)"
    case .invalidParameter(let name, let reason):
      "invalid \(name): \(reason)"
    case .linearAlgebra(let error):
      "linear algebra failed: \(error)"
    case .flatteningMismatch(let scalarCount, let flattened):
      "flattened() returned \(flattened) scalars for a state of \(scalarCount); a "
        + "FlattenableVectorSpace conformance must return exactly scalarCount"
    case .jacobianUnavailable(let reason):
      "the Jacobian operator could not be built: \(reason)"
    }
  }
}
