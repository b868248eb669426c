/// What a stepper reports after the map has been evaluated at its pending point.
@usableFromInline
enum _Receipt<Scalar: DEQScalar> {
  /// A line-search trial that was not (yet) accepted: evaluate the new pending point.
  case trial
  /// The pending point is the next accepted iterate.
  case iterate(residual: Scalar, mapNorm: Scalar, stepNorm: Scalar, isFinite: Bool)
}
