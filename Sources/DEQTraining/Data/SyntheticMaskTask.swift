/// A synthetic instance-segmentation task, generated from a seed, that stands in for the
/// RoI features and mask targets of Mask R-CNN (He et al. 2017) when training and
/// evaluating an implicit feature refinement head (Ma et al., *Implicit Feature
/// Refinement for Instance Segmentation*, 2021).
///
/// Each sample is one RoI: features `[C, 14, 14]`, a 0/1 target mask `[28, 28]` and a
/// class index. The features show only the *closed outline* of a random shape plus noise;
/// the target is the *filled* shape. Inside and outside look the same locally, so whether
/// a pixel is foreground depends on outline cells far away: a head must propagate
/// information across the RoI, and refinement depth (or the equilibrium) matters.
///
/// ```
/// class k            = shape family: 0 ellipse, 1 rotated rectangle, 2 star polygon
/// target[i, j]       = 1 ⇔ pixel centre ((j + ½)/28, (i + ½)/28) inside the shape
/// edge[r, c]         = the 2×2 target block of cell (r, c) holds a boundary pixel
///                      (a foreground pixel with a background 4-neighbour)
/// features[:, r, c]  = [edge[r, c] or distractor[r, c]] · d_k + σ · ε,   ε ~ N(0, I)
/// ```
///
/// `d_k` is the unit-norm edge embedding of class `k` in `ℝ^C`, drawn once from the task
/// seed (``edgeDirections``); the edge intensity is 1, so the projection `⟨d_k, x⟩` of an
/// edge cell is `1 + N(0, σ²)` and that of any other cell `N(0, σ²)`. Shapes keep two
/// target pixels (one feature cell) from every side of the RoI and vary in size, position,
/// aspect and angle. Distractors (one per RoI by default) are open arcs drawn with the
/// same embedding outside the shape, at least one empty cell away from its outline, so
/// "fill the box around every edge cell" is wrong; an arc may run off the RoI side.
///
/// Every sample is a pure function of (task seed, split, index): its generator's seed
/// mixes the three by SplitMix64 (see ``sample(_:index:)``). A training loop resumes bit
/// for bit from its iteration number, and the train and validation streams are disjoint.
///
/// ```swift
/// let task = try SyntheticMaskTask(channels: 16, seed: 42)
/// let batch = task.trainingBatch(iteration: 0, size: 16, as: Float.self)
/// // batch.features: [16, 16, 14, 14], batch.targets: [16, 28, 28], batch.classes: [Int]
/// ```
public struct SyntheticMaskTask: Sendable {
  /// Which stream of samples: the two never share a generator seed.
  public enum Split: Sendable, Hashable, CaseIterable {
    /// The stream training batches come from.
    case train
    /// The held-out stream for evaluation.
    case validation
  }

  /// The shape family of a class: class index `k` draws shapes of `ShapeFamily(rawValue: k)`.
  public enum ShapeFamily: Int, Sendable, Hashable, CaseIterable {
    /// A rotated ellipse, semi-axes `a ∈ [0.2, 0.4]`, `b ∈ [0.14, a]` RoI widths.
    case ellipse
    /// A rotated rectangle, half-sides `a ∈ [0.18, 0.36]`, `b ∈ [0.13, a]` RoI widths.
    case rectangle
    /// A star-shaped polygon of 5 to 8 vertices at random radii `R·[0.55, 1]`,
    /// `R ∈ [0.26, 0.42]` RoI widths, at jittered equal angles.
    case star
  }

  /// One RoI.
  public struct Sample: Sendable, Equatable {
    /// The RoI features, `[channels, 14, 14]`.
    public var features: Tensor<Double>
    /// The filled shape, `[28, 28]`, every element 0 or 1.
    public var target: Tensor<Double>
    /// The class, in `0..<classes`; also the shape family's raw value.
    public var classIndex: Int
  }

  /// The side of the feature map (cells).
  public static let featureSize = MaskRaster.featureSize
  /// The side of the target mask (pixels); each feature cell covers 2×2 of them.
  public static let maskSize = MaskRaster.maskSize
  /// The space kept clear between a shape's bounding box and each RoI side, in RoI widths
  /// (two target pixels).
  public static let margin = 2.0 / Double(MaskRaster.maskSize)
  /// The largest number of distractor arcs per RoI.
  public static let maxDistractors = 8

  /// The number of feature channels `C`.
  public let channels: Int
  /// The number of classes (shape families), 1 to 3.
  public let classes: Int
  /// The standard deviation `σ` of the i.i.d. Gaussian noise on every feature.
  public let noise: Double
  /// The number of open distractor arcs drawn per RoI.
  public let distractors: Int
  /// The task seed.
  public let seed: UInt64
  /// The unit edge embedding `d_k` of each class, `[classes, channels]`, drawn once from
  /// the task seed (independent normals, normalised).
  public let edgeDirections: Tensor<Double>

  /// Creates a task.
  ///
  /// - Parameters:
  ///   - channels: The number of feature channels `C` (≥ 1).
  ///   - classes: The number of classes, 1 to 3; class `k` is ``ShapeFamily`` `k`.
  ///   - noise: The noise standard deviation `σ` relative to the edge intensity 1
  ///     (finite, ≥ 0). At 0 the features are exactly the outline times `d_k`.
  ///   - distractors: Open arcs per RoI, `0...maxDistractors`.
  ///   - seed: The task seed: the edge embeddings and every sample derive from it.
  /// - Throws: ``TrainingError/invalidHyperparameter(name:value:expected:)`` for a value
  ///   out of range.
  /// - Complexity: O(classes · C).
  public init(
    channels: Int, classes: Int = 3, noise: Double = 0.5, distractors: Int = 1,
    seed: UInt64
  ) throws(TrainingError) {
    guard channels >= 1 else {
      throw .invalidHyperparameter(name: "channels", value: "\(channels)", expected: "≥ 1")
    }
    let families = ShapeFamily.allCases.count
    guard (1...families).contains(classes) else {
      throw .invalidHyperparameter(
        name: "classes", value: "\(classes)", expected: "1...\(families) (one per shape family)")
    }
    guard noise.isFinite, noise >= 0 else {
      throw .invalidHyperparameter(name: "noise", value: "\(noise)", expected: "finite and ≥ 0")
    }
    guard (0...Self.maxDistractors).contains(distractors) else {
      throw .invalidHyperparameter(
        name: "distractors", value: "\(distractors)", expected: "0...\(Self.maxDistractors)")
    }
    self.channels = channels
    self.classes = classes
    self.noise = noise
    self.distractors = distractors
    self.seed = seed
    var rng = SeededGenerator(seed: SampleSeed.seed(task: seed, stream: .edgeEmbeddings, index: 0))
    var directions = [Double]()
    directions.reserveCapacity(classes * channels)
    for _ in 0..<classes {
      let row = (0..<channels).map { _ in rng.nextNormal(Double.self) }
      let norm = row.map { $0 * $0 }.reduce(0, +).squareRoot()
      directions +=
        norm > 0 ? row.map { $0 / norm } : [1] + Array(repeating: 0, count: channels - 1)
    }
    var table = Tensor<Double>(zeros: [classes, channels])
    table.withUnsafeMutableBufferPointer { buffer in
      for k in directions.indices { buffer[k] = directions[k] }
    }
    self.edgeDirections = table
  }

  /// Sample `index` of `split`.
  ///
  /// The sample's generator is seeded with `mix(mix(seed ⊕ salt(split)) + index)`
  /// (SplitMix64 finaliser), then draws, in order: the class (uniform), the shape, the
  /// distractor arcs, and the noise (row-major over `[C, 14, 14]`, skipped when `σ = 0`).
  ///
  /// - Parameters:
  ///   - split: The stream.
  ///   - index: The position in the stream (≥ 0).
  /// - Returns: The features, the target and the class, the same on every call and machine.
  /// - Complexity: O(28² · v + C · 14²) flops for a shape of `v` vertices (at most 8);
  ///   about 8 kB plus 1.6 kB per channel of memory.
  public func sample(_ split: Split, index: Int) -> Sample {
    precondition(index >= 0, "sample index \(index) is negative")
    let stream: SampleSeed.Stream = split == .train ? .train : .validation
    var rng = SeededGenerator(seed: SampleSeed.seed(task: seed, stream: stream, index: index))
    let classIndex = Int(rng.next() % UInt64(classes))
    let family = ShapeFamily(rawValue: classIndex) ?? .ellipse
    let shape = MaskShape.random(family, margin: Self.margin, using: &rng)
    let mask = MaskRaster.target(of: shape)
    var cells = MaskRaster.edgeCells(of: mask)
    if distractors > 0 {
      let protected = MaskRaster.protectedCells(of: mask)
      for _ in 0..<distractors {
        MaskRaster.drawArc(into: &cells, avoiding: protected, using: &rng)
      }
    }

    let plane = Self.featureSize * Self.featureSize
    var features = Tensor<Double>(zeros: [channels, Self.featureSize, Self.featureSize])
    features.withUnsafeMutableBufferPointer { buffer in
      edgeDirections.withSample(classIndex) { direction in
        for cell in cells.indices where cells[cell] {
          for c in 0..<channels { buffer[c * plane + cell] = direction[c] }
        }
      }
      if noise > 0 {
        for k in buffer.indices { buffer[k] += noise * rng.nextNormal(Double.self) }
      }
    }
    var target = Tensor<Double>(zeros: [Self.maskSize, Self.maskSize])
    target.withUnsafeMutableBufferPointer { buffer in
      for k in mask.indices { buffer[k] = Double(mask[k]) }
    }
    return Sample(features: features, target: target, classIndex: classIndex)
  }
}
