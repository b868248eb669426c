import DEQCore

/// How a Jacobian–vector product is approximated from map evaluations.
///
/// For a unit direction `v̂ = v / ‖v‖` and a step `h` (chosen relative to the point's norm
/// and the scalar's precision, see ``defaultStep(pointNorm:scalar:)``):
/// ```
/// forward:  J·v ≈ ‖v‖ · (f(z + h·v̂) − f(z)) / h             1 evaluation,  error O(√ε)
/// central:  J·v ≈ ‖v‖ · (f(z + h·v̂) − f(z − h·v̂)) / (2h)    2 evaluations, error O(ε^(2/3))
/// ```
/// `ε` is the scalar's machine epsilon (`ulpOfOne`): about 2.2e-16 for `Double` and
/// 1.2e-7 for `Float`.
public enum FiniteDifferenceScheme: String, Sendable, Hashable, CaseIterable {
  /// One-sided differences: one map evaluation per product, relative error of order `√ε`
  /// (about 1.5e-8 in `Double`, 3.5e-4 in `Float`).
  case forward
  /// Symmetric differences: two map evaluations per product, relative error of order
  /// `ε^(2/3)` (about 3.7e-11 in `Double`, 2.4e-5 in `Float`).
  case central

  /// The number of map evaluations one product costs.
  public var evaluationsPerProduct: Int {
    switch self {
    case .forward: 1
    case .central: 2
    }
  }

  /// The step length along a unit direction:
  /// ```
  /// forward:  h = √ε · (1 + ‖z‖)
  /// central:  h = ε^(1/3) · (1 + ‖z‖)
  /// ```
  /// The exponents balance truncation error (`h·‖f″‖` or `h²·‖f‴‖`) against rounding
  /// error (`ε·‖f‖ / h`); the factor `1 + ‖z‖` keeps the perturbation relative to the
  /// size of the point, and absolute near `z = 0` (the rule of Knoll & Keyes 2004 for
  /// Jacobian-free Newton–Krylov).
  ///
  /// - Parameters:
  ///   - pointNorm: `‖z‖₂`, the norm of the point where the Jacobian is taken.
  ///   - scalar: the precision the map computes in.
  public func defaultStep<Scalar: DEQScalar>(
    pointNorm: Scalar, scalar: Scalar.Type = Scalar.self
  ) -> Scalar {
    let epsilon = Scalar.ulpOfOne
    let base: Scalar =
      switch self {
      case .forward: epsilon.squareRoot()
      case .central: Scalar.pow(epsilon, Scalar(1) / 3)
      }
    return base * (1 + pointNorm)
  }
}
