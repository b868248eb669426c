import DEQTraining
import Testing
import _DEQTestSupport

/// Independent re-derivations of the task's geometry from its tensors, on the 28×28 mask
/// and the 14×14 feature grid.
private enum Grid {
  static let m = 28
  static let f = 14

  /// Flood fill over the `open` cells of an `n × n` grid from its border (4-connectivity).
  static func reachedFromBorder(_ open: [Bool], side n: Int) -> [Bool] {
    var reached = [Bool](repeating: false, count: n * n)
    var stack = (0..<n * n).filter { p in
      let (i, j) = (p / n, p % n)
      return open[p] && (i == 0 || j == 0 || i == n - 1 || j == n - 1)
    }
    for p in stack { reached[p] = true }
    while let p = stack.popLast() {
      let (i, j) = (p / n, p % n)
      for (a, b) in [(i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)]
      where a >= 0 && a < n && b >= 0 && b < n && open[a * n + b] && !reached[a * n + b] {
        reached[a * n + b] = true
        stack.append(a * n + b)
      }
    }
    return reached
  }

  /// The 2×2 target block of feature cell `cell`.
  static func block(_ cell: Int) -> [Int] {
    let (r, c) = (cell / f, cell % f)
    return [
      (2 * r) * m + 2 * c, (2 * r) * m + 2 * c + 1, (2 * r + 1) * m + 2 * c,
      (2 * r + 1) * m + 2 * c + 1,
    ]
  }

  /// Cells whose block holds a foreground pixel with a background 4-neighbour (or on the
  /// mask border).
  static func boundaryCells(_ target: [Double]) -> [Bool] {
    func isBackground(_ a: Int, _ b: Int) -> Bool {
      if a < 0 || a >= m || b < 0 || b >= m { return true }
      return target[a * m + b] == 0
    }
    func isBoundary(_ p: Int) -> Bool {
      let i = p / m
      let j = p % m
      guard target[p] == 1 else { return false }
      return isBackground(i - 1, j) || isBackground(i + 1, j) || isBackground(i, j - 1)
        || isBackground(i, j + 1)
    }
    return (0..<f * f).map { cell in block(cell).contains(where: isBoundary) }
  }

  /// The projection ⟨d, x[:, r, c]⟩ of every cell of a `[C, 14, 14]` feature tensor.
  static func projection(_ features: Tensor<Double>, onto direction: [Double]) -> [Double] {
    (0..<f * f).map { cell in
      direction.indices.map { c in direction[c] * features[flat: c * f * f + cell] }
        .reduce(0, +)
    }
  }

  /// The Chebyshev distance from each cell to the nearest cell of `set` (∞ when empty).
  static func distance(to set: [Bool]) -> [Int] {
    (0..<f * f).map { cell in
      set.indices.filter { set[$0] }.map { other in
        max(abs(cell / f - other / f), abs(cell % f - other % f))
      }.min() ?? .max
    }
  }
}

@Suite("SyntheticMaskTask")
struct SyntheticMaskTaskTests {
  let seed = TestSeeds.standard

  @Test("a sample is a pure function of (seed, split, index); streams and seeds differ")
  func determinism() throws {
    let a = try SyntheticMaskTask(channels: 8, seed: seed)
    let b = try SyntheticMaskTask(channels: 8, seed: seed)
    let other = try SyntheticMaskTask(channels: 8, seed: seed + 1)
    for index in [0, 1, 17, 1_000_003] {
      let s = a.sample(.train, index: index)
      #expect(s == b.sample(.train, index: index), "seed \(seed), index \(index)")
      #expect(s == a.sample(.train, index: index))
      #expect(s.features != other.sample(.train, index: index).features)
      #expect(s.features != a.sample(.validation, index: index).features)
      #expect(s.target != a.sample(.train, index: index + 1).target)
      #expect(s.features.shape == [8, 14, 14] && s.target.shape == [28, 28])
    }
    #expect(a.edgeDirections == b.edgeDirections)
    #expect(a.edgeDirections != other.edgeDirections)
  }

  @Test("batches stack the samples; Float batches are the Double batch rounded")
  func batches() throws {
    let task = try SyntheticMaskTask(channels: 5, seed: seed)
    let batch = task.batch(.validation, indices: 3..<9, as: Double.self)
    let samples = (3..<9).map { task.sample(.validation, index: $0) }
    #expect(batch.features == (try Tensor.stacking(samples.map(\.features))))
    #expect(batch.targets == (try Tensor.stacking(samples.map(\.target))))
    #expect(batch.classes == samples.map(\.classIndex))
    #expect(batch.features.shape == [6, 5, 14, 14] && batch.targets.shape == [6, 28, 28])

    // Conversion, not arithmetic: each Float is the rounding of its Double, exactly.
    let single = task.batch(.validation, indices: 3..<9, as: Float.self)
    #expect(single.features.scalars == batch.features.scalars.map { Float($0) })
    #expect(single.targets.scalars == batch.targets.scalars.map { Float($0) })
    #expect(single.classes == batch.classes)

    let empty = task.batch(.train, indices: 5..<5, as: Float.self)
    #expect(empty.features.shape == [0, 5, 14, 14] && empty.classes.isEmpty)
  }

  @Test("training batch t holds train samples t·size ..< (t+1)·size")
  func trainingBatches() throws {
    let task = try SyntheticMaskTask(channels: 4, seed: seed)
    let batch = task.trainingBatch(iteration: 2, size: 4, as: Double.self)
    #expect(batch == task.batch(.train, indices: 8..<12, as: Double.self))
    let next = task.trainingBatch(iteration: 3, size: 4, as: Double.self)
    #expect(next == task.batch(.train, indices: 12..<16, as: Double.self))
  }

  @Test("edge embeddings are unit vectors, one per class; classes cover 0..<classes")
  func embeddingsAndClasses() throws {
    for classes in 1...3 {
      let task = try SyntheticMaskTask(channels: 6, classes: classes, seed: seed)
      #expect(task.edgeDirections.shape == [classes, 6])
      for k in 0..<classes {
        let norm = task.edgeDirections.sample(k).scalars.map { $0 * $0 }.reduce(0, +)
        #expect(norm.isApproximatelyEqual(to: 1, relativeTolerance: 1e-14))
      }
      let seen = Set((0..<60).map { task.sample(.train, index: $0).classIndex })
      #expect(seen == Set(0..<classes), "seed \(seed), classes \(classes)")
    }
  }

  @Test(
    "the target is the filled inside of the outline: no holes, sized, inside the margin",
    arguments: SyntheticMaskTask.ShapeFamily.allCases)
  func filledInterior(family: SyntheticMaskTask.ShapeFamily) throws {
    let task = try SyntheticMaskTask(channels: 4, noise: 0, distractors: 0, seed: seed)
    var areas = [Double]()
    var index = 0
    while areas.count < 60 {
      defer { index += 1 }
      let s = task.sample(.train, index: index)
      guard s.classIndex == family.rawValue else { continue }
      let target = s.target.scalars
      #expect(target.allSatisfy { $0 == 0 || $0 == 1 })
      // Every background pixel reaches the border through background: no holes.
      let background = target.map { $0 == 0 }
      let reached = Grid.reachedFromBorder(background, side: Grid.m)
      #expect(reached == background, "seed \(seed), train index \(index): a hole")
      // The outer two pixel rows and columns (the margin) are background.
      for p in target.indices where min(p / 28, p % 28, 27 - p / 28, 27 - p % 28) < 2 {
        #expect(target[p] == 0, "seed \(seed), train index \(index): pixel \(p) in margin")
      }
      areas.append(target.reduce(0, +) / 784)
    }
    // Smallest: a 0.2 × 0.14 ellipse (0.088), a 0.18 × 0.13 rectangle scaled by ≥ 0.84
    // (0.066), a 5-gon of radii ≥ 0.143 (≈ 0.04); largest: the 0.857² square that fits.
    #expect(areas.min() ?? 0 >= 0.03 && areas.max() ?? 1 <= 0.75, "\(areas)")
    // Sizes vary.
    #expect((areas.max() ?? 0) > 1.8 * (areas.min() ?? 0), "\(areas)")
  }

  @Test("at noise 0 the edge cells are exactly the cells holding the target's boundary")
  func outlineMatchesTarget() throws {
    let task = try SyntheticMaskTask(channels: 7, noise: 0, distractors: 0, seed: seed)
    for index in 0..<90 {
      let s = task.sample(.validation, index: index)
      let direction = task.edgeDirections.sample(s.classIndex).scalars
      let projection = Grid.projection(s.features, onto: direction)
      let edge = projection.map { $0 > 0.5 }
      let boundary = Grid.boundaryCells(s.target.scalars)
      #expect(edge == boundary, "seed \(seed), validation index \(index)")
      // The features are exactly the outline times the class's embedding.
      for cell in 0..<196 {
        for c in 0..<7 {
          #expect(s.features[flat: c * 196 + cell] == (edge[cell] ? direction[c] : 0))
        }
      }
      // The outline is closed: flooding the non-edge cells from the border reaches exactly
      // the cells whose 2×2 block is background; the cells it cannot reach are foreground.
      let reached = Grid.reachedFromBorder(edge.map { !$0 }, side: Grid.f)
      for cell in 0..<196 where !edge[cell] {
        let values = Grid.block(cell).map { s.target.scalars[$0] }
        #expect(values == Array(repeating: reached[cell] ? 0 : 1, count: 4), "index \(index)")
      }
    }
  }

  @Test("no fill signal: at noise 0 cells away from the outline are zero inside and outside")
  func locality() throws {
    let task = try SyntheticMaskTask(channels: 6, noise: 0, distractors: 0, seed: seed)
    var farInside = 0
    var farOutside = 0
    for index in 0..<60 {
      let s = task.sample(.train, index: index)
      let direction = task.edgeDirections.sample(s.classIndex).scalars
      let edge = Grid.projection(s.features, onto: direction).map { $0 > 0.5 }
      let distance = Grid.distance(to: edge)
      for cell in 0..<196 where distance[cell] >= 2 {
        let column = (0..<6).map { s.features[flat: $0 * 196 + cell] }
        #expect(column == Array(repeating: 0, count: 6), "index \(index), cell \(cell)")
        if s.target.scalars[Grid.block(cell)[0]] == 1 { farInside += 1 } else { farOutside += 1 }
      }
    }
    #expect(farInside > 0 && farOutside > 0)
  }

  @Test("distractor arcs lie outside the shape, a cell clear of it, and leave the target alone")
  func distractors() throws {
    let plain = try SyntheticMaskTask(channels: 3, noise: 0, distractors: 0, seed: seed)
    let busy = try SyntheticMaskTask(channels: 3, noise: 0, distractors: 3, seed: seed)
    var extraCells = 0
    for index in 0..<40 {
      let a = plain.sample(.train, index: index)
      let b = busy.sample(.train, index: index)
      #expect(a.target == b.target && a.classIndex == b.classIndex)
      let direction = plain.edgeDirections.sample(a.classIndex).scalars
      let edge = Grid.projection(a.features, onto: direction).map { $0 > 0.5 }
      let marked = Grid.projection(b.features, onto: direction).map { $0 > 0.5 }
      let shapeCells = (0..<196).map { cell in
        Grid.block(cell).contains { a.target.scalars[$0] == 1 }
      }
      let distance = Grid.distance(to: shapeCells)
      for cell in 0..<196 {
        if edge[cell] { #expect(marked[cell]) }
        if marked[cell] && !edge[cell] {
          extraCells += 1
          #expect(distance[cell] >= 2, "seed \(seed), index \(index), cell \(cell)")
        }
      }
    }
    #expect(extraCells > 0)
  }

  @Test("noise is i.i.d. N(0, σ²) on top of the noiseless features, drawn after the geometry")
  func noise() throws {
    let clean = try SyntheticMaskTask(channels: 16, noise: 0, seed: seed)
    let noisy = try SyntheticMaskTask(channels: 16, noise: 0.5, seed: seed)
    let a = clean.sample(.train, index: 5)
    let b = noisy.sample(.train, index: 5)
    #expect(a.target == b.target && a.classIndex == b.classIndex)
    let residual = zip(b.features.scalars, a.features.scalars).map { $0 - $1 }
    let n = Double(residual.count)  // 3136
    let mean = residual.reduce(0, +) / n
    let std = (residual.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
    // Standard errors: mean 0.5/√3136 ≈ 0.009, std 0.5/√6272 ≈ 0.006; allow 5 of them.
    #expect(abs(mean) < 0.045, "seed \(seed): mean \(mean)")
    #expect(abs(std - 0.5) < 0.032, "seed \(seed): std \(std)")
  }

  @Test("init rejects out-of-range settings")
  func validation() {
    func rejects(_ name: String, _ make: () throws(TrainingError) -> SyntheticMaskTask) {
      do {
        _ = try make()
        Issue.record("\(name) was accepted")
      } catch {
        if case .invalidHyperparameter(let reported, _, _) = error {
          #expect(reported == name)
        } else {
          Issue.record("unexpected \(error)")
        }
      }
    }
    rejects("channels") { () throws(TrainingError) in try SyntheticMaskTask(channels: 0, seed: 1) }
    rejects("classes") { () throws(TrainingError) in
      try SyntheticMaskTask(channels: 2, classes: 0, seed: 1)
    }
    rejects("classes") { () throws(TrainingError) in
      try SyntheticMaskTask(channels: 2, classes: 4, seed: 1)
    }
    for noise in [-0.1, .nan, .infinity] {
      rejects("noise") { () throws(TrainingError) in
        try SyntheticMaskTask(channels: 2, noise: noise, seed: 1)
      }
    }
    for distractors in [-1, SyntheticMaskTask.maxDistractors + 1] {
      rejects("distractors") { () throws(TrainingError) in
        try SyntheticMaskTask(channels: 2, distractors: distractors, seed: 1)
      }
    }
    #expect(throws: Never.self) {
      try SyntheticMaskTask(channels: 1, classes: 1, noise: 0, seed: 1)
    }
  }
}
