import DEQTraining
import Testing
import _DEQTestSupport

@Suite("MaskIoU")
struct MaskIoUTests {
  /// A `[1, 28, 28]` mask, 1 where `inside(row, column)`, else `off`.
  func mask(on: Double = 1, off: Double = 0, _ inside: (Int, Int) -> Bool) -> Tensor<Double> {
    Tensor(shape: [1, 28, 28]) { inside($0 / 28, $0 % 28) ? on : off }
  }

  @Test("closed forms: identical, disjoint, partial overlaps, both empty")
  func closedForms() throws {
    let top = mask { r, _ in r < 14 }
    let logitsTop = mask(on: 3, off: -3) { r, _ in r < 14 }
    #expect(try MaskIoU.perRoI(logits: logitsTop, targets: top) == [1])
    let logitsBottom = mask(on: 3, off: -3) { r, _ in r >= 14 }
    #expect(try MaskIoU.perRoI(logits: logitsBottom, targets: top) == [0])
    // Left half against top half: |∩| = 14·14 = 196, |∪| = 392 + 392 − 196 = 588.
    let logitsLeft = mask(on: 1, off: -1) { _, c in c < 14 }
    let third = try MaskIoU.perRoI(logits: logitsLeft, targets: top)
    #expect(third[0].isApproximatelyEqual(to: 1.0 / 3, relativeTolerance: 1e-15))
    // Top half predicted, everything true: 392 / 784.
    let all = mask { _, _ in true }
    #expect(try MaskIoU.perRoI(logits: logitsTop, targets: all) == [0.5])
    // Nothing predicted, nothing true.
    let none = mask { _, _ in false }
    let negative = mask(on: -1, off: -1) { _, _ in true }
    #expect(try MaskIoU.perRoI(logits: negative, targets: none) == [1])
    #expect(try MaskIoU.perRoI(logits: negative, targets: top) == [0])
  }

  @Test("thresholds: logit > 0 and probability > ½ are foreground; 0 and ½ are not")
  func thresholds() throws {
    let top = mask { r, _ in r < 14 }
    let zeroLogits = mask(on: 0, off: -1) { r, _ in r < 14 }
    #expect(try MaskIoU.perRoI(logits: zeroLogits, targets: top) == [0])
    let half = mask(on: 0.5, off: 0) { r, _ in r < 14 }
    #expect(try MaskIoU.perRoI(probabilities: half, targets: top) == [0])
    let sure = mask(on: 0.9, off: 0.1) { r, _ in r < 14 }
    #expect(try MaskIoU.perRoI(probabilities: sure, targets: top) == [1])
    let infinite = mask(on: .infinity, off: -.infinity) { r, _ in r < 14 }
    #expect(try MaskIoU.perRoI(logits: infinite, targets: top) == [1])
  }

  @Test("one IoU per RoI, in order, in Float too")
  func perRoI() throws {
    let top = mask { r, _ in r < 14 }
    let left = mask(on: 1, off: -1) { _, c in c < 14 }
    let targets = try Tensor.stacking([top.sample(0), top.sample(0)]).converted(to: Float.self)
    let logits = try Tensor.stacking([left.sample(0), top.sample(0)]).converted(to: Float.self)
    let ious = try MaskIoU.perRoI(logits: logits, targets: targets)
    #expect(ious.count == 2 && ious[1] == 1)
    #expect(ious[0].isApproximatelyEqual(to: 1.0 / 3, relativeTolerance: 1e-15))
  }

  @Test("summary: mean and the fractions at 0.5 and 0.75 (inclusive)")
  func summary() {
    let summary = MaskIoUSummary([1, 0.8, 0.75, 0.5, 0.49, 0])
    #expect(summary.count == 6)
    #expect(summary.meanIoU.isApproximatelyEqual(to: 3.54 / 6, relativeTolerance: 1e-15))
    #expect(summary.fractionAbove50 == 4.0 / 6)
    #expect(summary.fractionAbove75 == 3.0 / 6)
    let empty = MaskIoUSummary()
    #expect(empty.count == 0 && empty.meanIoU == 0 && empty.fractionAbove50 == 0)
    #expect(summary.description.hasSuffix("over 6 RoIs"))
  }

  @Test("accumulating batches equals the one-shot summary")
  func accumulation() throws {
    var rng = SeededGenerator(seed: TestSeeds.standard)
    let task = try SyntheticMaskTask(channels: 2, seed: TestSeeds.standard)
    let targets = task.batch(.validation, indices: 0..<10, as: Double.self).targets
    // Noisy logits: the target's sign plus noise, so IoUs spread over (0, 1).
    let noise = Tensor<Double>(
      normalWithMean: 0, standardDeviation: 1, shape: [10, 28, 28], using: &rng)
    let logits = Tensor<Double>(shape: [10, 28, 28]) {
      (2 * targets[flat: $0] - 1) * 0.8 + noise[flat: $0]
    }
    let oneShot = try MaskIoUSummary(logits: logits, targets: targets)
    var accumulated = MaskIoUSummary()
    var merged = MaskIoUSummary()
    for range in [0..<3, 3..<4, 4..<10] {
      let l = try Tensor.stacking(range.map { logits.sample($0) })
      let t = try Tensor.stacking(range.map { targets.sample($0) })
      try accumulated.add(logits: l, targets: t)
      merged.merge(try MaskIoUSummary(logits: l, targets: t))
    }
    #expect(accumulated == oneShot, "seed \(TestSeeds.standard)")
    #expect(merged.count == 10 && merged.countAbove50 == oneShot.countAbove50)
    #expect(merged.meanIoU.isApproximatelyEqual(to: oneShot.meanIoU, relativeTolerance: 1e-14))
    let ious = try MaskIoU.perRoI(logits: logits, targets: targets)
    #expect(MaskIoUSummary(ious) == oneShot)
    #expect(Set(ious).count > 1 && ious.allSatisfy { $0 > 0 && $0 < 1 }, "\(ious)")
  }

  @Test("shape mismatches and NaN are errors; a failed add leaves the summary alone")
  func errors() throws {
    let targets = Tensor<Double>(zeros: [3, 28, 28])
    #expect(
      throws: TrainingError.shapeMismatch(
        what: "mask logits", expected: [3, 28, 28], actual: [2, 28, 28])
    ) {
      try MaskIoU.perRoI(logits: Tensor<Double>(zeros: [2, 28, 28]), targets: targets)
    }
    #expect(throws: TrainingError.self) {
      try MaskIoU.perRoI(probabilities: Tensor<Double>(zeros: [3, 28, 27]), targets: targets)
    }
    #expect(throws: TrainingError.self) {
      try MaskIoU.perRoI(logits: Tensor<Double>(zeros: []), targets: Tensor<Double>(zeros: []))
    }
    var logits = Tensor<Double>(zeros: [3, 28, 28])
    logits[1, 5, 5] = .nan
    #expect(throws: TrainingError.nonFinite(what: "mask logits")) {
      try MaskIoU.perRoI(logits: logits, targets: targets)
    }
    var summary = MaskIoUSummary([0.5])
    #expect(throws: TrainingError.self) { try summary.add(logits: logits, targets: targets) }
    #expect(summary == MaskIoUSummary([0.5]))
  }
}
