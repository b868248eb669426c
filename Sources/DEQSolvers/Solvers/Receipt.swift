/// What a stepper reports after the map has been evaluated at its pending point.
@usableFromInline
enum _Receipt<Scalar: DEQScalar> {
  /// A line-search trial that was not (yet) accepted: evaluate the new pending point.
  case trial
  /// The pending point is the next accepted iterate.
  case iterate(residual: Scalar, mapNorm: Scalar, stepNorm: Scalar, isFinite: Bool)
}

/// What a stepper reports after computing its next pending point.
@usableFromInline
enum _Advance: Equatable {
  /// The next point is pending.
  case proceed
  /// No usable update even right after a reset (zero or non-finite denominator).
  case breakdown
  /// The residual differences are at the rounding level of the map's values, twice running.
  case floor
}
