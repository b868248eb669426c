import DEQTraining
import Testing

@Suite("Learning-rate schedules")
struct LearningRateScheduleTests {
  func expectRate(
    _ schedule: LearningRateSchedule, at iteration: Int, _ expected: Double,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let rate = schedule.learningRate(at: iteration)
    // Each rate is a handful of floating-point operations from the closed form.
    #expect(
      rate.isApproximatelyEqual(to: expected, absoluteTolerance: 1e-15, relativeTolerance: 1e-13),
      "iteration \(iteration): \(rate) vs \(expected)", sourceLocation: sourceLocation)
  }

  @Test("Linear warm-up goes from ratio·η at 0 to η at W (mmdetection's formula)")
  func warmup() throws {
    let schedule = try LearningRateSchedule(
      baseRate: 0.02, warmupIterations: 100, warmupRatio: 0.001)
    expectRate(schedule, at: 0, 0.02 * 0.001)
    expectRate(schedule, at: 50, 0.02 * (1 - 0.5 * 0.999))
    expectRate(schedule, at: 99, 0.02 * (1 - 0.01 * 0.999))
    expectRate(schedule, at: 100, 0.02)
    expectRate(schedule, at: 10_000, 0.02)
  }

  @Test("Step decay multiplies by the factor at each milestone (at, not after)")
  func steps() throws {
    let schedule = try LearningRateSchedule(
      baseRate: 0.02, decay: .steps(milestones: [600, 800]))
    expectRate(schedule, at: 0, 0.02)
    expectRate(schedule, at: 599, 0.02)
    expectRate(schedule, at: 600, 0.002)
    expectRate(schedule, at: 799, 0.002)
    expectRate(schedule, at: 800, 0.0002)
    expectRate(schedule, at: 5000, 0.0002)
    let half = try LearningRateSchedule(
      baseRate: 1, decay: .steps(milestones: [10], factor: 0.5))
    expectRate(half, at: 10, 0.5)
  }

  @Test("The warm-up factor multiplies the decayed rate")
  func warmupTimesDecay() throws {
    let schedule = try LearningRateSchedule(
      baseRate: 0.02, decay: .steps(milestones: [5]), warmupIterations: 10)
    expectRate(schedule, at: 4, 0.02 * (1 - 0.6 * 0.999))
    expectRate(schedule, at: 7, 0.002 * (1 - 0.3 * 0.999))
    expectRate(schedule, at: 10, 0.002)
  }

  @Test("Cosine: η at 0, the midpoint at T/2, the minimum at T and after")
  func cosine() throws {
    let toZero = try LearningRateSchedule(baseRate: 0.02, decay: .cosine(totalIterations: 1000))
    expectRate(toZero, at: 0, 0.02)
    expectRate(toZero, at: 250, 0.01 * (1 + 0.5.squareRoot()))
    expectRate(toZero, at: 500, 0.01)
    expectRate(toZero, at: 1000, 0)
    expectRate(toZero, at: 2000, 0)
    let floor = try LearningRateSchedule(
      baseRate: 0.02, decay: .cosine(totalIterations: 1000, minimum: 1e-4))
    expectRate(floor, at: 0, 0.02)
    expectRate(floor, at: 500, 1e-4 + 0.5 * (0.02 - 1e-4))
    expectRate(floor, at: 1000, 1e-4)
  }

  func parse(
    _ text: String, baseRate: Double = 0.02, total: Int = 900, warmup: Int = 0
  ) throws(TrainingError) -> LearningRateSchedule {
    try LearningRateSchedule(
      parsing: text, baseRate: baseRate, totalIterations: total, warmupIterations: warmup)
  }

  @Test("The parser reads each form")
  func parserAccepts() throws {
    #expect(try parse("constant").decay == .constant)
    #expect(try parse("cosine").decay == .cosine(totalIterations: 900, minimum: 0))
    #expect(try parse("cosine@1e-5").decay == .cosine(totalIterations: 900, minimum: 1e-5))
    // mmdetection's 1x schedule: epochs 8 and 11 of 12.
    #expect(try parse("step").decay == .steps(milestones: [600, 825], factor: 0.1))
    #expect(try parse("step", total: 12).decay == .steps(milestones: [8, 11]))
    #expect(try parse("step:600,800").decay == .steps(milestones: [600, 800]))
    #expect(try parse("step:700").decay == .steps(milestones: [700]))
    #expect(try parse("step:600,800@0.5").decay == .steps(milestones: [600, 800], factor: 0.5))
    #expect(try parse("step@0.5").decay == .steps(milestones: [600, 825], factor: 0.5))
    let warm = try parse("constant", warmup: 500)
    #expect(warm.warmupIterations == 500 && warm.warmupRatio == 0.001 && warm.baseRate == 0.02)
  }

  @Test(
    "The parser rejects malformed text with the offending setting named",
    arguments: [
      ("linear", 900, "schedule"),
      ("", 900, "schedule"),
      ("Step", 900, "schedule"),
      ("step:", 900, "schedule"),
      ("step:600,,800", 900, "schedule"),
      ("step:six", 900, "schedule"),
      ("step:800,600", 900, "step milestones"),
      ("step:600,600", 900, "step milestones"),
      ("step:0,600", 900, "step milestones"),
      ("step:-5", 900, "step milestones"),
      ("step:600,900", 900, "step milestones"),
      ("step", 3, "schedule"),
      ("step@0", 900, "step factor"),
      ("step@1.5", 900, "step factor"),
      ("step@", 900, "schedule"),
      ("step:600@0.5@0.5", 900, "schedule"),
      ("cosine@0.5", 900, "cosine minimum"),
      ("cosine@-1e-5", 900, "cosine minimum"),
      ("cosine@nan", 900, "schedule"),
      ("constant@1", 900, "schedule"),
      ("constant", 0, "total iterations"),
    ])
  func parserRejects(text: String, total: Int, name: String) {
    do {
      let schedule = try parse(text, total: total)
      Issue.record("'\(text)' parsed as \(schedule.decay)")
    } catch {
      guard case .invalidHyperparameter(let actual, _, _) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(actual == name, "'\(text)': \(error)")
    }
  }

  @Test("Invalid settings are rejected by the initialiser")
  func initRejects() {
    let cases: [(Double, LearningRateSchedule.Decay, Int, Double, String)] = [
      (0, .constant, 0, 0.001, "learning rate"),
      (-0.1, .constant, 0, 0.001, "learning rate"),
      (.infinity, .constant, 0, 0.001, "learning rate"),
      (0.02, .constant, -1, 0.001, "warm-up iterations"),
      (0.02, .constant, 10, 0, "warm-up ratio"),
      (0.02, .constant, 10, 1.5, "warm-up ratio"),
      (0.02, .steps(milestones: []), 0, 0.001, "step milestones"),
      (0.02, .cosine(totalIterations: 0), 0, 0.001, "cosine iterations"),
    ]
    for (rate, decay, warmup, ratio, name) in cases {
      do {
        _ = try LearningRateSchedule(
          baseRate: rate, decay: decay, warmupIterations: warmup, warmupRatio: ratio)
        Issue.record("accepted \(name)")
      } catch {
        guard case .invalidHyperparameter(let actual, _, _) = error else {
          Issue.record("unexpected \(error)")
          continue
        }
        #expect(actual == name, "\(error)")
      }
    }
  }

  @Test("description round-trips through the parser")
  func roundTrip() throws {
    let schedules = [
      try LearningRateSchedule(baseRate: 0.02),
      try LearningRateSchedule(baseRate: 0.02, decay: .cosine(totalIterations: 900)),
      try LearningRateSchedule(
        baseRate: 0.02, decay: .cosine(totalIterations: 900, minimum: 1.0 / 3e5),
        warmupIterations: 50),
      try LearningRateSchedule(
        baseRate: 0.02, decay: .steps(milestones: [600, 800]), warmupIterations: 500),
      try LearningRateSchedule(
        baseRate: 0.1, decay: .steps(milestones: [3, 7, 8], factor: 0.3), warmupRatio: 0.25),
    ]
    #expect(
      schedules.map(\.description) == [
        "constant", "cosine", "cosine@\(1.0 / 3e5)", "step:600,800", "step:3,7,8@0.3",
      ])
    for schedule in schedules {
      let parsed = try LearningRateSchedule(
        parsing: schedule.description, baseRate: schedule.baseRate, totalIterations: 900,
        warmupIterations: schedule.warmupIterations, warmupRatio: schedule.warmupRatio)
      #expect(parsed == schedule, "\(schedule.description)")
    }
  }
}
