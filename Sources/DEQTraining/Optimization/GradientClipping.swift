// Gradient clipping by global norm (Pascanu, Mikolov & Bengio 2013, "On the difficulty of
// training recurrent neural networks"), as PyTorch's `torch.nn.utils.clip_grad_norm_` with
// the Euclidean norm, except that a non-finite norm leaves the gradient untouched.

/// What ``clipGradientNorm(_:maxNorm:)`` did to a gradient.
public struct GradientClipping: Sendable, Equatable {
  /// The Euclidean norm of the gradient before clipping (NaN or infinity when it is not
  /// finite).
  public var norm: Double
  /// Whether the gradient was scaled down.
  public var wasClipped: Bool
  /// The factor the gradient was multiplied by (1 when it was not clipped).
  public var scale: Double
  /// Whether the norm was finite; when it is not, the gradient was left as it was, and the
  /// step should be skipped.
  public var isFinite: Bool

  /// Creates a record.
  public init(norm: Double, wasClipped: Bool, scale: Double, isFinite: Bool) {
    self.norm = norm
    self.wasClipped = wasClipped
    self.scale = scale
    self.isFinite = isFinite
  }
}

/// Scales a gradient down so that its Euclidean norm is at most about `maxNorm`.
///
/// ```
/// ‖g‖ > maxNorm:   g ← s · g,   s = maxNorm / (‖g‖ + 1e-6)
/// otherwise:       g unchanged
/// ```
///
/// The `1e-6` is PyTorch's, so a clipped gradient's norm is slightly below `maxNorm`.
/// PyTorch multiplies by `min(1, s)` unconditionally (so it also rescales, by a hair, a
/// norm within 1e-6 below `maxNorm`); here a gradient at or below `maxNorm` is untouched.
/// A NaN or infinite norm is reported in the record and the gradient left as it was (where
/// PyTorch would fill it with NaN).
///
/// - Parameters:
///   - gradient: the gradient, scaled in place.
///   - maxNorm: the largest norm kept, > 0.
/// - Returns: the norm before clipping, whether and by how much the gradient was scaled.
/// - Precondition: `maxNorm` is finite and > 0.
/// - Complexity: O(n) flops (one norm and at most one scaling), no allocation.
@inlinable
public func clipGradientNorm<V: VectorSpace>(
  _ gradient: inout V, maxNorm: V.Scalar
) -> GradientClipping {
  precondition(maxNorm > 0 && maxNorm.isFinite, "clipGradientNorm: maxNorm must be finite and > 0")
  let norm = gradient.norm()
  guard norm.isFinite else {
    return GradientClipping(norm: Double(norm), wasClipped: false, scale: 1, isFinite: false)
  }
  guard norm > maxNorm else {
    return GradientClipping(norm: Double(norm), wasClipped: false, scale: 1, isFinite: true)
  }
  let scale = maxNorm / (norm + 1e-6)
  gradient.scale(by: scale)
  return GradientClipping(
    norm: Double(norm), wasClipped: true, scale: Double(scale), isFinite: true)
}
