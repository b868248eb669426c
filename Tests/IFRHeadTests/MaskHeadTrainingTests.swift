import DEQTraining
import Foundation
import IFRHead
import Testing
import _DEQTestSupport

/// A run small enough for a unit test: 8 channels, batches of 2, a few steps.
func tinyTraining(
  _ kind: MaskHeadConfiguration.Refinement = .ifr, iterations: Int = 6,
  optimizer: String = "adam", backwardIterations: Int = 15, policy: String = "phantom:5,0.5"
) -> TrainingConfiguration {
  TrainingConfiguration(
    head: MaskHeadConfiguration(
      refinement: kind, channels: 8, classes: 3, forwardIterations: 6,
      backwardIterations: backwardIterations),
    iterations: iterations, batchSize: 2, seed: 5, optimizer: optimizer, learningRate: 1e-2,
    warmupIterations: 2, zeroGradientPolicy: policy, logEvery: 1, validateEvery: 3,
    validationSize: 3, spectralEvery: 3)
}

/// Records without their wall-clock times (the one field two runs cannot share).
func untimed(_ records: [TrainingRecord]) -> [TrainingRecord] {
  records.map {
    var r = $0
    r.seconds = 0
    return r
  }
}

@Suite("MaskHeadTraining: steps, records, checkpoints")
struct MaskHeadTrainingTests {
  @Test(
    "a run resumed from a checkpoint equals the uninterrupted run bit for bit",
    arguments: [("adam", MaskHeadConfiguration.Refinement.ifr), ("sgd", .explicit)])
  func resume(_ optimizer: String, _ kind: MaskHeadConfiguration.Refinement) throws {
    let configuration = tinyTraining(kind, optimizer: optimizer)
    var whole = try MaskHeadTraining<Double>(configuration: configuration)
    while !whole.isFinished { _ = try whole.step() }

    var first = try MaskHeadTraining<Double>(configuration: configuration)
    for _ in 0..<4 { _ = try first.step() }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "deq-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("checkpoint.safetensors")
    try first.checkpointData().write(to: url)
    var resumed = try MaskHeadTraining<Double>(configuration: configuration, resumingFrom: url)
    #expect(resumed.iteration == 4)
    while !resumed.isFinished { _ = try resumed.step() }

    #expect(resumed.head.parameters.scalars == whole.head.parameters.scalars)
    #expect(untimed(resumed.records) == untimed(whole.records))
    #expect(
      resumed.optimizer.stateTensors.map(\.tensor) == whole.optimizer.stateTensors.map(\.tensor))
    #expect(whole.records.count == 6)
    #expect(whole.records.compactMap(\.validation).count == 2)
    if kind == .ifr {
      #expect(
        whole.records.allSatisfy {
          $0.forwardResiduals.count == 2 && $0.backwardStatuses.count == 2
        })
      #expect(whole.records.compactMap(\.spectralRadius).count == 3)  // steps 0, 2, 5
    }
  }

  @Test("a checkpoint written before the first step (no optimiser state yet) resumes")
  func checkpointBeforeTheFirstStep() throws {
    let configuration = tinyTraining(.explicit, iterations: 2)
    let fresh = try MaskHeadTraining<Float>(configuration: configuration)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "deq-training-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try fresh.checkpointData().write(to: url)
    var resumed = try MaskHeadTraining<Float>(configuration: configuration, resumingFrom: url)
    var whole = fresh
    while !whole.isFinished { _ = try whole.step() }
    while !resumed.isFinished { _ = try resumed.step() }
    #expect(resumed.head.parameters.scalars == whole.head.parameters.scalars)
  }

  @Test("corrupt, foreign and mismatched checkpoints are refused with a reason")
  func badCheckpoints() throws {
    let configuration = tinyTraining(.explicit, iterations: 2)
    var run = try MaskHeadTraining<Double>(configuration: configuration)
    _ = try run.step()
    let data = try run.checkpointData()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "deq-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("c.safetensors")

    try data.prefix(data.count / 2).write(to: url)
    #expect {
      _ = try MaskHeadTraining<Double>(configuration: configuration, resumingFrom: url)
    } throws: { error in
      if case IFRHeadError.unreadableCheckpoint = error { return true }
      return false
    }
    try data.write(to: url)
    var other = configuration
    other.learningRate *= 2
    #expect {
      _ = try MaskHeadTraining<Double>(configuration: other, resumingFrom: url)
    } throws: { error in
      guard case IFRHeadError.checkpointMismatch(_, let reason) = error else { return false }
      return reason.contains("learningRate")
    }
    // A nested field is named with its path and both values.
    var nested = configuration
    nested.head.channels += 4
    #expect {
      _ = try MaskHeadTraining<Double>(configuration: nested, resumingFrom: url)
    } throws: { error in
      guard case IFRHeadError.checkpointMismatch(_, let reason) = error else { return false }
      return reason
        == "its head.channels is \(configuration.head.channels), this run's is \(nested.head.channels)"
    }
    #expect {
      _ = try MaskHeadTraining<Float>(configuration: configuration, resumingFrom: url)
    } throws: { error in
      guard case IFRHeadError.checkpointMismatch(_, let reason) = error else { return false }
      return reason.contains("precision")
    }
    try SafeTensorsFile(tensors: ["x": AnyTensor(Tensor<Double>([1]))]).write(to: url)
    #expect {
      _ = try MaskHeadTraining<Double>(configuration: configuration, resumingFrom: url)
    } throws: { error in
      if case IFRHeadError.unreadableCheckpoint = error { return true }
      return false
    }
  }

  @Test(
    "a forced zero-start adjoint is counted in every record and handled by the policy",
    arguments: ["phantom:3,0.5", "skip", "zero"])
  func zeroGradientIsReported(_ policy: String) throws {
    let configuration = tinyTraining(.ifr, iterations: 2, backwardIterations: 0, policy: policy)
    var run = try MaskHeadTraining<Double>(configuration: configuration)
    let before = run.head.parameters
    let first = try #require(try run.step())
    #expect(first.zeroGradientRoIs == 2 && first.zeroGradientTotal == 2)
    #expect(first.adjointOutcomes == ["zero start (maxIterations)", "zero start (maxIterations)"])
    #expect(first.stepSkipped == (policy == "skip"))
    #expect((run.head.parameters.scalars == before.scalars) == (policy == "skip"))
    let second = try #require(try run.step())
    #expect(second.zeroGradientTotal == 4)
  }

  @Test("IFR pre-training unrolls the block for the first K steps, then solves")
  func pretraining() throws {
    var configuration = tinyTraining(.ifr, iterations: 4)
    configuration.pretrainingIterations = 2
    configuration.pretrainingSteps = 3
    var run = try MaskHeadTraining<Double>(configuration: configuration)
    while !run.isFinished { _ = try run.step() }
    #expect(run.records.map(\.unrolled) == [true, true, false, false])
    #expect(run.records.map(\.forwardResiduals.count) == [0, 0, 2, 2])
    #expect(run.records.map(\.adjointOutcomes.count) == [0, 0, 2, 2])
    // An unrolled step is the explicit head's step: the same block, 3 shared steps.
    let head = run.head
    let x = run.task.trainingBatch(iteration: 0, size: 2, as: Double.self).features
    guard case .implicit(let module) = head.refinement else { return }
    let unrolled = head.forward(x, unrolledSteps: 3)
    #expect(unrolled.refined == ExplicitRefinement(sharedBlock: module.block, steps: 3)(x))
  }

  @Test("invalid configurations are refused with the field named")
  func invalidConfigurations() {
    var c = tinyTraining()
    c.schedule = "step:5,3"
    #expect(throws: IFRHeadError.self) { try c.validate() }
    c = tinyTraining()
    c.zeroGradientPolicy = "phantom:0"
    #expect(throws: IFRHeadError.self) { try c.validate() }
    c = tinyTraining()
    c.head.doubleResidual = false
    #expect(throws: IFRHeadError.self) { try c.validate() }
    c = tinyTraining()
    c.head.channels = 6
    #expect(throws: IFRHeadError.self) { try c.validate() }
  }
}
