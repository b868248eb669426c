/// A linear-algebra routine that could not produce an answer.
///
/// LAPACK reports failure through its `info` output; this library turns each such
/// report into a case here and never traps on it.
public enum LinearAlgebraError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
  /// An operand's shape does not fit the operation.
  case dimensionMismatch(expected: [Int], actual: [Int])
  /// The operation needs a square matrix.
  case notSquare(rows: Int, columns: Int)
  /// The operation needs at least one row and one column.
  case empty
  /// An operand holds NaN or an infinity (LAPACK's behaviour on those is undefined).
  case nonFinite(operand: String)
  /// The matrix is exactly singular: the LU factor `U(pivot, pivot)` is zero (1-based).
  case singular(pivot: Int)
  /// An iterative LAPACK routine did not converge (`info > 0`).
  case noConvergence(routine: String, info: Int)
  /// LAPACK rejected an argument (`info < 0`); a bug in this library if it happens.
  case lapack(routine: String, info: Int)

  public var description: String {
    switch self {
    case .dimensionMismatch(let expected, let actual):
      "dimension mismatch: expected \(expected), got \(actual)"
    case .notSquare(let rows, let columns): "expected a square matrix, got \(rows) × \(columns)"
    case .empty: "the matrix has no rows or no columns"
    case .nonFinite(let operand): "\(operand) contains NaN or infinity"
    case .singular(let pivot): "the matrix is singular (zero pivot at position \(pivot))"
    case .noConvergence(let routine, let info):
      "LAPACK \(routine) did not converge (info = \(info))"
    case .lapack(let routine, let info):
      "LAPACK \(routine) rejected argument \(-info) (info = \(info))"
    }
  }
}
