/// Running summary of per-RoI mask IoUs: the mean and the fractions at the 0.5 and 0.75
/// thresholds (COCO's AP50/AP75 cut-offs, here as recall of well-segmented RoIs).
///
/// ```
/// meanIoU         = (1/n) Σ IoUᵢ
/// fractionAbove50 = #{i : IoUᵢ ≥ 0.5} / n
/// fractionAbove75 = #{i : IoUᵢ ≥ 0.75} / n
/// ```
///
/// Accumulates across batches: adding batches one after the other gives the summary of
/// their concatenation (the sum is taken in the same order, so bit for bit).
///
/// ```swift
/// var summary = MaskIoUSummary()
/// for step in 0..<10 {
///   let batch = task.batch(.validation, indices: (16 * step)..<(16 * step + 16), as: Float.self)
///   let logits = model(batch.features)  // [16, 28, 28], your mask head
///   try summary.add(logits: logits, targets: batch.targets)
/// }
/// print(summary)   // "mean IoU 0.812, ≥ 0.5: 97.5 %, ≥ 0.75: 71.3 % over 160 RoIs"
/// ```
public struct MaskIoUSummary: Sendable, Equatable, CustomStringConvertible {
  /// The number of RoIs summarised.
  public private(set) var count: Int = 0
  /// The sum of their IoUs.
  public private(set) var sumOfIoUs: Double = 0
  /// The number with IoU ≥ 0.5.
  public private(set) var countAbove50: Int = 0
  /// The number with IoU ≥ 0.75.
  public private(set) var countAbove75: Int = 0

  /// An empty summary.
  public init() {}

  /// The summary of a list of per-RoI IoUs.
  ///
  /// - Precondition: every IoU is in `[0, 1]` (as ``MaskIoU`` returns).
  public init(_ ious: some Sequence<Double>) {
    add(contentsOf: ious)
  }

  /// The summary of one batch of mask logits (see ``MaskIoU/perRoI(logits:targets:)``).
  ///
  /// - Throws: As ``MaskIoU/perRoI(logits:targets:)``.
  public init<Scalar: DEQScalar>(
    logits: Tensor<Scalar>, targets: Tensor<Scalar>
  ) throws(TrainingError) {
    try add(logits: logits, targets: targets)
  }

  /// The mean IoU, or 0 for an empty summary.
  public var meanIoU: Double { count == 0 ? 0 : sumOfIoUs / Double(count) }
  /// The fraction of RoIs with IoU ≥ 0.5, or 0 for an empty summary.
  public var fractionAbove50: Double { count == 0 ? 0 : Double(countAbove50) / Double(count) }
  /// The fraction of RoIs with IoU ≥ 0.75, or 0 for an empty summary.
  public var fractionAbove75: Double { count == 0 ? 0 : Double(countAbove75) / Double(count) }

  /// Adds one RoI's IoU.
  ///
  /// - Precondition: `iou` is in `[0, 1]`.
  /// - Complexity: O(1).
  public mutating func add(_ iou: Double) {
    precondition((0...1).contains(iou), "an IoU must lie in [0, 1], got \(iou)")
    count += 1
    sumOfIoUs += iou
    if iou >= 0.5 { countAbove50 += 1 }
    if iou >= 0.75 { countAbove75 += 1 }
  }

  /// Adds several RoIs' IoUs, in order.
  ///
  /// - Precondition: every IoU is in `[0, 1]`.
  /// - Complexity: O(n).
  public mutating func add(contentsOf ious: some Sequence<Double>) {
    for iou in ious { add(iou) }
  }

  /// Adds one batch of mask logits `[N, H, W]` against 0/1 targets of the same shape.
  ///
  /// - Throws: As ``MaskIoU/perRoI(logits:targets:)``; the summary is unchanged then.
  /// - Complexity: O(N·H·W).
  public mutating func add<Scalar: DEQScalar>(
    logits: Tensor<Scalar>, targets: Tensor<Scalar>
  ) throws(TrainingError) {
    add(contentsOf: try MaskIoU.perRoI(logits: logits, targets: targets))
  }

  /// Adds another summary's RoIs (for example a summary gathered on another task).
  ///
  /// The counts are exact; the mean may differ from adding the IoUs one by one in the last
  /// bits, since the sums are grouped differently.
  ///
  /// - Complexity: O(1).
  public mutating func merge(_ other: MaskIoUSummary) {
    count += other.count
    sumOfIoUs += other.sumOfIoUs
    countAbove50 += other.countAbove50
    countAbove75 += other.countAbove75
  }

  /// For example `mean IoU 0.812, ≥ 0.5: 97.5 %, ≥ 0.75: 71.3 % over 160 RoIs`.
  public var description: String {
    func rounded(_ x: Double, _ places: Double) -> String {
      let scale = Double.pow(10, places)
      return "\((x * scale).rounded() / scale)"
    }
    return "mean IoU \(rounded(meanIoU, 3)), ≥ 0.5: \(rounded(100 * fractionAbove50, 1)) %, "
      + "≥ 0.75: \(rounded(100 * fractionAbove75, 1)) % over \(count) RoIs"
  }
}
