// A named, fixed-size scalar buffer owned by a workspace: allocated and zeroed once,
// freed with its owner, with every access range checked against its size.

/// A workspace buffer of `count` scalars.
///
/// Workspaces hold one per quantity (a tape entry, a scratch matrix, a cotangent
/// accumulator), each sized by its own formula, instead of one slab cut up by offsets.
@usableFromInline
final class _ScalarBuffer<Scalar: DEQScalar> {
  /// The number of scalars.
  @usableFromInline let count: Int
  @usableFromInline let base: UnsafeMutablePointer<Scalar>

  /// A zeroed buffer of `count` scalars (at least one, so that `base` is always valid).
  @usableFromInline
  init(count: Int) {
    precondition(count >= 0, "_ScalarBuffer: negative size \(count)")
    self.count = count
    base = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
    base.initialize(repeating: 0, count: Swift.max(count, 1))
  }

  deinit {
    base.deinitialize(count: Swift.max(count, 1))
    base.deallocate()
  }

  /// The scalars `offset ..< offset + length`, checked against the buffer's size.
  @inlinable
  func pointer(_ offset: Int = 0, count length: Int) -> UnsafeMutablePointer<Scalar> {
    precondition(
      offset >= 0 && length >= 0 && offset + length <= count,
      "_ScalarBuffer: \(offset)..<\(offset + length) is outside 0..<\(count)")
    return base + offset
  }

  /// Sets every scalar to zero.
  @inlinable
  func zero() { base.update(repeating: 0, count: count) }
}
