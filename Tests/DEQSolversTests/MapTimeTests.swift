import DEQSolvers
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Time in the map, as the traces report it")
struct MapTimeTests {
  /// A map that sleeps `milliseconds` before computing a contraction.
  func sleepingProblem(milliseconds: Int) -> FixedPointProblem<[Double]> {
    FixedPointProblem(start: [Double](repeating: 0, count: 16)) { z, out in
      usleep(UInt32(milliseconds * 1000))
      for i in 0..<16 { out[i] = 0.5 * z[i] + 1 }
    }
  }

  @Test("A solo solve's map time covers every evaluation and stays within the elapsed time")
  func solo() {
    let solution = solve(
      sleepingProblem(milliseconds: 2), using: Broyden(), stopping: exactly(5))
    var previous = Duration.zero
    for entry in solution.trace {
      // At least the sleeps of the evaluations so far; never more than the whole solve.
      #expect(entry.mapTime >= .milliseconds(2 * entry.mapEvaluations))
      #expect(entry.mapTime <= entry.elapsed)
      #expect(entry.mapTime >= previous)
      previous = entry.mapTime
    }
  }

  @Test("In lockstep each problem's map time counts the batched evaluations it took part in")
  func lockstep() {
    let starts = [[Double](repeating: 0, count: 16), [Double](repeating: 0, count: 16)]
    // The second problem stops after 2 steps; the batched map sleeps 3 ms per call.
    let solutions = solve(
      batch: starts,
      map: { points, active in
        usleep(3000)
        return points.map { z in z.map { 0.5 * $0 + 1 } }
      }, using: Picard(), stopping: exactly(6),
      observer: { index, entry, _ in index == 1 && entry.iteration == 2 ? .stop : .proceed })
    let long = solutions[0].trace
    let short = solutions[1].trace
    #expect(long.count == 7 && short.count == 3)
    #expect(long.last!.mapTime >= .milliseconds(3 * 7))
    #expect(short.last!.mapTime >= .milliseconds(3 * 3))
    // The short problem took part in 3 of the 7 calls: less time than the long one's.
    #expect(short.last!.mapTime < long.last!.mapTime)
    for entry in long + short { #expect(entry.mapTime <= entry.elapsed) }
  }

  @Test("Traces written before map times existed decode with zero")
  func decodesOldTraces() throws {
    let entry = TraceEntry(
      iteration: 1, absoluteResidual: 0.5, relativeResidual: 0.25, stepNorm: 1,
      mapEvaluations: 2, elapsed: .milliseconds(3), mapTime: .milliseconds(2))
    let encoded = try JSONEncoder().encode(entry)
    #expect(try JSONDecoder().decode(TraceEntry.self, from: encoded) == entry)
    var object = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
    #expect(object.removeValue(forKey: "mapTime") != nil)
    let old = try JSONSerialization.data(withJSONObject: object)
    #expect(try JSONDecoder().decode(TraceEntry.self, from: old).mapTime == .zero)
  }
}
