// Splitting independent work across the cores the caller allows: the IFR engine's Winograd
// transforms, GroupNorms and GEMM streams, and the lockstep driver's per-problem solver
// steps.
//
// The bodies write disjoint memory (ranges of workspace buffers through unsafe pointers, or
// distinct solver runs), which the compiler cannot see; `_DisjointWriters` is the one place
// in the package that asserts the splitting is safe. Underscored: an implementation detail
// shared by the package's modules, not API.

/// Runs `body` over `parts` contiguous slices of `0..<count` at once.
public enum _ParallelRanges {
  /// Splits `0..<count` into at most `parts` contiguous ranges and runs `body(part,
  /// range)` on each, concurrently when there is more than one (in the caller otherwise), on
  /// the caller's thread and ``_WorkerPool``'s helpers.
  @inlinable
  public static func forEach(_ count: Int, parts: Int, _ body: (_ part: Int, Range<Int>) -> Void) {
    let parts = Swift.min(parts, count)
    guard parts > 1 else {
      if count > 0 { body(0, 0..<count) }
      return
    }
    withoutActuallyEscaping(body) { body in
      _WorkerPool.shared.run(_DisjointWriters(body), count: count, parts: parts)
    }
  }
}

/// A closure that writes only the buffer ranges belonging to the index range it is given.
///
/// `@unchecked Sendable` because the closure captures what the compiler cannot prove
/// shareable (unsafe pointers into workspace buffers, solver runs):
/// `_ParallelRanges.forEach` hands each concurrent call a disjoint index range, and every
/// caller's body writes only the rows, tiles, channels, GEMM outputs or solver runs of its
/// range (shared inputs are only read while the call runs), so no two threads touch the
/// same memory, and `_WorkerPool.run` (or `concurrentPerform`) returns only after every
/// call has finished.
public struct _DisjointWriters: @unchecked Sendable {
  @usableFromInline let body: (Int, Range<Int>) -> Void
  @inlinable public init(_ body: @escaping (Int, Range<Int>) -> Void) { self.body = body }
}
