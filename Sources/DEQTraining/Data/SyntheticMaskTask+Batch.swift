extension SyntheticMaskTask {
  /// Several RoIs stacked along a leading axis, in the precision a model trains in.
  public struct Batch<Scalar: DEQScalar>: Sendable, Equatable {
    /// The RoI features, `[N, channels, 14, 14]`.
    public var features: Tensor<Scalar>
    /// The target masks, `[N, 28, 28]`, every element 0 or 1.
    public var targets: Tensor<Scalar>
    /// The class of each RoI, `N` entries.
    public var classes: [Int]
  }

  /// The samples `indices` of `split`, stacked and converted to `Scalar`.
  ///
  /// Sample `n` of the batch is ``sample(_:index:)`` at `indices.lowerBound + n`, rounded
  /// from `Double` to `Scalar` (exact for `Double`).
  ///
  /// - Parameters:
  ///   - split: The stream.
  ///   - indices: The positions in the stream (non-negative); may be empty.
  ///   - type: The scalar type of the tensors.
  /// - Returns: `features [N, C, 14, 14]`, `targets [N, 28, 28]` and `classes`, with
  ///   `N = indices.count`.
  /// - Complexity: N times that of ``sample(_:index:)``.
  public func batch<Scalar: DEQScalar>(
    _ split: Split, indices: Range<Int>, as type: Scalar.Type = Scalar.self
  ) -> Batch<Scalar> {
    precondition(indices.lowerBound >= 0, "sample indices \(indices) include negatives")
    let n = indices.count
    let featureCount = channels * Self.featureSize * Self.featureSize
    let maskCount = Self.maskSize * Self.maskSize
    var features = Tensor<Scalar>(
      zeros: [n, channels, Self.featureSize, Self.featureSize])
    var targets = Tensor<Scalar>(zeros: [n, Self.maskSize, Self.maskSize])
    var classes = [Int]()
    classes.reserveCapacity(n)
    for (position, index) in indices.enumerated() {
      let roi = sample(split, index: index)
      classes.append(roi.classIndex)
      features.withUnsafeMutableBufferPointer { buffer in
        for (k, value) in roi.features.scalars.enumerated() {
          buffer[position * featureCount + k] = Scalar(value)
        }
      }
      targets.withUnsafeMutableBufferPointer { buffer in
        for (k, value) in roi.target.scalars.enumerated() {
          buffer[position * maskCount + k] = Scalar(value)
        }
      }
    }
    return Batch(features: features, targets: targets, classes: classes)
  }

  /// The training batch of one optimisation step: the train samples
  /// `iteration·size ..< (iteration + 1)·size`.
  ///
  /// Consecutive iterations read consecutive, non-overlapping slices of the endless train
  /// stream, so a run that restarts at iteration `t` sees exactly the batches it would have
  /// seen had it never stopped. (No epochs: every iteration gets fresh RoIs.)
  ///
  /// - Parameters:
  ///   - iteration: The optimisation step, from 0.
  ///   - size: The number of RoIs per batch (≥ 0).
  ///   - type: The scalar type of the tensors.
  /// - Returns: `batch(.train, indices: iteration·size ..< (iteration + 1)·size, as: type)`.
  /// - Complexity: `size` times that of ``sample(_:index:)``.
  public func trainingBatch<Scalar: DEQScalar>(
    iteration: Int, size: Int, as type: Scalar.Type = Scalar.self
  ) -> Batch<Scalar> {
    precondition(iteration >= 0 && size >= 0, "iteration \(iteration), size \(size)")
    return batch(.train, indices: (iteration * size)..<((iteration + 1) * size), as: type)
  }
}
