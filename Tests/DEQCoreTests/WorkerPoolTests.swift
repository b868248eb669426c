import DEQCore
import Dispatch
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Parallel ranges on the worker pool")
struct WorkerPoolTests {
  /// Runs `forEach` and counts how often each index was visited, and by which part.
  func visits(_ count: Int, parts: Int) -> [Int] {
    let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
    counts.initialize(repeating: 0)
    defer { counts.deallocate() }
    _ParallelRanges.forEach(count, parts: parts) { _, range in
      for i in range { counts[i] += 1 }
    }
    return Array(counts)
  }

  @Test("Every index is visited exactly once, for any count and number of parts")
  func coverage() {
    for parts in 1...8 {
      for count in [0, 1, 2, 3, 7, 8, 100, 1001] {
        #expect(
          visits(count, parts: parts) == [Int](repeating: 1, count: count),
          "\(parts) parts, \(count)")
      }
    }
  }

  @Test("Short jobs back to back, and after the helpers have gone to sleep")
  func handoff() {
    let total = Atomic<Int>(0)
    for round in 0..<2_000 {
      _ParallelRanges.forEach(64, parts: 2) { _, range in
        total.add(range.count, ordering: .relaxed)
      }
      // Now and then long enough for a helper to stop spinning and sleep.
      if round % 500 == 499 { usleep(2_000) }
    }
    #expect(total.load(ordering: .relaxed) == 2_000 * 64)
  }

  @Test("A call from inside a job, and calls from several threads at once, all complete")
  func nestedAndConcurrent() {
    let total = Atomic<Int>(0)
    _ParallelRanges.forEach(4, parts: 2) { _, outer in
      for _ in outer {
        _ParallelRanges.forEach(10, parts: 2) { _, inner in
          total.add(inner.count, ordering: .relaxed)
        }
      }
    }
    #expect(total.load(ordering: .relaxed) == 40)
    let concurrent = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<200 {
        _ParallelRanges.forEach(30, parts: 3) { _, range in
          concurrent.add(range.count, ordering: .relaxed)
        }
      }
    }
    #expect(concurrent.load(ordering: .relaxed) == 8 * 200 * 30)
  }
}
