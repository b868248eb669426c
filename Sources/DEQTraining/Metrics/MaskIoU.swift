/// Mask intersection over union per RoI, the quantity behind COCO's mask AP (Lin et al.
/// 2014) and the IFR paper's mask evaluation, on binarised predictions.
///
/// ```
/// P = { pixels whose logit > 0 }        (probability > ½)
/// T = { pixels whose target > ½ }
/// IoU = |P ∩ T| / |P ∪ T|,              IoU = 1 when P and T are both empty
/// ```
///
/// A NaN score is neither foreground nor background: it is an error, not a silent miss.
public enum MaskIoU {
  /// The IoU of each RoI from mask logits.
  ///
  /// - Parameters:
  ///   - logits: Scores `[N, H, W]` (typically `[N, 28, 28]`); a pixel is foreground
  ///     when its logit is `> 0`, i.e. `sigmoid(logit) > ½`.
  ///   - targets: 0/1 masks of the same shape; a pixel is foreground when `> ½`.
  /// - Returns: `N` values in `[0, 1]`, one per axis-0 slice.
  /// - Throws: ``TrainingError/shapeMismatch(what:expected:actual:)`` when the shapes
  ///   differ or have no leading RoI axis; ``TrainingError/nonFinite(what:)`` for a NaN
  ///   logit or target (infinite logits are fine).
  /// - Complexity: O(N·H·W), no allocation beyond the result.
  public static func perRoI<Scalar: DEQScalar>(
    logits: Tensor<Scalar>, targets: Tensor<Scalar>
  ) throws(TrainingError) -> [Double] {
    try perRoI(scores: logits, threshold: 0, what: "mask logits", targets: targets)
  }

  /// The IoU of each RoI from foreground probabilities.
  ///
  /// - Parameters:
  ///   - probabilities: Probabilities `[N, H, W]`; a pixel is foreground when `> ½`.
  ///   - targets: 0/1 masks of the same shape; a pixel is foreground when `> ½`.
  /// - Returns: `N` values in `[0, 1]`, one per axis-0 slice.
  /// - Throws: As ``perRoI(logits:targets:)``.
  /// - Complexity: O(N·H·W).
  public static func perRoI<Scalar: DEQScalar>(
    probabilities: Tensor<Scalar>, targets: Tensor<Scalar>
  ) throws(TrainingError) -> [Double] {
    try perRoI(scores: probabilities, threshold: 0.5, what: "mask probabilities", targets: targets)
  }

  static func perRoI<Scalar: DEQScalar>(
    scores: Tensor<Scalar>, threshold: Scalar, what: String, targets: Tensor<Scalar>
  ) throws(TrainingError) -> [Double] {
    guard targets.rank >= 1 else {
      throw .shapeMismatch(what: "mask targets (no RoI axis)", expected: [1], actual: targets.shape)
    }
    guard scores.shape == targets.shape else {
      throw .shapeMismatch(what: what, expected: targets.shape, actual: scores.shape)
    }
    let n = targets.shape[0]
    let size = n == 0 ? 0 : targets.count / n
    var result = [Double]()
    result.reserveCapacity(n)
    var sawNaN = (scores: false, targets: false)
    scores.withUnsafeBufferPointer { p in
      targets.withUnsafeBufferPointer { t in
        for roi in 0..<n {
          var intersection = 0
          var union = 0
          for k in (roi * size)..<((roi + 1) * size) {
            if p[k].isNaN { sawNaN.scores = true }
            if t[k].isNaN { sawNaN.targets = true }
            let predicted = p[k] > threshold
            let actual = t[k] > 0.5
            if predicted && actual { intersection += 1 }
            if predicted || actual { union += 1 }
          }
          result.append(union == 0 ? 1 : Double(intersection) / Double(union))
        }
      }
    }
    if sawNaN.scores { throw .nonFinite(what: what) }
    if sawNaN.targets { throw .nonFinite(what: "mask targets") }
    return result
  }
}
