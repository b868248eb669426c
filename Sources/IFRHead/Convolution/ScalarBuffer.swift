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

  /// A buffer of `count` scalars (at least one, so that `base` is always valid), zeroed
  /// unless `zeroed` is false.
  ///
  /// Scratch, tape and packed buffers pass `zeroed: false`: every kernel writes them before
  /// it reads them, and skipping the memset leaves only the page faults of first use (the
  /// workspace's buffers are tens of MB at the paper's size). Accumulators stay zeroed.
  @usableFromInline
  init(count: Int, zeroed: Bool = true) {
    precondition(count >= 0, "_ScalarBuffer: negative size \(count)")
    self.count = count
    base = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
    if zeroed {
      base.initialize(repeating: 0, count: Swift.max(count, 1))
    } else {
      // Float and Double are trivial: their memory needs no initialisation before a store.
      base[0] = 0
    }
  }

  /// A buffer holding a copy of `tensor`'s scalars.
  @usableFromInline
  convenience init(copying tensor: Tensor<Scalar>) {
    self.init(count: tensor.count, zeroed: false)
    tensor.withUnsafeBufferPointer { source in
      guard let scalars = source.baseAddress else { return }
      base.update(from: scalars, count: source.count)
    }
  }

  deinit {
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
