// Splitting the non-GEMM work of a batched evaluation (Winograd transforms, GroupNorm,
// Winograd's 16 independent GEMMs) across the cores the caller allows.
//
// The bodies write disjoint ranges of workspace buffers through unsafe pointers, which are
// not `Sendable`; `_DisjointWriters` is the one place that asserts the splitting is safe.

import Dispatch

/// Runs `body` over `parts` contiguous slices of `0..<count` at once.
@usableFromInline
enum _ParallelRanges {
  /// Splits `0..<count` into at most `parts` contiguous ranges and runs `body(part,
  /// range)` on each, concurrently when there is more than one (in the caller otherwise).
  @inlinable
  static func forEach(_ count: Int, parts: Int, _ body: (_ part: Int, Range<Int>) -> Void) {
    let parts = Swift.min(parts, count)
    guard parts > 1 else {
      if count > 0 { body(0, 0..<count) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let writers = _DisjointWriters(body)
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        writers.body(part, (count * part / parts)..<(count * (part + 1) / parts))
      }
    }
  }
}

/// A closure that writes only the buffer ranges belonging to the index range it is given.
///
/// `@unchecked Sendable` because the closure captures unsafe pointers into workspace
/// buffers: `_ParallelRanges.forEach` hands each concurrent call a disjoint index range, and
/// every caller's body writes only the rows, tiles, channels or GEMM outputs of its range
/// (reads of shared inputs are read-only while the call runs), so no two threads touch the
/// same memory, and `concurrentPerform` returns only after every call has finished.
@usableFromInline
struct _DisjointWriters: @unchecked Sendable {
  @usableFromInline let body: (Int, Range<Int>) -> Void
  @inlinable init(_ body: @escaping (Int, Range<Int>) -> Void) { self.body = body }
}
