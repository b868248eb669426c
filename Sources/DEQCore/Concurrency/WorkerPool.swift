// The threads behind `_ParallelRanges`: one caller and up to `parts − 1` helper threads that
// stay awake for a moment after each job.
//
// The IFR engine splits every batched F into about ten short parallel sections (transforms,
// GEMM streams, GroupNorms), each a fraction of a millisecond, and the lockstep driver adds
// one per round. With `DispatchQueue.concurrentPerform` each section woke a sleeping worker
// thread: about 50 µs of a 250 µs section on this project's 2-core VM, measured with two
// equal halves (Dispatch: 299 µs for what takes 246 µs on two cores). Here a helper spins on
// its job counter for up to 200 µs after finishing, so the next section, which follows within
// microseconds, starts at once; only then does it sleep on a semaphore.
//
// One caller at a time owns the pool (a flag); any other call (a nested one from inside a
// job, or one from another thread) runs through `concurrentPerform` as before, so the pool
// never waits on itself.
//
// Goals in priority order: every part runs exactly once and the call returns only after all
// have; no lost wake-up; no deadlock, nested or concurrent; low latency for short jobs.

import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A pool of helper threads for `_ParallelRanges` (see the file's comment).
public final class _WorkerPool: @unchecked Sendable {
  /// The process's pool.
  public static let shared = _WorkerPool()

  /// How long a helper spins for its next job before sleeping.
  static let spinTime: Duration = .microseconds(200)

  /// One helper thread: its job counter, whether it sleeps, and its wake-up.
  final class Helper: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let sleeping = Atomic<Bool>(false)
    let wakeUp = DispatchSemaphore(value: 0)
  }

  /// The job of the current call (written before the helpers' counters are raised, read
  /// after they see them raised).
  struct Job {
    let writers: _DisjointWriters
    let count: Int
    let parts: Int
  }

  private let owned = Atomic<Bool>(false)
  private let remaining = Atomic<Int>(0)
  /// Guarded by `owned` (only the owner reads or writes them).
  private var helpers: [Helper] = []
  private var job: Job?

  private init() {}

  /// Runs `writers.body(part, range)` for the `parts` slices of `0..<count`, `parts ≥ 2`.
  @usableFromInline
  func run(_ writers: _DisjointWriters, count: Int, parts: Int) {
    guard owned.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else {
      // Nested or concurrent: Dispatch's threads.
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        writers.body(part, Self.slice(part, count: count, parts: parts))
      }
      return
    }
    defer { owned.store(false, ordering: .releasing) }
    while helpers.count < parts - 1 { startHelper(index: helpers.count) }
    job = Job(writers: writers, count: count, parts: parts)
    remaining.store(parts - 1, ordering: .relaxed)
    for helper in helpers.prefix(parts - 1) {
      helper.generation.add(1, ordering: .sequentiallyConsistent)
      if helper.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
        helper.wakeUp.signal()
      }
    }
    writers.body(0, Self.slice(0, count: count, parts: parts))
    while remaining.load(ordering: .acquiring) > 0 {}
    job = nil
  }

  /// Part `part` of `parts` of `0..<count`.
  static func slice(_ part: Int, count: Int, parts: Int) -> Range<Int> {
    (count * part / parts)..<(count * (part + 1) / parts)
  }

  /// Starts helper `index`, which runs part `index + 1` of each job it is given.
  private func startHelper(index: Int) {
    let helper = Helper()
    helpers.append(helper)
    let context = Unmanaged.passRetained(HelperContext(pool: self, helper: helper, part: index + 1))
    var thread = pthread_t()
    let status = pthread_create(
      &thread, nil,
      { raw in
        guard let raw else { return nil }
        let context = Unmanaged<HelperContext>.fromOpaque(raw).takeRetainedValue()
        context.pool.serve(context.helper, part: context.part)
      }, context.toOpaque())
    precondition(status == 0, "_WorkerPool: pthread_create failed (\(status))")
    pthread_detach(thread)
  }

  final class HelperContext {
    let pool: _WorkerPool
    let helper: Helper
    let part: Int
    init(pool: _WorkerPool, helper: Helper, part: Int) {
      self.pool = pool
      self.helper = helper
      self.part = part
    }
  }

  /// A helper's loop: wait for the counter to move (spinning, then sleeping), run its part.
  private func serve(_ helper: Helper, part: Int) -> Never {
    let clock = ContinuousClock()
    var seen = 0
    while true {
      var deadline = clock.now.advanced(by: Self.spinTime)
      var spins = 0
      while true {
        let generation = helper.generation.load(ordering: .sequentiallyConsistent)
        if generation != seen {
          seen = generation
          break
        }
        spins += 1
        if spins % 256 != 0 || clock.now < deadline { continue }
        // Sleep; the caller signals after raising the counter when it finds the flag set,
        // and the counter is checked again after setting it, so no wake-up is lost (a
        // spare signal only makes a later wait return early, and the loop checks again).
        helper.sleeping.store(true, ordering: .sequentiallyConsistent)
        if helper.generation.load(ordering: .sequentiallyConsistent) == seen {
          helper.wakeUp.wait()
        }
        helper.sleeping.store(false, ordering: .sequentiallyConsistent)
        deadline = clock.now.advanced(by: Self.spinTime)
      }
      if let job, part < job.parts {
        job.writers.body(part, Self.slice(part, count: job.count, parts: job.parts))
      }
      remaining.subtract(1, ordering: .releasing)
    }
  }
}
