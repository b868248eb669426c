import DEQSolvers
import Foundation
import Testing
import _DEQTestSupport

// A solver defined outside the library, through the public stepping protocol only: the
// vector Aitken Δ² extrapolation of Irons & Tuck (1969), a multidimensional Steffensen
// method. From x: y = f(x), w = f(y), then
//
//   x' = w − (⟨w − y, Δ²⟩ / ‖Δ²‖²) (w − y),   Δ² = w − 2y + x.
//
// The same code is the example of the DocC article "Writing your own solver".

/// Irons–Tuck extrapolation: two map evaluations per step.
struct IronsTuck: FixedPointAlgorithm {
  var name: String { "irons-tuck" }

  func makeStepper<V: VectorSpace>(start: V, context: StepperContext<V>)
    -> any FixedPointStepper<V>
  {
    IronsTuckStepper(start: start)
  }
}

final class IronsTuckStepper<V: VectorSpace>: FixedPointStepper {
  var pendingPoint: V
  var mapValue: V
  /// The accepted iterate x and y = f(x), kept while f(y) is evaluated.
  var x: V
  var y: V
  var previous: V
  var waitingForSecondValue = false
  var hasPrevious = false

  init(start: V) {
    pendingPoint = start
    mapValue = start.zeroed()
    x = start
    y = start.zeroed()
    previous = start
  }

  func receive() -> StepReceipt<V.Scalar> {
    if waitingForSecondValue {
      // mapValue = w = f(y): extrapolate, and have f evaluated at the new point.
      waitingForSecondValue = false
      let w = mapValue
      let wy = w.subtracting(y)
      let delta2 = wy.subtracting(y.subtracting(x))
      let d2 = delta2.dot(delta2)
      let next = d2 > 0 ? w.adding(wy, scaledBy: -wy.dot(delta2) / d2) : w
      pendingPoint = next
      return .trial
    }
    // mapValue = f(pendingPoint): pendingPoint is the accepted iterate.
    let residual = mapValue.subtracting(pendingPoint)
    let step = hasPrevious ? pendingPoint.subtracting(previous).norm() : 0
    return .iterate(
      residual: residual.norm(), mapNorm: mapValue.norm(), stepNorm: step,
      isFinite: residual.isFinite)
  }

  func advance() -> StepAdvance {
    previous = pendingPoint
    hasPrevious = true
    x = pendingPoint
    y = mapValue
    pendingPoint = y
    waitingForSecondValue = true
    return .proceed
  }
}

@Suite("A solver defined outside the module, through the public stepping protocol")
struct CustomAlgorithmTests {
  let tanh = TanhProblem<Double>(
    order: 30, norm: 0.9, seed: TestSeeds.standard, inputScale: 0.5, symmetric: true)

  @Test("it converges to the fixed point Broyden finds, with a consistent trace")
  func converges() throws {
    let stopping = StoppingCriteria(tolerance: .absolute(1e-12), maxIterations: 100)
    let mine = solve(tanh.problem(), using: IronsTuck(), stopping: stopping)
    let reference = solve(tanh.problem(), using: Broyden(), stopping: stopping)
    #expect(mine.status == .converged, "\(mine.status)")
    #expect(relativeError(mine.fixedPoint, reference.fixedPoint) < 1e-10)
    // Extrapolation pays: fewer evaluations than Picard's.
    let picard = solve(tanh.problem(), using: Picard(), stopping: stopping)
    #expect(mine.mapEvaluations < picard.mapEvaluations)
    // One entry per accepted iterate; two evaluations per step (the trial counts).
    #expect(mine.trace.count == mine.iterations + 1)
    #expect(mine.mapEvaluations == 2 * mine.iterations + 1)
    #expect(mine.trace.map(\.mapEvaluations) == (0...mine.iterations).map { 2 * $0 + 1 })
    let residual = tanh.map(mine.fixedPoint).subtracting(mine.fixedPoint).norm()
    #expect(residual.isApproximatelyEqual(to: mine.absoluteResidual, relativeTolerance: 1e-9))
    #expect(mine.jacobianProducts == 0)
  }

  @Test("it gets the driver's statuses: non-finite, iteration cap, observer stop")
  func statuses() {
    let nan = FixedPointProblem(start: [0.0, 0.0]) { z in z.map { $0 > 2.5 ? .nan : 0.5 * $0 + 2 } }
    let a = solve(nan, using: IronsTuck(), stopping: StoppingCriteria(maxIterations: 50))
    // The extrapolation jumps straight to 4 (the map is affine), where f is NaN.
    #expect(a.status == .nonFinite)
    #expect(a.fixedPoint.isFinite)

    let capped = solve(
      tanh.problem(), using: IronsTuck(),
      stopping: StoppingCriteria(tolerance: .absolute(0), maxIterations: 3, stall: nil))
    #expect(capped.status == .maxIterations)
    #expect(capped.iterations == 3)

    let stopped = solve(
      tanh.problem(), using: IronsTuck(), stopping: StoppingCriteria(maxIterations: 50),
      observer: { entry, _ in entry.iteration == 2 ? .stop : .proceed })
    #expect(stopped.status == .stoppedByObserver)
    #expect(stopped.iterations == 2)
  }

  @Test("in a lockstep batch each problem gets exactly its solo solution")
  func batch() {
    let problems = (0..<3).map { i in
      TanhProblem<Double>(
        w: tanh.w, x: randomVector(count: 30, seed: 90 + UInt64(i)).scaled(by: Double(i + 1)))
    }
    let stopping = StoppingCriteria(tolerance: .absolute(1e-12), maxIterations: 100)
    let solo = problems.map { solve($0.problem(), using: IronsTuck(), stopping: stopping) }
    let batch = solve(
      batch: problems.map { _ in [Double](repeating: 0, count: 30) },
      map: { points, active in
        points.indices.map { active[$0] ? problems[$0].map(points[$0]) : points[$0] }
      }, using: IronsTuck(), stopping: stopping)
    for (a, b) in zip(batch, solo) {
      #expect(a.fixedPoint == b.fixedPoint)
      #expect(a.status == b.status)
      #expect(a.trace.map(\.absoluteResidual) == b.trace.map(\.absoluteResidual))
    }
  }
}

@Suite("Out-of-range hyperparameters end as .invalidConfiguration, never trap")
struct ConfigurationTests {
  let problem = FixedPointProblem(start: [0.0, 0.0]) { z in z.map { 0.5 * $0 + 1 } }

  @Test("a decoded Broyden with memory 0, an Anderson with damping 2, a negative cap")
  func invalid() throws {
    let decoded = try JSONDecoder().decode(
      Broyden.self, from: Data(#"{"memory": 0, "memoryPolicy": "restart"}"#.utf8))
    #expect(throws: ConfigurationError.self) { try decoded.validate() }
    let a = solve(problem, using: decoded)
    #expect(a.status == .invalidConfiguration)
    #expect(a.iterations == 0)
    #expect(a.trace.count == 1)
    #expect(a.fixedPoint == [0, 0])

    var anderson = Anderson()
    anderson.damping = 2
    #expect(solve(problem, using: AlgorithmKind.anderson(anderson)).status == .invalidConfiguration)

    var stopping = StoppingCriteria()
    stopping.maxIterations = -1
    #expect(throws: ConfigurationError.self) { try stopping.validate() }
    #expect(solve(problem, using: Picard(), stopping: stopping).status == .invalidConfiguration)

    stopping = StoppingCriteria(tolerance: .absolute(.nan))
    #expect(solve(problem, using: Broyden(), stopping: stopping).status == .invalidConfiguration)

    // And in a lockstep batch.
    let batch = solve(
      batch: [[0.0], [1.0]], map: { points, _ in points.map { $0.map { 0.5 * $0 + 1 } } },
      using: decoded)
    #expect(batch.map(\.status) == [.invalidConfiguration, .invalidConfiguration])
  }

  @Test("valid values pass validate()")
  func valid() throws {
    try Broyden().validate()
    try Anderson(memory: 1, damping: 0.5, regularization: 0).validate()
    try Picard(damping: 1).validate()
    try StoppingCriteria().validate()
    try StoppingCriteria.ifr.validate()
  }
}
