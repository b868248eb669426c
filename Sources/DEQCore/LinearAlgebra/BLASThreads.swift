import CBLASLAPACK
import Synchronization

/// The number of threads OpenBLAS uses, a process-wide setting.
///
/// OpenBLAS keeps one global thread count; this is the one API to read and change it,
/// serialised by a lock so concurrent callers see a consistent value.
///
/// ```swift
/// BLASThreads.count = 1          // single-threaded BLAS, e.g. while a benchmark runs
/// ```
public enum BLASThreads {
  private static let lock = Mutex(())

  /// The number of threads OpenBLAS uses for one call.
  ///
  /// Setting a value below 1 sets 1.
  public static var count: Int {
    get { lock.withLock { _ in Int(openblas_get_num_threads()) } }
    set { lock.withLock { _ in openblas_set_num_threads(Int32(Swift.max(1, newValue))) } }
  }

  /// Runs `body` with `count` BLAS threads, then restores the previous count.
  public static func withCount<R, E: Error>(
    _ count: Int, _ body: () throws(E) -> R
  ) throws(E) -> R {
    let previous = Self.count
    Self.count = count
    defer { Self.count = previous }
    return try body()
  }
}
